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
}

export interface SlopeFit {
  /** Least-squares slope of log mean cumulative regret against log t. */
  slope: number;
  /** 95% interval of the slope (t distribution on the fit's residuals). */
  ci95: [number, number];
  /** The t range fitted. */
  from: number;
  to: number;
}

/**
 * Slope of log mean cumulative regret against log t over the last decade of t (t ∈ [T/10, T]), the growth exponent:
 * ≈ 1 for linear regret, ≈ 0.5 for √T. Points with zero regret are skipped (log undefined).
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
  return slopeOf(xs, ys, from, last);
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
  return slopeOf(xs, ys, horizons[0] ?? 0, horizons.at(-1) ?? 0);
}

function slopeOf(xs: number[], ys: number[], from: number, to: number): SlopeFit {
  const fit = linearFit(xs, ys);
  const half = t975(Math.max(1, xs.length - 2)) * fit.slopeSe;
  return { slope: fit.slope, ci95: [fit.slope - half, fit.slope + half], from, to };
}
