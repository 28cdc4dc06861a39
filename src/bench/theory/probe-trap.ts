/**
 * S1 — the probe trap (Words-to-Actions §3–§4, spec §8 S1): naive BAIL and posterior sampling have linear regret
 * (1 − 1/K)·T because no expert probes and the reward is hidden, so the posterior never leaves the prior; ε-greedy
 * BAIL is sublinear (≈ √T with ε ∝ t^(−1/2) or the horizon-tuned ε*(T), ≈ T^(2/3) with ε ∝ t^(−1/3)); with the
 * reward in context BAIL becomes Thompson sampling and is sublinear without ε; with p = 1/K (K = 2, p = 0.5) the probe
 * says nothing (η = 0) and every arm is linear.
 */
import { z } from "zod";
import { Rng } from "../../core/rng.ts";
import { createProbeTrap, explorationEta, probeTrapEta } from "../../envs/theory/probe-trap.ts";
import {
  ARM,
  anytimeSchedule,
  armResult,
  bailArm,
  type ExplorationSettings,
  epsBailArm,
  experimentResult,
  fmt,
  type Job,
  llmArms,
  llmValidityCheck,
  need,
  runJobs,
  type SuiteOptions,
  suiteJobs,
  suiteReport,
  tunedFor,
  uShapeCheck,
} from "./par-loop.ts";
import type { ArmResult, Check, ExperimentResult, Sweep, TheoryExperiment } from "./types.ts";

export const probeTrapParams = z.object({
  Ks: z.array(z.number().int().min(2)).min(1).default([2, 4, 8]).describe("Numbers of doors (|Z|)."),
  p: z.number().min(0).max(1).default(0.7).describe("Probe accuracy."),
  horizon: z.number().int().min(10).default(10_000).describe("Episodes per seed for the within-run arms."),
  horizons: z
    .array(z.number().int().min(10))
    .min(2)
    .default([1_000, 3_000, 10_000, 30_000])
    .describe("Separate horizons of the horizon-tuned ε*(T) arm."),
  c: z
    .number()
    .positive()
    .default(1)
    .describe("Anytime schedules: ε_t = min(1, c·√(H/η)·t^(−1/2)) and the same constant with t^(−1/3)."),
  tunedScale: z.number().positive().default(1).describe("ε*(T) = min(1, tunedScale·√(H·log(|Z|T)/(ηT)))."),
  explore: z
    .enum(["probe", "uniform"])
    .default("probe")
    .describe("π_exp: always consult the probe, or uniform over G."),
  sweepK: z.number().int().min(2).default(4).describe("The constant-ε sweep (the U-shape) runs at this K …"),
  sweepEpsilons: z
    .array(z.number().min(0).max(1))
    .default([0, 0.001, 0.00316, 0.01, 0.0316, 0.1, 0.316, 1])
    .describe("… over these ε."),
  negativeControl: z
    .boolean()
    .default(true)
    .describe("Also run K = 2, p = 0.5 (η = 0), where every arm must stay linear."),
  variantB: z
    .boolean()
    .default(false)
    .describe(
      "Add Variant-B arms (Boltzmann experts, expert-likelihood factors for every subgoal in memory).",
    ),
  beta: z.number().positive().default(2).describe("Variant B: inverse temperature of the Boltzmann experts."),
  llmK: z.number().int().min(2).default(4).describe("LLM arms (only with --model): doors K."),
  llmHorizon: z.number().int().min(1).default(30).describe("LLM arms: episodes per seed."),
  llmSeeds: z.number().int().min(1).default(5).describe("LLM arms: seeds (at most --seeds)."),
  llmConcurrency: z.number().int().min(1).default(4).describe("LLM arms: seeds run concurrently."),
});
export type ProbeTrapParams = z.infer<typeof probeTrapParams>;

const NAME = "probe-trap";

