import type { Rng } from "../core/rng.ts";
import { entropy, logSumExp, normalizeLog } from "./stats.ts";

/**
 * Exact posterior over a finite latent set Z = {0, …, |Z|−1}, kept as log-weights so that long products of small
 * likelihoods neither underflow nor lose precision. Every update and query is O(|Z|).
 */
export class FinitePosterior {
  readonly size: number;
  private readonly logw: Float64Array;
  private readonly scratch: Float64Array;

  /** `prior`: probabilities (need not be normalised; zeros allowed). */
  constructor(prior: ArrayLike<number>) {
    this.size = prior.length;
    this.logw = new Float64Array(prior.length);
    for (let z = 0; z < prior.length; z++) this.logw[z] = Math.log(prior[z] as number);
    this.scratch = new Float64Array(prior.length);
  }

  static uniform(size: number): FinitePosterior {
    return new FinitePosterior(new Float64Array(size).fill(1));
  }

  clone(): FinitePosterior {
    const copy = FinitePosterior.uniform(this.size);
    copy.logw.set(this.logw);
    return copy;
  }

  /** Multiply by a likelihood: `likelihood(z)` = P(observation | z) (0 rules z out). */
  update(likelihood: (z: number) => number): void {
    for (let z = 0; z < this.size; z++) this.logw[z] = (this.logw[z] as number) + Math.log(likelihood(z));
    this.renormalise();
  }

  /** Add log-likelihoods directly (for likelihoods that would underflow). */
  updateLog(logLikelihood: (z: number) => number): void {
    for (let z = 0; z < this.size; z++) this.logw[z] = (this.logw[z] as number) + logLikelihood(z);
    this.renormalise();
  }

  /** Keep the log-weights normalised (log Σ = 0) so they never drift towards −∞ over long runs. */
  private renormalise(): void {
    const lse = logSumExp(this.logw);
    if (!Number.isFinite(lse)) throw new RangeError("FinitePosterior: every latent value was ruled out");
    for (let z = 0; z < this.size; z++) this.logw[z] = (this.logw[z] as number) - lse;
  }

  /** Posterior probabilities (a fresh array, or `out`). */
  probs(out: Float64Array = new Float64Array(this.size)): Float64Array {
    return normalizeLog(this.logw, out);
  }

  mass(z: number): number {
    return Math.exp(this.logw[z] as number);
  }

  /** Entropy in nats. */
  entropy(): number {
    return entropy(this.probs(this.scratch));
  }

  /** A draw z ~ posterior. */
  sample(rng: Rng): number {
    return rng.categorical(this.probs(this.scratch));
  }

  /** The most probable z (lowest index on ties). */
  argmax(): number {
    let best = 0;
    for (let z = 1; z < this.size; z++) if ((this.logw[z] as number) > (this.logw[best] as number)) best = z;
    return best;
  }
}
