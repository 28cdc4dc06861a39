import { describe, expect, it } from "vitest";
import { probeTrapExperiment, probeTrapParams } from "./probe-trap.ts";
import type { ArmResult, ExperimentResult } from "./types.ts";

function arm(result: ExperimentResult, name: string): ArmResult {
  const found = result.arms.find((a) => a.name === name);
  if (!found) throw new Error(`no arm ${name} in ${result.arms.map((a) => a.name).join(", ")}`);
  return found;
}

describe("probe-trap experiment", () => {
  it("has defaults matching the spec (K ∈ {2, 4, 8}, T = 1e4, ε* over the spec's five horizons)", () => {
    const p = probeTrapParams.parse({});
    expect(p.Ks).toEqual([2, 4, 8]);
    expect(p.horizon).toBe(10_000);
    expect(p.horizons).toEqual([1_000, 3_000, 10_000, 30_000, 100_000]);
    expect(p.cSweep).toEqual([0.05, 0.3, 1, 3, 10]);
    expect(probeTrapExperiment.params.safeParse({ Ks: [1] }).success).toBe(false);
  });

  it("small run: every arm, series, sweep and check is produced", async () => {
    const params = probeTrapParams.parse({
      Ks: [2, 3],
      horizon: 200,
      horizons: [50, 200],
      sweepEpsilons: [0, 0.1, 1],
      variantB: true,
      cSweep: [0.3, 3],
      cSweepHorizon: 300,
    });
    const result = await probeTrapExperiment.run(params, { seeds: 5, baseSeed: 3 });
    expect(result.experiment).toBe("probe-trap");
    expect(result.seeds).toBe(5);
    expect(result.arms.map((a) => a.name)).toEqual([
      ...[2, 3].flatMap((K) =>
        [
          "oracle",
          "bail-exact",
          "ps-exact",
          "eps-bail t^-1/2",
          "eps-bail t^-1/3",
          "control: bail-exact, rewards visible",
          "bail-exact Variant B",
          "eps-bail t^-1/2 Variant B",
          "eps-bail eps*(T)",
        ].map((n) => `${n} K=${K}`),
      ),
      "c-sweep eps-bail t^-1/2 c=0.3 K=4 T=300",
      "c-sweep eps-bail t^-1/2 c=3 K=4 T=300",
      "negative control: bail-exact K=2 p=0.5",
      "negative control: eps-bail t^-1/2 K=2 p=0.5",
      "negative control: eps-bail eps*(T) K=2 p=0.5",
    ]);
    const bail = arm(result, "bail-exact K=3");
    expect(bail.horizon).toBe(200);
    expect(bail.curve.t.at(-1)).toBe(200);
    expect(bail.posterior_true?.mean.every((m) => Math.abs(m - 1 / 3) < 1e-12)).toBe(true);
    expect(bail.probe_rate?.t).toEqual(bail.curve.t);
    expect(arm(result, "eps-bail eps*(T) K=2").horizon).toBe(200);
    expect(arm(result, "eps-bail eps*(T) K=2").info?.horizons).toBe("50,200");
    expect(result.sweeps.map((s) => s.name)).toContain("final Reg(T) vs constant ε — K=4, p=0.7, T=200");
    // 11 checks per K, the U-shape, one per c and the c sweep's slope check, the negative control.
    expect(result.checks).toHaveLength(2 * 11 + 1 + 2 + 1 + 1);
    const eps = arm(result, "eps-bail t^-1/2 K=3");
    // Reg(T) = exploit + exploration cost, per seed and so in the mean.
    expect((eps.exploit?.final_mean ?? 0) + (eps.exploit?.exploration_cost_mean ?? 0)).toBeCloseTo(
      eps.final_regret_mean,
      9,
    );
    expect(arm(result, "bail-exact K=3").exploit).toBeUndefined();
    for (const c of result.checks) {
      expect(typeof c.pass).toBe("boolean");
      expect(c.claim.length).toBeGreaterThan(10);
      expect(c.measured).toMatch(/\d/);
    }
    expect(result.env_steps).toBeGreaterThan(0);
    expect(result.wall_s).toBeGreaterThan(0);
    // Reproducible: the same seed gives the same numbers.
    const again = await probeTrapExperiment.run(params, { seeds: 5, baseSeed: 3 });
    expect(again.arms).toEqual(result.arms);
  });

  it("200 seeds, T = 2000: BAIL and PS linear at 1 − 1/K, ε-greedy and the control arm sublinear", async () => {
    const params = probeTrapParams.parse({
      Ks: [4],
      horizon: 2000,
      horizons: [500, 2000],
      sweepEpsilons: [0, 0.01, 0.1, 1],
    });
    const result = await probeTrapExperiment.run(params, { seeds: 200, baseSeed: 1 });
    const T = 2000;
    for (const name of ["bail-exact K=4", "ps-exact K=4"]) {
      const a = arm(result, name);
      expect(a.slope).toBeGreaterThan(0.95);
      // s.e. of Reg(T)/T here is ≈ 0.0007.
      expect(Math.abs(a.final_regret_mean / T - 0.75)).toBeLessThan(0.005);
    }
    for (const name of ["eps-bail t^-1/2 K=4", "eps-bail eps*(T) K=4"]) {
      const a = arm(result, name);
      expect(a.slope).toBeGreaterThan(0.4);
      expect(a.slope).toBeLessThan(0.62);
    }
    const third = arm(result, "eps-bail t^-1/3 K=4");
    expect(third.slope).toBeGreaterThan(0.6);
    expect(third.slope).toBeLessThan(0.75);
    expect(third.final_regret_mean).toBeGreaterThan(arm(result, "eps-bail t^-1/2 K=4").final_regret_mean);
    const control = arm(result, "control: bail-exact, rewards visible K=4");
    expect(control.slope).toBeLessThan(0.1);
    expect(control.final_regret_mean).toBeLessThanOrEqual(3);
    for (const a of result.arms.filter((x) => x.name.startsWith("negative control"))) {
      expect(a.slope).toBeGreaterThan(0.9);
    }
    const ushape = result.checks.find((c) => c.claim.includes("U-shaped"));
    expect(ushape?.pass).toBe(true);
    // The ε arms' posterior on z* ends near 1; BAIL's never moves.
    expect(arm(result, "eps-bail t^-1/2 K=4").posterior_true?.mean.at(-1)).toBeGreaterThan(0.99);
    expect(arm(result, "eps-bail t^-1/2 K=4").probe_rate?.mean.at(-1)).toBeGreaterThan(0);
  });

  it("the spec's thresholds (T ≥ 10⁴: raw, log-corrected, Reg/√T flat) hold at ε*(T) and fail when ε is too large", async () => {
    const run = (tunedScale: number) =>
      probeTrapExperiment.run(
        probeTrapParams.parse({
          Ks: [4],
          horizon: 200,
          horizons: [1_000, 10_000, 30_000],
          sweepEpsilons: [0],
          cSweep: [],
          negativeControl: false,
          tunedScale,
        }),
        { seeds: 40, baseSeed: 4 },
      );
    const claims = (r: ExperimentResult) =>
      r.checks.filter((c) => c.claim.startsWith("eps-bail eps*(T)")).map((c) => [c.claim, c.pass] as const);
    const good = claims(await run(1));
    expect(good).toHaveLength(3);
    // Fitted on the horizons ≥ 10⁴ only, as the spec says.
    expect(good.map(([c]) => c).join(" ")).toContain("across T = 10000, 30000");
    expect(good.every(([, pass]) => pass)).toBe(true);
    // ε*(T) scaled 100×: ε = 1 at every horizon, linear regret — every one of the three fails.
    const bad = claims(await run(100));
    expect(bad.map(([, pass]) => pass)).toEqual([false, false, false]);
  });

  it("the exploit-only check separates learning from exploring, and flips when exploration is too rare to learn", async () => {
    const params = probeTrapParams.parse({
      Ks: [4],
      horizon: 2000,
      horizons: [500, 2000],
      sweepEpsilons: [0, 1],
      negativeControl: false,
      cSweep: [0.0005, 3],
      cSweepHorizon: 2000,
      cSweepSeeds: 100,
    });
    const result = await probeTrapExperiment.run(params, { seeds: 100, baseSeed: 2 });
    const byClaim = (start: string) => result.checks.find((c) => c.claim.startsWith(start));
    // c = 3: the posterior concentrates within the first episodes, exploiting costs (almost) nothing after.
    expect(byClaim("c-sweep c=3, T = 2000")?.pass).toBe(true);
    const learned = arm(result, "c-sweep eps-bail t^-1/2 c=3 K=4 T=2000");
    expect(learned.exploit?.final_mean).toBeLessThan(5);
    // c = 0.0005: ε_t so small that almost no seed ever probes; BAIL's exploit episodes stay linear.
    expect(byClaim("c-sweep c=0.0005, T = 2000")?.pass).toBe(false);
    const starved = arm(result, "c-sweep eps-bail t^-1/2 c=0.0005 K=4 T=2000");
    expect(starved.exploit?.slope).toBeGreaterThan(0.9);
    // Only c = 3 is in the asymptotic regime, and its slope is judged.
    const asymptotic = byClaim("c-sweep, T = 2000");
    expect(asymptotic?.measured).toContain("c=0.0005: slope");
    expect(asymptotic?.measured).toContain("not judged");
  });
});
