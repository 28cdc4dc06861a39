/**
 * One pretraining run of a planner model, as a folder:
 *
 *   manifest.json     the settings (what to rebuild the data and the model from)
 *   data.jsonl        the pretraining contexts (train and held-out), one JSON line each, after a header line
 *   checkpoint.*      the latest training state (`checkpoint.ts`), every `checkpointEvery` steps and on a stop
 *   model.gguf        the trained weights for llama.cpp (`llamacpp:<dir>/model.gguf`)
 *   summary.json      held-out loss, TV to exact BAIL (in TensorFlow.js and through llama.cpp), throughput
 *
 * Stages run in order and each is skipped when its output exists, so `bayesact resume <dir>` after a kill -9
 * continues from the last checkpoint and ends with the same weights as an uninterrupted run.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors.ts";
import { type GaussianBanditSpec, gaussianBanditSpec } from "../envs/theory/gaussian-bandit.ts";
import { createGridworld } from "../envs/theory/gridworld.ts";
import type { ParEnv } from "../envs/theory/par.ts";
import { createProbeTrap } from "../envs/theory/probe-trap.ts";
import { canonicalJson } from "../llm/canonical.ts";
import { LlamaCppModel } from "../llm/providers/llamacpp.ts";
import { type BanditAnchorReport, banditSample, evaluateBanditAnchor } from "./bandit.ts";
import { type Example, toExample } from "./batches.ts";
import { LlamaConfigSchema, readCheckpoint, writeCheckpoint } from "./checkpoint.ts";
import { PRETRAIN_FORMAT, type PretrainSample, pretrainSample } from "./data.ts";
import { type DeploymentReport, evaluateDeployment } from "./deploy.ts";
import { servedSubgoalDistribution, subgoalDistribution, totalVariation } from "./evaluate.ts";
import { exportGguf } from "./export.ts";
import { loadTf } from "./tf.ts";
import { evaluateLoss, type OptimizerConfig, type StepReport, Trainer } from "./trainer.ts";
import { initWeights, type LlamaConfig, LlamaTransformer } from "./transformer.ts";

export const PRETRAIN_MANIFEST = "manifest.json";
export const PRETRAIN_DATA = "data.jsonl";
export const PRETRAIN_MODEL = "model.gguf";
export const PRETRAIN_SUMMARY = "summary.json";

/** Settings every experiment shares: data sizes, the model, the optimiser, checkpoints, the served check. */
const shared = {
  /** N_p: pretraining contexts. */
  samples: z.number().int().min(1),
  /** Held-out contexts (drawn from their own seed stream). */
  heldout: z.number().int().min(1),
  seed: z.number().int().min(0),
  model: LlamaConfigSchema,
  optimizer: z.strictObject({
    steps: z.number().int().min(1),
    batchSize: z.number().int().min(1),
    learningRate: z.number().positive(),
    warmupSteps: z.number().int().min(0),
    weightDecay: z.number().min(0),
    beta1: z.number().min(0).max(1),
    beta2: z.number().min(0).max(1),
    epsilon: z.number().positive(),
    clipNorm: z.number().positive(),
    seed: z.number().int().min(0),
  }),
  checkpointEvery: z.number().int().min(1),
  /** Held-out contexts also scored through llama.cpp after export (a check of the served path). */
  servedEval: z.number().int().min(0),
};

export const ProbeTrapConfigSchema = z.strictObject({
  experiment: z.literal("probe-trap"),
  /** The probe trap's doors and probe accuracy. */
  K: z.number().int().min(2),
  p: z.number().min(0).max(1),
  /** Past episodes per context: uniform on 0..maxEpisodes. */
  maxEpisodes: z.number().int().min(0),
  ...shared,
  /** Plays of the learned planner through llama.cpp per deployment loop (naive, ε-greedy); 0 skips the stage. */
  deployRuns: z.number().int().min(0).default(0),
  /** Episodes per play. */
  deployEpisodes: z.number().int().min(1).default(30),
});
export type ProbeTrapConfig = z.infer<typeof ProbeTrapConfigSchema>;

