/**
 * The Planner/Actor/Reporter episode loop of Words-to-Actions §1 and its regret accounting, shared by the
 * probe-trap, pretraining-error and gridworld experiments (and meant for the world-model and multi-agent ones).
 *
 * Per seed i: z* ~ P_Z from the stream `z/i` of the run's generator — the same latent for every arm, so arms are
 * compared on common random numbers — and fresh Planner and world streams per arm. Per episode t = 1..T the
 * Planner sees only the Reporter's observations and its own subgoals (rewards only for the control arm); every
 * episode, exploratory or not, enters its memory.
 *
 * **Regret** of episode t is J*_{z*} − (realised return). In these environments the return is a deterministic
 * function of z* and the subgoals taken (the Actor is deterministic and the reward depends on where it ends), so
 * the realised return equals the expected return of the subgoals actually chosen; averaging over seeds averages
 * over the Planner's and the Reporter's randomness, which gives the spec's Reg(T) = Σ_t E[J*_z − J_z(π^t)].
 *
 * Recorded at log-spaced checkpoints (per seed): cumulative regret; the Planner's posterior mass on z*; and, over the
 * episodes since the previous checkpoint, the fraction with a probe subgoal and the fraction of successes (return
 * reaching J*_{z*}). Exact arms run on a synchronous driver that allocates nothing per step; arms declared
 * `asynchronous` (an LLM Planner) run on a promise-aware driver, optionally several seeds at once.
 */

import { z } from "zod";
import { LlmPlanner } from "../../agents/llm-planner.ts";
import {
  BailPlanner,
  EpsilonGreedyPlanner,
  EpsilonTable,
  type ExplorationPolicy,
  OraclePlanner,
  type Planner,
  type PlannerStats,
  type PosteriorOptions,
  PosteriorSamplingPlanner,
  PretrainingErrorPlanner,
} from "../../agents/planners.ts";
import type { Rng } from "../../core/rng.ts";
import { drawLatent, EpisodeTrace, type ParEnv, ParWorld } from "../../envs/theory/par.ts";
import type { PlannerMemory, PlannerStyle } from "../../envs/theory/prompts.ts";
import type { LanguageModel } from "../../llm/types.ts";
import {
  checkpoints,
  horizonSlopeBootstrap,
  RegretCurves,
  type SlopeFit,
  tailSlope,
} from "../../theory/regret.ts";
import { type EpsilonSchedule, epsilonAt, tunedEpsilon } from "../../theory/schedules.ts";
import { mean, standardError } from "../../theory/stats.ts";
import type { ArmResult, Check, ExperimentContext, ExperimentResult, Series, Sweep } from "./types.ts";

/** What an arm's factory gets for one seed. `zStar` is for arms entitled to it (oracle, the δ error model). */
export interface SeedContext {
  readonly index: number;
  readonly zStar: number;
  readonly rng: Rng;
}

export interface ArmSpec {
  /** Unique within a run: it names the arm's random streams. */
  readonly name: string;
  create(seed: SeedContext): Planner;
  /** Parameters worth recording (ε, c, δ, …). */
  readonly info?: Record<string, number | string>;
  /** The Planner may answer with a promise (an LLM); exact arms run on a synchronous driver. */
  readonly asynchronous?: boolean;
  /** Seeds run concurrently (asynchronous arms only). Default 1. */
  readonly concurrency?: number;
}

export interface LoopOptions {
  /** Episodes per seed (T). */
  readonly horizon: number;
  readonly seeds: number;
  /** The run's generator: latents from `z/<i>`, arm streams from `arm/<name>/<i>`. */
  readonly rng: Rng;
  /** Checkpoints (default `checkpoints(horizon)`). */
  readonly checkpoints?: readonly number[];
  /** Share of the last episodes averaged into `tailRegret` / `tailSuccess` (default 0.2). */
  readonly tailFraction?: number;
  readonly signal?: AbortSignal;
  /** Called after each seed with the episodes it ran (progress). */
  readonly onSeed?: (episodes: number) => void;
}

export interface ArmRun {
  readonly name: string;
  readonly horizon: number;
  readonly seeds: number;
  readonly regret: RegretCurves;
  /**
   * Cumulative regret of the episodes in which the base Planner acted alone (no π_exp step), and the number of
   * exploring episodes so far: what BAIL learns, apart from what exploration costs. Arms that never explore have
   * `exploitRegret` equal to `regret` and no explorations.
   */
  readonly exploitRegret: RegretCurves;
  readonly explorations: RegretCurves;
  /** Posterior mass on z* (undefined for planners without a posterior). */
  readonly posterior: RegretCurves | undefined;
  readonly probeRate: RegretCurves;
  readonly successRate: RegretCurves;
  /** Per seed: mean per-episode regret over the tail. */
  readonly tailRegret: Float64Array;
  /** Per seed: success fraction over the tail. */
  readonly tailSuccess: Float64Array;
  /** Per seed: success fraction over all episodes. */
  readonly success: Float64Array;
  /** First episode of the tail (1-based). */
  readonly tailFrom: number;
  /** Smallest and largest posterior mass on z* seen at any checkpoint of any seed. */
  readonly posteriorRange: [number, number];
  /** Primitive Actor steps simulated. */
  readonly envSteps: number;
  /** Summed LLM counters (LLM arms only). */
  readonly stats: PlannerStats | undefined;
  readonly info: Record<string, number | string>;
}

