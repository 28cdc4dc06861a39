/**
 * Theory lab, RAFA on a Beta–Bernoulli bandit (spec §2.3–2.4). This module also holds what the three RAFA
 * experiments share: the arm grid (posterior-mean vs posterior-sample model × every-step vs entropy-drop switch), a
 * recorder of regret / switches / entropy drop at checkpoints, and the checks of the claims.
 *
 * What to expect: posterior sampling refreshed every step (Thompson sampling) has polylog Bayesian regret under
 * uniform priors (local slope ≈ 2/ln t, like log² T). With the entropy-drop switch a sample is kept until one bit
 * has been learned, and once one arm dominates the pulls a bit takes ~4× as many steps as the last, so an arm that
 * has never been tried is offered only ~log₄ T fresh chances: the seeds where it is the best arm carry linear
 * regret, a share that shrinks only slowly with T (the `best arm never pulled` sweep), so the slope rises with T.
 */
import { z } from "zod";
import {
  entropyDrop,
  everyEpisode,
  everyStep,
  type ModelKind,
  RafaTheory,
  type SwitchRule,
  type TheoryPosterior,
} from "../../agents/rafa-theory.ts";
import { Rng } from "../../core/rng.ts";
import { BernoulliBandit } from "../../envs/theory/bandit.ts";
import { BetaBernoulli } from "../../theory/beta.ts";
import { checkpoints, RegretCurves, tailSlope } from "../../theory/regret.ts";
import { linearFit, mean, standardError } from "../../theory/stats.ts";
import type {
  ArmResult,
  Check,
  ExperimentContext,
  ExperimentResult,
  Sweep,
  TheoryExperiment,
} from "./types.ts";

// ---------------------------------------------------------------------------------------------------------------
// Shared by the RAFA experiments (bandit, linear-bandit, riverswim).

export type SwitchKind = "entropy" | "every-step" | "episode";

export interface RafaArmSpec {
  readonly name: string;
  readonly model: ModelKind;
  readonly switching: SwitchKind;
}

/** The 2 × 2 grid of the issue: model (posterior sample / posterior mean) × switch rule (entropy drop / every step). */
export const RAFA_ARMS: readonly RafaArmSpec[] = [
  { name: "ps-entropy", model: "sample", switching: "entropy" },
  { name: "ps-every", model: "sample", switching: "every-step" },
  { name: "mean-entropy", model: "mean", switching: "entropy" },
  { name: "mean-every", model: "mean", switching: "every-step" },
];

/** `episodeLength`: steps per episode, for the `episode` rule. */
export function switchRuleOf(kind: SwitchKind, bits: number, episodeLength = 1): SwitchRule {
  if (kind === "entropy") return entropyDrop(bits * Math.LN2);
  return kind === "episode" ? everyEpisode(episodeLength) : everyStep;
}

const SWITCH_NAMES: Record<SwitchKind, string> = {
  entropy: "entropy drop",
  "every-step": "every step",
  episode: "every episode",
};

/** Allow the event loop to run (Ctrl-C, progress) between seeds, and stop when asked. */
export async function breathe(ctx: ExperimentContext): Promise<void> {
  ctx.signal?.throwIfAborted();
  await new Promise<void>((resolve) => setImmediate(resolve));
  ctx.signal?.throwIfAborted();
}

/**
 * Per-arm record across seeds: cumulative regret, switches K(t) and entropy drop (H0 − H_t)/log 2 at the
 * checkpoints, and the per-seed finals the switch bound is checked on.
 */
export class RafaRecorder {
  readonly ts: readonly number[];
  private readonly regret: RegretCurves;
  private readonly switches: RegretCurves;
  private readonly dropBits: RegretCurves;
  private readonly finalSwitches: Float64Array;
  private readonly finalDropBits: Float64Array;
  /** (H0 − H at the last switch)/log 2: K ≤ 1 + this always holds for the entropy rule. */
  private readonly lastSwitchDropBits: Float64Array;

