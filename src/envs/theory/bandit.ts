import type { Rng } from "../../core/rng.ts";
import { sampleBeta } from "../../theory/beta.ts";

/**
 * Bernoulli bandit with a latent parameter: arm means θ*_i ~ Beta(α, β) independently (so the learner's
 * Beta–Bernoulli posterior is exact). Regret is the pseudo-regret θ*_best − θ*_a of each pull: its expectation is
 * the Bayesian regret, without the reward noise.
 */
export class BernoulliBandit {
  readonly means: Float64Array;
  readonly best: number;
  readonly bestMean: number;

  constructor(means: ArrayLike<number>) {
    if (means.length < 1) throw new RangeError("BernoulliBandit: needs at least one arm");
    this.means = Float64Array.from(means);
    let best = 0;
    for (let i = 1; i < this.means.length; i++)
      if ((this.means[i] as number) > (this.means[best] as number)) best = i;
    this.best = best;
    this.bestMean = this.means[best] as number;
  }

  /** Draw θ* from the prior. */
  static sample(arms: number, prior: { alpha: number; beta: number }, rng: Rng): BernoulliBandit {
    return new BernoulliBandit(
      Float64Array.from({ length: arms }, () => sampleBeta(rng, prior.alpha, prior.beta)),
    );
  }

  get arms(): number {
    return this.means.length;
  }

  /** One Bernoulli reward of `arm`. */
  pull(arm: number, rng: Rng): boolean {
    return rng.float() < (this.means[arm] as number);
  }

  /** Expected regret of one pull of `arm`. */
  gap(arm: number): number {
    return this.bestMean - (this.means[arm] as number);
  }
}
