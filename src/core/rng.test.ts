import { describe, expect, it } from "vitest";
import { Rng } from "./rng.ts";

describe("Rng", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it("derives streams from the key, not from the state, so draws for one purpose never shift another", () => {
    const a = new Rng(7);
    const b = new Rng(7);
    a.float();
    a.float(); // consuming from the parent must not change its streams
    expect(a.stream("elite").float()).toBe(b.stream("elite").float());
    expect(a.stream("elite").float()).not.toBe(a.stream("critic").float());
    expect(new Rng({ key: a.stream("x").key }).float()).toBe(b.stream("x").float());
  });

  it("split gives a reproducible sequence of distinct children", () => {
    const a = new Rng(1);
    const b = new Rng(1);
    const ca = [a.split().float(), a.split().float()];
    const cb = [b.split().float(), b.split().float()];
    expect(ca).toEqual(cb);
    expect(ca[0]).not.toBe(ca[1]);
  });

  it("int is unbiased enough and in range", () => {
    const r = new Rng(3);
    const counts = [0, 0, 0, 0, 0, 0];
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const k = r.int(6);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - n / 6)).toBeLessThan(5 * Math.sqrt(n / 6));
    expect(() => r.int(0)).toThrow(RangeError);
  });

  it("float is in [0, 1) with the right mean", () => {
    const r = new Rng(9);
    let sum = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = r.float();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / 20_000 - 0.5)).toBeLessThan(0.01);
  });

  it("normal, gamma and beta have the right first two moments", () => {
    const r = new Rng(11);
    const n = 40_000;
    const moments = (f: () => number) => {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        const x = f();
        s += x;
        s2 += x * x;
      }
      const mean = s / n;
      return { mean, variance: s2 / n - mean * mean };
    };
    const norm = moments(() => r.normal(2, 3));
    expect(norm.mean).toBeCloseTo(2, 1);
    expect(norm.variance).toBeCloseTo(9, 0);
    const g = moments(() => r.gamma(0.5)); // shape < 1 path: mean 0.5, variance 0.5
    expect(g.mean).toBeCloseTo(0.5, 1);
    expect(g.variance).toBeCloseTo(0.5, 1);
    const b = moments(() => r.beta(2, 5)); // mean 2/7, variance 10/392
    expect(b.mean).toBeCloseTo(2 / 7, 2);
    expect(b.variance).toBeCloseTo(10 / 392, 2);
  });

  it("categorical follows the weights and rejects bad ones", () => {
    const r = new Rng(5);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) {
      const k = r.categorical([1, 0, 3]);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts[1]).toBe(0);
    expect((counts[2] ?? 0) / 30_000).toBeCloseTo(0.75, 1);
    expect(() => r.categorical([0, 0])).toThrow(RangeError);
    expect(() => r.categorical([-1, 2])).toThrow(RangeError);
  });

  it("shuffle is a permutation and dirichlet sums to one", () => {
    const r = new Rng(8);
    const xs = [1, 2, 3, 4, 5, 6, 7];
    expect([...r.shuffle(xs)].sort()).toEqual(xs);
    const d = r.dirichlet([1, 2, 3]);
    expect(d.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
  });
});