/** Run one arm for `seeds` seeds of `horizon` episodes. */
export async function runArm(env: ParEnv, arm: ArmSpec, options: LoopOptions): Promise<ArmRun> {
  const { horizon, seeds, rng, signal } = options;
  if (!(Number.isInteger(horizon) && horizon >= 1))
    throw new RangeError(`horizon must be ≥ 1, got ${horizon}`);
  if (!(Number.isInteger(seeds) && seeds >= 1)) throw new RangeError(`seeds must be ≥ 1, got ${seeds}`);
  const ts = options.checkpoints ?? checkpoints(horizon);
  const tailFrom = Math.max(1, horizon - Math.floor(horizon * (options.tailFraction ?? 0.2)) + 1);
  const acc: Accumulators = {
    ts,
    tailFrom,
    regret: new RegretCurves(ts, seeds),
    exploitRegret: new RegretCurves(ts, seeds),
    explorations: new RegretCurves(ts, seeds),
    posterior: new RegretCurves(ts, seeds),
    hasPosterior: false,
    probeRate: new RegretCurves(ts, seeds),
    successRate: new RegretCurves(ts, seeds),
    tailRegret: new Float64Array(seeds),
    tailSuccess: new Float64Array(seeds),
    success: new Float64Array(seeds),
    posteriorMin: Number.POSITIVE_INFINITY,
    posteriorMax: Number.NEGATIVE_INFINITY,
    envSteps: 0,
    stats: undefined,
  };
  const concurrency = arm.asynchronous ? Math.max(1, arm.concurrency ?? 1) : 1;
  let next = 0;
  let lastYield = performance.now();
  const worker = async () => {
    for (;;) {
      signal?.throwIfAborted();
      const i = next++;
      if (i >= seeds) return;
      const run = new SeedRun(env, arm, i, horizon, rng, acc);
      if (arm.asynchronous) await driveAsync(run, horizon, env.H, signal);
      else driveSync(run, horizon, env.H, signal);
      run.finish();
      options.onSeed?.(horizon);
      // Between seeds, every few milliseconds: let timers, signals and progress output run.
      if (performance.now() - lastYield > 10) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, seeds) }, worker));
  return {
    name: arm.name,
    horizon,
    seeds,
    regret: acc.regret,
    exploitRegret: acc.exploitRegret,
    explorations: acc.explorations,
    posterior: acc.hasPosterior ? acc.posterior : undefined,
    probeRate: acc.probeRate,
    successRate: acc.successRate,
    tailRegret: acc.tailRegret,
    tailSuccess: acc.tailSuccess,
    success: acc.success,
    tailFrom,
    posteriorRange: acc.hasPosterior ? [acc.posteriorMin, acc.posteriorMax] : [Number.NaN, Number.NaN],
    envSteps: acc.envSteps,
    stats: acc.stats,
    info: { ...(arm.info ?? {}) },
  };
}

interface Accumulators {
  ts: readonly number[];
  tailFrom: number;
  regret: RegretCurves;
  exploitRegret: RegretCurves;
  explorations: RegretCurves;
  posterior: RegretCurves;
  hasPosterior: boolean;
  probeRate: RegretCurves;
  successRate: RegretCurves;
  tailRegret: Float64Array;
  tailSuccess: Float64Array;
  success: Float64Array;
  posteriorMin: number;
  posteriorMax: number;
  envSteps: number;
  stats: PlannerStats | undefined;
}

/**
 * One seed's episodes. The state lives in fields (not in an async function's frame, where every double written
 * would be a fresh heap number), so the synchronous driver of the exact arms runs without allocating.
 */
class SeedRun {
  readonly planner: Planner;
  readonly trace: EpisodeTrace;
  private readonly world: ParWorld;
  private readonly acc: Accumulators;
  private readonly i: number;
  private readonly horizon: number;
  private readonly G: number;
  private readonly isProbe: Uint8Array;
  private readonly jStar: number;
  private readonly zStar: number;
  private readonly seesReward: boolean;
  private cumulative = 0;
  private exploitCumulative = 0;
  private explorationCount = 0;
  private explored = 0;
  private steps = 0;
  private successes = 0;
  private tailRegret = 0;
  private tailSuccesses = 0;
  private bucketProbes = 0;
  private bucketSuccesses = 0;
  private bucketStart = 0;
  private k = 0;
  private nextCheckpoint: number;
  private ret = 0;
  private probed = 0;

  constructor(env: ParEnv, arm: ArmSpec, i: number, horizon: number, rng: Rng, acc: Accumulators) {
    this.zStar = drawLatent(env, rng.stream(`z/${i}`));
    const armRng = rng.stream(`arm/${arm.name}/${i}`);
    this.world = new ParWorld(env, this.zStar, armRng.stream("world"));
    this.planner = arm.create({ index: i, zStar: this.zStar, rng: armRng.stream("planner") });
    this.trace = new EpisodeTrace(env.H);
    this.G = env.subgoals.length;
    this.isProbe = new Uint8Array(this.G);
    for (const g of env.probes) this.isProbe[g] = 1;
    this.jStar = env.optimalValue(this.zStar);
    this.seesReward = this.planner.seesReward;
    this.acc = acc;
    this.i = i;
    this.horizon = horizon;
    this.nextCheckpoint = acc.ts[0] ?? horizon + 1;
  }

  begin(t: number): void {
    this.planner.beginEpisode(t);
    this.trace.start(this.world.reset());
    this.ret = 0;
    this.probed = 0;
    this.explored = 0;
  }

