import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { EpisodeTrace, observationDistribution, ParWorld } from "./par.ts";
import { createProbeTrap, explorationEta, probeTrapEta } from "./probe-trap.ts";

describe("probe trap", () => {
  const env = createProbeTrap({ K: 4, p: 0.7 });
  const trace = new EpisodeTrace(1);
  trace.start(0);

  it("has K doors and a probe, and names them in words", () => {
    expect(env.subgoals).toEqual([
      "open door 1",
      "open door 2",
      "open door 3",
      "open door 4",
      "consult the probe",
    ]);
    expect(env.probes).toEqual([4]);
    expect(env.latentCount).toBe(4);
    expect([...env.prior]).toEqual([0.25, 0.25, 0.25, 0.25]);
    expect(env.observations[0]).toBe("You stand before the doors.");
  });

  it("observation likelihoods normalise over the Reporter's vocabulary for every subgoal and latent", () => {
    for (let g = 0; g < env.subgoals.length; g++) {
      for (let z = 0; z < env.latentCount; z++) {
        const dist = observationDistribution(env, trace, g, z);
        expect(dist.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
      }
    }
    // Opening a door says the same thing under every z: the likelihood is constant.
    const lik = new Float64Array(4);
    env.observationLikelihood(trace, 2, 1, lik);
    expect([...lik]).toEqual([1, 1, 1, 1]);
    env.observationLikelihood(trace, 4, 2 + 3, lik);
    expect([...lik].map((x) => x.toFixed(12))).toEqual([
      "0.100000000000",
      "0.100000000000",
      "0.100000000000",
      "0.700000000000",
    ]);
  });

  it("the world's probe reports follow the likelihood; rewards are 1 only for the prize door", () => {
    const z = 2;
    const world = new ParWorld(env, z, new Rng(5));
    const counts = new Array<number>(env.observations.length).fill(0);
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      expect(world.reset()).toBe(0);
      const out = world.step(4, 0);
      expect(out.reward).toBe(0);
      counts[out.observation] = (counts[out.observation] ?? 0) + 1;
    }
    const expected = observationDistribution(env, trace, 4, z);
    // Binomial s.e. at n = 40000 is ≤ 0.0023: 5 s.e. (the draws are seeded, so this is deterministic).
    for (const [o, c] of counts.entries())
      expect(Math.abs(c / n - (expected[o] as number))).toBeLessThan(0.012);
    for (let g = 0; g < 4; g++) {
      world.reset();
      const out = world.step(g, 0);
      expect(out.reward).toBe(g === z ? 1 : 0);
      expect(env.observations[out.observation]).toBe("Nothing happened.");
      expect(out.steps).toBe(1);
    }
  });

  it("reward likelihoods rule out exactly the hypotheses a reward contradicts", () => {
    const lik = new Float64Array(4);
    env.rewardLikelihood(trace, 1, 0, lik);
    expect([...lik]).toEqual([1, 0, 1, 1]);
    env.rewardLikelihood(trace, 1, 1, lik);
    expect([...lik]).toEqual([0, 1, 0, 0]);
  });

  it("η: closed form, 1 for a perfect probe, 0 when the probe is uninformative (p = 1/K)", () => {
    for (const [K, p] of [
      [4, 0.7],
      [8, 0.7],
      [2, 0.7],
    ] as const) {
      const bc = 2 * Math.sqrt((p * (1 - p)) / (K - 1)) + ((K - 2) * (1 - p)) / (K - 1);
      expect(probeTrapEta(K, p)).toBeCloseTo(1 - bc, 12);
    }
    expect(probeTrapEta(4, 1)).toBeCloseTo(1, 12);
    expect(probeTrapEta(2, 0.5)).toBeCloseTo(0, 12);
    expect(probeTrapEta(4, 0.25)).toBeCloseTo(0, 12);
    // Uniform π_exp probes with q = 1/(K+1): η = q·η_probe when H = 1.
    expect(explorationEta(0.5, 0.2, 1)).toBeCloseTo(0.1, 12);
    expect(explorationEta(0.5, 1, 3)).toBeCloseTo(1 - 0.5 ** 3, 12);
  });

  it("rejects a bad configuration", () => {
    expect(() => createProbeTrap({ K: 1, p: 0.5 })).toThrow(RangeError);
    expect(() => createProbeTrap({ K: 3, p: 1.5 })).toThrow(RangeError);
  });
});
