import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { BetaBernoulli, betaEntropy, digamma, lnGamma } from "./beta.ts";

const EULER = 0.5772156649015329;

describe("special functions", () => {
  it("lnGamma matches log factorials and Γ(1/2) = √π", () => {
    let logFact = 0;
    for (let n = 1; n <= 30; n++) {
      expect(lnGamma(n)).toBeCloseTo(logFact, 10);
      logFact += Math.log(n);
    }
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 12);
    expect(lnGamma(0.1)).toBeCloseTo(2.252712651734206, 12);
    expect(lnGamma(1e4)).toBeCloseTo(82099.71749644238, 6);
  });
  it("digamma: ψ(1) = −γ, ψ(1/2) = −γ − 2 log 2, the recurrence ψ(x+1) = ψ(x) + 1/x", () => {
    expect(digamma(1)).toBeCloseTo(-EULER, 12);
    expect(digamma(0.5)).toBeCloseTo(-EULER - 2 * Math.LN2, 12);
    for (const x of [0.3, 2.5, 7.25, 40]) expect(digamma(x + 1)).toBeCloseTo(digamma(x) + 1 / x, 12);
    // Against a central difference of lnGamma.
    const h = 1e-5;
    expect(digamma(3.7)).toBeCloseTo((lnGamma(3.7 + h) - lnGamma(3.7 - h)) / (2 * h), 8);
  });
});

describe("Beta entropy", () => {
  it("closed forms: Beta(1,1) = 0, Beta(2,1) = 1/2 − log 2, Beta(2,2) = 5/3 − log 6", () => {
    expect(betaEntropy(1, 1)).toBeCloseTo(0, 12);
    expect(betaEntropy(2, 1)).toBeCloseTo(0.5 - Math.LN2, 12);
    expect(betaEntropy(1, 2)).toBeCloseTo(0.5 - Math.LN2, 12);
    expect(betaEntropy(2, 2)).toBeCloseTo(5 / 3 - Math.log(6), 12);
  });
  it("approaches the Gaussian entropy ½ log(2πe·var) when concentrated", () => {
    const a = 3000;
    const b = 7000;
    const v = (a * b) / ((a + b) ** 2 * (a + b + 1));
    expect(betaEntropy(a, b)).toBeCloseTo(0.5 * Math.log(2 * Math.PI * Math.E * v), 3);
  });
});

describe("BetaBernoulli", () => {
  it("conjugate counts, closed-form mean and variance", () => {
    const p = new BetaBernoulli(2, { alpha: [1, 2], beta: 3 });
    p.update(0, true);
    p.update(0, true);
    p.update(1, false);
    expect([...p.alpha]).toEqual([3, 2]);
    expect([...p.beta]).toEqual([3, 4]);
    expect(p.mean(0)).toBeCloseTo(0.5, 12);
    expect(p.variance(1)).toBeCloseTo((2 * 4) / (36 * 7), 12);
    expect([...p.means()]).toEqual([0.5, 2 / 6]);
  });
  it("keeps the running entropy equal to the sum recomputed from scratch", () => {
    const p = new BetaBernoulli(3);
    const rng = new Rng(4);
    for (let i = 0; i < 5000; i++) p.update(rng.int(3), rng.bernoulli(0.3));
    let direct = 0;
    for (let i = 0; i < 3; i++) direct += betaEntropy(p.alpha[i] as number, p.beta[i] as number);
    expect(p.entropy()).toBeCloseTo(direct, 9);
    expect(p.entropy()).toBeLessThan(0);
  });
  it("samples have the posterior's mean and variance", () => {
    const p = new BetaBernoulli(1, { alpha: 3, beta: 5 });
    const rng = new Rng(9);
    const n = 40_000;
    let s = 0;
    let ss = 0;
    const out = new Float64Array(1);
    for (let i = 0; i < n; i++) {
      const x = p.sample(rng, out)[0] as number;
      s += x;
      ss += x * x;
    }
    const m = s / n;
    expect(m).toBeCloseTo(3 / 8, 2);
    expect(ss / n - m * m).toBeCloseTo(p.variance(0), 3);
  });
  it("rejects a non-positive prior", () => {
    expect(() => new BetaBernoulli(2, { alpha: 0 })).toThrow(RangeError);
    expect(() => new BetaBernoulli(2, { alpha: [1, 1, 1] })).toThrow(RangeError);
  });
});

describe("tiny Beta parameters", () => {
  it("draws stay in [0, 1] when both gammas underflow", () => {
    const p = new BetaBernoulli(1, { alpha: 1e-4, beta: 1e-4 });
    const rng = new Rng(2);
    for (let i = 0; i < 200; i++) {
      const x = p.sample(rng)[0] as number;
      expect(x >= 0 && x <= 1).toBe(true);
    }
  });
});
