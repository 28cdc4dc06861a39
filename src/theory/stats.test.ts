import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { bootstrapMeanCi } from "./stats.ts";

describe("bootstrapMeanCi", () => {
  it("covers the mean, narrows with more values, and is the value itself for one", () => {
    const rng = new Rng(1);
    const few = [1, 5, 2, 8, 3, 7, 4, 6];
    const [lo, hi] = bootstrapMeanCi(few, rng);
    expect(lo).toBeLessThan(4.5);
    expect(hi).toBeGreaterThan(4.5);
    // ±1.96 · s/√n ≈ ±1.6 for these eight values; the percentile interval is close to it.
    expect(hi - lo).toBeGreaterThan(2.4);
    expect(hi - lo).toBeLessThan(3.8);
    const many = Array.from({ length: 800 }, (_, i) => few[i % 8] ?? 0);
    const [lo2, hi2] = bootstrapMeanCi(many, rng);
    expect(hi2 - lo2).toBeLessThan((hi - lo) / 5);
    expect(bootstrapMeanCi([3], rng)).toEqual([3, 3]);
    // Constant values: no spread at all.
    expect(bootstrapMeanCi([2, 2, 2], rng)).toEqual([2, 2]);
  });
});