  constructor(ts: readonly number[], seeds: number) {
    this.ts = ts;
    this.regret = new RegretCurves(ts, seeds);
    this.switches = new RegretCurves(ts, seeds);
    this.dropBits = new RegretCurves(ts, seeds);
    this.finalSwitches = new Float64Array(seeds);
    this.finalDropBits = new Float64Array(seeds);
    this.lastSwitchDropBits = new Float64Array(seeds);
  }

  /** Record at checkpoint t (the caller walks the checkpoints in order). */
  record<M, F, P, S, A>(seed: number, t: number, cumRegret: number, agent: RafaTheory<M, F, P, S, A>): void {
    this.regret.record(seed, t, cumRegret);
    this.switches.record(seed, t, agent.switches);
    this.dropBits.record(seed, t, (agent.initialEntropy - agent.entropy()) / Math.LN2);
  }

  finish<M, F, P, S, A>(seed: number, agent: RafaTheory<M, F, P, S, A>): void {
    this.finalSwitches[seed] = agent.switches;
    this.finalDropBits[seed] = (agent.initialEntropy - agent.entropy()) / Math.LN2;
    this.lastSwitchDropBits[seed] = (agent.initialEntropy - agent.entropyAtSwitch) / Math.LN2;
  }

  /** Seeds on which K ≤ 1 + (H0 − H_T)/log 2 (and the same with H at the last switch in place of H_T). */
  boundHolds(): { final: number; lastSwitch: number } {
    let final = 0;
    let lastSwitch = 0;
    this.finalSwitches.forEach((k, i) => {
      if (k <= 1 + (this.finalDropBits[i] as number) + 1e-9) final += 1;
      if (k <= 1 + (this.lastSwitchDropBits[i] as number) + 1e-9) lastSwitch += 1;
    });
    return { final, lastSwitch };
  }

  switchCurve(): { t: number[]; mean: number[]; se: number[] } {
    return this.switches.curve();
  }

  dropCurve(): { t: number[]; mean: number[]; se: number[] } {
    return this.dropBits.curve();
  }

  result(spec: RafaArmSpec, horizon: number, info: Record<string, number | string> = {}): ArmResult {
    const curve = this.regret.curve();
    const fit = this.regret.tailSlope();
    // The previous decade's slope: a slope that rises with t has not reached its asymptotic exponent.
    const tenth = curve.t.findLastIndex((t) => t <= horizon / 10);
    const previous = tailSlope({ t: curve.t.slice(0, tenth + 1), mean: curve.mean.slice(0, tenth + 1) });
    const finals = this.regret.finals();
    const holds = this.boundHolds();
    // The theorem's shape R(T) ≲ √(T·E[H0 − H_T]): this ratio stays bounded when the bound's rate is right.
    const drop = this.dropBits.curve();
    const ratioAt = (i: number): number =>
      (curve.mean[i] as number) / Math.sqrt((curve.t[i] as number) * (drop.mean[i] as number) * Math.LN2);
    return {
      name: spec.name,
      horizon,
      final_regret_mean: mean(finals),
      final_regret_se: standardError(finals),
      slope: fit.slope,
      slope_ci95: fit.ci95,
      slope_interval: fit.interval,
      curve,
      switches: {
        mean: mean(this.finalSwitches),
        se: standardError(this.finalSwitches),
        entropy_drop_bits: mean(this.finalDropBits),
      },
      info: {
        model: spec.model === "sample" ? "posterior sample" : "posterior mean",
        switch_rule: SWITCH_NAMES[spec.switching],
        slope_from: fit.from,
        slope_to: fit.to,
        slope_previous_decade: previous.slope,
        regret_over_sqrt_t_info: ratioAt(curve.t.length - 1),
        regret_over_sqrt_t_info_at_tenth: tenth >= 0 ? ratioAt(tenth) : Number.NaN,
        bound_holds_seeds: holds.final,
        bound_at_last_switch_holds_seeds: holds.lastSwitch,
        ...info,
      },
    };
  }
}

/** How the number of switches grows with t: a least-squares fit K = a + b·ln t, and per-decade increments. */
export interface SwitchGrowth {
  /** Switches added per decade of t by the fit (b·ln 10), and the fit's R². */
  perDecade: number;
  r2: number;
  /** Increments of mean K over the last two decades: K(T/10) − K(T/100) and K(T) − K(T/10). */
  earlier: number;
  later: number;
  /** later / earlier: ≈ 1 for logarithmic growth, 10^p for growth like t^p, → 0 if switching stops. */
  ratio: number;
  from: number;
  to: number;
}

