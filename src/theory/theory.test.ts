import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { FinitePosterior } from "./posterior.ts";
import { checkpoints, horizonSlope, horizonSlopeBootstrap, RegretCurves, tailSlope } from "./regret.ts";
import { epsilonAt, tunedEpsilon } from "./schedules.ts";
import { entropy, linearFit, logSumExp, standardError, totalVariation } from "./stats.ts";

describe("stats", () => {
  it("logSumExp is stable and exact", () => {
    expect(logSumExp([1000, 1000])).toBeCloseTo(1000 + Math.log(2), 12);
    expect(logSumExp([-1e6, Math.log(3)])).toBeCloseTo(Math.log(3), 12);
    expect(logSumExp([])).toBe(Number.NEGATIVE_INFINITY);
  });
  it("entropy, TV, standard error and a linear fit", () => {
    expect(entropy([0.5, 0.5])).toBeCloseTo(Math.log(2), 12);
    expect(totalVariation([1, 0], [0.5, 0.5])).toBeCloseTo(0.5, 12);
    expect(standardError([1, 3])).toBeCloseTo(1, 12);
    const fit = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(fit.slope).toBeCloseTo(2, 12);
    expect(fit.slopeSe).toBeCloseTo(0, 12);
  });
});

describe("FinitePosterior", () => {
  it("multiplies likelihoods in log space and normalises", () => {
    const p = FinitePosterior.uniform(3);
    p.update((z) => [0.5, 0.25, 0.25][z] ?? 0);
    expect([...p.probs()].map((x) => Number(x.toFixed(12)))).toEqual([0.5, 0.25, 0.25]);
    expect(p.argmax()).toBe(0);
    p.update((z) => (z === 0 ? 0 : 1));
    expect(p.mass(0)).toBe(0);
    expect(p.mass(1)).toBeCloseTo(0.5, 12);
  });
  it("survives ten thousand tiny likelihoods without underflow", () => {
    const p = FinitePosterior.uniform(2);
    for (let i = 0; i < 10_000; i++) p.update((z) => (z === 0 ? 1e-3 : 2e-3));
    expect(p.mass(1)).toBeCloseTo(1, 12);
    expect(Number.isFinite(p.entropy())).toBe(true);
  });
  it("samples in proportion to the posterior and refuses an impossible observation", () => {
    const p = new FinitePosterior([1, 3]);
    const rng = new Rng(1);
    let ones = 0;
    for (let i = 0; i < 20_000; i++) ones += p.sample(rng);
    expect(ones / 20_000).toBeCloseTo(0.75, 1);
    expect(() => p.update(() => 0)).toThrow(RangeError);
  });
});

