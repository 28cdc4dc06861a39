/**
 * `bayesact pretrain probe-trap [--samples N] [--steps S] … [--out DIR]`: pretrain a small llama-architecture
 * transformer as the Words-to-Actions Planner (learn/pretrain.ts) — data, training with checkpoints, export to
 * GGUF, held-out TV to exact BAIL — and print the command that runs it as the theory lab's LLM planner.
 * `bayesact resume DIR` continues an interrupted run from its last checkpoint.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { z } from "zod";
import { gitCommit, writeJson } from "../bench/files.ts";
import { banditAnchorResult } from "../bench/theory/dpt-anchor.ts";
import { learnedPlannerResult } from "../bench/theory/learned-planner.ts";
import { UserError } from "../core/errors.ts";
import {
  PRETRAIN_MANIFEST,
  PRETRAIN_MODEL,
  type PretrainConfig,
  PretrainConfigSchema,
  type PretrainSummary,
  runPretrain,
} from "../learn/pretrain.ts";
import { BYTE_VOCAB } from "../learn/tokenizer.ts";
import { DEFAULT_OPTIMIZER } from "../learn/trainer.ts";
import { writeTheoryReport } from "../report/theory.ts";
import { VERSION } from "../version.ts";
import type { Output } from "./output.ts";
import { Int, Num, zodArg } from "./params.ts";

const ManifestSchema = z.object({
  kind: z.literal("pretrain"),
  bayesact: z.string(),
  createdAt: z.string(),
  config: PretrainConfigSchema,
});

export function isPretrainRun(dir: string): boolean {
  try {
    const json = JSON.parse(readFileSync(join(dir, PRETRAIN_MANIFEST), "utf8")) as { kind?: unknown };
    return json.kind === "pretrain";
  } catch {
    return false;
  }
}

interface PretrainFlags {
  K?: number;
  p?: number;
  H?: number;
  maxEpisodes?: number;
  deployRuns?: number;
  deployEpisodes?: number;
  arms?: number;
  sigma?: number;
  horizon?: number;
  testBandits?: number;
  samples: number;
  heldout: number;
  seed: number;
  dim: number;
  layers: number;
  heads: number;
  ffn?: number;
  context?: number;
  steps: number;
  batch: number;
  lr: number;
  warmup: number;
  checkpointEvery: number;
  servedEval: number;
  out?: string;
}

/** The options only one experiment reads, with their defaults (the measured recipes, docs/theory.md). */
const EXPERIMENT_OPTIONS = {
  "probe-trap": { K: 4, p: 1, maxEpisodes: 30, deployRuns: 20 },
  gridworld: { p: 0.7, H: 3, maxEpisodes: 4, deployRuns: 20 },
  bandit: { arms: 5, sigma: 0.3, horizon: 100, testBandits: 200 },
} as const;
type Experiment = keyof typeof EXPERIMENT_OPTIONS;
const FLAG_NAMES: Record<string, string> = {
  K: "--K",
  p: "--p",
  H: "--H",
  maxEpisodes: "--max-episodes",
  deployRuns: "--deploy-runs",
  deployEpisodes: "--deploy-episodes",
  arms: "--arms",
  sigma: "--sigma",
  horizon: "--horizon",
  testBandits: "--test-bandits",
};