/** The PAR gridworld of spec S2 (`envs/theory/gridworld.ts`): H subgoals per episode, a sign of accuracy p. */
export const GridworldConfigSchema = z.strictObject({
  experiment: z.literal("gridworld"),
  p: z.number().min(0).max(1),
  H: z.number().int().min(1),
  maxEpisodes: z.number().int().min(0),
  ...shared,
  deployRuns: z.number().int().min(0),
  deployEpisodes: z.number().int().min(1),
});
export type GridworldConfig = z.infer<typeof GridworldConfigSchema>;

/** The DPT anchor (`bandit.ts`): DPT's Gaussian bandit, contexts of up to `horizon` pulls. */
export const BanditConfigSchema = z.strictObject({
  experiment: z.literal("bandit"),
  arms: z.number().int().min(2).max(9),
  sigma: z.number().positive(),
  /** n: pulls per online play, and the longest pretraining / offline context. */
  horizon: z.number().int().min(1),
  ...shared,
  /** Test bandits for the online and offline comparison (DPT: 200); 0 skips the stage. */
  testBandits: z.number().int().min(0),
});
export type BanditConfig = z.infer<typeof BanditConfigSchema>;

export const PretrainConfigSchema = z.discriminatedUnion("experiment", [
  ProbeTrapConfigSchema,
  GridworldConfigSchema,
  BanditConfigSchema,
]);
export type PretrainConfig = z.infer<typeof PretrainConfigSchema>;

const DataHeaderSchema = z.strictObject({
  format: z.literal("bayesact-pretrain-data"),
  version: z.literal(1),
  env: z.string(),
  seed: z.number().int(),
  samples: z.number().int(),
  heldout: z.number().int(),
  maxEpisodes: z.number().int(),
  prompt: z.strictObject({ memory: z.string(), style: z.string() }),
});

const DataLineSchema = z.strictObject({
  split: z.enum(["train", "heldout"]),
  index: z.number().int().min(0),
  z: z.number().int().min(0),
  episodes: z.number().int().min(0),
  prompt: z.string(),
  label: z.number().int().min(0),
  answer: z.string(),
  bail: z.array(z.number().min(0).max(1)),
});
export type DataLine = z.infer<typeof DataLineSchema>;

export interface PretrainSummary {
  readonly experiment: string;
  readonly env: string;
  readonly samples: number;
  readonly steps: number;
  readonly heldoutLoss: number;
  /** Mean TV between the model's next-subgoal distribution and exact BAIL on held-out contexts. */
  readonly heldoutTv: { readonly mean: number; readonly contexts: number };
  /** The same read through llama.cpp from the exported GGUF, on the first `servedEval` held-out contexts. */
  readonly servedTv:
    | { readonly mean: number; readonly contexts: number; readonly maxGapToTf: number }
    | undefined;
  /** The learned planner playing its PAR environment (probe trap, gridworld) through llama.cpp (`deploy.ts`): TV met at deployment, regret. */
  readonly deployment: readonly DeploymentReport[];
  /** The bandit experiment's DPT anchor through llama.cpp (`bandit.ts`); absent for the other experiments. */
  readonly anchor?: BanditAnchorReport | undefined;
  readonly trainTokensPerSecond: number;
  readonly trainSeconds: number;
  readonly lossCurve: readonly { readonly step: number; readonly loss: number }[];
}

export interface PretrainContext {
  readonly signal?: AbortSignal;
  /** One line per stage and every few hundred steps (no printing here: the CLI shows it). */
  readonly log?: (line: string) => void;
  readonly onStep?: (report: StepReport, total: number) => void;
}

/** The environment of a Planner experiment (whose contexts are PAR Planner prompts). */
export function pretrainEnv(config: ProbeTrapConfig | GridworldConfig): ParEnv {
  return config.experiment === "gridworld"
    ? createGridworld({ p: config.p, H: config.H })
    : createProbeTrap({ K: config.K, p: config.p });
}