describe("regret accounting", () => {
  it("checkpoints are log-spaced, sorted, end at the horizon", () => {
    const ts = checkpoints(10_000, 10);
    expect(ts[0]).toBe(1);
    expect(ts.at(-1)).toBe(10_000);
    expect(ts.length).toBeGreaterThan(35);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
  });
  it("tail slope recovers the exponent of a power law; horizon slope across runs", () => {
    const ts = checkpoints(100_000);
    const linear = tailSlope({ t: ts, mean: ts.map((t) => 0.75 * t) });
    expect(linear.slope).toBeCloseTo(1, 10);
    const root = tailSlope({ t: ts, mean: ts.map((t) => 3 * Math.sqrt(t)) });
    expect(root.slope).toBeCloseTo(0.5, 10);
    expect(root.ci95[0]).toBeLessThanOrEqual(0.5);
    const across = horizonSlope([1e3, 1e4, 1e5], [10 * 1e3 ** 0.5, 10 * 1e4 ** 0.5, 10 * 1e5 ** 0.5]);
    expect(across.slope).toBeCloseTo(0.5, 10);
  });
  it("curves aggregate seeds at checkpoints", () => {
    const curves = new RegretCurves([1, 10], 2);
    curves.record(0, 1, 1);
    curves.record(1, 1, 3);
    curves.record(0, 10, 5);
    curves.record(1, 10, 7);
    curves.record(0, 5, 99); // not a checkpoint: ignored
    expect(curves.curve()).toEqual({ t: [1, 10], mean: [2, 6], se: [1, 1] });
    expect([...curves.finals()]).toEqual([5, 7]);
  });
  it("zero regret is slope 0, so the best outcome passes a sublinear check (it was NaN)", () => {
    const ts = checkpoints(1000);
    const flat = tailSlope({ t: ts, mean: ts.map(() => 0) });
    expect(flat.slope).toBe(0);
    expect(flat.ci95).toEqual([0, 0]);
    const curves = new RegretCurves(ts, 5);
    for (let seed = 0; seed < 5; seed++) for (const t of ts) curves.record(seed, t, 0);
    expect(curves.tailSlope().slope).toBe(0);
    expect(horizonSlope([10, 100], [0, 0]).slope).toBe(0);
  });
  it("the slope's interval resamples seeds: a few linear seeds widen it far beyond the fit's residual interval", () => {
    const ts = checkpoints(10_000);
    const seeds = 40;
    const curves = new RegretCurves(ts, seeds);
    // 36 seeds with √t regret, 4 with linear regret from t = 100 on: the mean curve is smooth, the seeds are not.
    for (let seed = 0; seed < seeds; seed++)
      for (const t of ts) curves.record(seed, t, seed < 4 ? 0.05 * Math.max(0, t - 100) : Math.sqrt(t));
    const fit = tailSlope(curves.curve());
    const boot = curves.tailSlope();
    expect(boot.slope).toBe(fit.slope);
    expect(boot.interval).toBe("seed-bootstrap");
    expect(fit.interval).toBe("fit-residuals");
    const width = (c: [number, number]) => c[1] - c[0];
    expect(width(boot.ci95)).toBeGreaterThan(3 * width(fit.ci95));
    expect(boot.ci95[0]).toBeLessThanOrEqual(boot.slope);
    expect(boot.ci95[1]).toBeGreaterThanOrEqual(boot.slope);
    // Identical seeds leave nothing to resample: the interval collapses onto the slope.
    const same = new RegretCurves(ts, 10);
    for (let seed = 0; seed < 10; seed++) for (const t of ts) same.record(seed, t, Math.sqrt(t));
    const [lo, hi] = same.tailSlope().ci95;
    expect(hi - lo).toBeLessThan(1e-9);
    expect(lo).toBeCloseTo(0.5, 6);
  });
  it("the horizon slope resamples each horizon's seeds on its own", () => {
    const spread = (centre: number) => Float64Array.from({ length: 20 }, (_, i) => centre * (0.5 + i / 19));
    const fit = horizonSlopeBootstrap([1e2, 1e3, 1e4], [spread(10), spread(10 * 10 ** 0.5), spread(100)]);
    expect(fit.slope).toBeCloseTo(0.5, 10);
    expect(fit.interval).toBe("seed-bootstrap");
    expect(fit.ci95[0]).toBeLessThan(0.5);
    expect(fit.ci95[1]).toBeGreaterThan(0.5);
    expect(fit.ci95[1] - fit.ci95[0]).toBeLessThan(0.3);
  });
});

describe("schedules", () => {
  it("power and tuned schedules", () => {
    expect(epsilonAt({ kind: "power", c: 2, power: 0.5 }, 1)).toBe(1);
    expect(epsilonAt({ kind: "power", c: 1, power: 0.5 }, 100)).toBeCloseTo(0.1, 12);
    expect(epsilonAt({ kind: "none" }, 5)).toBe(0);
    const e4 = tunedEpsilon({ horizon: 1e4, H: 1, Z: 4, eta: 1 });
    const e5 = tunedEpsilon({ horizon: 1e5, H: 1, Z: 4, eta: 1 });
    expect(e5).toBeLessThan(e4);
    expect(tunedEpsilon({ horizon: 2, H: 1, Z: 4, eta: 0.01 })).toBe(1);
  });
});