export function addPretrainCommand(
  program: Command,
  output: Output,
  setExit: (code: number) => void,
): Command {
  const int = (min: number) => zodArg(Int.min(min));
  return program
    .command("pretrain")
    .description(
      "pretrain a small transformer as the Words-to-Actions Planner, export it as GGUF, measure its TV to BAIL",
    )
    .argument(
      "<experiment>",
      "probe-trap or gridworld (the Planner of spec S1 / S2), or bandit (the DPT anchor of spec §9)",
    )
    .option("--K <n>", "probe-trap: doors (|Z|) (default 4)", int(2))
    .option(
      "--p <x>",
      "probe-trap: probe accuracy (default 1); gridworld: sign accuracy (default 0.7)",
      zodArg(Num.min(0).max(1)),
    )
    .option("--H <n>", "gridworld: subgoals per episode (default 3)", int(1))
    .option(
      "--max-episodes <n>",
      "probe-trap, gridworld: past episodes per context, uniform on 0..n (default 30, 4)",
      int(0),
    )
    .option(
      "--deploy-runs <n>",
      "probe-trap, gridworld: plays of the learned planner through llama.cpp per loop, naive and ε-greedy (default 20)",
      int(0),
    )
    .option(
      "--deploy-episodes <n>",
      "probe-trap, gridworld: episodes per play (default: --max-episodes)",
      int(1),
    )
    .option("--arms <n>", "bandit: arms (default 5)", zodArg(Int.min(2).max(9)))
    .option("--sigma <x>", "bandit: reward noise sd (default 0.3)", zodArg(Num.positive()))
    .option("--horizon <n>", "bandit: pulls per online play and longest context (default 100)", int(1))
    .option("--test-bandits <n>", "bandit: test bandits of the DPT comparison (default 200)", int(0))
    .option("--samples <n>", "N_p, pretraining contexts", int(1), 100_000)
    .option("--heldout <n>", "held-out contexts", int(1), 300)
    .option("--seed <n>", "data and weight seed", int(0), 1)
    .option("--dim <n>", "embedding width", int(8), 64)
    .option("--layers <n>", "transformer blocks", int(1), 2)
    .option("--heads <n>", "attention heads", int(1), 2)
    .option("--ffn <n>", "SwiGLU width (default ≈ 8/3 · dim)", int(1))
    .option("--context <n>", "the model's context window, in tokens (default 1024; gridworld 4096)", int(16))
    .option("--steps <n>", "optimisation steps", int(1), 2_500)
    .option("--batch <n>", "contexts per step", int(1), DEFAULT_OPTIMIZER.batchSize)
    .option("--lr <x>", "peak learning rate (AdamW)", zodArg(Num.positive()), DEFAULT_OPTIMIZER.learningRate)
    .option("--warmup <n>", "warm-up steps", int(0), DEFAULT_OPTIMIZER.warmupSteps)
    .option("--checkpoint-every <n>", "steps between checkpoints", int(1), 100)
    .option("--served-eval <n>", "held-out contexts also scored through llama.cpp after export", int(0), 50)
    .option("--out <dir>", "run folder (default runs/pretrain-<experiment>-<time>)")
    .action(async (experiment: string, flags: PretrainFlags) => {
      setExit(await pretrainCommand(experiment, flags, output));
    });
}

