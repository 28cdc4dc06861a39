import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UserError } from "../core/errors.ts";
import type { Emitter } from "../core/events.ts";
import { redactUrlCredentials, restoreCredentials } from "../core/redact.ts";
import { createModel } from "../llm/create.ts";
import { LlmCache } from "../llm/middleware/cache.ts";
import { UsageMeter } from "../llm/middleware/usage.ts";
import { parseModelSpec } from "../llm/spec.ts";
import type { Capabilities, LanguageModel } from "../llm/types.ts";
import { VERSION } from "../version.ts";
import { gitCommit, MANIFEST, readManifest, SUMMARY, sha256File, writeJson } from "./files.ts";
import { agentEntry, envEntry } from "./registry.ts";
import { type ExecuteResult, executeRun, type RunEvents } from "./runner.ts";
import { RUN_DB, RunStore } from "./store.ts";
import type { Manifest, RunConfig } from "./types.ts";

export interface NewRun {
  env: string;
  agent: string;
  /** Model spec; `exact` (default) for the exact twins. */
  model?: string;
  split?: string;
  /** Keep only the first N instances of the split. */
  episodes?: number;
  seeds: readonly number[];
  concurrency: number;
  llmConcurrency?: number;
  maxSteps?: number;
  budgetUsd?: number;
  /** Per-attempt timeout of every model call, in ms (default: the provider's, 60 s). */
  llmTimeoutMs?: number;
  prices?: RunConfig["prices"];
  cache?: RunConfig["cache"];
  dataDir: string;
  /** Run folder (default `runs/<run id>`). */
  out?: string;
  options?: Record<string, unknown>;
}

export interface RunContext {
  signal?: AbortSignal;
  events?: Emitter<RunEvents>;
  /** Usage meter for progress display (a fresh one when absent). */
  meter?: UsageMeter;
  /**
   * `resume` only: model specs with the URL credentials the run folder does not keep (`bayesact resume DIR
   * --model SPEC`); the one that redacts to the run's stored spec is used.
   */
  models?: readonly string[];
  env?: Readonly<Record<string, string | undefined>>;
}

export interface RunOutcome extends ExecuteResult {
  readonly dir: string;
  readonly manifest: Manifest;
}

/** Resolve and check everything a run needs before anything is written: every mistake is one line, exit 2. */
export function resolveConfig(o: NewRun): RunConfig {
  const env = envEntry(o.env);
  const agent = agentEntry(o.agent);
  let model = o.model ?? (agent.model === "llm" ? undefined : "exact");
  if (agent.model === "none") model = "none";
  else if (agent.model === "any") model ??= "exact";
  else if (model === undefined)
    throw new UserError(`agent ${agent.name} needs --model SPEC`, { category: "bad_option" });
  else if (agent.model === "exact" && model !== "exact") {
    throw new UserError(`agent ${agent.name} runs on the exact twins; use --model exact`, {
      category: "bad_option",
    });
  } else if (agent.model === "llm") {
    if (parseModelSpec(model).kind === "exact") {
      throw new UserError(`agent ${agent.name} needs a language model, not "exact"`, {
        category: "bad_option",
      });
    }
  }
  const split = o.split ?? env.defaultSplit;
  if (!env.splits.includes(split)) {
    throw new UserError(`unknown split "${split}" for ${env.name} (known: ${env.splits.join(", ")})`, {
      category: "bad_option",
    });
  }
  const needs = env.needsModel?.(split);
  if (needs !== undefined && (model === "exact" || model === "none")) {
    throw new UserError(needs, { category: "bad_option" });
  }
  if (agent.model === "any") {
    const kit = env.kit({ dataDir: o.dataDir, split });
    if (!kit.rafa?.agents.includes(agent.name)) {
      throw new UserError(
        `${env.name} has no "${agent.name}" agent yet (it has: ${kit.rafa?.agents.join(", ") || "none"})`,
        {
          category: "bad_option",
        },
      );
    }
  }
  let { ids } = env.instances(split, o.dataDir);
  if (o.episodes !== undefined) ids = ids.slice(0, o.episodes);
  if (ids.length === 0)
    throw new UserError(`split ${split} of ${env.name} has no instances`, { category: "bad_option" });
  if (o.seeds.length === 0) throw new UserError("--seeds is empty", { category: "bad_option" });
  return {
    env: env.name,
    agent: agent.name,
    // What the run folder keeps: credentials in a URL never reach a file (`startRun` connects with `o.model`).
    model: redactUrlCredentials(model),
    split,
    instances: ids,
    seeds: [...o.seeds],
    concurrency: o.concurrency,
    ...(o.llmConcurrency !== undefined ? { llmConcurrency: o.llmConcurrency } : {}),
    maxSteps: o.maxSteps ?? env.maxSteps,
    ...(o.budgetUsd !== undefined ? { budgetUsd: o.budgetUsd } : {}),
    ...(o.llmTimeoutMs !== undefined ? { llmTimeoutMs: o.llmTimeoutMs } : {}),
    prices: o.prices ?? {},
    cache: o.cache ?? { path: resolve(".bayesact", "llm-cache.sqlite"), mode: "read-write" },
    dataDir: resolve(o.dataDir),
    options: o.options ?? {},
  };
}

