import { Rng } from "../core/rng.ts";
import { linearFit, mean, standardError, t975 } from "./stats.ts";

/**
 * Regret accounting across seeds. Each seed contributes a cumulative-regret trajectory; it is recorded at fixed
 * checkpoints (log-spaced, so log–log plots and slope fits have even coverage) to keep memory O(seeds × checkpoints).
 */

/** About `perDecade` log-spaced integer checkpoints in [1, horizon], always including `horizon`. */
export function checkpoints(horizon: number, perDecade = 10): number[] {
  const out = new Set<number>();
  const decades = Math.log10(Math.max(1, horizon));
  const n = Math.max(1, Math.ceil(decades * perDecade));
  for (let i = 0; i <= n; i++) out.add(Math.max(1, Math.round(10 ** ((i / n) * decades))));
  out.add(horizon);
  return [...out].sort((a, b) => a - b);
}

/** Cumulative regret of many seeds at shared checkpoints. `record(seed, t, cumulative)` at each checkpoint t. */
export class RegretCurves {
  readonly ts: readonly number[];
  private readonly index: Map<number, number>;
  private readonly values: Float64Array[];

  constructor(ts: readonly number[], seeds: number) {
    this.ts = ts;
    this.index = new Map(ts.map((t, i) => [t, i]));
    this.values = ts.map(() => new Float64Array(seeds));
  }

  /** True when `t` is a checkpoint (callers record only then). */
  isCheckpoint(t: number): boolean {
    return this.index.has(t);
  }

  record(seed: number, t: number, cumulative: number): void {
    const i = this.index.get(t);
    if (i === undefined) return;
    (this.values[i] as Float64Array)[seed] = cumulative;
  }

  /** Mean and standard error across seeds at each checkpoint. */
  curve(): { t: number[]; mean: number[]; se: number[] } {
    return {
      t: [...this.ts],
      mean: this.values.map((v) => mean(v)),
      se: this.values.map((v) => standardError(v)),
    };
  }

  /** Final cumulative regret of every seed. */
  finals(): Float64Array {
    return this.values.at(-1) ?? new Float64Array();
  }

  /** Cumulative regret of every seed at checkpoint index `i`. */
  at(i: number): Float64Array {
    return this.values[i] ?? new Float64Array();
  }

  /**
   * The tail slope of the mean curve (`tailSlope`) with a 95% percentile interval from resampling the seeds: a
   * few seeds with linear regret move the mean curve's slope far more than the fit's residuals say (2–4× here).
   * Deterministic: the resampling stream is fixed, so the same curves give the same interval.
   */
  tailSlope(options: { decades?: number; resamples?: number } = {}): SlopeFit {
    const { decades = 1, resamples = 1000 } = options;
    const fit = tailSlope(this.curve(), decades);
    const seeds = this.values[0]?.length ?? 0;
    if (seeds < 2) return fit;
    const rng = new Rng("regret-slope-bootstrap");
    const pick = new Int32Array(seeds);
    const means = new Array<number>(this.ts.length);
    const slopes: number[] = [];
    for (let b = 0; b < resamples; b++) {
      for (let i = 0; i < seeds; i++) pick[i] = rng.int(seeds);
      this.values.forEach((v, j) => {
        let s = 0;
        for (let i = 0; i < seeds; i++) s += v[pick[i] as number] as number;
        means[j] = s / seeds;
      });
      const slope = tailSlope({ t: this.ts, mean: means }, decades).slope;
      if (Number.isFinite(slope)) slopes.push(slope);
    }
    return { ...fit, ci95: percentiles(slopes), interval: "seed-bootstrap" };
  }
}

/** The 2.5% and 97.5% points of `xs` (sorted in place). */
function percentiles(xs: number[]): [number, number] {
  xs.sort((a, b) => a - b);
  const q = (p: number) => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? Number.NaN;
  return [q(0.025), q(0.975)];
}

