import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  EXPERIMENTS,
  experiment,
  experimentHelp,
  parseParams,
  runExperiment,
} from "../bench/theory/index.ts";
import type { ExperimentContext, ExperimentResult, TheoryExperiment } from "../bench/theory/types.ts";
import { UserError } from "../core/errors.ts";
import type { PlannerMemory, PlannerStyle } from "../envs/theory/prompts.ts";
import { plannerFormatOf } from "../learn/export.ts";
import { createModel } from "../llm/create.ts";
import { parseModelSpec } from "../llm/spec.ts";
import type { LanguageModel } from "../llm/types.ts";
import { writeTheoryReport } from "../report/theory.ts";
import type { Output } from "./output.ts";
import { parseValue } from "./params.ts";

export interface TheoryFlags {
  seeds?: number;
  /** `theory all`: experiments run at once, each in its own process (default: the cores, at most 8). */
  jobs?: number;
  baseSeed: number;
  model?: string;
  contextEpisodes?: number;
  plannerPrompt?: string;
  plannerMemory?: string;
  out?: string;
  strict: boolean;
}

/**
 * `--name value` pairs after the experiment name become its parameters: numbers become numbers, `a,b,c` lists of
 * numbers, `true`/`false` booleans; the experiment's schema then validates them (unknown names are errors).
 */
export function parseExtraParams(args: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    const m = /^--([A-Za-z][\w-]*)(?:=(.*))?$/.exec(arg);
    if (!m?.[1]) throw new UserError(`unexpected argument "${arg}"`, { category: "bad_option" });
    const key = m[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    let value = m[2];
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || next.startsWith("--")) value = "true";
      else {
        value = next;
        i++;
      }
    }
    params[key] = parseValue(value);
  }
  return params;
}

const BIN = fileURLToPath(new URL("../../bin/bayesact.js", import.meta.url));

/**
 * `theory all` on several cores: each experiment is `bayesact theory <name>` in its own process (the command a user
 * types, so the results are the same as one by one), `jobs` at a time, longest first; results print in the usual
 * order once all are done.
 */
async function runAllInProcesses(
  list: readonly TheoryExperiment[],
  flags: TheoryFlags,
  outDir: string,
  jobs: number,
  output: Output,
): Promise<number> {
  const started = performance.now();
  const common = [
    "--base-seed",
    String(flags.baseSeed),
    ...(flags.seeds === undefined ? [] : ["--seeds", String(flags.seeds)]),
  ];
  const stdout = new Map<string, string>();
  // Longest first (as measured at the defaults), so the last to start is short.
  const order = [...list].sort((a, b) => (COST[b.name] ?? 0) - (COST[a.name] ?? 0));
  let next = 0;
  const run = (exp: TheoryExperiment) =>
    new Promise<void>((done, fail) => {
      const child = spawn(
        process.execPath,
        [BIN, "theory", exp.name, "--out", join(outDir, exp.name), ...common],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let out = "";
      let err = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
      });
      child.stderr.on("data", (b: Buffer) => {
        err += b.toString();
        const lines = err.split("\n");
        err = lines.pop() ?? "";
        for (const line of lines) if (line.trim() !== "") output.err(line);
      });
      child.once("error", fail);
      child.once("exit", (code) => {
        if (code !== 0) {
          fail(
            new UserError(`theory ${exp.name} exited with code ${code}: ${err.trim()}`, {
              category: "theory_failed",
            }),
          );
          return;
        }
        stdout.set(exp.name, out.trimEnd());
        done();
      });
    });
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (next < order.length) {
        const exp = order[next++];
        if (exp) await run(exp);
      }
    }),
  );
  let failed = 0;
  for (const exp of list) {
    for (const line of (stdout.get(exp.name) ?? "").split("\n")) output.out(line);
    const result = JSON.parse(
      readFileSync(join(outDir, exp.name, "result.json"), "utf8"),
    ) as ExperimentResult;
    failed += result.checks.filter((c) => !c.pass).length;
  }
  output.out(
    `all: ${((performance.now() - started) / 1000).toFixed(1)} s on ${jobs} processes, ${failed} check(s) failed`,
  );
  return flags.strict && failed > 0 ? 1 : 0;
}

/** Seconds each experiment took at the defaults (bench:theory, 2 cores): the order `theory all` starts them in. */
const COST: Readonly<Record<string, number>> = {
  "probe-trap": 33,
  "multi-agent": 14,
  "world-model": 12,
  gridworld: 9,
  riverswim: 8.5,
  bandit: 6.5,
  "linear-bandit": 3,
  "pretrain-error": 1.3,
};

/** The help text after the options: the named experiment's parameters, or the list of experiments. */
export function theoryHelp(name: string | undefined): string {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (found) return `\n${experimentHelp(found)}`;
  const list = EXPERIMENTS.map((e) => `  ${e.name.padEnd(15)} ${e.title}`);
  return `\nExperiments (bayesact theory <experiment> --help lists its parameters):\n${list.join("\n")}\n  ${"all".padEnd(15)} every experiment above, at its defaults`;
}

