/**
 * `bayesact train apibank --model SPEC --critic SPEC --trainer KIND --iterations N --samples K --instructions M
 * [--out DIR] …`: the critic-filtered self-training loop (train/loop.ts), journaled in a run folder:
 *
 *   manifest.json   settings, versions, data hashes
 *   run.sqlite      every stage: trajectories, verdicts, selections, data sets, model specs, evaluations
 *   iterations/itN  dataset.{openai,trl,apibank}.jsonl, eval-level-L.jsonl, train/ (the trainer's folder)
 *   summary.json    per iteration: accuracy, rollouts, critic precision/recall, data set sizes, trainer result
 *   report.html
 *
 * `bayesact resume DIR` continues an interrupted loop at the stage it stopped.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { z } from "zod";
import { gitCommit, MANIFEST, REPORT, SUMMARY, sha256File, writeJson } from "../bench/files.ts";
import { BayesactError, UserError } from "../core/errors.ts";
import { redactUrlCredentials, restoreCredentials } from "../core/redact.ts";
import { SCORINGS, type Scoring, ScoringSchema } from "../envs/apibank/scoring.ts";
import { llmTotals, UsageMeter } from "../llm/middleware/usage.ts";
import { parseModelSpec } from "../llm/spec.ts";
import { writeTrainReport } from "../report/train.ts";
import { loadInstructions } from "../train/instructions.ts";
import { runTrainLoop, type TrainLoopConfig, type TrainLoopSummary } from "../train/loop.ts";
import { TrainStore } from "../train/store.ts";
import { createTrainer } from "../train/trainers/index.ts";
import { VERSION } from "../version.ts";
import type { Output } from "./output.ts";
import { Int, LLM_TIMEOUT_FLAG, LLM_TIMEOUT_HELP, llmTimeoutArg, Num, zodArg } from "./params.ts";
import { formatLlmLine } from "./progress.ts";

const ConfigSchema = z.strictObject({
  model: z.string().min(1),
  critic: z.string().min(1),
  trainer: z.string().min(1),
  // Runs made before --executor existed used the replay simulator.
  executor: z.string().min(1).default("replay"),
  iterations: z.number().int().min(0),
  samples: z.number().int().min(1),
  instructions: z.number().int().min(0),
  threshold: z.number(),
  perInstruction: z.number().int().min(1),
  temperature: z.number().min(0),
  maxSteps: z.number().int().min(1),
  evalLevels: z.array(z.union([z.literal(1), z.literal(2), z.literal(3)])).readonly(),
  evalLimit: z.number().int().min(1).nullable(),
  // Runs made before --scoring existed scored corrected, with BM25-only search (the loop's defaults for them).
  scoring: ScoringSchema.optional(),
  recordedSearch: z.boolean().optional(),
  validation: z.number().int().min(0).optional(),
  from: z.enum(["base", "previous"]),
  seed: z.number().int(),
  concurrency: z.number().int().min(1),
  dataDir: z.string(),
  // Runs made before --llm-timeout existed used the default (60 s).
  llmTimeoutMs: z.number().positive().optional(),
});

const TrainManifestSchema = z.object({
  kind: z.literal("train"),
  runId: z.string(),
  createdAt: z.string(),
  bayesact: z.string(),
  config: ConfigSchema,
});

export interface TrainFlags {
  model: string;
  critic: string;
  trainer: string;
  executor: string;
  iterations: number;
  samples: number;
  instructions: number;
  out?: string;
  data: string;
  threshold: number;
  perInstruction: number;
  temperature: number;
  maxSteps: number;
  evalLevels: string;
  evalLimit?: number;
  scoring: string;
  recordedSearch: boolean;
  validation: number;
  from: string;
  seed: number;
  concurrency: number;
  /** Seconds (`--llm-timeout`). */
  llmTimeout?: number;
}

