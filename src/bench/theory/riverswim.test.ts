import { describe, expect, it } from "vitest";
import { riverswimExperiment } from "./riverswim.ts";

describe("riverswim experiment", () => {
  it("runs small: five arms (the 2 × 2 grid and per-episode sampling), checks computed", async () => {
    const params = riverswimExperiment.params.parse({ horizon: 20, steps: 8, states: 4 });
    const r = await riverswimExperiment.run(params, { seeds: 4, baseSeed: 1 });
    expect(r.arms.map((a) => a.name)).toEqual([
      "ps-entropy",
      "ps-every",
      "mean-entropy",
      "mean-every",
      "ps-episode",
    ]);
    expect(r.arms.find((a) => a.name === "ps-episode")?.switches?.mean).toBe(20);
    expect(r.arms.find((a) => a.name === "ps-every")?.switches?.mean).toBe(160);
    expect(r.checks.length).toBe(7);
    expect(r.env_steps).toBe(5 * 4 * 20 * 8);
    for (const arm of r.arms) expect(arm.info?.t_unit).toBe("episodes");
    const standard = await riverswimExperiment.run(
      riverswimExperiment.params.parse({ horizon: 20, instance: "standard", prior: "standard" }),
      { seeds: 2, baseSeed: 1 },
    );
    expect(standard.arms.every((a) => a.info?.right_optimal_seeds === 2)).toBe(true);
  });

  it("moderate size: the posterior-mean planner stops learning (linear), per-episode sampling does not", async () => {
    const r = await riverswimExperiment.run(riverswimExperiment.params.parse({ horizon: 150 }), {
      seeds: 60,
      baseSeed: 1,
    });
    const arm = (name: string) => r.arms.find((a) => a.name === name);
    for (const name of ["mean-entropy", "mean-every"]) {
      expect(arm(name)?.slope).toBeGreaterThan(0.9);
      expect(Number(arm(name)?.info?.stuck_seeds)).toBeGreaterThan(0);
    }
    expect(arm("ps-episode")?.slope).toBeLessThan(0.7);
    expect(arm("ps-episode")?.final_regret_mean ?? Number.NaN).toBeLessThan(
      arm("mean-every")?.final_regret_mean ?? 0,
    );
    // The entropy rule never fires again once a sample says "stay left": swimming left teaches nothing.
    expect(arm("ps-entropy")?.slope).toBeGreaterThan(0.9);
    expect(Number(arm("ps-entropy")?.info?.stuck_seeds)).toBeGreaterThan(
      Number(arm("ps-episode")?.info?.stuck_seeds),
    );
  });
});
