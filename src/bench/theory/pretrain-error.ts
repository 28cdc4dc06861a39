/**
 * S1b — pretraining error (Words-to-Actions §5, spec §8 S1b): the exact BAIL Planner is replaced by
 * (1 − δ)·BAIL + δ·q, q uniform over the subgoals the true expert never takes, inside the ε-greedy switch. The regret
 * bound gains an additive O(T·Δ) term: with δ > 0 regret has a linear floor of slope ≈ δ; δ = 0 stays sublinear.
 * The spec's exact prediction for the tail: per-episode regret = ε_tail·r_exp + (1 − ε_tail)·δ, where r_exp is the
 * regret of an exploratory episode (1 for always-probe, K/(K+1) for uniform π_exp in the trap).
 */
import { z } from "zod";
import { Rng } from "../../core/rng.ts";
import { createProbeTrap, explorationEta, probeTrapEta } from "../../envs/theory/probe-trap.ts";
import { mean, standardError } from "../../theory/stats.ts";
import {
  ARM,
  anytimeSchedule,
  armResult,
  type ExplorationSettings,
  epsBailArm,
  experimentResult,
  fmt,
  type Job,
  llmArmParams,
  llmArms,
  llmValidityCheck,
  meanEpsilon,
  need,
  runJobs,
} from "./par-loop.ts";
import type { ArmResult, Check, ExperimentResult, Sweep, TheoryExperiment } from "./types.ts";

export const pretrainErrorParams = z.object({
  K: z.number().int().min(2).default(4).describe("Doors (|Z|)."),
  p: z.number().min(0).max(1).default(0.7).describe("Probe accuracy."),
  deltas: z.array(z.number().min(0).max(1)).min(1).default([0, 0.03, 0.1]).describe("Pretraining errors δ."),
  horizon: z.number().int().min(10).default(10_000).describe("Episodes per seed."),
  c: z.number().positive().default(1).describe("ε_t = min(1, c·√(H/η)·t^(−1/2))."),
  explore: z
    .enum(["probe", "uniform"])
    .default("probe")
    .describe("π_exp: always consult the probe, or uniform over G."),
  tail: z
    .number()
    .gt(0)
    .max(1)
    .default(0.2)
    .describe("The tail compared with the prediction: the last `tail` share of episodes."),
  tolerance: z
    .number()
    .positive()
    .default(0.15)
    .describe("Relative tolerance of the floor check (the issue's 15%)."),
  ...llmArmParams(30),
});
export type PretrainErrorParams = z.infer<typeof pretrainErrorParams>;

const NAME = "pretrain-error";