  /** Execute subgoal g at 0-based step h: Actor, Reporter, reward, then the Planner observes. */
  step(g: number, h: number): void {
    if (!(Number.isInteger(g) && g >= 0 && g < this.G)) {
      throw new RangeError(`${this.planner.name} chose subgoal ${g}, outside 0..${this.G - 1}`);
    }
    const out = this.world.step(g, h);
    this.ret += out.reward;
    this.steps += out.steps;
    this.probed |= this.isProbe[g] as number;
    if (this.planner.exploring === true) this.explored = 1;
    const r = this.seesReward ? out.reward : Number.NaN;
    this.planner.observe(this.trace, g, out.observation, r);
    this.trace.push(g, out.observation, r);
  }

  end(t: number): void {
    this.planner.endEpisode(this.trace);
    const acc = this.acc;
    const regret = this.jStar - this.ret;
    // A return within rounding of J* is a success (returns are sums of a few rewards in [0, 1]).
    const success = this.ret >= this.jStar - 1e-9 ? 1 : 0;
    this.cumulative += regret;
    if (this.explored === 1) this.explorationCount++;
    else this.exploitCumulative += regret;
    this.successes += success;
    this.bucketProbes += this.probed;
    this.bucketSuccesses += success;
    if (t >= acc.tailFrom) {
      this.tailRegret += regret;
      this.tailSuccesses += success;
    }
    if (t !== this.nextCheckpoint) return;
    const i = this.i;
    acc.regret.record(i, t, this.cumulative);
    acc.exploitRegret.record(i, t, this.exploitCumulative);
    acc.explorations.record(i, t, this.explorationCount);
    const width = t - this.bucketStart;
    acc.probeRate.record(i, t, this.bucketProbes / width);
    acc.successRate.record(i, t, this.bucketSuccesses / width);
    this.bucketProbes = 0;
    this.bucketSuccesses = 0;
    this.bucketStart = t;
    const mass = this.planner.posteriorMass?.(this.zStar);
    if (mass !== undefined && !Number.isNaN(mass)) {
      acc.hasPosterior = true;
      acc.posterior.record(i, t, mass);
      if (mass < acc.posteriorMin) acc.posteriorMin = mass;
      if (mass > acc.posteriorMax) acc.posteriorMax = mass;
    }
    this.k++;
    this.nextCheckpoint = acc.ts[this.k] ?? this.horizon + 1;
  }

  finish(): void {
    const acc = this.acc;
    const tailLength = this.horizon - acc.tailFrom + 1;
    acc.tailRegret[this.i] = this.tailRegret / tailLength;
    acc.tailSuccess[this.i] = this.tailSuccesses / tailLength;
    acc.success[this.i] = this.successes / this.horizon;
    acc.envSteps += this.steps;
    const stats = this.planner.stats?.();
    if (stats) {
      const s = acc.stats ?? { calls: 0, failures: 0, repaired: 0, inputTokens: 0, outputTokens: 0 };
      s.calls += stats.calls;
      s.failures += stats.failures;
      s.repaired += stats.repaired;
      s.inputTokens += stats.inputTokens;
      s.outputTokens += stats.outputTokens;
      acc.stats = s;
    }
  }
}

/** The exact arms: every `act` answers at once. */
function driveSync(run: SeedRun, horizon: number, H: number, signal: AbortSignal | undefined): void {
  const planner = run.planner;
  const trace = run.trace;
  for (let t = 1; t <= horizon; t++) {
    run.begin(t);
    for (let h = 0; h < H; h++) {
      const g = planner.act(trace);
      if (typeof g !== "number") {
        throw new RangeError(`${planner.name} answered asynchronously: declare its arm \`asynchronous\``);
      }
      run.step(g, h);
    }
    run.end(t);
    if ((t & 1023) === 0 && signal?.aborted) signal.throwIfAborted();
  }
}

/** Arms whose Planner may answer with a promise (an LLM). */
async function driveAsync(run: SeedRun, horizon: number, H: number, signal: AbortSignal | undefined) {
  const planner = run.planner;
  const trace = run.trace;
  for (let t = 1; t <= horizon; t++) {
    signal?.throwIfAborted();
    run.begin(t);
    for (let h = 0; h < H; h++) {
      const chosen = planner.act(trace);
      run.step(typeof chosen === "number" ? chosen : await chosen, h);
    }
    run.end(t);
  }
}

/** The LLM arms' parameters every PAR experiment takes (used only with `--model`); `horizon` is its default. */
export function llmArmParams(
  horizon: number,
  horizonText = "LLM arms (only with --model): episodes per seed.",
) {
  return {
    llmHorizon: z.number().int().min(1).default(horizon).describe(horizonText),
    llmSeeds: z.number().int().min(1).default(5).describe("LLM arms: seeds (at most --seeds)."),
    llmConcurrency: z.number().int().min(1).default(4).describe("LLM arms: seeds run concurrently."),
  };
}