export function switchGrowth(curve: { t: readonly number[]; mean: readonly number[] }): SwitchGrowth {
  const T = curve.t.at(-1) ?? 1;
  const at = (x: number): number => {
    // The mean at the checkpoint nearest to x on a log scale.
    let best = 0;
    curve.t.forEach((t, i) => {
      if (Math.abs(Math.log(t / x)) < Math.abs(Math.log((curve.t[best] as number) / x))) best = i;
    });
    return curve.mean[best] as number;
  };
  const xs: number[] = [];
  const ys: number[] = [];
  curve.t.forEach((t, i) => {
    if (t >= T / 100) {
      xs.push(Math.log(t));
      ys.push(curve.mean[i] as number);
    }
  });
  const fit = linearFit(xs, ys);
  const my = mean(ys);
  let ssTot = 0;
  let ssRes = 0;
  xs.forEach((x, i) => {
    const y = ys[i] as number;
    ssTot += (y - my) ** 2;
    ssRes += (y - fit.intercept - fit.slope * x) ** 2;
  });
  const earlier = at(T / 10) - at(T / 100);
  const later = at(T) - at(T / 10);
  return {
    perDecade: fit.slope * Math.LN10,
    r2: ssTot > 0 ? 1 - ssRes / ssTot : Number.NaN,
    earlier,
    later,
    ratio: later / earlier,
    from: Math.round(T / 100),
    to: T,
  };
}

const fmt = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

export function slopeCheck(arm: ArmResult, op: "<=" | ">=", bound: number, label: string): Check {
  const pass = op === "<=" ? arm.slope <= bound : arm.slope >= bound;
  return {
    claim: `${label}: regret slope ${op === "<=" ? "≤" : "≥"} ${bound}`,
    pass,
    measured:
      `${arm.name}: slope ${fmt(arm.slope)} of log mean regret on log t over t ∈ [${arm.info?.slope_from}, ` +
      `${arm.info?.slope_to}] (seed-bootstrap 95% CI ${fmt(arm.slope_ci95[0])}–${fmt(arm.slope_ci95[1])}; ` +
      `previous decade ${fmt(Number(arm.info?.slope_previous_decade))}); final regret ` +
      `${fmt(arm.final_regret_mean, 2)} ± ${fmt(arm.final_regret_se, 2)}`,
  };
}

/**
 * Logarithmic growth of K(t): the increment over the last decade is no more than 1.6× the previous one (growth like
 * t^p with p ≥ 0.2 fails) and at least one switch (it has not stopped: an arm or direction sampled Θ(t) times alone
 * loses ½·log2 10 ≈ 1.66 bits per decade, and the entropy rule switches about once per bit).
 */
export const LOG_GROWTH_RATIO = 1.6;

export function logGrowthCheck(name: string, growth: SwitchGrowth): Check {
  return {
    claim: `${name}: the number of switches grows like log T`,
    pass: growth.later >= 1 && growth.ratio <= LOG_GROWTH_RATIO,
    measured:
      `mean K rose by ${fmt(growth.earlier, 2)} over t ∈ [${growth.from}, ${growth.to / 10}] and by ` +
      `${fmt(growth.later, 2)} over [${growth.to / 10}, ${growth.to}] (ratio ${fmt(growth.ratio, 2)}; pass: last ` +
      `decade ≥ 1 and ratio ≤ ${LOG_GROWTH_RATIO}, which t^p with p ≥ 0.2 exceeds); fit K = a + b·ln t over ` +
      `[${growth.from}, ${growth.to}]: ${fmt(growth.perDecade, 2)} switches per decade, R² ${fmt(growth.r2, 4)}`,
  };
}