function printResult(result: ExperimentResult, dir: string, output: Output): void {
  output.out(`${result.experiment}: ${result.seeds} seeds, ${result.wall_s.toFixed(1)} s`);
  for (const arm of result.arms) {
    output.out(
      `  ${arm.name.padEnd(28)} final regret ${arm.final_regret_mean.toFixed(2)} ± ${arm.final_regret_se.toFixed(2)}  slope ${arm.slope.toFixed(3)} [${arm.slope_ci95[0].toFixed(3)}, ${arm.slope_ci95[1].toFixed(3)}]`,
    );
  }
  for (const check of result.checks)
    output.out(`  ${check.pass ? "holds" : "FAILS"}: ${check.claim} — ${check.measured}`);
  output.out(`  ${join(dir, "result.json")}, ${join(dir, "report.html")}`);
}

/**
 * The LLM planner's prompt format: `--planner-prompt` / `--planner-memory` when given, else what a `llamacpp:` GGUF
 * that `bayesact pretrain` wrote records (a pretrained planner must see the format it learned), else the default.
 */
async function resolvePlannerFormat(
  flags: TheoryFlags,
): Promise<{ memory: PlannerMemory; style: PlannerStyle } | undefined> {
  const style = flags.plannerPrompt;
  const memory = flags.plannerMemory;
  if (style !== undefined && style !== "full" && style !== "compact")
    throw new UserError(`bad --planner-prompt "${style}" (expected full or compact)`, {
      category: "bad_option",
    });
  if (memory !== undefined && memory !== "episodes" && memory !== "summary")
    throw new UserError(`bad --planner-memory "${memory}" (expected episodes or summary)`, {
      category: "bad_option",
    });
  let recorded: { memory: PlannerMemory; style: PlannerStyle } | undefined;
  if (flags.model !== undefined) {
    const spec = parseModelSpec(flags.model);
    if (spec.kind === "llamacpp" && existsSync(spec.modelPath)) {
      recorded = await plannerFormatOf(spec.modelPath).catch(() => undefined);
    }
  }
  if (style === undefined && memory === undefined) return recorded;
  return {
    style: (style ?? recorded?.style ?? "full") as PlannerStyle,
    memory: (memory ?? recorded?.memory ?? "episodes") as PlannerMemory,
  };
}

export async function theoryCommand(
  name: string,
  flags: TheoryFlags,
  extra: readonly string[],
  output: Output,
): Promise<number> {
  const raw = parseExtraParams(extra);
  const list: TheoryExperiment[] = name === "all" ? [...EXPERIMENTS] : [experiment(name)];
  if (name === "all" && Object.keys(raw).length > 0) {
    throw new UserError("experiment parameters need one experiment, not all", { category: "bad_option" });
  }
  for (const exp of list) parseParams(exp, raw); // every mistake before any work
  const outDir = resolve(
    flags.out ?? join("runs", `theory-${name}-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  );
  const plannerFormat = await resolvePlannerFormat(flags);
  let model: LanguageModel | undefined;
  if (flags.model !== undefined) {
    model = createModel(flags.model);
    // Load (or probe) it before any work: a missing or damaged model is one line, not a run's worth of output.
    try {
      await model.capabilities();
    } catch (error) {
      await model.close?.();
      throw error;
    }
  }
  const jobs = Math.max(1, Math.min(flags.jobs ?? Math.min(8, availableParallelism()), list.length));
  if (list.length > 1 && model === undefined && jobs > 1) {
    return runAllInProcesses(list, flags, outDir, jobs, output);
  }
  let failed = 0;
  const started = performance.now();
  try {
    for (const exp of list) {
      const dir = list.length > 1 ? join(outDir, exp.name) : outDir;
      let last = 0;
      const ctx: ExperimentContext = {
        seeds: flags.seeds ?? 200,
        baseSeed: flags.baseSeed,
        ...(model ? { model } : {}),
        ...(flags.contextEpisodes !== undefined ? { contextEpisodes: flags.contextEpisodes } : {}),
        ...(plannerFormat ? { plannerFormat } : {}),
        onProgress: (done, total) => {
          const now = performance.now();
          if (now - last > 5000) {
            last = now;
            output.err(`${exp.name}: ${done}/${total}`);
          }
        },
      };
      const result = await runExperiment(exp, raw, ctx, dir);
      await writeTheoryReport(join(dir, "report.html"), result);
      printResult(result, dir, output);
      failed += result.checks.filter((c) => !c.pass).length;
    }
  } finally {
    await model?.close?.();
  }
  if (list.length > 1)
    output.out(`all: ${((performance.now() - started) / 1000).toFixed(1)} s, ${failed} check(s) failed`);
  return flags.strict && failed > 0 ? 1 : 0;
}