/** The `ArmResult` of a run: the within-run tail slope unless `slope` is given (horizon-tuned arms). */
export function armResult(
  run: ArmRun,
  options: { name?: string; slope?: SlopeFit; info?: Record<string, number | string> } = {},
): ArmResult {
  const curve = run.regret.curve();
  const slope = options.slope ?? run.regret.tailSlope();
  const finals = run.regret.finals();
  const info: Record<string, number | string> = { ...run.info, ...(options.info ?? {}) };
  if (run.stats) {
    info.llm_calls = run.stats.calls;
    info.llm_failures = run.stats.failures;
    info.llm_repaired = run.stats.repaired;
    info.llm_input_tokens = run.stats.inputTokens;
    info.llm_output_tokens = run.stats.outputTokens;
  }
  const explorations = run.explorations.finals();
  const exploitFinals = run.exploitRegret.finals();
  const explores = explorations.some((n) => n > 0);
  const exploitFit = explores ? run.exploitRegret.tailSlope() : undefined;
  const cost = finals.map((f, i) => f - (exploitFinals[i] as number));
  return {
    name: options.name ?? run.name,
    horizon: run.horizon,
    ...(exploitFit
      ? {
          exploit: {
            curve: run.exploitRegret.curve(),
            final_mean: mean(exploitFinals),
            final_se: standardError(exploitFinals),
            slope: exploitFit.slope,
            slope_ci95: exploitFit.ci95,
            exploration_episodes_mean: mean(explorations),
            exploration_cost_mean: mean(cost),
            exploration_cost_se: standardError(cost),
          },
        }
      : {}),
    final_regret_mean: mean(finals),
    final_regret_se: standardError(finals),
    slope: slope.slope,
    slope_ci95: slope.ci95,
    slope_interval: slope.interval,
    curve,
    ...(run.posterior ? { posterior_true: run.posterior.curve() } : {}),
    probe_rate: run.probeRate.curve(),
    success_rate: run.successRate.curve(),
    info,
  };
}

/** A horizon-tuned arm run separately at each horizon: slope of log final regret across horizons. */
export function horizonArmResult(
  name: string,
  runs: readonly ArmRun[],
  epsilons: readonly number[],
): ArmResult {
  const last = runs.at(-1);
  if (last === undefined) throw new RangeError("horizonArmResult: no runs");
  const horizons = runs.map((r) => r.horizon);
  const finals = runs.map((r) => mean(r.regret.finals()));
  const fit = horizonSlopeBootstrap(
    horizons,
    runs.map((r) => r.regret.finals()),
  );
  const info: Record<string, number | string> = {
    schedule: "constant ε*(T), one run per horizon",
    horizons: horizons.join(","),
    epsilons: epsilons.map((e) => e.toPrecision(4)).join(","),
    finals: finals.map((f) => f.toPrecision(5)).join(","),
  };
  return armResult(last, { name, slope: fit, info });
}

/** Mean of ε_t over episodes from..to (inclusive), for comparing a tail with its exploration share. */
export function meanEpsilon(schedule: EpsilonSchedule, from: number, to: number): number {
  let s = 0;
  for (let t = from; t <= to; t++) s += epsilonAt(schedule, t);
  return s / (to - from + 1);
}

/** A series of `value(t, mean, se)` over the checkpoints of a curve from `minT` on (e.g. Reg(t)/√t). */
export function transformSeries(
  curve: Series,
  f: (t: number) => number,
  minT = 1,
): { x: number; mean: number; se: number }[] {
  const out: { x: number; mean: number; se: number }[] = [];
  curve.t.forEach((t, i) => {
    if (t < minT) return;
    const scale = f(t);
    out.push({ x: t, mean: (curve.mean[i] as number) * scale, se: (curve.se[i] as number) * scale });
  });
  return out;
}

