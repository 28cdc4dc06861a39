import { describe, expect, it } from "vitest";
import { pretrainErrorExperiment, pretrainErrorParams } from "./pretrain-error.ts";

describe("pretrain-error experiment", () => {
  it("small run: one arm per δ, floor checks and sweeps", async () => {
    const params = pretrainErrorParams.parse({ horizon: 100 });
    expect(params.deltas).toEqual([0, 0.03, 0.1]);
    const result = await pretrainErrorExperiment.run(params, { seeds: 4, baseSeed: 5 });
    expect(result.arms.map((a) => a.name)).toEqual([
      "eps-bail t^-1/2 delta=0",
      "eps-bail t^-1/2 delta=0.03",
      "eps-bail t^-1/2 delta=0.1",
    ]);
    // Two floor checks per δ and the δ = 0 slope.
    expect(result.checks).toHaveLength(7);
    expect(result.sweeps.map((s) => s.points.length)).toEqual([3, 3, 3, 3]);
  });

  it("200 seeds, T = 4000: δ > 0 leaves a floor ≈ δ, δ = 0 is sublinear", async () => {
    const params = pretrainErrorParams.parse({ horizon: 4000 });
    const result = await pretrainErrorExperiment.run(params, { seeds: 200, baseSeed: 1 });
    const measured = result.sweeps[0]?.points ?? [];
    const predicted = result.sweeps[1]?.points ?? [];
    measured.forEach((m, i) => {
      const p = predicted[i]?.mean ?? Number.NaN;
      expect(Math.abs(m.mean - p) / p).toBeLessThan(0.15);
    });
    const slopes = result.sweeps[3]?.points.map((p) => p.mean) ?? [];
    expect(slopes[0]).toBeLessThan(0.6);
    // The floor makes regret grow faster with δ.
    expect(slopes[1]).toBeGreaterThan(slopes[0] ?? Number.NaN);
    expect(slopes[2]).toBeGreaterThan(slopes[1] ?? Number.NaN);
  });
});
