import type { Rng } from "../core/rng.ts";

/**
 * Beta–Bernoulli posterior over K independent arm means (conjugate: a success adds 1 to α, a failure to β), with
 * the differential entropy of the product posterior kept up to date in O(1) per observation, since RAFA's switch
 * rule reads the entropy after every step.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** log Γ(x) for x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function lnGamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`lnGamma: x must be > 0, got ${x}`);
  // Reflection keeps the series in its accurate range.
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0] as number;
  for (let i = 1; i < 9; i++) s += (LANCZOS[i] as number) / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(s);
}

/** Digamma ψ(x) = d/dx log Γ(x) for x > 0 (recurrence up to x ≥ 10, then the asymptotic series; error < 1e-13). */
export function digamma(x: number): number {
  if (!(x > 0)) throw new RangeError(`digamma: x must be > 0, got ${x}`);
  let acc = 0;
  while (x < 10) {
    acc -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  const series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132)))));
  return acc + Math.log(x) - 0.5 / x - series;
}

/** Differential entropy (nats) of Beta(a, b); 0 for the uniform Beta(1, 1), → −∞ as the posterior concentrates. */
export function betaEntropy(a: number, b: number): number {
  const s = a + b;
  return (
    lnGamma(a) + lnGamma(b) - lnGamma(s) - (a - 1) * digamma(a) - (b - 1) * digamma(b) + (s - 2) * digamma(s)
  );
}

/** A Beta(a, b) draw written without allocation (Rng.beta is the same construction). */
export function sampleBeta(rng: Rng, a: number, b: number): number {
  const x = rng.gamma(a);
  const y = rng.gamma(b);
  // Both gammas can underflow to 0 for tiny shapes; Beta(a, b) then tends to a coin at 1 w.p. a/(a + b).
  if (!(x + y > 0)) return rng.float() < a / (a + b) ? 1 : 0;
  return x / (x + y);
}

export class BetaBernoulli {
  readonly arms: number;
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
  /** Per-arm entropies, so an update recomputes one term and the total stays a cheap running sum. */
  private readonly h: Float64Array;
  private total: number;

  /** `alpha`, `beta`: the prior, one number for every arm or one per arm (Beta(1, 1) = uniform by default). */
  constructor(
    arms: number,
    prior: { alpha?: number | ArrayLike<number>; beta?: number | ArrayLike<number> } = {},
  ) {
    if (!Number.isInteger(arms) || arms < 1)
      throw new RangeError(`BetaBernoulli: arms must be >= 1, got ${arms}`);
    this.arms = arms;
    this.alpha = fill(arms, prior.alpha ?? 1);
    this.beta = fill(arms, prior.beta ?? 1);
    this.h = new Float64Array(arms);
    this.total = 0;
    for (let i = 0; i < arms; i++) {
      const a = this.alpha[i] as number;
      const b = this.beta[i] as number;
      if (!(a > 0 && b > 0)) throw new RangeError("BetaBernoulli: prior parameters must be > 0");
      this.h[i] = betaEntropy(a, b);
      this.total += this.h[i] as number;
    }
  }

  /** Conjugate update with one Bernoulli outcome of `arm`. */
  update(arm: number, success: boolean): void {
    if (success) this.alpha[arm] = (this.alpha[arm] as number) + 1;
    else this.beta[arm] = (this.beta[arm] as number) + 1;
    const h = betaEntropy(this.alpha[arm] as number, this.beta[arm] as number);
    this.total += h - (this.h[arm] as number);
    this.h[arm] = h;
  }

  mean(arm: number): number {
    const a = this.alpha[arm] as number;
    return a / (a + (this.beta[arm] as number));
  }

  variance(arm: number): number {
    const a = this.alpha[arm] as number;
    const b = this.beta[arm] as number;
    const s = a + b;
    return (a * b) / (s * s * (s + 1));
  }

  /** Posterior means of every arm (the posterior-mean model). */
  means(out: Float64Array = new Float64Array(this.arms)): Float64Array {
    for (let i = 0; i < this.arms; i++) out[i] = this.mean(i);
    return out;
  }

  /** One joint draw of all arm means. */
  sample(rng: Rng, out: Float64Array = new Float64Array(this.arms)): Float64Array {
    for (let i = 0; i < this.arms; i++)
      out[i] = sampleBeta(rng, this.alpha[i] as number, this.beta[i] as number);
    return out;
  }

  /** Differential entropy of the product posterior, in nats. */
  entropy(): number {
    return this.total;
  }
}

function fill(n: number, v: number | ArrayLike<number>): Float64Array {
  if (typeof v === "number") return new Float64Array(n).fill(v);
  if (v.length !== n) throw new RangeError(`expected ${n} prior parameters, got ${v.length}`);
  return Float64Array.from(v);
}
