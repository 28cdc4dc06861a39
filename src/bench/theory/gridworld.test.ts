import { describe, expect, it } from "vitest";
import { gridworldExperiment, gridworldParams } from "./gridworld.ts";
import type { ArmResult, ExperimentResult } from "./types.ts";

function arm(result: ExperimentResult, name: string): ArmResult {
  const found = result.arms.find((a) => a.name === name);
  if (!found) throw new Error(`no arm ${name}`);
  return found;
}

describe("gridworld experiment", () => {
  it("small run: arms, success series and checks", async () => {
    const params = gridworldParams.parse({ horizon: 100, horizons: [30, 100] });
    expect(params.H).toBe(3);
    expect(params.actorHorizon).toBe(12);
    const result = await gridworldExperiment.run(params, { seeds: 4, baseSeed: 2 });
    expect(result.arms.map((a) => a.name)).toEqual([
      "oracle",
      "bail-exact",
      "ps-exact",
      "eps-bail t^-1/2",
      "eps-bail t^-1/3",
      "control: bail-exact, rewards visible",
      "eps-bail eps*(T)",
    ]);
    expect(arm(result, "oracle").success_rate?.mean.every((s) => s === 1)).toBe(true);
    // 11 suite checks (3 on ε*(T), 2 exploit-only) + BAIL and PS success + the ε-BAIL tail success.
    expect(result.checks).toHaveLength(14);
    expect(result.checks.filter((c) => c.claim.includes("what BAIL learns"))).toHaveLength(2);
    for (const c of result.checks) expect(typeof c.pass).toBe("boolean");
    // Primitive Actor steps, not subgoals: more than H per episode on average for the oracle's first walk.
    expect(result.env_steps).toBeGreaterThan(0);
  });

  it("200 seeds, T = 2000: BAIL succeeds 1/4 of the time; ε-BAIL is sublinear and learns the goal room", async () => {
    const params = gridworldParams.parse({ horizon: 2000, horizons: [500, 2000] });
    const result = await gridworldExperiment.run(params, { seeds: 200, baseSeed: 1 });
    const T = 2000;
    const bail = arm(result, "bail-exact");
    expect(bail.slope).toBeGreaterThan(0.95);
    expect(Math.abs(bail.final_regret_mean / T - 0.75)).toBeLessThan(0.005);
    const success = bail.success_rate?.mean ?? [];
    expect(Math.abs((success.at(-1) ?? 0) - 0.25)).toBeLessThan(0.03);
    for (const name of ["eps-bail t^-1/2", "eps-bail eps*(T)"]) {
      expect(arm(result, name).slope).toBeGreaterThan(0.4);
      expect(arm(result, name).slope).toBeLessThan(0.62);
    }
    const half = arm(result, "eps-bail t^-1/2");
    expect(half.success_rate?.mean.at(-1)).toBeGreaterThan(0.9);
    expect(half.posterior_true?.mean.at(-1)).toBeGreaterThan(0.99);
    expect(arm(result, "control: bail-exact, rewards visible").final_regret_mean).toBeLessThanOrEqual(3);
    const tail = result.checks.find((c) => c.claim.startsWith("eps-bail t^-1/2: success over the last 20%"));
    expect(tail?.pass).toBe(true);
  });
});