/** What an experiment brings to a run: its contexts, the answers scored, the longest memory its data draws. */
interface PretrainTask {
  readonly name: string;
  readonly answers: readonly string[];
  readonly maxEpisodes: number;
  sample(seed: string, index: number): Omit<DataLine, "split">;
}

function pretrainTask(config: PretrainConfig): PretrainTask {
  if (config.experiment === "bandit") {
    const spec = banditSpec(config);
    return {
      name: spec.name,
      answers: spec.subgoals,
      maxEpisodes: config.horizon,
      sample: (seed, i) => plainLine(banditSample(spec, seed, i, config.horizon)),
    };
  }
  const env = pretrainEnv(config);
  return {
    name: env.name,
    answers: env.subgoals,
    maxEpisodes: config.maxEpisodes,
    sample: (seed, i) =>
      plainLine(pretrainSample(env, seed, i, { maxEpisodes: config.maxEpisodes, format: PRETRAIN_FORMAT })),
  };
}

export function banditSpec(config: BanditConfig): GaussianBanditSpec {
  return gaussianBanditSpec({ arms: config.arms, sigma: config.sigma });
}

function plainLine(s: PretrainSample): Omit<DataLine, "split"> {
  return {
    index: s.index,
    z: s.z,
    episodes: s.episodes,
    prompt: s.prompt,
    label: s.label,
    answer: s.answer,
    bail: Array.from(s.bail),
  };
}

/** Settings that only choose what is measured after training: they leave the data and the weights alone. */
const EVALUATION_ONLY = new Set([
  "checkpointEvery",
  "servedEval",
  "deployRuns",
  "deployEpisodes",
  "testBandits",
]);

/** The identity of a run for its checkpoints: the settings that shape data and weights. */
export function runDigest(config: PretrainConfig): string {
  const shaping = Object.fromEntries(Object.entries(config).filter(([k]) => !EVALUATION_ONLY.has(k)));
  // Canonical (sorted-key) JSON: a config read back from the manifest may list its keys in another order.
  return createHash("sha256").update(canonicalJson(shaping)).digest("hex").slice(0, 16);
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/** Generate (or read back) the pretraining contexts. */
export function pretrainData(dir: string, config: PretrainConfig, log: (line: string) => void): DataLine[] {
  const task = pretrainTask(config);
  const path = join(dir, PRETRAIN_DATA);
  const header = {
    format: "bayesact-pretrain-data" as const,
    version: 1 as const,
    env: task.name,
    seed: config.seed,
    samples: config.samples,
    heldout: config.heldout,
    maxEpisodes: task.maxEpisodes,
    prompt: { ...PRETRAIN_FORMAT },
  };
  if (existsSync(path)) return readData(path, header);
  const lines: DataLine[] = [];
  const draw = (split: "train" | "heldout", count: number, seed: string) => {
    for (let i = 0; i < count; i++) lines.push({ split, ...task.sample(seed, i) });
  };
  draw("train", config.samples, `train ${config.seed}`);
  draw("heldout", config.heldout, `heldout ${config.seed}`);
  writeAtomic(path, `${[header, ...lines].map((l) => JSON.stringify(l)).join("\n")}\n`);
  log(`data: ${config.samples} training and ${config.heldout} held-out contexts of ${task.name} → ${path}`);
  return lines;
}

function readData(path: string, expected: z.infer<typeof DataHeaderSchema>): DataLine[] {
  const text = readFileSync(path, "utf8");
  const rows = text.split("\n").filter((l) => l.trim() !== "");
  const parseLine = <T>(schema: z.ZodType<T>, line: string, n: number): T => {
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      throw new UserError(`${path}: line ${n} is not JSON (not a bayesact pretraining data file?)`, {
        category: "bad_data",
      });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new UserError(
        `${path}: line ${n} is not pretraining data (${z.prettifyError(parsed.error).replaceAll("\n", " ").slice(0, 160)})`,
        { category: "bad_data" },
      );
    }
    return parsed.data;
  };
  const header = parseLine(DataHeaderSchema, rows[0] ?? "", 1);
  if (JSON.stringify(header) !== JSON.stringify(expected)) {
    throw new UserError(
      `${path} was generated with other settings than this run's (${JSON.stringify(header)})`,
      {
        category: "bad_data",
      },
    );
  }
  const lines = rows.slice(1).map((l, i) => parseLine(DataLineSchema, l, i + 2));
  if (lines.length !== expected.samples + expected.heldout) {
    throw new UserError(
      `${path} has ${lines.length} contexts, expected ${expected.samples + expected.heldout}`,
      {
        category: "bad_data",
      },
    );
  }
  return lines;
}