/** Is `dir` a self-training run folder (so `resume` hands it here)? */
export function isTrainRun(dir: string): boolean {
  try {
    const json = JSON.parse(readFileSync(join(dir, MANIFEST), "utf8")) as { kind?: unknown };
    return json.kind === "train";
  } catch {
    return false;
  }
}

function parseScoring(text: string): Scoring {
  const found = SCORINGS.find((s) => s === text);
  if (found === undefined)
    throw new UserError(`bad --scoring "${text}" (expected one of: ${SCORINGS.join(", ")})`, {
      category: "bad_option",
    });
  return found;
}

function parseLevels(text: string): (1 | 2 | 3)[] {
  if (text.trim() === "" || text === "none") return [];
  return text.split(",").map((t) => {
    const n = Number(t.trim());
    if (n !== 1 && n !== 2 && n !== 3) {
      throw new UserError(
        `bad --eval-levels "${text}" (expected levels 1, 2, 3 separated by commas, or none)`,
        {
          category: "bad_option",
        },
      );
    }
    return n;
  });
}

function checkExecutor(executor: string): void {
  if (executor === "replay") return;
  const spec = parseModelSpec(executor);
  if (spec.kind === "exact" || spec.kind === "embedded") {
    throw new UserError(
      `--executor ${executor}: the rollout environment is replay or a language model spec that simulates APIs`,
      { category: "bad_option" },
    );
  }
}

function checkCritic(critic: string): void {
  if (["exact", "prefilter", "none"].includes(critic)) return;
  const spec = parseModelSpec(critic);
  if (spec.kind === "exact" || spec.kind === "embedded") {
    throw new UserError(`--critic ${critic}: a critic is exact, prefilter, none or a language model spec`, {
      category: "bad_option",
    });
  }
}

async function drive(
  dir: string,
  manifest: z.infer<typeof TrainManifestSchema>,
  store: TrainStore,
  output: Output,
  /** The model specs to connect with (the manifest's have URL credentials redacted). */
  specs: { model: string; critic: string; executor: string },
): Promise<number> {
  const trainer = createTrainer(manifest.config.trainer);
  const controller = new AbortController();
  const onSigint = () => {
    output.err("stopping (press Ctrl-C again to quit at once)");
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  };
  process.once("SIGINT", onSigint);
  const meter = new UsageMeter();
  let saved = false;
  // This process's calls join the run's totals once, whether the loop finished, failed or was interrupted.
  const saveTotals = () => {
    if (saved) return;
    saved = true;
    store.addLlmTotals(llmTotals(meter.snapshot()));
  };
  let summary: TrainLoopSummary;
  try {
    // zod reads an absent optional key as `undefined`; the loop's config leaves it out.
    const { llmTimeoutMs, scoring, recordedSearch, validation, ...rest } = manifest.config;
    const config: TrainLoopConfig = {
      ...rest,
      ...specs,
      ...(llmTimeoutMs !== undefined ? { llmTimeoutMs } : {}),
      ...(scoring !== undefined ? { scoring } : {}),
      ...(recordedSearch !== undefined ? { recordedSearch } : {}),
      ...(validation !== undefined ? { validation } : {}),
    };
    const loop = await runTrainLoop(config, {
      store,
      dir,
      trainer,
      meter,
      signal: controller.signal,
      log: (line) => output.err(line),
    });
    saveTotals();
    summary = { ...loop, llm: store.llmTotals() };
  } catch (error) {
    if (controller.signal.aborted) {
      output.err(`interrupted; finished stages are saved. Continue with: bayesact resume ${dir}`);
      return 130;
    }
    if (error instanceof BayesactError && error.userFacing) {
      throw new UserError(
        `${error.message} — finished stages are saved; continue with: bayesact resume ${dir}`,
        {
          category: error.category,
          cause: error,
        },
      );
    }
    throw error;
  } finally {
    process.off("SIGINT", onSigint);
    saveTotals();
    store.close();
  }
  writeJson(join(dir, SUMMARY), summary);
  await writeTrainReport(join(dir, REPORT), {
    runId: manifest.runId,
    createdAt: manifest.createdAt,
    bayesact: manifest.bayesact,
    summary,
  });
  for (const it of summary.iterations) {
    const evals = Object.entries(it.evaluation)
      .map(([l, e]) => `level ${l} ${e.call_correct}/${e.points} (${(100 * e.call_accuracy).toFixed(2)}%)`)
      .join(", ");
    const kept = it.critic
      ? `; kept ${it.critic.kept} of ${it.critic.judged}, data set ${it.dataset?.trajectories}`
      : "";
    output.out(`iteration ${it.iteration} (${it.model}): ${evals || "not evaluated"}${kept}`);
  }
  if (summary.llm !== undefined) output.out(formatLlmLine(summary.llm));
  output.out(`report: ${join(dir, REPORT)}`);
  output.out(`run folder: ${dir}`);
  return 0;
}