interface ModelStack {
  model: LanguageModel | undefined;
  capabilities: Record<string, Capabilities>;
  close(): Promise<void>;
}

/** The shared model stack of a run (none on the exact twins), probed once: an unreachable server stops here. */
async function openModel(
  config: RunConfig,
  ctx: RunContext,
  meter: UsageMeter,
  /** The spec to connect with: `config.model` with its URL credentials, when it had some. */
  spec: string,
): Promise<ModelStack> {
  if (config.model === "exact" || config.model === "none") {
    return { model: undefined, capabilities: {}, close: async () => {} };
  }
  let cache: LlmCache | undefined;
  if (config.cache.mode !== "off") {
    mkdirSync(dirname(config.cache.path), { recursive: true });
    cache = new LlmCache(config.cache.path);
  }
  const model = createModel(spec, {
    meter,
    prices: config.prices,
    rateLimit: { concurrency: config.llmConcurrency ?? 8 },
    ...(config.budgetUsd !== undefined ? { budgetUsd: config.budgetUsd } : {}),
    // From the manifest, so a resumed run waits as long as the original; older manifests have none (60 s).
    ...(config.llmTimeoutMs !== undefined ? { timeoutMs: config.llmTimeoutMs } : {}),
    ...(cache ? { cache: { cache, mode: config.cache.mode } } : {}),
    ...(ctx.env ? { env: ctx.env } : {}),
  });
  try {
    const capabilities = await model.capabilities(ctx.signal ? { signal: ctx.signal } : {});
    return {
      model,
      capabilities: { [config.model]: capabilities },
      close: async () => {
        await model.close?.();
        cache?.close();
      },
    };
  } catch (error) {
    await model.close?.();
    cache?.close();
    throw error;
  }
}

/** Start a new run: validate, probe the model, create the folder, journal every episode, write `summary.json`. */
export async function startRun(o: NewRun, ctx: RunContext = {}): Promise<RunOutcome> {
  const config = resolveConfig(o);
  const runId = `${config.env}-${config.agent}-${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(2).toString("hex")}`;
  const dir = resolve(o.out ?? join("runs", runId));
  if (existsSync(join(dir, RUN_DB)) || existsSync(join(dir, MANIFEST))) {
    throw new UserError(
      `${dir} already holds a run; continue it with: bayesact resume ${dir} (or choose another --out)`,
      {
        category: "run_exists",
      },
    );
  }
  const env = envEntry(config.env);
  const dataFiles: Record<string, string> = {};
  for (const file of env.instances(config.split, config.dataDir).dataFiles)
    dataFiles[file] = sha256File(file);
  const meter = ctx.meter ?? new UsageMeter(config.prices);
  const stack = await openModel(config, ctx, meter, o.model ?? config.model);
  try {
    const store = RunStore.create(dir, runId);
    const manifest: Manifest = {
      runId,
      createdAt: new Date().toISOString(),
      bayesact: VERSION,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      gitCommit: gitCommit(),
      config,
      dataFiles,
      models: stack.capabilities,
    };
    writeJson(join(dir, MANIFEST), manifest);
    return await execute(dir, manifest, store, stack, ctx);
  } finally {
    await stack.close();
  }
}

/** Continue an interrupted run with the config it was started with. */
export async function resumeRun(dirArg: string, ctx: RunContext = {}): Promise<RunOutcome> {
  const dir = resolve(dirArg);
  // Writing: a run journaled by an older schema is migrated before anything is added to it.
  const store = RunStore.open(dir, { forWriting: true });
  let stack: ModelStack | undefined;
  try {
    const manifest = readManifest(dir);
    if (manifest.runId !== store.runId) {
      throw new UserError(`${dir}: manifest.json and run.sqlite belong to different runs`, {
        category: "bad_run",
      });
    }
    const env = envEntry(manifest.config.env);
    agentEntry(manifest.config.agent);
    for (const file of env.instances(manifest.config.split, manifest.config.dataDir).dataFiles) {
      const recorded = manifest.dataFiles[file];
      if (recorded !== undefined && sha256File(file) !== recorded) {
        throw new UserError(
          `data file ${file} changed since the run started; results would not be comparable`,
          {
            category: "data_changed",
          },
        );
      }
    }
    const spec = restoreCredentials(manifest.config.model, ctx.models ?? [], `bayesact resume ${dir}`);
    stack = await openModel(manifest.config, ctx, ctx.meter ?? new UsageMeter(manifest.config.prices), spec);
    return await execute(dir, manifest, store, stack, ctx);
  } finally {
    await stack?.close();
    await store.close();
  }
}

async function execute(
  dir: string,
  manifest: Manifest,
  store: RunStore,
  stack: ModelStack,
  ctx: RunContext,
): Promise<RunOutcome> {
  try {
    const result = await executeRun({
      store,
      config: manifest.config,
      env: envEntry(manifest.config.env),
      agent: agentEntry(manifest.config.agent),
      ...(stack.model ? { model: stack.model } : {}),
      prices: manifest.config.prices,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.events ? { events: ctx.events } : {}),
    });
    if (result.summary) writeJson(join(dir, SUMMARY), result.summary);
    return { ...result, dir, manifest };
  } finally {
    await store.close();
  }
}
