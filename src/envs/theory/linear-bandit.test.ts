import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { LinearBandit } from "./linear-bandit.ts";

describe("LinearBandit", () => {
  it("on the sphere: argmax is θ/‖θ‖, the best value ‖θ‖, gaps ≥ 0", () => {
    const env = new LinearBandit({ theta: [3, 4], noiseSd: 1, kind: "sphere" });
    const x = new Float64Array(2);
    env.argmax([3, 4], x);
    expect([...x]).toEqual([0.6, 0.8]);
    expect(env.bestValue()).toBeCloseTo(5, 12);
    expect(env.gap(x)).toBeCloseTo(0, 12);
    expect(env.gap([1, 0])).toBeCloseTo(2, 12);
    env.argmax([0, 0], x);
    expect(Math.hypot(...x)).toBeCloseTo(1, 12);
  });
  it("finite sets: argmax agrees with brute force; a per-step set changes, a fixed one does not", () => {
    const rng = new Rng(7);
    const fixed = LinearBandit.sample({ dim: 3, priorSd: 1, noiseSd: 1, kind: "fixed", size: 8 }, rng);
    const before = fixed.actions();
    fixed.nextStep(rng);
    expect(fixed.actions()).toEqual(before);
    const perStep = LinearBandit.sample({ dim: 3, priorSd: 1, noiseSd: 1, kind: "per-step", size: 8 }, rng);
    perStep.nextStep(rng);
    const first = perStep.actions();
    perStep.nextStep(rng);
    expect(perStep.actions()).not.toEqual(first);
    const model = [0.3, -1, 2];
    const x = new Float64Array(3);
    perStep.argmax(model, x);
    const values = perStep
      .actions()
      .map((a) => (a[0] as number) * 0.3 - (a[1] as number) + 2 * (a[2] as number));
    const dot = (x[0] as number) * 0.3 - (x[1] as number) + 2 * (x[2] as number);
    expect(dot).toBeCloseTo(Math.max(...values), 12);
    for (const a of perStep.actions()) {
      expect(Math.hypot(...a)).toBeCloseTo(1, 12);
      expect(perStep.gap(a)).toBeGreaterThanOrEqual(-1e-12);
    }
    expect(() => new LinearBandit({ theta: [1], noiseSd: 1, kind: "fixed" })).toThrow(RangeError);
  });
});