/** Run (or continue) every stage of a pretraining run in `dir`. */
export async function runPretrain(
  dir: string,
  config: PretrainConfig,
  ctx: PretrainContext = {},
): Promise<PretrainSummary> {
  const log = ctx.log ?? (() => {});
  const task = pretrainTask(config);
  const data = pretrainData(dir, config, log);
  const train = data.filter((d) => d.split === "train");
  const heldout = data.filter((d) => d.split === "heldout");
  const examples: Example[] = train.map((d) => toExample(d.prompt, d.answer));
  const heldoutExamples = heldout.map((d) => toExample(d.prompt, d.answer));
  // A loop, not Math.max(...): N_p can exceed the engine's argument limit.
  let longest = 0;
  for (const e of [...examples, ...heldoutExamples]) longest = Math.max(longest, e.ids.length);
  if (longest > config.model.context) {
    throw new UserError(
      `the longest context has ${longest} tokens, more than the model's window of ${config.model.context}: raise --context or lower --max-episodes`,
      { category: "bad_option" },
    );
  }

  const tf = await loadTf("wasm");
  const modelConfig: LlamaConfig = config.model;
  const run = runDigest(config);
  const checkpoint = readCheckpoint(dir, { run, model: modelConfig });
  const model = new LlamaTransformer(
    tf,
    modelConfig,
    checkpoint?.weights ?? initWeights(modelConfig, `model ${config.seed}`),
  );
  const optimizer: OptimizerConfig = config.optimizer;
  const trainer = new Trainer(tf, model, examples, optimizer, checkpoint?.optimizer);
  const lossCurvePath = join(dir, "loss.jsonl");
  try {
    if (trainer.step < optimizer.steps) {
      log(
        checkpoint
          ? `train: resuming at step ${trainer.step} of ${optimizer.steps}`
          : `train: ${optimizer.steps} steps of ${optimizer.batchSize} contexts`,
      );
    }
    const save = async () =>
      writeCheckpoint(dir, {
        step: trainer.step,
        model: modelConfig,
        run,
        weights: await model.weights(),
        optimizer: await trainer.state(),
      });
    while (trainer.step < optimizer.steps) {
      if (ctx.signal?.aborted) {
        await save();
        throw new UserError(`stopped at step ${trainer.step}; continue with: bayesact resume ${dir}`, {
          category: "interrupted",
        });
      }
      const report = trainer.trainStep();
      const entry = { step: report.step, loss: report.loss, tokens: report.tokens, ms: report.ms };
      writeFileSync(lossCurvePath, `${JSON.stringify(entry)}\n`, { flag: "a" });
      ctx.onStep?.(report, optimizer.steps);
      if (report.step % config.checkpointEvery === 0 || report.step === optimizer.steps) await save();
      // Let signals and timers in between steps (a step runs synchronously on the WebAssembly backend).
      await new Promise((r) => setImmediate(r));
    }

    const modelPath = join(dir, PRETRAIN_MODEL);
    if (!existsSync(modelPath)) {
      await exportGguf(`${modelPath}.tmp`, modelConfig, await model.weights(), {
        name: `bayesact-planner ${task.name}`,
        planner: PRETRAIN_FORMAT,
      });
      renameSync(`${modelPath}.tmp`, modelPath);
      log(`export: ${modelPath}`);
    }

    const heldoutLoss = evaluateLoss(tf, model, heldoutExamples);
    const tfDists = heldout.map((d) => subgoalDistribution(tf, model, d.prompt, task.answers).probs);
    const tvs = heldout.map((d, i) => totalVariation(tfDists[i] as Float64Array, d.bail));
    let servedTv: PretrainSummary["servedTv"];
    const deployment: DeploymentReport[] = [];
    let anchor: BanditAnchorReport | undefined;
    const deployRuns = config.experiment === "bandit" ? 0 : config.deployRuns;
    const anchorBandits = config.experiment === "bandit" ? config.testBandits : 0;
    if (config.servedEval > 0 || deployRuns > 0 || anchorBandits > 0) {
      const served = new LlamaCppModel({
        modelPath,
        threads: 1,
        contextSize: modelConfig.context,
        maxParallel: 1,
      });
      try {
        const n = Math.min(config.servedEval, heldout.length);
        let tvTotal = 0;
        let gap = 0;
        for (let i = 0; i < n; i++) {
          const d = heldout[i] as DataLine;
          const dist = await servedSubgoalDistribution(served, d.prompt, task.answers, ctx.signal);
          tvTotal += totalVariation(dist.probs, d.bail);
          gap = Math.max(gap, totalVariation(dist.probs, tfDists[i] as Float64Array));
        }
        if (n > 0) servedTv = { mean: tvTotal / n, contexts: n, maxGapToTf: gap };
        if (config.experiment !== "bandit" && deployRuns > 0) {
          const env = pretrainEnv(config);
          for (const loop of ["naive", "eps"] as const) {
            const report = await evaluateDeployment(served, env, {
              loop,
              runs: deployRuns,
              episodes: config.deployEpisodes,
              seed: `deploy ${config.seed}`,
              format: PRETRAIN_FORMAT,
              ...(ctx.signal ? { signal: ctx.signal } : {}),
            });
            deployment.push(report);
            log(
              `deploy ${loop}: TV ${report.tv.toFixed(4)} over ${report.decisions} decisions, regret ${sum(report.regret).toFixed(2)} over ${report.episodes} episodes`,
            );
          }
        }
        if (config.experiment === "bandit" && anchorBandits > 0) {
          anchor = await evaluateBanditAnchor(served, banditSpec(config), {
            bandits: anchorBandits,
            horizon: config.horizon,
            seed: `anchor ${config.seed}`,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          });
          log(
            `anchor: online regret after ${config.horizon} pulls, learned ${anchor.online.curves.learned.mean.at(-1)?.toFixed(2)}, Thompson ${anchor.online.curves.thompson.mean.at(-1)?.toFixed(2)}, UCB ${anchor.online.curves.ucb.mean.at(-1)?.toFixed(2)}, empirical mean ${anchor.online.curves.emp.mean.at(-1)?.toFixed(2)} (${anchorBandits} bandits)`,
          );
        }
      } finally {
        await served.close();
      }
    }
    // One entry per step: steps redone after a resume replace the ones of the interrupted process.
    const byStep = new Map<number, { step: number; loss: number; tokens: number; ms: number }>();
    for (const line of readFileSync(lossCurvePath, "utf8").split("\n")) {
      if (line === "") continue;
      const e = JSON.parse(line) as { step: number; loss: number; tokens: number; ms: number };
      byStep.set(e.step, e);
    }
    const curve = [...byStep.values()].sort((a, b) => a.step - b.step);
    const tokens = curve.reduce((n, e) => n + e.tokens, 0);
    const trainSeconds = curve.reduce((n, e) => n + e.ms, 0) / 1000;
    const every = Math.max(1, Math.floor(curve.length / 200));
    const summary: PretrainSummary = {
      experiment: config.experiment,
      env: task.name,
      samples: config.samples,
      steps: optimizer.steps,
      heldoutLoss,
      heldoutTv: { mean: tvs.reduce((a, b) => a + b, 0) / tvs.length, contexts: tvs.length },
      servedTv,
      deployment,
      anchor,
      trainTokensPerSecond: trainSeconds > 0 ? tokens / trainSeconds : 0,
      trainSeconds,
      lossCurve: curve
        .filter((_, i) => i % every === 0 || i === curve.length - 1)
        .map((e) => ({ step: e.step, loss: e.loss })),
    };
    writeAtomic(join(dir, PRETRAIN_SUMMARY), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