export const probeTrapExperiment: TheoryExperiment<ProbeTrapParams> = {
  name: NAME,
  title: "Probe trap: naive BAIL is linear, ε-greedy BAIL is sublinear",
  theorem:
    "Words-to-Actions §3–§4 (spec §8 S1): in the probe trap BAIL and posterior sampling have Reg(T) = (1 − 1/K)·T; " +
    "ε-greedy BAIL has Reg(T) = Õ(√T) (ε ∝ t^(−1/2) or ε*(T)) and T^(2/3) with ε ∝ t^(−1/3); with rewards in " +
    "context BAIL is Thompson sampling and sublinear without ε.",
  params: probeTrapParams,
  async run(params, ctx): Promise<ExperimentResult> {
    const started = performance.now();
    const root = new Rng(ctx.baseSeed).stream(NAME);
    const seeds = ctx.seeds;
    const T = params.horizon;
    const q = (K: number) => (params.explore === "probe" ? 1 : 1 / (K + 1));
    const settingsFor = (K: number, etaProbe: number): ExplorationSettings => ({
      eta: explorationEta(etaProbe, q(K), 1),
      c: params.c,
      tunedScale: params.tunedScale,
      explore: params.explore,
    });
    const jobs: Job[] = [];
    const suites = params.Ks.map((K) => {
      const env = createProbeTrap({ K, p: params.p });
      const options: SuiteOptions = {
        suffix: ` K=${K}`,
        horizon: T,
        horizons: params.horizons,
        seeds,
        rng: root.stream(`K=${K},p=${params.p}`),
        settings: settingsFor(K, probeTrapEta(K, params.p)),
        info: { K, p: params.p },
        ...(params.variantB ? { variantB: { beta: params.beta } } : {}),
      };
      jobs.push(...suiteJobs(env, options));
      return { K, env, options };
    });

    const sweepEnv = createProbeTrap({ K: params.sweepK, p: params.p });
    const sweepSettings = settingsFor(params.sweepK, probeTrapEta(params.sweepK, params.p));
    const sweepRng = root.stream(`K=${params.sweepK},p=${params.p}`);
    for (const epsilon of params.sweepEpsilons) {
      jobs.push({
        env: sweepEnv,
        arm: epsBailArm(
          sweepEnv,
          `sweep eps=${epsilon} K=${params.sweepK}`,
          { kind: "constant", epsilon },
          params.explore,
        ),
        horizon: T,
        seeds,
        rng: sweepRng,
      });
    }

    // Negative control: the probe is uninformative (η = 0). The ε arms use the constants of an agent that believes
    // the probe is perfect (η of p = 1): with the true η = 0 every formula would say "always explore".
    const negEnv = createProbeTrap({ K: 2, p: 0.5 });
    const negSettings = settingsFor(2, 1);
    const negRng = root.stream("K=2,p=0.5");
    const negArms = params.negativeControl
      ? [
          bailArm(negEnv, `negative control: ${ARM.bail} K=2 p=0.5`),
          epsBailArm(
            negEnv,
            `negative control: ${ARM.epsHalf} K=2 p=0.5`,
            anytimeSchedule(negEnv, negSettings, 1 / 2),
            params.explore,
          ),
          epsBailArm(
            negEnv,
            `negative control: ${ARM.epsTuned} K=2 p=0.5`,
            { kind: "constant", epsilon: tunedFor(negEnv, negSettings, T) },
            params.explore,
          ),
        ]
      : [];
    for (const arm of negArms) jobs.push({ env: negEnv, arm, horizon: T, seeds, rng: negRng });

    const llmSfx = ` K=${params.llmK} (T=${params.llmHorizon})`;
    const llmSeeds = Math.min(params.llmSeeds, seeds);
    if (ctx.model) {
      const env = createProbeTrap({ K: params.llmK, p: params.p });
      const s = settingsFor(params.llmK, probeTrapEta(params.llmK, params.p));
      const arms = llmArms(env, ctx.model, anytimeSchedule(env, s, 1 / 2), s.explore, {
        concurrency: params.llmConcurrency,
        suffix: llmSfx,
        ...(ctx.contextEpisodes === undefined ? {} : { contextEpisodes: ctx.contextEpisodes }),
        ...(ctx.plannerFormat ?? {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const rng = root.stream(`llm K=${params.llmK},p=${params.p}`);
      for (const arm of arms) jobs.push({ env, arm, horizon: params.llmHorizon, seeds: llmSeeds, rng });
    }

    const runs = await runJobs(jobs, ctx);

    const arms: ArmResult[] = [];
    const sweeps: Sweep[] = [];
    const checks: Check[] = [];
    for (const { K, env, options } of suites) {
      const report = suiteReport(env, runs, options, 1 - 1 / K);
      arms.push(...report.arms);
      sweeps.push(...report.sweeps);
      checks.push(...report.checks);
    }

    const sweep: Sweep = {
      name: `final Reg(T) vs constant ε — K=${params.sweepK}, p=${params.p}, T=${T}`,
      x_label: "ε",
      y_label: "Reg(T)",
      points: params.sweepEpsilons.map((epsilon) => {
        const r = armResult(need(runs, `sweep eps=${epsilon} K=${params.sweepK}`));
        return { x: epsilon, mean: r.final_regret_mean, se: r.final_regret_se };
      }),
    };
    sweeps.push(sweep);
    checks.push(
      uShapeCheck(sweep, `constant-ε sweep K=${params.sweepK}`, tunedFor(sweepEnv, sweepSettings, T)),
    );

    if (params.negativeControl) {
      const slopes: string[] = [];
      let allLinear = true;
      for (const arm of negArms) {
        const run = need(runs, arm.name);
        const result = armResult(run, { info: { K: 2, p: 0.5, eta: 0, eta_assumed: fmt(negSettings.eta) } });
        arms.push(result);
        slopes.push(
          `${arm.name.replace("negative control: ", "")}: slope ${fmt(result.slope)}, Reg(T)/T ${fmt(result.final_regret_mean / T)}`,
        );
        if (!(result.slope >= 0.9)) allLinear = false;
      }
      checks.push({
        claim: "negative control K = 2, p = 0.5 (η = 0): every arm is linear (tail slope ≥ 0.9)",
        pass: allLinear,
        measured: slopes.join("; "),
      });
    }

    if (ctx.model) {
      for (const name of [ARM.llm, ARM.epsLlm, ARM.bail, ARM.epsHalf]) {
        arms.push(armResult(need(runs, `${name}${llmSfx}`), { info: { K: params.llmK, p: params.p } }));
      }
      checks.push(
        llmValidityCheck(need(runs, `${ARM.llm}${llmSfx}`)),
        llmValidityCheck(need(runs, `${ARM.epsLlm}${llmSfx}`)),
      );
    }

    return experimentResult(
      { name: NAME, theorem: probeTrapExperiment.theorem },
      params,
      seeds,
      { arms, sweeps, checks },
      runs,
      started,
    );
  },
};
