import type { Rng } from "../../core/rng.ts";

/**
 * Linear-Gaussian bandit: θ* ~ N(0, σ0² I_d), the reward of action x is x·θ* + N(0, σ²), so the learner's
 * linear-Gaussian posterior is exact. Action sets:
 * - `sphere`: the unit sphere S^{d−1}, where argmax_x θ·x = θ/‖θ‖ in closed form — the classical hard case whose
 *   regret is Θ(d√T) (the gap to the best action has no floor);
 * - `fixed`: `size` unit vectors drawn once per instance (a finite, correlated-arm bandit);
 * - `per-step`: `size` fresh unit vectors every step (a contextual bandit).
 * Regret is the pseudo-regret max_{x∈A_t} x·θ* − x_t·θ*.
 */
export type ActionSetKind = "sphere" | "fixed" | "per-step";

export class LinearBandit {
  readonly theta: Float64Array;
  readonly dim: number;
  readonly noiseSd: number;
  readonly kind: ActionSetKind;
  readonly size: number;
  /** The current finite action set, row-major (size × dim); unused for the sphere. */
  private readonly set: Float64Array;
  private best = 0;

  constructor(options: {
    theta: ArrayLike<number>;
    noiseSd: number;
    kind: ActionSetKind;
    /** Number of actions of a finite set (ignored for the sphere). */
    size?: number;
    /** Draws the fixed set (and nothing else); required for `fixed`. */
    rng?: Rng;
  }) {
    this.theta = Float64Array.from(options.theta);
    this.dim = this.theta.length;
    this.noiseSd = options.noiseSd;
    this.kind = options.kind;
    this.size = options.kind === "sphere" ? 0 : (options.size ?? 10);
    this.set = new Float64Array(this.size * this.dim);
    if (options.kind === "sphere") {
      let n = 0;
      for (let i = 0; i < this.dim; i++) n += (this.theta[i] as number) ** 2;
      this.best = Math.sqrt(n);
    } else if (options.kind === "fixed") {
      if (!options.rng) throw new RangeError("LinearBandit: a fixed action set needs an rng to draw it");
      this.drawSet(options.rng);
    }
  }

  /** Draw θ* ~ N(0, priorSd² I) and build the bandit. */
  static sample(
    options: { dim: number; priorSd: number; noiseSd: number; kind: ActionSetKind; size?: number },
    rng: Rng,
  ): LinearBandit {
    const theta = Float64Array.from({ length: options.dim }, () => rng.normal(0, options.priorSd));
    return new LinearBandit({
      theta,
      noiseSd: options.noiseSd,
      kind: options.kind,
      ...(options.size === undefined ? {} : { size: options.size }),
      rng: rng.stream("actions"),
    });
  }

  /** Begin a step: a per-step set is redrawn, the others stay. */
  nextStep(rng: Rng): void {
    if (this.kind === "per-step") this.drawSet(rng);
  }

  /** Exact planner: write argmax_{x ∈ A_t} x·model into `out` (ties to the lowest index). */
  argmax(model: ArrayLike<number>, out: Float64Array): void {
    const d = this.dim;
    if (this.kind === "sphere") {
      let n = 0;
      for (let i = 0; i < d; i++) n += (model[i] as number) ** 2;
      n = Math.sqrt(n);
      // The zero model (prior mean) has no preferred direction: any unit vector is optimal for it.
      if (n === 0) {
        out.fill(0);
        out[0] = 1;
      } else for (let i = 0; i < d; i++) out[i] = (model[i] as number) / n;
      return;
    }
    const k = bestRow(this.set, this.size, d, model);
    for (let i = 0; i < d; i++) out[i] = this.set[k * d + i] as number;
  }

  /** Best expected reward in the current action set. */
  bestValue(): number {
    return this.best;
  }

  /** x·θ*. */
  value(x: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < this.dim; i++) s += (x[i] as number) * (this.theta[i] as number);
    return s;
  }

  /** Noisy reward of action x. */
  reward(x: ArrayLike<number>, rng: Rng): number {
    return this.value(x) + rng.normal(0, this.noiseSd);
  }

  /** Expected regret of x in the current action set. */
  gap(x: ArrayLike<number>): number {
    return this.best - this.value(x);
  }

  /** The current finite action set (a copy), for tests and reports. */
  actions(): Float64Array[] {
    return Array.from({ length: this.size }, (_, k) => this.set.slice(k * this.dim, (k + 1) * this.dim));
  }

  private drawSet(rng: Rng): void {
    const d = this.dim;
    for (let k = 0; k < this.size; k++) {
      let n = 0;
      for (let i = 0; i < d; i++) {
        const z = rng.normal();
        this.set[k * d + i] = z;
        n += z * z;
      }
      n = Math.sqrt(n);
      for (let i = 0; i < d; i++) this.set[k * d + i] = (this.set[k * d + i] as number) / n;
    }
    const k = bestRow(this.set, this.size, d, this.theta);
    let v = 0;
    for (let i = 0; i < d; i++) v += (this.set[k * d + i] as number) * (this.theta[i] as number);
    this.best = v;
  }
}

function bestRow(set: Float64Array, size: number, d: number, w: ArrayLike<number>): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < size; k++) {
    let v = 0;
    for (let i = 0; i < d; i++) v += (set[k * d + i] as number) * (w[i] as number);
    if (v > bestV) {
      bestV = v;
      best = k;
    }
  }
  return best;
}
