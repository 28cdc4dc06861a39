import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { argmaxArm, banditExperiment, switchGrowth } from "./bandit.ts";
import type { ExperimentResult } from "./types.ts";

const withoutWall = (r: ExperimentResult) => ({ ...r, wall_s: 0 });

describe("bandit experiment", () => {
  it("runs small: four arms with curves, switches, sweeps and checks; reproducible bit for bit", async () => {
    const params = banditExperiment.params.parse({ horizon: 200, K: 4 });
    const progress: number[] = [];
    const r = await banditExperiment.run(params, {
      seeds: 6,
      baseSeed: 3,
      onProgress: (d) => progress.push(d),
    });
    expect(r.arms.map((a) => a.name)).toEqual(["ps-entropy", "ps-every", "mean-entropy", "mean-every"]);
    expect(progress.at(-1)).toBe(24);
    for (const arm of r.arms) {
      expect(arm.horizon).toBe(200);
      expect(arm.curve.t.at(-1)).toBe(200);
      expect(arm.curve.mean.length).toBe(arm.curve.t.length);
      expect(Number.isFinite(arm.slope)).toBe(true);
      expect(arm.switches?.mean).toBeGreaterThanOrEqual(1);
    }
    expect(r.arms[1]?.switches?.mean).toBe(200);
    expect(r.checks.length).toBe(4);
    for (const c of r.checks) expect(c.measured.length).toBeGreaterThan(20);
    expect(r.sweeps.map((s) => s.name)).toContain("ps-entropy: switches");
    expect(r.env_steps).toBe(4 * 6 * 200);
    expect(JSON.parse(JSON.stringify(r.params))).toEqual(params);
    const again = await banditExperiment.run(params, { seeds: 6, baseSeed: 3 });
    expect(withoutWall(again)).toEqual(withoutWall(r));
    const other = await banditExperiment.run(params, { seeds: 6, baseSeed: 4 });
    expect(other.arms[0]?.final_regret_mean).not.toBe(r.arms[0]?.final_regret_mean);
  });

  it("moderate size: Thompson sampling is far below linear, greedy on the posterior mean is not", async () => {
    const r = await banditExperiment.run(banditExperiment.params.parse({ horizon: 2000 }), {
      seeds: 60,
      baseSeed: 1,
    });
    const arm = (name: string) => r.arms.find((a) => a.name === name);
    expect(arm("ps-every")?.slope).toBeLessThan(0.4);
    expect(arm("mean-every")?.slope).toBeGreaterThan(0.9);
    expect(arm("ps-every")?.final_regret_mean ?? Number.NaN).toBeLessThan(
      (arm("mean-every")?.final_regret_mean ?? 0) / 3,
    );
    // Entropy switching is rare: the number of epochs is a few dozen at most, not 2000.
    expect(arm("ps-entropy")?.switches?.mean).toBeLessThan(30);
    expect(arm("ps-entropy")?.info?.bound_at_last_switch_holds_seeds).toBe(60);
  });

  it("aborts between seeds", async () => {
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(
      banditExperiment.run(banditExperiment.params.parse({ horizon: 50 }), {
        seeds: 3,
        baseSeed: 1,
        signal: controller.signal,
      }),
    ).rejects.toThrow("stop");
  });
});

describe("switch growth", () => {
  it("per-decade increments: ratio ≈ 1 for a + b·ln t, 10^p for t^p", () => {
    const t = [1, 10, 100, 1000, 10_000];
    const log = switchGrowth({ t, mean: t.map((x) => 2 + 3 * Math.log(x)) });
    expect(log.ratio).toBeCloseTo(1, 12);
    expect(log.perDecade).toBeCloseTo(3 * Math.LN10, 10);
    expect(log.r2).toBeCloseTo(1, 12);
    const power = switchGrowth({ t, mean: t.map((x) => x ** 0.5) });
    expect(power.ratio).toBeCloseTo(Math.sqrt(10), 10);
  });
});

describe("argmaxArm", () => {
  it("takes the highest model mean and breaks ties uniformly at random", () => {
    const rng = new Rng(1);
    expect(argmaxArm(Float64Array.of(0.1, 0.9, 0.3), rng)).toBe(1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const a = argmaxArm(Float64Array.of(0.5, 0.2, 0.5), rng);
      counts[a] = (counts[a] as number) + 1;
    }
    expect(counts[1]).toBe(0);
    expect((counts[0] as number) / 3000).toBeCloseTo(0.5, 1);
  });
});
