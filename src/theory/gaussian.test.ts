import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { cholesky, LinearGaussian, logDetFromCholesky } from "./gaussian.ts";

/** Gauss–Jordan inverse with partial pivoting: the direct computation the rank-one updates are checked against. */
function inverse(a: ArrayLike<number>, d: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) inv[i * d + i] = 1;
  for (let c = 0; c < d; c++) {
    let p = c;
    for (let r = c + 1; r < d; r++)
      if (Math.abs(m[r * d + c] as number) > Math.abs(m[p * d + c] as number)) p = r;
    for (let k = 0; k < d; k++) {
      [m[c * d + k], m[p * d + k]] = [m[p * d + k] as number, m[c * d + k] as number];
      [inv[c * d + k], inv[p * d + k]] = [inv[p * d + k] as number, inv[c * d + k] as number];
    }
    const piv = m[c * d + c] as number;
    for (let k = 0; k < d; k++) {
      m[c * d + k] = (m[c * d + k] as number) / piv;
      inv[c * d + k] = (inv[c * d + k] as number) / piv;
    }
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = m[r * d + c] as number;
      for (let k = 0; k < d; k++) {
        m[r * d + k] = (m[r * d + k] as number) - f * (m[c * d + k] as number);
        inv[r * d + k] = (inv[r * d + k] as number) - f * (inv[c * d + k] as number);
      }
    }
  }
  return inv;
}

describe("LinearGaussian", () => {
  it("Sherman–Morrison updates equal the direct posterior (Σ0⁻¹ + XᵀX/σ²)⁻¹, μ = Σ(Σ0⁻¹μ0 + Xᵀy/σ²)", () => {
    const d = 4;
    const sigma = 0.7;
    const rng = new Rng(11);
    // A non-diagonal prior with a non-zero mean.
    const prior0 = Float64Array.from([2, 0.3, 0, 0.1, 0.3, 1, 0.2, 0, 0, 0.2, 0.5, 0, 0.1, 0, 0, 1.5]);
    const mu0 = Float64Array.from([0.5, -1, 0, 2]);
    const post = new LinearGaussian({ dim: d, noiseSd: sigma, priorCov: prior0, priorMean: mu0 });
    const precision = inverse(prior0, d);
    const rhs = new Float64Array(d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++)
        rhs[i] = (rhs[i] as number) + (precision[i * d + j] as number) * (mu0[j] as number);
    for (let n = 0; n < 200; n++) {
      const x = Float64Array.from({ length: d }, () => rng.normal());
      const y = rng.normal(1, 2);
      post.update(x, y);
      for (let i = 0; i < d; i++) {
        rhs[i] = (rhs[i] as number) + ((x[i] as number) * y) / sigma ** 2;
        for (let j = 0; j < d; j++)
          precision[i * d + j] =
            (precision[i * d + j] as number) + ((x[i] as number) * (x[j] as number)) / sigma ** 2;
      }
    }
    const cov = inverse(precision, d);
    const got = post.covariance();
    for (let k = 0; k < d * d; k++) expect(got[k]).toBeCloseTo(cov[k] as number, 10);
    const mean = post.mean();
    for (let i = 0; i < d; i++) {
      let m = 0;
      for (let j = 0; j < d; j++) m += (cov[i * d + j] as number) * (rhs[j] as number);
      expect(mean[i]).toBeCloseTo(m, 9);
    }
    const l = new Float64Array(d * d);
    expect(cholesky(cov, d, l)).toBe(true);
    expect(post.logDetCov()).toBeCloseTo(logDetFromCholesky(l, d), 9);
    expect(post.entropy()).toBeCloseTo(
      0.5 * logDetFromCholesky(l, d) + 0.5 * d * Math.log(2 * Math.PI * Math.E),
      9,
    );
  });

  it("one bit of entropy is a factor 4 in det Σ; an observation never raises the entropy", () => {
    const post = new LinearGaussian({ dim: 3, noiseSd: 1 });
    const h0 = post.entropy();
    expect(h0).toBeCloseTo(1.5 * Math.log(2 * Math.PI * Math.E), 12);
    const rng = new Rng(2);
    let last = h0;
    for (let i = 0; i < 100; i++) {
      post.update([rng.normal(), rng.normal(), rng.normal()], rng.normal());
      expect(post.entropy()).toBeLessThanOrEqual(last);
      last = post.entropy();
    }
    // Entropy difference ↔ log det ratio: H0 − H = ½ log(det Σ0 / det Σ).
    expect(h0 - post.entropy()).toBeCloseTo(-0.5 * post.logDetCov(), 10);
  });

  it("samples have the posterior mean and covariance", () => {
    const post = new LinearGaussian({ dim: 2, noiseSd: 1, priorCov: [1, 0.6, 0.6, 2], priorMean: [1, -1] });
    const rng = new Rng(5);
    const n = 40_000;
    const s = [0, 0];
    const ss = [0, 0, 0];
    const out = new Float64Array(2);
    for (let i = 0; i < n; i++) {
      post.sample(rng, out);
      const a = out[0] as number;
      const b = out[1] as number;
      s[0] = (s[0] as number) + a;
      s[1] = (s[1] as number) + b;
      ss[0] = (ss[0] as number) + a * a;
      ss[1] = (ss[1] as number) + a * b;
      ss[2] = (ss[2] as number) + b * b;
    }
    const ma = (s[0] as number) / n;
    const mb = (s[1] as number) / n;
    expect(ma).toBeCloseTo(1, 1);
    expect(mb).toBeCloseTo(-1, 1);
    expect((ss[0] as number) / n - ma * ma).toBeCloseTo(1, 1);
    expect((ss[1] as number) / n - ma * mb).toBeCloseTo(0.6, 1);
    expect((ss[2] as number) / n - mb * mb).toBeCloseTo(2, 1);
  });

  it("rejects a prior that is not positive definite", () => {
    expect(() => new LinearGaussian({ dim: 2, noiseSd: 1, priorCov: [1, 2, 2, 1] })).toThrow(RangeError);
    expect(() => new LinearGaussian({ dim: 2, noiseSd: 0 })).toThrow(RangeError);
  });
});