export async function pretrainCommand(
  experiment: string,
  flags: PretrainFlags,
  output: Output,
): Promise<number> {
  if (!Object.hasOwn(EXPERIMENT_OPTIONS, experiment)) {
    throw new UserError(
      `bad experiment "${experiment}" (expected: ${Object.keys(EXPERIMENT_OPTIONS).join(", ")})`,
      {
        category: "bad_option",
      },
    );
  }
  const mine = new Set<string>(Object.keys(EXPERIMENT_OPTIONS[experiment as Experiment]));
  if (experiment !== "bandit") mine.add("deployEpisodes");
  for (const key of Object.keys(FLAG_NAMES)) {
    if (flags[key as keyof PretrainFlags] !== undefined && !mine.has(key)) {
      throw new UserError(`${FLAG_NAMES[key]} is not an option of ${experiment}`, { category: "bad_option" });
    }
  }
  const ffn = flags.ffn ?? Math.max(8, Math.round((flags.dim * 8) / 3 / 8) * 8);
  if (flags.dim % flags.heads !== 0 || (flags.dim / flags.heads) % 2 !== 0) {
    throw new UserError(`--heads ${flags.heads} must divide --dim ${flags.dim} into heads of even size`, {
      category: "bad_option",
    });
  }
  const shared = {
    samples: flags.samples,
    heldout: flags.heldout,
    seed: flags.seed,
    model: {
      vocab: BYTE_VOCAB.size,
      dim: flags.dim,
      layers: flags.layers,
      heads: flags.heads,
      ffn,
      context: flags.context ?? (experiment === "gridworld" ? 4096 : 1024),
      ropeBase: 10_000,
      eps: 1e-5,
    },
    optimizer: {
      ...DEFAULT_OPTIMIZER,
      steps: flags.steps,
      batchSize: flags.batch,
      learningRate: flags.lr,
      warmupSteps: flags.warmup,
      seed: flags.seed,
    },
    checkpointEvery: flags.checkpointEvery,
    servedEval: flags.servedEval,
  };
  let config: PretrainConfig;
  if (experiment === "bandit") {
    const d = EXPERIMENT_OPTIONS.bandit;
    config = {
      experiment: "bandit",
      arms: flags.arms ?? d.arms,
      sigma: flags.sigma ?? d.sigma,
      horizon: flags.horizon ?? d.horizon,
      testBandits: flags.testBandits ?? d.testBandits,
      ...shared,
    };
  } else {
    // The two Planner experiments share their options but K (probe trap) and H (gridworld).
    const d = experiment === "gridworld" ? EXPERIMENT_OPTIONS.gridworld : EXPERIMENT_OPTIONS["probe-trap"];
    const maxEpisodes = flags.maxEpisodes ?? d.maxEpisodes;
    const planner = {
      p: flags.p ?? d.p,
      maxEpisodes,
      ...shared,
      deployRuns: flags.deployRuns ?? d.deployRuns,
      deployEpisodes: flags.deployEpisodes ?? Math.max(1, maxEpisodes),
    };
    config =
      experiment === "gridworld"
        ? { experiment: "gridworld", H: flags.H ?? EXPERIMENT_OPTIONS.gridworld.H, ...planner }
        : { experiment: "probe-trap", K: flags.K ?? EXPERIMENT_OPTIONS["probe-trap"].K, ...planner };
  }
  const dir = resolve(
    flags.out ?? join("runs", `pretrain-${experiment}-${new Date().toISOString().replace(/[:.]/g, "-")}`),
  );
  if (existsSync(join(dir, PRETRAIN_MANIFEST))) {
    throw new UserError(
      `${dir} already holds a run; continue it with: bayesact resume ${dir} (or choose another --out)`,
      {
        category: "run_exists",
      },
    );
  }
  mkdirSync(dir, { recursive: true });
  writeJson(join(dir, PRETRAIN_MANIFEST), {
    kind: "pretrain",
    bayesact: VERSION,
    createdAt: new Date().toISOString(),
    gitCommit: gitCommit(),
    config,
  });
  output.err(`run folder: ${dir}`);
  return drive(dir, config, output);
}

export async function resumePretrainCommand(dir: string, output: Output): Promise<number> {
  const abs = resolve(dir);
  let config: PretrainConfig;
  try {
    config = ManifestSchema.parse(JSON.parse(readFileSync(join(abs, PRETRAIN_MANIFEST), "utf8"))).config;
  } catch (error) {
    const why = error instanceof z.ZodError ? z.prettifyError(error).replaceAll("\n", " ") : String(error);
    throw new UserError(
      `${join(abs, PRETRAIN_MANIFEST)} is not a pretraining manifest (${why.slice(0, 200)})`,
      {
        category: "bad_run",
      },
    );
  }
  output.err(`resuming ${abs}`);
  return drive(abs, config, output);
}