export async function trainCommand(benchmark: string, flags: TrainFlags, output: Output): Promise<number> {
  if (benchmark !== "apibank") {
    throw new UserError(`bad benchmark "${benchmark}" (expected: apibank)`, { category: "bad_option" });
  }
  parseModelSpec(flags.model);
  checkCritic(flags.critic);
  checkExecutor(flags.executor);
  createTrainer(flags.trainer); // a bad --trainer is one line now, not after an iteration of rollouts
  const from = flags.from === "base" || flags.from === "previous" ? flags.from : undefined;
  if (!from)
    throw new UserError(`bad --from "${flags.from}" (expected base or previous)`, { category: "bad_option" });
  const config: TrainLoopConfig = {
    model: flags.model,
    critic: flags.critic,
    trainer: flags.trainer,
    executor: flags.executor,
    iterations: flags.iterations,
    samples: flags.samples,
    instructions: flags.instructions,
    threshold: flags.threshold,
    perInstruction: flags.perInstruction,
    temperature: flags.temperature,
    maxSteps: flags.maxSteps,
    evalLevels: parseLevels(flags.evalLevels),
    evalLimit: flags.evalLimit ?? null,
    scoring: parseScoring(flags.scoring),
    recordedSearch: flags.recordedSearch,
    validation: flags.validation,
    from,
    seed: flags.seed,
    concurrency: flags.concurrency,
    dataDir: resolve(flags.data),
    ...(flags.llmTimeout !== undefined ? { llmTimeoutMs: flags.llmTimeout * 1000 } : {}),
  };
  const set = loadInstructions(config.dataDir); // missing data: one line before a folder is made
  const runId = `train-apibank-${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(2).toString("hex")}`;
  const dir = resolve(flags.out ?? join("runs", runId));
  if (existsSync(join(dir, MANIFEST))) {
    throw new UserError(
      `${dir} already holds a run; continue it with: bayesact resume ${dir} (or choose another --out)`,
      {
        category: "run_exists",
      },
    );
  }
  const store = TrainStore.create(dir, runId);
  const manifest = {
    kind: "train" as const,
    runId,
    createdAt: new Date().toISOString(),
    bayesact: VERSION,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    gitCommit: gitCommit(),
    config: {
      ...config,
      model: redactUrlCredentials(config.model),
      critic: redactUrlCredentials(config.critic),
      executor: redactUrlCredentials(config.executor),
    },
    dataFiles: Object.fromEntries(set.files.map((f) => [f, sha256File(f)])),
    instructions: {
      available: set.instructions.length,
      refused: set.refused.length,
      repairs: set.repairs.length,
    },
  };
  writeJson(join(dir, MANIFEST), manifest);
  output.err(`run folder: ${dir}`);
  return drive(dir, manifest, store, output, {
    model: config.model,
    critic: config.critic,
    executor: config.executor,
  });
}

