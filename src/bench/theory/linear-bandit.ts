/**
 * Theory lab, RAFA on a linear-Gaussian bandit (spec §2.3–2.4): θ* ~ N(0, σ0² I_d), exact Gaussian posterior, the
 * entropy switch is det Σ_t ≤ ¼ det Σ_{t_k}.
 *
 * The default action set is the unit sphere, where regret is Θ(d√T) for any policy (no gap floor): the regime in
 * which the theory's √T rate is tight, so the slope of posterior sampling is ≈ 1/2 rather than the polylog of a
 * finite action set. There the posterior-mean planner only ever learns along the line of its first action (its
 * mean never leaves that line), so its regret is linear.
 */
import { z } from "zod";
import { RafaTheory, type TheoryPosterior } from "../../agents/rafa-theory.ts";
import { Rng } from "../../core/rng.ts";
import { LinearBandit } from "../../envs/theory/linear-bandit.ts";
import { LinearGaussian } from "../../theory/gaussian.ts";
import { checkpoints } from "../../theory/regret.ts";
import {
  breathe,
  RAFA_ARMS,
  type RafaArmSpec,
  RafaRecorder,
  rafaBanditChecks,
  switchRuleOf,
  switchSweeps,
} from "./bandit.ts";
import type { ArmResult, ExperimentResult, Sweep, TheoryExperiment } from "./types.ts";

export const linearBanditParams = z.object({
  d: z.number().int().min(1).max(50).default(5).describe("Dimension d of θ."),
  horizon: z.number().int().min(10).max(10_000_000).default(10_000).describe("Steps per seed."),
  actions: z
    .enum(["sphere", "fixed", "per-step"])
    .default("sphere")
    .describe(
      "Action set: the unit sphere, a fixed finite set per instance, or a fresh finite set every step.",
    ),
  size: z.number().int().min(2).max(10_000).default(20).describe("Size of a finite action set."),
  priorSd: z
    .number()
    .positive()
    .default(1)
    .describe("Prior θ* ~ N(0, priorSd² I) and reward noise N(0, noiseSd²)."),
  noiseSd: z.number().positive().default(1).describe("Standard deviation of the Gaussian reward noise."),
  bits: z
    .number()
    .positive()
    .default(1)
    .describe("Entropy drop (bits) that triggers a switch: 1 bit ⇔ det Σ_t ≤ ¼ det Σ_{t_k}."),
  perDecade: z.number().int().min(2).max(100).default(10).describe("Log-spaced checkpoints per decade of t."),
});
export type LinearBanditParams = z.infer<typeof linearBanditParams>;

interface Observation {
  x: Float64Array;
  y: number;
}

function runLinearArm(
  spec: RafaArmSpec,
  p: LinearBanditParams,
  seed: number,
  root: Rng,
  recorder: RafaRecorder,
): void {
  const env = LinearBandit.sample(
    { dim: p.d, priorSd: p.priorSd, noiseSd: p.noiseSd, kind: p.actions, size: p.size },
    root.stream(`instance/${seed}`),
  );
  const noise = root.stream(`${spec.name}/${seed}/env`);
  // Per-step action sets come from a stream shared by the arms: every arm faces the same contexts.
  const contexts = root.stream(`contexts/${seed}`);
  const post = new LinearGaussian({ dim: p.d, noiseSd: p.noiseSd, priorCov: p.priorSd ** 2 });
  const modelBuffer = new Float64Array(p.d);
  // The frozen model of the current epoch: planning re-reads it against each step's action set.
  const frozen = new Float64Array(p.d);
  const x = new Float64Array(p.d);
  let version = 0;
  const posterior: TheoryPosterior<Float64Array, Observation> = {
    learn: (o) => {
      post.update(o.x, o.y);
      version += 1;
    },
    entropy: () => post.entropy(),
    mean: () => post.mean(modelBuffer),
    sample: (rng) => post.sample(rng, modelBuffer),
    version: () => version,
  };
  const agent = new RafaTheory<Float64Array, Observation, Float64Array, LinearBandit, Float64Array>({
    posterior,
    model: spec.model,
    switchRule: switchRuleOf(spec.switching, p.bits),
    plan: (model) => {
      frozen.set(model);
      return frozen;
    },
    act: (model, bandit) => {
      bandit.argmax(model, x);
      return x;
    },
    rng: root.stream(`${spec.name}/${seed}/agent`),
  });
  const ts = recorder.ts;
  let next = 0;
  let cum = 0;
  for (let t = 1; t <= p.horizon; t++) {
    env.nextStep(contexts);
    const action = agent.reason(env);
    cum += env.gap(action);
    agent.learn({ x: action, y: env.reward(action, noise) });
    if (t === ts[next]) {
      recorder.record(seed, t, cum, agent);
      next += 1;
    }
  }
  recorder.finish(seed, agent);
}

export const linearBanditExperiment: TheoryExperiment<LinearBanditParams> = {
  name: "linear-bandit",
  title:
    "RAFA on a linear-Gaussian bandit: posterior sampling vs posterior mean, det-based vs every-step switching",
  theorem:
    "RAFA (arXiv 2309.17382) §2.3: linear kernel models have E[H0 − H_T] = O(d log T), so posterior sampling has " +
    "regret Õ(√(d³T)) (slope ≤ 1/2 up to logs), with K ≤ 1 + (H0 − H_T)/log 2 switches when switching at " +
    "det Σ_t ≤ ¼ det Σ_{t_k}",
  params: linearBanditParams,
  async run(p, ctx) {
    const started = performance.now();
    const ts = checkpoints(p.horizon, p.perDecade);
    const root = new Rng(ctx.baseSeed).stream("linear-bandit");
    const arms: ArmResult[] = [];
    const sweeps: Sweep[] = [];
    const recorders = new Map<string, RafaRecorder>();
    const total = RAFA_ARMS.length * ctx.seeds;
    let done = 0;
    for (const spec of RAFA_ARMS) {
      const recorder = new RafaRecorder(ts, ctx.seeds);
      for (let seed = 0; seed < ctx.seeds; seed++) {
        runLinearArm(spec, p, seed, root, recorder);
        done += 1;
        ctx.onProgress?.(done, total);
        await breathe(ctx);
      }
      recorders.set(spec.name, recorder);
      arms.push(recorder.result(spec, p.horizon, { actions: p.actions }));
      if (spec.switching === "entropy") sweeps.push(...switchSweeps(spec.name, recorder));
    }
    return {
      experiment: "linear-bandit",
      theorem: linearBanditExperiment.theorem,
      params: { ...p },
      seeds: ctx.seeds,
      arms,
      sweeps,
      checks: rafaBanditChecks(arms, recorders, ctx.seeds, "linear-bandit"),
      wall_s: (performance.now() - started) / 1000,
      env_steps: RAFA_ARMS.length * ctx.seeds * p.horizon,
    } satisfies ExperimentResult;
  },
};