export interface SlopeFit {
  /** Least-squares slope of log mean cumulative regret against log t; 0 when the regret is zero throughout. */
  slope: number;
  /** 95% interval of the slope: a seed bootstrap where the seeds are at hand, else the fit residuals' t interval. */
  ci95: [number, number];
  interval: "seed-bootstrap" | "fit-residuals";
  /** The t range fitted. */
  from: number;
  to: number;
}

/**
 * Slope of log mean cumulative regret against log t over the last decade of t (t ∈ [T/10, T]), the growth exponent:
 * ≈ 1 for linear regret, ≈ 0.5 for √T. Points with zero regret are skipped (log undefined); a window with no
 * regret at all is bounded regret, slope 0 — the best outcome must pass a "sublinear" check, not make it NaN.
 */
export function tailSlope(curve: { t: readonly number[]; mean: readonly number[] }, decades = 1): SlopeFit {
  const last = curve.t.at(-1) ?? 1;
  const from = last / 10 ** decades;
  const xs: number[] = [];
  const ys: number[] = [];
  curve.t.forEach((t, i) => {
    const m = curve.mean[i] as number;
    if (t >= from && m > 0) {
      xs.push(Math.log(t));
      ys.push(Math.log(m));
    }
  });
  if (xs.length === 0 && curve.t.some((t) => t >= from)) return zeroSlope(from, last);
  return slopeOf(xs, ys, from, last);
}

function zeroSlope(from: number, to: number): SlopeFit {
  return { slope: 0, ci95: [0, 0], interval: "fit-residuals", from, to };
}

/** Slope across separate runs (e.g. horizon-tuned ε*(T)): log final mean regret against log T. */
export function horizonSlope(horizons: readonly number[], finalMeans: readonly number[]): SlopeFit {
  const xs: number[] = [];
  const ys: number[] = [];
  horizons.forEach((h, i) => {
    const m = finalMeans[i] as number;
    if (m > 0) {
      xs.push(Math.log(h));
      ys.push(Math.log(m));
    }
  });
  if (xs.length === 0 && horizons.length > 0) return zeroSlope(horizons[0] ?? 0, horizons.at(-1) ?? 0);
  return slopeOf(xs, ys, horizons[0] ?? 0, horizons.at(-1) ?? 0);
}

/**
 * `horizonSlope` of the per-horizon mean final regret, with a 95% interval from resampling each horizon's seeds
 * (the runs at different horizons are independent, so each is resampled on its own).
 */
export function horizonSlopeBootstrap(
  horizons: readonly number[],
  finals: readonly ArrayLike<number>[],
  resamples = 1000,
): SlopeFit {
  const fit = horizonSlope(
    horizons,
    finals.map((f) => mean(f)),
  );
  if (finals.some((f) => f.length < 2)) return fit;
  const rng = new Rng("horizon-slope-bootstrap");
  const slopes: number[] = [];
  for (let b = 0; b < resamples; b++) {
    const means = finals.map((f) => {
      let s = 0;
      for (let i = 0; i < f.length; i++) s += f[rng.int(f.length)] as number;
      return s / f.length;
    });
    const slope = horizonSlope(horizons, means).slope;
    if (Number.isFinite(slope)) slopes.push(slope);
  }
  return { ...fit, ci95: percentiles(slopes), interval: "seed-bootstrap" };
}

function slopeOf(xs: number[], ys: number[], from: number, to: number): SlopeFit {
  // A constant curve is slope 0 exactly (least squares leaves rounding noise of order 1e-31 otherwise).
  if (ys.length >= 2 && ys.every((y) => y === ys[0])) return zeroSlope(from, to);
  const fit = linearFit(xs, ys);
  const half = t975(Math.max(1, xs.length - 2)) * fit.slopeSe;
  return {
    slope: fit.slope,
    ci95: [fit.slope - half, fit.slope + half],
    interval: "fit-residuals",
    from,
    to,
  };
}