export async function resumeTrainCommand(
  dir: string,
  output: Output,
  models: readonly string[] = [],
): Promise<number> {
  const abs = resolve(dir);
  let manifest: z.infer<typeof TrainManifestSchema>;
  try {
    manifest = TrainManifestSchema.parse(JSON.parse(readFileSync(join(abs, MANIFEST), "utf8")));
  } catch (error) {
    throw new UserError(
      `${join(abs, MANIFEST)} is not a self-training manifest (${error instanceof Error ? error.message.split("\n")[0] : ""})`,
      {
        category: "bad_run",
      },
    );
  }
  // The manifest keeps specs without URL credentials: take them back from --model, or stop with one line.
  const again = (stored: string) => restoreCredentials(stored, models, `bayesact resume ${abs}`);
  const specs = {
    model: again(manifest.config.model),
    critic: again(manifest.config.critic),
    executor: again(manifest.config.executor),
  };
  const store = TrainStore.open(abs);
  output.err(`resuming ${abs}`);
  return drive(abs, manifest, store, output, specs);
}

const intArg = (min: number, max = Number.MAX_SAFE_INTEGER) => zodArg(Int.min(min).max(max));

const numArg = (min: number) => zodArg(Num.min(min));

export function addTrainCommand(program: Command, output: Output, setExit: (code: number) => void): Command {
  return program
    .command("train")
    .description(
      "critic-filtered self-training on API-Bank: rollouts, critic, fine-tuning, evaluation per iteration",
    )
    .argument("<benchmark>", "benchmark: apibank")
    .requiredOption("--model <spec>", "the base model π₀ (e.g. embedded:base, openai-compatible:URL#MODEL)")
    .option(
      "--critic <spec>",
      "exact (execution-based), prefilter, none, or a critic LLM's model spec",
      "exact",
    )
    .option(
      "--trainer <kind>",
      'embedded[:lr=…,epochs=…,l2=…,average=on|off], openai, or command:"…" with {dataset} {base_model} {iteration} {output_dir}',
      "embedded",
    )
    .option(
      "--executor <spec>",
      "rollout environment: replay (recorded results only) or an LLM spec that simulates unrecorded calls",
      "replay",
    )
    .option("--iterations <n>", "self-training iterations", intArg(0, 100), 3)
    .option("--samples <k>", "rollouts per instruction (K)", intArg(1, 64), 8)
    .option("--instructions <m>", "training instructions used (M; 0 = all with a gold chain)", intArg(0), 0)
    .option(
      "--validation <n>",
      "hold out N training requests (the same for every seed), scored every iteration: the split for choices",
      intArg(0),
      0,
    )
    .option("--out <dir>", "run folder (default runs/<run id>)")
    .option("--data <dir>", "benchmark data folder", "../shared/data")
    .option("--threshold <score>", "critic score kept (1–10 scale)", numArg(0), 8)
    .option("--per-instruction <k>", "trajectories kept per instruction at most", intArg(1), 2)
    .option("--temperature <t>", "rollout sampling temperature", numArg(0), 0.8)
    .option("--max-steps <n>", "API calls per rollout at most", intArg(1, 64), 8)
    .option("--eval-levels <list>", "API-Bank levels evaluated every iteration (e.g. 1,2; none)", "1")
    .option("--eval-limit <n>", "only the first N points of each level", intArg(1))
    .option("--scoring <mode>", "evaluation scoring, as eval apibank's: official or corrected", "official")
    .option(
      "--no-recorded-search",
      "evaluation ToolSearcher: do not answer the data's recorded keywords with their recorded result",
    )
    .option("--from <start>", "base: fine-tune π₀ on all kept data; previous: continue from π_it", "base")
    .option("--seed <n>", "seed of the rollouts' random streams", intArg(0), 0)
    .option("--concurrency <n>", "rollouts and evaluation points in flight", intArg(1, 256), 4)
    .option(LLM_TIMEOUT_FLAG, LLM_TIMEOUT_HELP, llmTimeoutArg)
    .action(async (benchmark: string, flags: TrainFlags) => {
      setExit(await trainCommand(benchmark, flags, output));
    });
}