/** A number for a check's `measured` text: 4 significant digits, no exponent for ordinary magnitudes. */
export function fmt(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** Progress over a planned amount of episodes. */
class Progress {
  private done = 0;
  readonly total: number;
  private readonly report: ((done: number, total: number) => void) | undefined;
  constructor(total: number, report?: (done: number, total: number) => void) {
    this.total = total;
    this.report = report;
  }
  add = (episodes: number): void => {
    this.done += episodes;
    this.report?.(this.done, this.total);
  };
}

// —— Arms shared by the experiments ——————————————————————————————————————————————————————————————————————

export interface ExplorationSettings {
  /** η of one exploratory episode (identifiability), for ε*(T) and the anytime constants. */
  readonly eta: number;
  /** Scale of the anytime schedules: ε_t = min(1, c·√(H/η)·t^(−power)). */
  readonly c: number;
  /** Scale of the horizon-tuned ε*(T) (`tunedEpsilon`). */
  readonly tunedScale: number;
  readonly explore: ExplorationPolicy;
}

/** The anytime schedule ε_t = min(1, c·√(H/η)·t^(−power)) (spec §4; the log factor left to the constant). */
export function anytimeSchedule(env: ParEnv, s: ExplorationSettings, power: number): EpsilonSchedule {
  return { kind: "power", c: s.c * Math.sqrt(env.H / s.eta), power };
}

/** ε*(T) for a run of `horizon` episodes. */
export function tunedFor(env: ParEnv, s: ExplorationSettings, horizon: number): number {
  return tunedEpsilon({ horizon, H: env.H, Z: env.latentCount, eta: s.eta, scale: s.tunedScale });
}

export const ARM = {
  oracle: "oracle",
  bail: "bail-exact",
  ps: "ps-exact",
  epsHalf: "eps-bail t^-1/2",
  epsThird: "eps-bail t^-1/3",
  epsTuned: "eps-bail eps*(T)",
  control: "control: bail-exact, rewards visible",
  bailB: "bail-exact Variant B",
  epsHalfB: "eps-bail t^-1/2 Variant B",
  llm: "llm",
  epsLlm: "eps-llm t^-1/2",
} as const;

export function oracleArm(env: ParEnv): ArmSpec {
  return { name: ARM.oracle, create: ({ zStar, rng }) => new OraclePlanner(env, zStar, rng) };
}

export function bailArm(env: ParEnv, name: string = ARM.bail, options: PosteriorOptions = {}): ArmSpec {
  return { name, create: ({ rng }) => new BailPlanner(env, rng, options) };
}

export function psArm(env: ParEnv): ArmSpec {
  return { name: ARM.ps, create: ({ rng }) => new PosteriorSamplingPlanner(env, rng) };
}

/** ε-greedy around exact BAIL (optionally with pretraining error δ, optionally Variant B). */
export function epsBailArm(
  env: ParEnv,
  name: string,
  schedule: EpsilonSchedule,
  explore: ExplorationPolicy,
  options: { delta?: number; posterior?: PosteriorOptions } = {},
): ArmSpec {
  const delta = options.delta ?? 0;
  // One table of ε_t per arm, shared by its seeds.
  const table = new EpsilonTable(schedule);
  return {
    name,
    info: { schedule: describeSchedule(schedule), explore, ...(delta > 0 ? { delta } : {}) },
    create: ({ rng, zStar }) => {
      const bail = new BailPlanner(env, rng.stream("bail"), options.posterior ?? {});
      const base =
        delta > 0 ? new PretrainingErrorPlanner(bail, env, zStar, delta, rng.stream("delta")) : bail;
      return new EpsilonGreedyPlanner(base, env, rng.stream("eps"), { schedule: table, explore, name });
    },
  };
}

export function describeSchedule(s: EpsilonSchedule): string {
  switch (s.kind) {
    case "none":
      return "none";
    case "constant":
      return `constant ${fmt(s.epsilon)}`;
    case "power":
      return `min(1, ${fmt(s.c)}·t^-${fmt(s.power)})`;
  }
}

/** The LLM arms (plain, and inside the ε-greedy switch) with their exact references at the same horizon. */
export function llmArms(
  env: ParEnv,
  model: LanguageModel,
  schedule: EpsilonSchedule,
  explore: ExplorationPolicy,
  options: {
    contextEpisodes?: number;
    memory?: PlannerMemory;
    style?: PlannerStyle;
    concurrency: number;
    signal?: AbortSignal;
    suffix: string;
  },
): ArmSpec[] {
  const planner = (rng: Rng, name: string) =>
    new LlmPlanner({
      model,
      env,
      rng,
      name,
      ...(options.contextEpisodes === undefined ? {} : { contextEpisodes: options.contextEpisodes }),
      ...(options.memory ? { memory: options.memory } : {}),
      ...(options.style ? { style: options.style } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  const llmName = `${ARM.llm}${options.suffix}`;
  const epsName = `${ARM.epsLlm}${options.suffix}`;
  return [
    {
      name: llmName,
      asynchronous: true,
      concurrency: options.concurrency,
      info: {
        model: model.id,
        context_episodes: options.contextEpisodes ?? "all",
        prompt: `${options.style ?? "full"}, ${options.memory ?? "episodes"}`,
      },
      create: ({ rng }) => planner(rng, llmName),
    },
    {
      name: epsName,
      asynchronous: true,
      concurrency: options.concurrency,
      info: { model: model.id, schedule: describeSchedule(schedule), explore },
      create: ({ rng }) =>
        new EpsilonGreedyPlanner(planner(rng.stream("llm"), epsName), env, rng.stream("eps"), {
          schedule,
          explore,
          name: epsName,
        }),
    },
    bailArm(env, `${ARM.bail}${options.suffix}`),
    epsBailArm(env, `${ARM.epsHalf}${options.suffix}`, schedule, explore),
  ];
}

// —— Running planned jobs ——————————————————————————————————————————————————————————————————————————————————

export interface Job {
  readonly env: ParEnv;
  readonly arm: ArmSpec;
  readonly horizon: number;
  readonly seeds: number;
  /** The configuration's generator (shared by the arms compared on it). */
  readonly rng: Rng;
  readonly tailFraction?: number;
}

/** Run jobs in order, reporting progress in episodes over all of them. Keys are the arms' names. */
export async function runJobs(
  jobs: readonly Job[],
  ctx: Pick<ExperimentContext, "signal" | "onProgress">,
): Promise<Map<string, ArmRun>> {
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.arm.name)) throw new RangeError(`duplicate arm name: ${job.arm.name}`);
    names.add(job.arm.name);
  }
  const progress = new Progress(
    jobs.reduce((s, j) => s + j.seeds * j.horizon, 0),
    ctx.onProgress,
  );
  const runs = new Map<string, ArmRun>();
  for (const job of jobs) {
    const run = await runArm(job.env, job.arm, {
      horizon: job.horizon,
      seeds: job.seeds,
      rng: job.rng,
      onSeed: progress.add,
      ...(job.tailFraction === undefined ? {} : { tailFraction: job.tailFraction }),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    runs.set(job.arm.name, run);
  }
  return runs;
}

/** The run of an arm that must exist (a missing one is a bug in the experiment's plan). */
export function need(runs: ReadonlyMap<string, ArmRun>, name: string): ArmRun {
  const run = runs.get(name);
  if (run === undefined) throw new RangeError(`no run named ${name}`);
  return run;
}

// —— Checks ——————————————————————————————————————————————————————————————————————————————————————————————————

/** Reg(T)/T equals `perEpisode` within `k` standard errors, and the tail slope is ≥ `minSlope`. */
export function linearRegretCheck(
  run: ArmRun,
  label: string,
  perEpisode: number,
  minSlope = 0.95,
  k = 3,
): Check {
  const finals = run.regret.finals();
  const m = mean(finals) / run.horizon;
  const se = standardError(finals) / run.horizon;
  const slope = tailSlope(run.regret.curve()).slope;
  const within = Math.abs(m - perEpisode) <= k * se;
  return {
    claim: `${label}: Reg(T)/T = ${fmt(perEpisode)} within ${k} s.e. and slope ≥ ${minSlope} (linear regret)`,
    pass: within && slope >= minSlope,
    measured: `Reg(T)/T = ${fmt(m)} ± ${fmt(se)} (s.e.; |diff| = ${fmt(Math.abs(m - perEpisode) / (se || Number.NaN), 3)} s.e.), T = ${run.horizon}, ${run.seeds} seeds; tail slope ${fmt(slope)}`,
  };
}

/** Largest exploit-only tail slope that still counts as bounded or logarithmic (a·ln t has slope 1/ln t ≈ 0.11 at 10⁴). */
export const EXPLOIT_MAX_SLOPE = 0.2;

/**
 * What BAIL learns, apart from what exploration costs: once z is identified the episodes the base Planner plays
 * alone stop paying, so their cumulative regret is bounded or logarithmic — tail slope ≤ `maxSlope`. An ε-greedy
 * arm's total regret is this plus the exploration cost, which follows the schedule by construction; so this, not
 * the total's slope, is the evidence that the Planner learned. Fails when exploration is too rare for the
 * posterior to concentrate within T (c → 0), and for naive BAIL.
 */
export function exploitBoundedCheck(run: ArmRun, label: string, maxSlope = EXPLOIT_MAX_SLOPE): Check {
  const fit = run.regret.tailSlope();
  const exploit = run.exploitRegret.tailSlope();
  const e = run.exploitRegret.finals();
  const n = run.explorations.finals();
  const total = run.regret.finals();
  const cost = total.map((f, i) => f - (e[i] as number));
  return {
    claim: `${label}: what BAIL learns — the exploit episodes' regret is bounded or logarithmic (its tail slope ≤ ${maxSlope})`,
    pass: exploit.slope <= maxSlope,
    measured: `exploit-only Reg(T) ${fmt(mean(e))} ± ${fmt(standardError(e))}, slope ${fmt(exploit.slope)} (95% seed-bootstrap CI ${fmt(exploit.ci95[0])}..${fmt(exploit.ci95[1])}); exploration: ${fmt(mean(n))} episodes costing ${fmt(mean(cost))} ± ${fmt(standardError(cost))}; total Reg(T) ${fmt(mean(total))}, slope ${fmt(fit.slope)}; T = ${run.horizon}, ${run.seeds} seeds`,
  };
}

/**
 * The spec's acceptance thresholds (words-to-actions §8 S1): for T ≥ 10⁴, ε-BAIL's slope in [0.45, 0.55] after the
 * log correction and in [0.45, 0.60] raw; the t^(−1/3) arm in [0.60, 0.75]; Reg/√T flat within ±15 % between 10⁴
 * and 10⁵.
 */
export const SPEC = {
  fromT: 10_000,
  raw: [0.45, 0.6],
  logCorrected: [0.45, 0.55],
  third: [0.6, 0.75],
  flatness: 0.15,
} as const;

/**
 * Reg(T)/√T of the horizon-tuned arm is flat within ±15 % from the first horizon ≥ 10⁴ to the last (the spec: 10⁴
 * to 10⁵; the claim names the range the run has). The ratio of the two means, with a delta-method s.e.
 */
export function flatnessCheck(label: string, runs: readonly ArmRun[]): Check {
  const sorted = [...runs].sort((a, b) => a.horizon - b.horizon);
  const from = sorted.find((r) => r.horizon >= SPEC.fromT) ?? sorted[0];
  const to = sorted.at(-1);
  if (!from || !to || from === to) {
    return {
      claim: `${label}: Reg(T)/√T flat within ±${SPEC.flatness * 100} % from T = 10⁴ on`,
      pass: false,
      measured: `needs two horizons, one ≥ 10⁴ (have ${sorted.map((r) => r.horizon).join(", ")})`,
    };
  }
  const at = (r: ArmRun) => {
    const f = r.regret.finals();
    return { m: mean(f) / Math.sqrt(r.horizon), se: standardError(f) / Math.sqrt(r.horizon) };
  };
  const a = at(from);
  const b = at(to);
  const ratio = b.m / a.m;
  const se = ratio * Math.hypot(a.se / a.m, b.se / b.m);
  return {
    claim: `${label}: Reg(T)/√T flat within ±${SPEC.flatness * 100} % between T = ${from.horizon} and ${to.horizon}`,
    pass: Math.abs(ratio - 1) <= SPEC.flatness,
    measured: `Reg/√T ${fmt(a.m)} ± ${fmt(a.se)} at ${from.horizon}, ${fmt(b.m)} ± ${fmt(b.se)} at ${to.horizon}: ratio ${fmt(ratio)} ± ${fmt(se)}`,
  };
}

/** The slope lies in [lo, hi]. */
export function slopeCheck(label: string, fit: SlopeFit, lo: number, hi: number, what: string): Check {
  return {
    claim: `${label}: ${what} in [${lo}, ${hi}]`,
    pass: fit.slope >= lo && fit.slope <= hi,
    measured: `slope ${fmt(fit.slope)} (95% ${fit.interval === "seed-bootstrap" ? "seed-bootstrap" : "fit"} CI ${fmt(fit.ci95[0])}..${fmt(fit.ci95[1])}) over t ∈ [${fmt(fit.from)}, ${fmt(fit.to)}]`,
  };
}

/** The Planner's posterior on z* never moved from the prior (to `tol`). */
export function posteriorAtPriorCheck(run: ArmRun, label: string, prior: number, tol = 1e-12): Check {
  const [lo, hi] = run.posteriorRange;
  const dev = Math.max(Math.abs(lo - prior), Math.abs(hi - prior));
  return {
    claim: `${label}: the posterior on z* stays at the prior ${fmt(prior)} to ${tol}`,
    pass: dev <= tol,
    measured: `P(z* | H_t) ∈ [${lo}, ${hi}] over all checkpoints of ${run.seeds} seeds; max |P − prior| = ${dev.toExponential(2)}`,
  };
}

/** Sublinear without ε: tail slope ≤ `maxSlope` and every seed's regret bounded by `bound`. */
export function boundedRegretCheck(run: ArmRun, label: string, bound: number, maxSlope = 0.6): Check {
  const finals = run.regret.finals();
  let worst = 0;
  for (const f of finals) worst = Math.max(worst, f);
  const slope = tailSlope(run.regret.curve()).slope;
  return {
    claim: `${label}: sublinear without ε — tail slope ≤ ${maxSlope} and every seed's Reg(T) ≤ ${bound} (bounded)`,
    pass: slope <= maxSlope && worst <= bound,
    measured: `tail slope ${fmt(slope)}; Reg(T) mean ${fmt(mean(finals))} ± ${fmt(standardError(finals))}, max over ${run.seeds} seeds ${fmt(worst)}, T = ${run.horizon}`,
  };
}

/** The sweep's minimum is at an interior point (a U-shape), and where it lies relative to a reference ε. */
export function uShapeCheck(sweep: Sweep, label: string, reference: number): Check {
  const pts = sweep.points;
  let best = 0;
  pts.forEach((p, i) => {
    if (p.mean < (pts[best]?.mean ?? Number.POSITIVE_INFINITY)) best = i;
  });
  const min = pts[best];
  const first = pts[0];
  const last = pts.at(-1);
  const interior = best > 0 && best < pts.length - 1;
  return {
    claim: `${label}: final regret against constant ε is U-shaped (minimum at an interior ε)`,
    pass: interior,
    measured: `min Reg(T) = ${fmt(min?.mean ?? Number.NaN)} at ε = ${fmt(min?.x ?? Number.NaN)} (ε*(T) = ${fmt(reference)}); ε = ${fmt(first?.x ?? Number.NaN)}: ${fmt(first?.mean ?? Number.NaN)}, ε = ${fmt(last?.x ?? Number.NaN)}: ${fmt(last?.mean ?? Number.NaN)}`,
  };
}

/** Every LLM answer was a valid member of G (no fallbacks). */
export function llmValidityCheck(run: ArmRun): Check {
  const s = run.stats ?? { calls: 0, failures: 0, repaired: 0, inputTokens: 0, outputTokens: 0 };
  return {
    claim: `${run.name}: every planner call returned a valid subgoal of G through structured output`,
    pass: s.calls > 0 && s.failures === 0,
    measured: `${s.calls} calls, ${s.failures} failures answered by a uniform subgoal, ${s.repaired} repaired; ${s.inputTokens} input / ${s.outputTokens} output tokens`,
  };
}

// —— The standard suite: oracle, BAIL, PS, ε-BAIL (three schedules), control, on one environment ————————————

export interface SuiteOptions {
  /** Appended to every arm name (e.g. " K=4"); keeps names unique across configurations. */
  readonly suffix: string;
  readonly horizon: number;
  /** Horizons of the separate ε*(T) runs. */
  readonly horizons: readonly number[];
  readonly seeds: number;
  readonly rng: Rng;
  readonly settings: ExplorationSettings;
  /** Variant-B arms with Boltzmann experts of this β. */
  readonly variantB?: { readonly beta: number };
  /** Recorded in every arm's info. */
  readonly info?: Record<string, number | string>;
}

/** The jobs of the standard suite on `env`. */
export function suiteJobs(env: ParEnv, o: SuiteOptions): Job[] {
  const s = o.settings;
  const sfx = o.suffix;
  const within: ArmSpec[] = [
    { ...oracleArm(env), name: `${ARM.oracle}${sfx}` },
    bailArm(env, `${ARM.bail}${sfx}`),
    { ...psArm(env), name: `${ARM.ps}${sfx}` },
    epsBailArm(env, `${ARM.epsHalf}${sfx}`, anytimeSchedule(env, s, 1 / 2), s.explore),
    epsBailArm(env, `${ARM.epsThird}${sfx}`, anytimeSchedule(env, s, 1 / 3), s.explore),
    bailArm(env, `${ARM.control}${sfx}`, { seesReward: true }),
  ];
  if (o.variantB) {
    const posterior = { variant: "B", beta: o.variantB.beta } as const;
    within.push(
      bailArm(env, `${ARM.bailB}${sfx}`, posterior),
      epsBailArm(env, `${ARM.epsHalfB}${sfx}`, anytimeSchedule(env, s, 1 / 2), s.explore, { posterior }),
    );
  }
  const jobs: Job[] = within.map((arm) => ({ env, arm, horizon: o.horizon, seeds: o.seeds, rng: o.rng }));
  for (const h of o.horizons) {
    const epsilon = tunedFor(env, s, h);
    jobs.push({
      env,
      arm: epsBailArm(env, `${ARM.epsTuned}${sfx} T=${h}`, { kind: "constant", epsilon }, s.explore),
      horizon: h,
      seeds: o.seeds,
      rng: o.rng,
    });
  }
  return jobs;
}

export interface SuiteReport {
  arms: ArmResult[];
  sweeps: Sweep[];
  checks: Check[];
}

/**
 * Results and checks of the standard suite: BAIL and PS linear at `linearPerEpisode` (with the posterior at the
 * prior), ε*(T) and ε ∝ t^(−1/2) slopes in [0.4, 0.6], ε ∝ t^(−1/3) in [0.6, 0.75], the control arm bounded by
 * |Z| − 1 (each failure with rewards visible rules out a hypothesis) with tail slope ≤ 0.6.
 */
export function suiteReport(
  env: ParEnv,
  runs: ReadonlyMap<string, ArmRun>,
  o: SuiteOptions,
  linearPerEpisode: number,
): SuiteReport {
  const sfx = o.suffix;
  const s = o.settings;
  const info = { ...(o.info ?? {}), eta: fmt(s.eta) };
  const arms: ArmResult[] = [];
  const names: string[] = [ARM.oracle, ARM.bail, ARM.ps, ARM.epsHalf, ARM.epsThird, ARM.control];
  if (o.variantB) names.push(ARM.bailB, ARM.epsHalfB);
  for (const name of names) arms.push(armResult(need(runs, `${name}${sfx}`), { info }));

  const tuned = o.horizons.map((h) => need(runs, `${ARM.epsTuned}${sfx} T=${h}`));
  // The spec's acceptance is "for T ≥ 1e4": fit the horizons from 10⁴ on when two of them are there, else all.
  const large = o.horizons.filter((h) => h >= SPEC.fromT);
  const fitted = large.length >= 2 ? large : [...o.horizons];
  const fittedRuns = tuned.filter((r) => fitted.includes(r.horizon));
  const tunedFinals = fittedRuns.map((r) => r.regret.finals());
  const tunedFit = horizonSlopeBootstrap(fitted, tunedFinals);
  const logCorrected = horizonSlopeBootstrap(
    fitted,
    tunedFinals.map((f, i) => {
      const scale = Math.sqrt(Math.log(env.latentCount * (fitted[i] as number)));
      return f.map((x) => x / scale);
    }),
  );
  const tunedResult = horizonArmResult(
    `${ARM.epsTuned}${sfx}`,
    tuned,
    o.horizons.map((h) => tunedFor(env, s, h)),
  );
  tunedResult.info = { ...info, ...(tunedResult.info ?? {}), slope_log_corrected: fmt(logCorrected.slope) };
  arms.push(tunedResult);

  const bail = need(runs, `${ARM.bail}${sfx}`);
  const half = need(runs, `${ARM.epsHalf}${sfx}`);
  const label = sfx.trim() === "" ? "" : ` ${sfx.trim()}`;
  const checks: Check[] = [
    linearRegretCheck(bail, `${ARM.bail}${label}`, linearPerEpisode),
    linearRegretCheck(need(runs, `${ARM.ps}${sfx}`), `${ARM.ps}${label}`, linearPerEpisode),
    posteriorAtPriorCheck(bail, `${ARM.bail}${label}`, env.prior[0] ?? Number.NaN),
    slopeCheck(
      `${ARM.epsTuned}${label} (η = ${fmt(s.eta)})`,
      tunedFit,
      SPEC.raw[0],
      SPEC.raw[1],
      `raw slope of log Reg(T) across T = ${fitted.join(", ")}`,
    ),
    slopeCheck(
      `${ARM.epsTuned}${label} (η = ${fmt(s.eta)})`,
      logCorrected,
      SPEC.logCorrected[0],
      SPEC.logCorrected[1],
      `log-corrected slope of log(Reg(T)/√log(|Z|T)) across T = ${fitted.join(", ")}`,
    ),
    flatnessCheck(`${ARM.epsTuned}${label}`, tuned),
    slopeCheck(
      `${ARM.epsHalf}${label}`,
      half.regret.tailSlope(),
      SPEC.raw[0],
      SPEC.raw[1],
      "within-run slope over the last decade",
    ),
    slopeCheck(
      `${ARM.epsThird}${label}`,
      need(runs, `${ARM.epsThird}${sfx}`).regret.tailSlope(),
      SPEC.third[0],
      SPEC.third[1],
      "within-run slope over the last decade",
    ),
    boundedRegretCheck(need(runs, `${ARM.control}${sfx}`), `${ARM.control}${label}`, env.latentCount - 1),
    exploitBoundedCheck(half, `${ARM.epsHalf}${label}`),
    exploitBoundedCheck(need(runs, `${ARM.epsThird}${sfx}`), `${ARM.epsThird}${label}`),
  ];

  const sweeps: Sweep[] = [
    {
      name: `Reg(T)/√T vs T — ${ARM.epsTuned}${label}`,
      x_label: "T",
      y_label: "Reg(T)/√T",
      points: tuned.map((r) => {
        const f = r.regret.finals();
        const sq = Math.sqrt(r.horizon);
        return { x: r.horizon, mean: mean(f) / sq, se: standardError(f) / sq };
      }),
    },
    {
      name: `Reg(t)/√t vs t — ${ARM.epsHalf}${label}`,
      x_label: "t",
      y_label: "Reg(t)/√t",
      points: transformSeries(half.regret.curve(), (t) => 1 / Math.sqrt(t), Math.max(1, o.horizon / 100)),
    },
  ];
  return { arms, sweeps, checks };
}

/** An experiment's `result.json`: environment steps summed over its runs, wall time since `started`. */
export function experimentResult(
  exp: { readonly name: string; readonly theorem: string },
  params: Readonly<Record<string, unknown>>,
  seeds: number,
  parts: Pick<ExperimentResult, "arms" | "sweeps" | "checks">,
  runs: ReadonlyMap<string, { readonly envSteps: number }>,
  started: number,
): ExperimentResult {
  let envSteps = 0;
  for (const run of runs.values()) envSteps += run.envSteps;
  return {
    experiment: exp.name,
    theorem: exp.theorem,
    params: { ...params },
    seeds,
    ...parts,
    wall_s: (performance.now() - started) / 1000,
    env_steps: envSteps,
  };
}
