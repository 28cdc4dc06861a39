import type { Rng } from "../core/rng.ts";

/**
 * Linear-Gaussian posterior: θ ~ N(μ0, Σ0), observations y = x·θ + N(0, σ²). Each observation is a rank-one
 * precision update, applied to Σ directly by Sherman–Morrison (O(d²)) so the posterior never needs an inverse;
 * log det Σ follows from the matrix determinant lemma, so the entropy ½ log det Σ + (d/2) log(2πe) is O(1) extra
 * and the switch "entropy fell by log 2" is exactly "det Σ_t ≤ ¼ det Σ_{t_k}".
 * Matrices are row-major Float64Arrays of length d².
 */
export class LinearGaussian {
  readonly dim: number;
  readonly noiseVar: number;
  private readonly mu: Float64Array;
  private readonly cov: Float64Array;
  private logDet: number;
  /** Scratch: Σx, and the Cholesky factor used by `sample`. */
  private readonly sx: Float64Array;
  private readonly chol: Float64Array;
  private readonly z: Float64Array;

  constructor(options: {
    dim: number;
    noiseSd: number;
    /** Prior covariance: a scalar v for v·I, or a d×d row-major matrix. Default I. */
    priorCov?: number | ArrayLike<number>;
    priorMean?: ArrayLike<number>;
  }) {
    const d = options.dim;
    if (!Number.isInteger(d) || d < 1) throw new RangeError(`LinearGaussian: dim must be >= 1, got ${d}`);
    if (!(options.noiseSd > 0)) throw new RangeError("LinearGaussian: noiseSd must be > 0");
    this.dim = d;
    this.noiseVar = options.noiseSd ** 2;
    this.mu = new Float64Array(d);
    if (options.priorMean) this.mu.set(options.priorMean);
    this.cov = new Float64Array(d * d);
    const prior = options.priorCov ?? 1;
    if (typeof prior === "number") for (let i = 0; i < d; i++) this.cov[i * d + i] = prior;
    else {
      if (prior.length !== d * d) throw new RangeError(`LinearGaussian: priorCov must have ${d * d} entries`);
      this.cov.set(prior);
    }
    this.sx = new Float64Array(d);
    this.chol = new Float64Array(d * d);
    this.z = new Float64Array(d);
    if (!cholesky(this.cov, d, this.chol))
      throw new RangeError("LinearGaussian: priorCov is not positive definite");
    this.logDet = logDetFromCholesky(this.chol, d);
  }

  /** Conjugate update with one observation y of x·θ. */
  update(x: ArrayLike<number>, y: number): void {
    const d = this.dim;
    const { cov, sx, mu } = this;
    let xsx = 0;
    let pred = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (cov[i * d + j] as number) * (x[j] as number);
      sx[i] = s;
      xsx += (x[i] as number) * s;
      pred += (x[i] as number) * (mu[i] as number);
    }
    const denom = this.noiseVar + xsx;
    const gain = (y - pred) / denom;
    for (let i = 0; i < d; i++) {
      const si = sx[i] as number;
      mu[i] = (mu[i] as number) + si * gain;
      const row = i * d;
      // The same product for (i, j) and (j, i) keeps Σ exactly symmetric.
      for (let j = 0; j < d; j++) cov[row + j] = (cov[row + j] as number) - (si * (sx[j] as number)) / denom;
    }
    this.logDet -= Math.log1p(xsx / this.noiseVar);
  }

  /** Posterior mean (the posterior-mean model). */
  mean(out: Float64Array = new Float64Array(this.dim)): Float64Array {
    out.set(this.mu);
    return out;
  }

  covariance(out: Float64Array = new Float64Array(this.dim * this.dim)): Float64Array {
    out.set(this.cov);
    return out;
  }

  /** log det Σ_t. */
  logDetCov(): number {
    return this.logDet;
  }

  /** Differential entropy in nats: ½ log det Σ + (d/2) log(2πe). */
  entropy(): number {
    return 0.5 * this.logDet + 0.5 * this.dim * Math.log(2 * Math.PI * Math.E);
  }

  /** One draw θ ~ N(μ, Σ) = μ + L z with Σ = L Lᵀ (O(d³), done only when a model is sampled). */
  sample(rng: Rng, out: Float64Array = new Float64Array(this.dim)): Float64Array {
    const d = this.dim;
    if (!cholesky(this.cov, d, this.chol)) {
      // Rounding after very many updates can leave Σ a hair from positive definite: a relative jitter restores it.
      let trace = 0;
      for (let i = 0; i < d; i++) trace += this.cov[i * d + i] as number;
      const jittered = Float64Array.from(this.cov);
      for (let i = 0; i < d; i++) jittered[i * d + i] = (jittered[i * d + i] as number) + (1e-12 * trace) / d;
      if (!cholesky(jittered, d, this.chol))
        throw new RangeError("LinearGaussian: covariance lost definiteness");
    }
    for (let i = 0; i < d; i++) this.z[i] = rng.normal();
    for (let i = 0; i < d; i++) {
      let s = this.mu[i] as number;
      for (let j = 0; j <= i; j++) s += (this.chol[i * d + j] as number) * (this.z[j] as number);
      out[i] = s;
    }
    return out;
  }
}

/** Lower Cholesky factor of a symmetric d×d matrix into `out`; false when it is not positive definite. */
export function cholesky(a: ArrayLike<number>, d: number, out: Float64Array): boolean {
  out.fill(0);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * d + j] as number;
      for (let k = 0; k < j; k++) s -= (out[i * d + k] as number) * (out[j * d + k] as number);
      if (i === j) {
        if (!(s > 0)) return false;
        out[i * d + i] = Math.sqrt(s);
      } else out[i * d + j] = s / (out[j * d + j] as number);
    }
  }
  return true;
}

/** log det A from its Cholesky factor L (A = L Lᵀ). */
export function logDetFromCholesky(l: ArrayLike<number>, d: number): number {
  let s = 0;
  for (let i = 0; i < d; i++) s += 2 * Math.log(l[i * d + i] as number);
  return s;
}