async function drive(dir: string, config: PretrainConfig, output: Output): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    output.err("stopping after this step (press Ctrl-C again to quit at once)");
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  };
  process.once("SIGINT", onSigint);
  const live = process.stderr.isTTY === true && process.env.CI === undefined;
  const bar = live
    ? new cliProgress.SingleBar(
        {
          format: "{bar} step {value}/{total} | loss {loss} | {rate} tokens/s | ETA {eta}s",
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let smoothed = Number.NaN;
  let rate = 0;
  let lastLine = 0;
  let started = false;
  let summary: PretrainSummary;
  try {
    summary = await runPretrain(dir, config, {
      signal: controller.signal,
      log: (line) => output.err(line),
      onStep: (report, total) => {
        smoothed = Number.isNaN(smoothed) ? report.loss : 0.95 * smoothed + 0.05 * report.loss;
        rate = report.ms > 0 ? (report.tokens * 1000) / report.ms : rate;
        const payload = { loss: smoothed.toFixed(4), rate: Math.round(rate) };
        if (bar) {
          if (!started) bar.start(total, report.step - 1, payload);
          started = true;
          bar.update(report.step, payload);
        } else if (performance.now() - lastLine > 5000 || report.step === total) {
          lastLine = performance.now();
          output.err(`step ${report.step}/${total} | loss ${payload.loss} | ${payload.rate} tokens/s`);
        }
      },
    });
  } catch (error) {
    if (controller.signal.aborted && error instanceof UserError && error.category === "interrupted") {
      bar?.stop();
      output.err(error.message);
      return 130;
    }
    throw error;
  } finally {
    if (started) bar?.stop();
    process.off("SIGINT", onSigint);
  }
  output.out(
    `held-out: loss ${summary.heldoutLoss.toFixed(4)} nats per answer, TV to exact BAIL ${summary.heldoutTv.mean.toFixed(4)} over ${summary.heldoutTv.contexts} contexts`,
  );
  if (summary.servedTv) {
    output.out(
      `through llama.cpp: TV ${summary.servedTv.mean.toFixed(4)} over ${summary.servedTv.contexts} contexts (largest gap to TensorFlow.js ${summary.servedTv.maxGapToTf.toExponential(2)})`,
    );
  }
  for (const d of summary.deployment) {
    const agreement = Number.isNaN(d.agreement.share)
      ? ""
      : `; agrees with BAIL's clear choice ${(100 * d.agreement.share).toFixed(0)}% of ${d.agreement.decisions} (chance ${(100 * d.agreement.chance).toFixed(0)}%)`;
    output.out(
      `deployment (${d.loop === "eps" ? "ε-greedy" : "naive"}, ${d.runs}×${d.episodes} episodes): TV ${d.tv.toFixed(4)} over ${d.decisions} decisions${agreement}; regret per episode ${(d.regret.reduce((a, b) => a + b, 0) / d.episodes).toFixed(3)}, in the last 20% ${d.tail.regret.toFixed(3)} (floor predicted from TV ${d.tail.predicted.toFixed(3)})`,
    );
  }
  const anchor = summary.anchor;
  if (anchor) {
    const at = (r: keyof typeof anchor.online.curves) => {
      const c = anchor.online.curves[r];
      return `${(c.mean.at(-1) ?? Number.NaN).toFixed(2)} ± ${(c.se.at(-1) ?? Number.NaN).toFixed(2)}`;
    };
    output.out(
      `online, ${anchor.bandits} test bandits × ${anchor.horizon} pulls, regret: learned ${at("learned")}, exact posterior sampling ${at("posterior")}, Thompson ${at("thompson")}, UCB ${at("ucb")}, empirical mean ${at("emp")}; TV to exact BAIL on its own plays ${anchor.online.tv.toFixed(4)}`,
    );
    const j = anchor.offline.lengths.length - 1;
    const off = (r: keyof typeof anchor.offline.regret) =>
      (anchor.offline.regret[r][j]?.mean ?? Number.NaN).toFixed(3);
    output.out(
      `offline, ${anchor.offline.lengths[j]} pulls of context, regret of the arm named: learned ${off("learned")}, exact BAIL ${off("bail")}, Thompson ${off("thompson")}, empirical mean ${off("emp")}, LCB ${off("lcb")}`,
    );
  }
  output.out(
    `training: ${Math.round(summary.trainTokensPerSecond)} tokens/s over ${summary.trainSeconds.toFixed(0)} s`,
  );
  const result =
    config.experiment === "bandit"
      ? banditAnchorResult([{ dir, config, summary }])
      : learnedPlannerResult([{ dir, config, summary }]);
  await writeTheoryReport(join(dir, "report.html"), result);
  for (const c of result.checks) output.out(`${c.pass ? "PASS" : "FAIL"}  ${c.claim}: ${c.measured}`);
  output.out(`report: ${join(dir, "report.html")}`);
  const model = join(dir, PRETRAIN_MODEL);
  output.out(`model: ${model}`);
  if (config.experiment === "probe-trap") {
    output.out(
      `play it: bayesact theory probe-trap --model 'llamacpp:${model}?threads=1' --llmK ${config.K} --p ${config.p}`,
    );
  }
  return 0;
}
