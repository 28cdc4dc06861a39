import type { Rng } from "../core/rng.ts";
import { digamma, lnGamma } from "./beta.ts";

/** Differential entropy (nats) of Dirichlet(α) on the simplex: log B(α) + (α₀ − m)ψ(α₀) − Σ (α_j − 1)ψ(α_j). */
export function dirichletEntropy(alpha: ArrayLike<number>): number {
  const m = alpha.length;
  let a0 = 0;
  let logB = 0;
  let tail = 0;
  for (let j = 0; j < m; j++) {
    const a = alpha[j] as number;
    a0 += a;
    logB += lnGamma(a);
    tail -= (a - 1) * digamma(a);
  }
  logB -= lnGamma(a0);
  return logB + (a0 - m) * digamma(a0) + tail;
}

/**
 * Dirichlet transition posterior of a tabular MDP: one independent Dirichlet per uncertain (state, action) pair
 * (a "row"), over that row's outcomes (next states, or displacements — the environment decides what outcome j
 * means). Pairs whose dynamics are known have no row. A count update is O(1) for the mean and one entropy term
 * (O(m) special functions) for the running total entropy.
 */
export class DirichletTransitions {
  readonly rows: number;
  private readonly alpha: Float64Array[];
  private readonly h: Float64Array;
  private total: number;

  /** `prior[row]`: the Dirichlet parameters of that row (each > 0, at least 2 outcomes). */
  constructor(prior: readonly (readonly number[])[]) {
    this.rows = prior.length;
    this.alpha = prior.map((a, r) => {
      if (a.length < 2 || !a.every((x) => x > 0))
        throw new RangeError(`DirichletTransitions: row ${r} needs >= 2 parameters, all > 0`);
      return Float64Array.from(a);
    });
    this.h = Float64Array.from(this.alpha, (a) => dirichletEntropy(a));
    this.total = this.h.reduce((s, x) => s + x, 0);
  }

  /** Number of outcomes of a row. */
  outcomes(row: number): number {
    return this.row(row).length;
  }

  /** Observe outcome `j` of `row` (one more count). */
  update(row: number, j: number): void {
    const a = this.row(row);
    if (!(j >= 0 && j < a.length))
      throw new RangeError(`DirichletTransitions: no outcome ${j} in row ${row}`);
    a[j] = (a[j] as number) + 1;
    const h = dirichletEntropy(a);
    this.total += h - (this.h[row] as number);
    this.h[row] = h;
  }

  /** Current parameters of a row (prior + counts); read-only by convention. */
  params(row: number): Float64Array {
    return this.row(row);
  }

  /** Posterior-mean outcome probabilities of a row (the Bayesian-model-average predictive). */
  mean(row: number, out: Float64Array = new Float64Array(this.outcomes(row))): Float64Array {
    const a = this.row(row);
    let a0 = 0;
    for (let j = 0; j < a.length; j++) a0 += a[j] as number;
    for (let j = 0; j < a.length; j++) out[j] = (a[j] as number) / a0;
    return out;
  }

  /** One draw of a row's outcome probabilities (normalised gammas). */
  sample(row: number, rng: Rng, out: Float64Array = new Float64Array(this.outcomes(row))): Float64Array {
    const a = this.row(row);
    let s = 0;
    for (let j = 0; j < a.length; j++) {
      const g = rng.gamma(a[j] as number);
      out[j] = g;
      s += g;
    }
    if (!(s > 0)) {
      // Every gamma underflowed (tiny parameters): the Dirichlet tends to a vertex chosen in proportion to α.
      out.fill(0);
      out[rng.categorical(a)] = 1;
      return out;
    }
    for (let j = 0; j < a.length; j++) out[j] = (out[j] as number) / s;
    return out;
  }

  /** Entropy of the product posterior (sum over rows), in nats. */
  entropy(): number {
    return this.total;
  }

  private row(row: number): Float64Array {
    const a = this.alpha[row];
    if (!a) throw new RangeError(`DirichletTransitions: no row ${row}`);
    return a;
  }
}
