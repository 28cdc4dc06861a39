/** Small numerical helpers for the theory lab: pure, allocation-light, no dependencies. */

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i] as number;
  return xs.length === 0 ? Number.NaN : s / xs.length;
}

/** Standard error of the mean (sample standard deviation / √n); 0 for fewer than 2 values. */
export function standardError(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return 0;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((xs[i] as number) - m) ** 2;
  return Math.sqrt(ss / (n - 1) / n);
}

/** Mean and standard error together; both NaN for no values. */
export function meanSe(xs: ArrayLike<number>): { mean: number; se: number } {
  return xs.length === 0 ? { mean: Number.NaN, se: Number.NaN } : { mean: mean(xs), se: standardError(xs) };
}

/** Index of the largest value, the first one on ties (as numpy's argmax). */
export function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if ((xs[i] as number) > (xs[best] as number)) best = i;
  return best;
}

/** log Σ exp(x_i), stable for any range of x. */
export function logSumExp(xs: ArrayLike<number>): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < xs.length; i++) if ((xs[i] as number) > max) max = xs[i] as number;
  if (max === Number.NEGATIVE_INFINITY) return max;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp((xs[i] as number) - max);
  return max + Math.log(s);
}

/** Probabilities from log-weights (softmax), written into `out`. */
export function normalizeLog(
  logw: ArrayLike<number>,
  out: Float64Array = new Float64Array(logw.length),
): Float64Array {
  const lse = logSumExp(logw);
  for (let i = 0; i < logw.length; i++) out[i] = Math.exp((logw[i] as number) - lse);
  return out;
}

/** Shannon entropy in nats of a probability vector. */
export function entropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) {
    const x = p[i] as number;
    if (x > 0) h -= x * Math.log(x);
  }
  return h;
}

/** Total-variation distance between two distributions on the same support. */
export function totalVariation(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs((p[i] as number) - (q[i] as number));
  return s / 2;
}

/** Ordinary least squares y = a + b·x; returns slope b, its standard error and intercept a. */
export function linearFit(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; slopeSe: number; intercept: number } {
  const n = xs.length;
  if (n < 2 || ys.length !== n) return { slope: Number.NaN, slopeSe: Number.NaN, intercept: Number.NaN };
  const mx = mean(xs);
  const my = mean(ys);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += ((xs[i] as number) - mx) ** 2;
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let rss = 0;
  for (let i = 0; i < n; i++) rss += ((ys[i] as number) - intercept - slope * (xs[i] as number)) ** 2;
  const slopeSe = n > 2 ? Math.sqrt(rss / (n - 2) / sxx) : 0;
  return { slope, slopeSe, intercept };
}

/** Two-sided 97.5% quantile of Student's t with `df` degrees of freedom (normal approximation above 30). */
export function t975(df: number): number {
  const table = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
    2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
  ];
  if (df < 1) return Number.NaN;
  return df <= 30 ? (table[df - 1] as number) : 1.96;
}

/**
 * Percentile bootstrap interval of the mean (resampling the values with replacement), e.g. over seeds. With
 * fewer than two values the interval is the value itself.
 */
export function bootstrapMeanCi(
  xs: readonly number[],
  rng: { int(n: number): number },
  options: { resamples?: number; level?: number } = {},
): [number, number] {
  if (xs.length < 2) return [xs[0] ?? Number.NaN, xs[0] ?? Number.NaN];
  const resamples = options.resamples ?? 2000;
  const alpha = (1 - (options.level ?? 0.95)) / 2;
  const means: number[] = [];
  for (let b = 0; b < resamples; b++) {
    let sum = 0;
    for (let i = 0; i < xs.length; i++) sum += xs[rng.int(xs.length)] ?? 0;
    means.push(sum / xs.length);
  }
  means.sort((a, b) => a - b);
  const at = (q: number) =>
    means[Math.min(resamples - 1, Math.max(0, Math.floor(q * resamples)))] ?? Number.NaN;
  return [at(alpha), at(1 - alpha)];
}
