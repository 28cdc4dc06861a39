import { describe, expect, it } from "vitest";
import { linearBanditExperiment } from "./linear-bandit.ts";

describe("linear-bandit experiment", () => {
  it("runs small with every action set", async () => {
    for (const actions of ["sphere", "fixed", "per-step"] as const) {
      const params = linearBanditExperiment.params.parse({ horizon: 100, d: 3, actions, size: 5 });
      const r = await linearBanditExperiment.run(params, { seeds: 4, baseSeed: 2 });
      expect(r.arms.length).toBe(4);
      expect(r.checks.length).toBe(4);
      for (const arm of r.arms) {
        expect(arm.curve.t.at(-1)).toBe(100);
        expect(arm.final_regret_mean).toBeGreaterThanOrEqual(0);
        expect(arm.info?.actions).toBe(actions);
      }
    }
  });

  it("moderate size on the sphere: √T-like regret for posterior sampling, linear for the posterior mean", async () => {
    const r = await linearBanditExperiment.run(linearBanditExperiment.params.parse({ horizon: 2000 }), {
      seeds: 40,
      baseSeed: 1,
    });
    const arm = (name: string) => r.arms.find((a) => a.name === name);
    for (const name of ["ps-entropy", "ps-every"]) expect(arm(name)?.slope).toBeLessThan(0.6);
    // Certainty equivalence on the sphere only ever learns along the direction it plays: stuck, linear regret.
    for (const name of ["mean-entropy", "mean-every"]) expect(arm(name)?.slope).toBeGreaterThan(0.95);
    // det Σ never increases, so the switch bound holds on every seed, and switching is rare.
    expect(arm("ps-entropy")?.info?.bound_holds_seeds).toBe(40);
    expect(arm("ps-entropy")?.switches?.mean).toBeLessThan(30);
    const bound = r.checks.find((c) => c.claim.startsWith("ps-entropy: switches"));
    expect(bound?.pass).toBe(true);
  });
});
