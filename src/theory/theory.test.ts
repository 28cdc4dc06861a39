import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { FinitePosterior } from "./posterior.ts";
import { checkpoints, horizonSlope, RegretCurves, tailSlope } from "./regret.ts";
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
