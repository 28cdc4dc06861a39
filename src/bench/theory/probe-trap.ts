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
import { tailSlope } from "../../theory/regret.ts";
import {
  ARM,
  anytimeSchedule,
  armResult,
  bailArm,
  type ExplorationSettings,
  epsBailArm,
  experimentResult,
  exploitBoundedCheck,
  fmt,
  type Job,
  llmArmParams,
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
    .default([1_000, 3_000, 10_000, 30_000, 100_000])
    .describe("Separate horizons of the horizon-tuned ε*(T) arm (its checks fit those ≥ 10⁴)."),
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
  cSweep: z
    .array(z.number().positive())
    .default([0.05, 0.3, 1, 3, 10])
    .describe(
      "The schedule constant c of ε_t = min(1, c·√(H/η)·t^(−1/2)), swept at sweepK (empty: no sweep).",
    ),
  cSweepHorizon: z
    .number()
    .int()
    .min(100)
    .default(100_000)
    .describe("Episodes per seed of the c sweep (its slopes are read at T/10 and at T)."),
  cSweepSeeds: z.number().int().min(2).default(40).describe("Seeds of the c sweep (at most --seeds)."),
  beta: z.number().positive().default(2).describe("Variant B: inverse temperature of the Boltzmann experts."),
  llmK: z.number().int().min(2).default(4).describe("LLM arms (only with --model): doors K."),
  ...llmArmParams(30, "LLM arms: episodes per seed."),
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

    // The c sweep (issue 14): what the schedule constant does at finite T, and what it does not change (BAIL's
    // exploit episodes stop paying for every c; the total's slope tends to 1/2 once exploration dominates it).
    const cName = (c: number) => `c-sweep ${ARM.epsHalf} c=${c} K=${params.sweepK} T=${params.cSweepHorizon}`;
    const cSeeds = Math.min(params.cSweepSeeds, seeds);
    const cRng = root.stream(`c-sweep K=${params.sweepK},p=${params.p}`);
    for (const c of params.cSweep) {
      const schedule = anytimeSchedule(sweepEnv, { ...sweepSettings, c }, 1 / 2);
      jobs.push({
        env: sweepEnv,
        arm: epsBailArm(sweepEnv, cName(c), schedule, params.explore),
        horizon: params.cSweepHorizon,
        seeds: cSeeds,
        rng: cRng,
      });
    }

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

    if (params.cSweep.length > 0) {
      const T2 = params.cSweepHorizon;
      const rows = params.cSweep.map((c) => {
        const run = need(runs, cName(c));
        const result = armResult(run, { info: { K: params.sweepK, p: params.p, c } });
        arms.push(result);
        const curve = run.regret.curve();
        const tenth = curve.t.findLastIndex((t) => t <= T2 / 10);
        const early = tailSlope({ t: curve.t.slice(0, tenth + 1), mean: curve.mean.slice(0, tenth + 1) });
        const exploit = result.exploit;
        return { c, run, result, early: early.slope, exploit };
      });
      const point = (x: number, m: number, se = 0) => ({ x, mean: m, se });
      sweeps.push(
        {
          name: `tail slope of Reg vs c — ε_t ∝ c·t^(−1/2), K=${params.sweepK}: at T = ${T2 / 10} (window [${T2 / 100}, ${T2 / 10}])`,
          x_label: "c",
          y_label: "slope",
          points: rows.map((r) => point(r.c, r.early)),
        },
        {
          name: `tail slope of Reg vs c — at T = ${T2}`,
          x_label: "c",
          y_label: "slope",
          points: rows.map((r) => point(r.c, r.result.slope)),
        },
        {
          name: `exploit-only Reg(T) vs c (what BAIL learns), T = ${T2}`,
          x_label: "c",
          y_label: "Reg_exploit(T)",
          points: rows.map((r) => point(r.c, r.exploit?.final_mean ?? 0, r.exploit?.final_se ?? 0)),
        },
        {
          name: `exploration cost vs c (what exploring pays), T = ${T2}`,
          x_label: "c",
          y_label: "Reg(T) − Reg_exploit(T)",
          points: rows.map((r) =>
            point(r.c, r.exploit?.exploration_cost_mean ?? 0, r.exploit?.exploration_cost_se ?? 0),
          ),
        },
      );
      for (const r of rows) checks.push(exploitBoundedCheck(r.run, `c-sweep c=${r.c}, T = ${T2}`));
      // The asymptotic claim is about the regime where exploration dominates the regret; a c whose exploit
      // regret is still ≥ 1/10 of its exploration cost at T has not reached it, and is listed, not judged.
      const asymptotic = rows.filter(
        (r) => r.exploit !== undefined && r.exploit.final_mean <= r.exploit.exploration_cost_mean / 10,
      );
      const inRange = asymptotic.filter((r) => r.result.slope >= 0.4 && r.result.slope <= 0.6);
      checks.push({
        claim: `c-sweep, T = ${T2}: for every c whose exploration cost is ≥ 10× its exploit regret (the asymptotic regime; at least one), the tail slope of Reg is in [0.4, 0.6]`,
        pass: asymptotic.length > 0 && inRange.length === asymptotic.length,
        measured: rows
          .map(
            (r) =>
              `c=${r.c}: slope ${fmt(r.result.slope)} at T (${fmt(r.early)} at T/10), exploit ${fmt(r.exploit?.final_mean ?? Number.NaN)} vs exploration cost ${fmt(r.exploit?.exploration_cost_mean ?? Number.NaN)}${asymptotic.includes(r) ? "" : " (not asymptotic: not judged)"}`,
          )
          .join("; "),
      });
    }

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