export const pretrainErrorExperiment: TheoryExperiment<PretrainErrorParams> = {
  name: NAME,
  title: "Pretraining error adds a linear floor to ε-greedy BAIL's regret",
  theorem:
    "Words-to-Actions §5 (spec §8 S1b): with an imperfect Planner (1 − δ)·BAIL + δ·q, ε-greedy BAIL's regret has a " +
    "linear floor Reg(T)/T → δ (tail per-episode regret = ε_tail·r_exp + (1 − ε_tail)·δ); δ = 0 is sublinear.",
  params: pretrainErrorParams,
  async run(params, ctx): Promise<ExperimentResult> {
    const started = performance.now();
    const root = new Rng(ctx.baseSeed).stream(NAME);
    const seeds = ctx.seeds;
    const T = params.horizon;
    const { K, p } = params;
    const env = createProbeTrap({ K, p });
    const q = params.explore === "probe" ? 1 : 1 / (K + 1);
    const settings: ExplorationSettings = {
      eta: explorationEta(probeTrapEta(K, p), q, 1),
      c: params.c,
      tunedScale: 1,
      explore: params.explore,
    };
    const schedule = anytimeSchedule(env, settings, 1 / 2);
    // Regret of an exploratory episode: always-probe never opens the right door; uniform over G opens it 1/(K+1).
    const rExp = params.explore === "probe" ? 1 : K / (K + 1);
    const rng = root.stream(`K=${K},p=${p}`);
    const armName = (delta: number) => `${ARM.epsHalf} delta=${delta}`;
    const jobs: Job[] = params.deltas.map((delta) => ({
      env,
      arm: epsBailArm(env, armName(delta), schedule, params.explore, { delta }),
      horizon: T,
      seeds,
      rng,
      tailFraction: params.tail,
    }));
    const llmSfx = ` K=${K} (T=${params.llmHorizon})`;
    if (ctx.model) {
      const arms = llmArms(env, ctx.model, schedule, params.explore, {
        concurrency: params.llmConcurrency,
        suffix: llmSfx,
        ...(ctx.contextEpisodes === undefined ? {} : { contextEpisodes: ctx.contextEpisodes }),
        ...(ctx.plannerFormat ?? {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const llmRng = root.stream(`llm K=${K},p=${p}`);
      const llmSeeds = Math.min(params.llmSeeds, seeds);
      for (const arm of arms)
        jobs.push({ env, arm, horizon: params.llmHorizon, seeds: llmSeeds, rng: llmRng });
    }

    const runs = await runJobs(jobs, ctx);
    const arms: ArmResult[] = [];
    const checks: Check[] = [];
    const tailPoints: Sweep["points"] = [];
    const predictedPoints: Sweep["points"] = [];
    const perEpisodePoints: Sweep["points"] = [];
    const slopePoints: Sweep["points"] = [];
    for (const delta of params.deltas) {
      const run = need(runs, armName(delta));
      const result = armResult(run, { info: { K, p, delta, eta: fmt(settings.eta) } });
      arms.push(result);
      const epsTail = meanEpsilon(schedule, run.tailFrom, T);
      const predicted = epsTail * rExp + (1 - epsTail) * delta;
      const tm = mean(run.tailRegret);
      const tse = standardError(run.tailRegret);
      const floor = (tm - epsTail * rExp) / (1 - epsTail);
      const perEpisode = result.final_regret_mean / T;
      const rel = Math.abs(tm - predicted) / predicted;
      const tailWhere = `t ∈ [${run.tailFrom}, ${T}], ε_tail = ${fmt(epsTail)}, r_exp = ${fmt(rExp)}`;
      checks.push(
        {
          claim: `δ = ${delta}: tail per-episode regret = ε_tail·r_exp + (1 − ε_tail)·δ within ${params.tolerance * 100}%`,
          pass: rel <= params.tolerance,
          measured: `tail ${fmt(tm)} ± ${fmt(tse)} (s.e.) vs predicted ${fmt(predicted)} (relative error ${fmt(rel * 100, 3)}%; ${tailWhere}); implied floor (tail − ε_tail·r_exp)/(1 − ε_tail) = ${fmt(floor)} vs δ = ${delta}; Reg(T)/T = ${fmt(perEpisode)} at T = ${T}`,
        },
        {
          claim: `δ = ${delta}: tail per-episode regret = ε_tail·r_exp + (1 − ε_tail)·δ within 3 s.e. (spec S1b)`,
          pass: Math.abs(tm - predicted) <= 3 * tse,
          measured: `tail ${fmt(tm)} ± ${fmt(tse)} vs predicted ${fmt(predicted)}: |diff| = ${fmt(Math.abs(tm - predicted) / tse, 3)} s.e. (${tailWhere})`,
        },
      );
      const fit = run.regret.tailSlope();
      if (delta === 0) {
        checks.push({
          claim: "δ = 0: ε-greedy BAIL stays sublinear (tail slope ≤ 0.6)",
          pass: fit.slope <= 0.6,
          measured: `tail slope ${fmt(fit.slope)} (95% seed-bootstrap CI ${fmt(fit.ci95[0])}..${fmt(fit.ci95[1])}), Reg(T) = ${fmt(result.final_regret_mean)} ± ${fmt(result.final_regret_se)}`,
        });
      }
      tailPoints.push({ x: delta, mean: tm, se: tse });
      predictedPoints.push({ x: delta, mean: predicted, se: 0 });
      perEpisodePoints.push({ x: delta, mean: perEpisode, se: result.final_regret_se / T });
      slopePoints.push({ x: delta, mean: fit.slope, se: (fit.ci95[1] - fit.ci95[0]) / (2 * 1.96) });
    }
    const sweeps: Sweep[] = [
      {
        name: "tail per-episode regret vs δ (measured)",
        x_label: "δ",
        y_label: "regret/episode",
        points: tailPoints,
      },
      {
        name: "tail per-episode regret vs δ (predicted ε_tail·r_exp + (1 − ε_tail)·δ)",
        x_label: "δ",
        y_label: "regret/episode",
        points: predictedPoints,
      },
      { name: "Reg(T)/T vs δ", x_label: "δ", y_label: "Reg(T)/T", points: perEpisodePoints },
      { name: "tail slope vs δ", x_label: "δ", y_label: "slope", points: slopePoints },
    ];

    if (ctx.model) {
      for (const name of [ARM.llm, ARM.epsLlm, ARM.bail, ARM.epsHalf]) {
        arms.push(armResult(need(runs, `${name}${llmSfx}`), { info: { K, p } }));
      }
      checks.push(
        llmValidityCheck(need(runs, `${ARM.llm}${llmSfx}`)),
        llmValidityCheck(need(runs, `${ARM.epsLlm}${llmSfx}`)),
      );
    }

    return experimentResult(
      { name: NAME, theorem: pretrainErrorExperiment.theorem },
      params,
      seeds,
      { arms, sweeps, checks },
      runs,
      started,
    );
  },
};
