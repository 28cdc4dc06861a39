/**
 * S2 — the hierarchical PAR gridworld (Words-to-Actions §1–§4, spec §8 S2): the probe trap's shape through the full
 * Planner/Actor/Reporter loop. A language Planner picks H = 3 subgoals ("go to room k", "read the sign at the info
 * desk"), a BFS Actor walks them out in a 9×9 four-room world (≤ 12 primitive steps each), a text Reporter says
 * where it ended (and, at the desk, where the sign points — right with probability p). The reward (ending in the
 * goal room z) is hidden. BAIL never reads the sign, so it succeeds 1/4 of the time forever; ε-greedy BAIL reads it
 * in exploratory episodes and its success tends to 1 − ε_t.
 */
import { z } from "zod";
import { Rng } from "../../core/rng.ts";
import { createGridworld } from "../../envs/theory/gridworld.ts";
import { explorationEta, probeTrapEta } from "../../envs/theory/probe-trap.ts";
import { mean, standardError } from "../../theory/stats.ts";
import {
  ARM,
  anytimeSchedule,
  armResult,
  type ExplorationSettings,
  experimentResult,
  fmt,
  type Job,
  llmArmParams,
  llmArms,
  llmValidityCheck,
  meanEpsilon,
  need,
  runJobs,
  type SuiteOptions,
  suiteJobs,
  suiteReport,
} from "./par-loop.ts";
import type { Check, ExperimentResult, TheoryExperiment } from "./types.ts";

export const gridworldParams = z.object({
  p: z.number().min(0).max(1).default(0.7).describe("Sign accuracy."),
  H: z.number().int().min(1).default(3).describe("Subgoals per episode."),
  actorHorizon: z
    .number()
    .int()
    .min(1)
    .default(12)
    .describe("The Actor's primitive-step budget per subgoal."),
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
    .describe("π_exp: read the sign at every step, or uniform over the rooms."),
  variantB: z
    .boolean()
    .default(false)
    .describe(
      "Add Variant-B arms (Boltzmann experts, expert-likelihood factors for every subgoal in memory).",
    ),
  beta: z.number().positive().default(2).describe("Variant B: inverse temperature of the Boltzmann experts."),
  ...llmArmParams(20),
});
export type GridworldParams = z.infer<typeof gridworldParams>;

const NAME = "gridworld";
const ROOMS = 4;

export const gridworldExperiment: TheoryExperiment<GridworldParams> = {
  name: NAME,
  title: "PAR gridworld: BAIL succeeds 1/4 of the time, ε-greedy BAIL learns where the sign points",
  theorem:
    "Words-to-Actions §1–§4 (spec §8 S2): through the full Planner/Actor/Reporter loop, BAIL's success stays at " +
    "1/|Z| = 1/4 (regret (3/4)·T) because no expert reads the sign; ε-greedy BAIL is sublinear and its success " +
    "tends to 1 − ε_t.",
  params: gridworldParams,
  async run(params, ctx): Promise<ExperimentResult> {
    const started = performance.now();
    const root = new Rng(ctx.baseSeed).stream(NAME);
    const seeds = ctx.seeds;
    const env = createGridworld({ p: params.p, H: params.H, actorHorizon: params.actorHorizon });
    // A sign reading is the probe of the trap with K = 4; "always probe" reads it at all H steps.
    const q = params.explore === "probe" ? 1 : 1 / env.subgoals.length;
    const settings: ExplorationSettings = {
      eta: explorationEta(probeTrapEta(ROOMS, params.p), q, env.H),
      c: params.c,
      tunedScale: params.tunedScale,
      explore: params.explore,
    };
    const options: SuiteOptions = {
      suffix: "",
      horizon: params.horizon,
      horizons: params.horizons,
      seeds,
      rng: root.stream(`p=${params.p},H=${params.H}`),
      settings,
      info: { p: params.p, H: params.H },
      ...(params.variantB ? { variantB: { beta: params.beta } } : {}),
    };
    const jobs: Job[] = suiteJobs(env, options);

    const llmSfx = ` (T=${params.llmHorizon})`;
    if (ctx.model) {
      const arms = llmArms(env, ctx.model, anytimeSchedule(env, settings, 1 / 2), settings.explore, {
        concurrency: params.llmConcurrency,
        suffix: llmSfx,
        ...(ctx.contextEpisodes === undefined ? {} : { contextEpisodes: ctx.contextEpisodes }),
        ...(ctx.plannerFormat ?? {}),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const rng = root.stream(`llm p=${params.p},H=${params.H}`);
      const llmSeeds = Math.min(params.llmSeeds, seeds);
      for (const arm of arms) jobs.push({ env, arm, horizon: params.llmHorizon, seeds: llmSeeds, rng });
    }

    const runs = await runJobs(jobs, ctx);
    const report = suiteReport(env, runs, options, 1 - 1 / ROOMS);
    const checks: Check[] = [...report.checks];

    for (const name of [ARM.bail, ARM.ps]) {
      const run = need(runs, name);
      const m = mean(run.success);
      const se = standardError(run.success);
      checks.push({
        claim: `${name}: success rate = 1/${ROOMS} within 3 s.e.`,
        pass: Math.abs(m - 1 / ROOMS) <= 3 * se,
        measured: `success ${fmt(m)} ± ${fmt(se)} (s.e.) over ${run.horizon} episodes × ${run.seeds} seeds; |diff| = ${fmt(Math.abs(m - 1 / ROOMS) / se, 3)} s.e.`,
      });
    }
    // Exploiting episodes succeed once the posterior has concentrated; an always-probe episode ends at the desk
    // (never a success), a uniform one succeeds when its last subgoal is the goal room (1/|G|).
    const half = need(runs, ARM.epsHalf);
    const schedule = anytimeSchedule(env, settings, 1 / 2);
    const epsTail = meanEpsilon(schedule, half.tailFrom, half.horizon);
    const exploreSuccess = settings.explore === "probe" ? 0 : 1 / env.subgoals.length;
    const expected = 1 - epsTail + epsTail * exploreSuccess;
    const tm = mean(half.tailSuccess);
    const tse = standardError(half.tailSuccess);
    checks.push({
      claim: `${ARM.epsHalf}: success over the last 20% of episodes = 1 − ε_tail·(1 − s_exp) within 3 s.e. (s_exp = ${fmt(exploreSuccess)}, ${settings.explore} π_exp)`,
      pass: Math.abs(tm - expected) <= 3 * tse,
      measured: `tail success ${fmt(tm)} ± ${fmt(tse)} (s.e.), predicted ${fmt(expected)} (ε_tail = ${fmt(epsTail)} over t ∈ [${half.tailFrom}, ${half.horizon}]); |diff| = ${fmt(Math.abs(tm - expected) / tse, 3)} s.e.`,
    });

    const arms = [...report.arms];
    if (ctx.model) {
      for (const name of [ARM.llm, ARM.epsLlm, ARM.bail, ARM.epsHalf]) {
        arms.push(armResult(need(runs, `${name}${llmSfx}`), { info: { p: params.p, H: params.H } }));
      }
      checks.push(
        llmValidityCheck(need(runs, `${ARM.llm}${llmSfx}`)),
        llmValidityCheck(need(runs, `${ARM.epsLlm}${llmSfx}`)),
      );
    }

    const parts = { arms, sweeps: report.sweeps, checks };
    return experimentResult(
      { name: NAME, theorem: gridworldExperiment.theorem },
      params,
      seeds,
      parts,
      runs,
      started,
    );
  },
};