export function boundCheck(arm: ArmResult, seeds: number): Check {
  const holds = Number(arm.info?.bound_holds_seeds ?? 0);
  const atLast = Number(arm.info?.bound_at_last_switch_holds_seeds ?? 0);
  const sw = arm.switches;
  return {
    claim: `${arm.name}: switches K ≤ 1 + (H0 − H_T)/log 2 on every seed`,
    pass: holds === seeds,
    measured:
      `holds on ${holds}/${seeds} seeds (with H at the last switch in place of H_T: ${atLast}/${seeds}); ` +
      `mean K ${fmt(sw?.mean ?? Number.NaN, 2)} ± ${fmt(sw?.se ?? Number.NaN, 2)}, mean (H0 − H_T)/log 2 ` +
      `${fmt(sw?.entropy_drop_bits ?? Number.NaN, 2)}`,
  };
}

/** Sweeps of K(t) and (H0 − H_t)/log 2 against t for one arm. */
export function switchSweeps(name: string, recorder: RafaRecorder): Sweep[] {
  const toPoints = (c: { t: number[]; mean: number[]; se: number[] }) =>
    c.t.map((x, i) => ({ x, mean: c.mean[i] as number, se: c.se[i] as number }));
  return [
    {
      name: `${name}: switches`,
      x_label: "t",
      y_label: "switches K(t)",
      points: toPoints(recorder.switchCurve()),
    },
    {
      name: `${name}: entropy drop`,
      x_label: "t",
      y_label: "(H0 − H_t) / log 2",
      points: toPoints(recorder.dropCurve()),
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// The Beta–Bernoulli bandit experiment.

export const banditParams = z.object({
  K: z.number().int().min(2).max(1000).default(10).describe("Number of bandit arms."),
  horizon: z.number().int().min(10).max(10_000_000).default(10_000).describe("Steps per seed."),
  alpha: z
    .number()
    .positive()
    .default(1)
    .describe("Beta(alpha, beta) prior of every arm mean; θ* is drawn from it (Bayesian regret)."),
  beta: z.number().positive().default(1).describe("The prior's β (see --alpha)."),
  bits: z
    .number()
    .positive()
    .default(1)
    .describe("Entropy drop (in bits) that triggers a switch: 1 bit = log 2, the theory's rule."),
  perDecade: z.number().int().min(2).max(100).default(10).describe("Log-spaced checkpoints per decade of t."),
});
export type BanditParams = z.infer<typeof banditParams>;

interface Pull {
  arm: number;
  success: boolean;
}

/** Runs one seed of one arm; returns the step at which the best arm was first pulled (Infinity: never). */
function runBanditArm(
  spec: RafaArmSpec,
  p: BanditParams,
  seed: number,
  root: Rng,
  recorder: RafaRecorder,
): number {
  const env = BernoulliBandit.sample(p.K, p, root.stream(`instance/${seed}`));
  const noise = root.stream(`${spec.name}/${seed}/env`);
  const post = new BetaBernoulli(p.K, { alpha: p.alpha, beta: p.beta });
  const buffer = new Float64Array(p.K);
  let version = 0;
  const posterior: TheoryPosterior<Float64Array, Pull> = {
    learn: (f) => {
      post.update(f.arm, f.success);
      version += 1;
    },
    entropy: () => post.entropy(),
    mean: () => post.means(buffer),
    sample: (rng) => post.sample(rng, buffer),
    version: () => version,
  };
  const agent = new RafaTheory<Float64Array, Pull, number, undefined, number>({
    posterior,
    model: spec.model,
    switchRule: switchRuleOf(spec.switching, p.bits),
    plan: argmaxArm,
    act: (arm) => arm,
    rng: root.stream(`${spec.name}/${seed}/agent`),
  });
  const ts = recorder.ts;
  const pull: Pull = { arm: 0, success: false };
  let next = 0;
  let cum = 0;
  let firstBest = Number.POSITIVE_INFINITY;
  for (let t = 1; t <= p.horizon; t++) {
    const arm = agent.reason(undefined);
    cum += env.gap(arm);
    if (arm === env.best && t < firstBest) firstBest = t;
    pull.arm = arm;
    pull.success = env.pull(arm, noise);
    agent.learn(pull);
    if (t === ts[next]) {
      recorder.record(seed, t, cum, agent);
      next += 1;
    }
  }
  recorder.finish(seed, agent);
  return firstBest;
}

/** Exact planner of a bandit: the arm with the highest model mean, ties broken at random. */
export function argmaxArm(model: Float64Array, rng: Rng): number {
  let best = 0;
  let ties = 1;
  for (let i = 1; i < model.length; i++) {
    const v = model[i] as number;
    const b = model[best] as number;
    if (v > b) {
      best = i;
      ties = 1;
    } else if (v === b) {
      ties += 1;
      if (rng.int(ties) === 0) best = i;
    }
  }
  return best;
}

export const banditExperiment: TheoryExperiment<BanditParams> = {
  name: "bandit",
  title:
    "RAFA on a Beta–Bernoulli bandit: posterior sampling vs posterior mean, entropy vs every-step switching",
  theorem:
    "RAFA (arXiv 2309.17382) §2.3: with posterior sampling, Bayesian regret O(√(E[H0 − H_T]·T)) (slope ≤ 1/2 up to " +
    "logs) and K ≤ 1 + (H0 − H_T)/log 2 switches under the entropy-drop rule, so switches grow like log T",
  params: banditParams,
  async run(p, ctx) {
    const started = performance.now();
    const ts = checkpoints(p.horizon, p.perDecade);
    const root = new Rng(ctx.baseSeed).stream("bandit");
    const arms: ArmResult[] = [];
    const sweeps: Sweep[] = [];
    const recorders = new Map<string, RafaRecorder>();
    const total = RAFA_ARMS.length * ctx.seeds;
    let done = 0;
    for (const spec of RAFA_ARMS) {
      const recorder = new RafaRecorder(ts, ctx.seeds);
      const firstBest = new Float64Array(ctx.seeds);
      for (let seed = 0; seed < ctx.seeds; seed++) {
        firstBest[seed] = runBanditArm(spec, p, seed, root, recorder);
        done += 1;
        ctx.onProgress?.(done, total);
        await breathe(ctx);
      }
      recorders.set(spec.name, recorder);
      const unpulled = (t: number) => firstBest.filter((f) => f > t).length;
      arms.push(
        recorder.result(spec, p.horizon, {
          best_arm_never_pulled_seeds: unpulled(p.horizon),
        }),
      );
      if (spec.switching === "entropy") sweeps.push(...switchSweeps(spec.name, recorder));
      // Why lazy sampling can stall: seeds whose best arm has not been tried yet, over t.
      if (spec.model === "sample")
        sweeps.push({
          name: `${spec.name}: best arm never pulled`,
          x_label: "t",
          y_label: "fraction of seeds",
          points: ts.map((t) => {
            const f = unpulled(t) / ctx.seeds;
            return { x: t, mean: f, se: Math.sqrt((f * (1 - f)) / ctx.seeds) };
          }),
        });
    }
    const checks = rafaBanditChecks(arms, recorders, ctx.seeds, "bandit");
    return {
      experiment: "bandit",
      theorem: banditExperiment.theorem,
      params: { ...p },
      seeds: ctx.seeds,
      arms,
      sweeps,
      checks,
      wall_s: (performance.now() - started) / 1000,
      env_steps: RAFA_ARMS.length * ctx.seeds * p.horizon,
    } satisfies ExperimentResult;
  },
};

/** The claims for the two bandit experiments, on the measured arms. */
export function rafaBanditChecks(
  arms: readonly ArmResult[],
  recorders: ReadonlyMap<string, RafaRecorder>,
  seeds: number,
  label: string,
): Check[] {
  const checks: Check[] = [];
  const ps = arms.find((a) => a.name === "ps-entropy");
  const psRec = recorders.get("ps-entropy");
  if (ps && psRec) {
    checks.push(slopeCheck(ps, "<=", 0.6, `${label}, RAFA with posterior sampling and entropy switching`));
    checks.push(logGrowthCheck(`${label}, ps-entropy`, switchGrowth(psRec.switchCurve())));
  }
  for (const arm of arms) if (arm.info?.switch_rule === "entropy drop") checks.push(boundCheck(arm, seeds));
  return checks;
}
