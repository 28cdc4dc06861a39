import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { EpisodeTrace, observationDistribution, ParWorld } from "./par.ts";
import { createDeskWorld, HALLWAY_OBS, roomObservation, signObservation } from "./world-model.ts";

const K = 4;
const READ = K;

describe("desk world (S3)", () => {
  it("has K rooms plus the sign as G, and the hallway, rooms and signs as observations", () => {
    const env = createDeskWorld({ K, p: 0.7, H: 2 });
    expect(env.subgoals).toEqual([
      "go to room 1",
      "go to room 2",
      "go to room 3",
      "go to room 4",
      "read the sign at the info desk",
    ]);
    expect(env.observations).toHaveLength(1 + 2 * K);
    expect(env.observations[signObservation(K, 2)]).toBe(
      "You are at the info desk. The sign points to room 3.",
    );
    expect(env.probes).toEqual([READ]);
    expect(() => createDeskWorld({ K: 1 })).toThrow(RangeError);
    expect(() => createDeskWorld({ H: 0 })).toThrow(RangeError);
  });

  it("observation likelihoods normalise over the vocabulary for every z, subgoal and step", () => {
    const env = createDeskWorld({ K, p: 0.7, H: 2 });
    const trace = new EpisodeTrace(2);
    trace.start(HALLWAY_OBS);
    for (const first of [-1, 0, READ]) {
      if (first >= 0) {
        trace.start(HALLWAY_OBS);
        trace.push(first, first === READ ? signObservation(K, 1) : roomObservation(first), Number.NaN);
      }
      for (let g = 0; g <= READ; g++) {
        for (let z = 0; z < K; z++) {
          const d = observationDistribution(env, trace, g, z);
          expect(d.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
        }
      }
    }
    // The sign: p on z, (1 − p)/(K − 1) on each wrong room; rooms: z-free.
    const d = observationDistribution(env, trace, READ, 2);
    expect(d[signObservation(K, 2)]).toBeCloseTo(0.7, 12);
    expect(d[signObservation(K, 0)]).toBeCloseTo(0.1, 12);
    const lik = new Float64Array(K);
    env.observationLikelihood(trace, 1, roomObservation(1), lik);
    expect([...lik]).toEqual([1, 1, 1, 1]);
  });

  it("the Reporter draws the sign with the likelihood's frequencies", () => {
    const env = createDeskWorld({ K, p: 0.7, H: 1 });
    const world = new ParWorld(env, 3, new Rng(4));
    const counts = new Float64Array(env.observations.length);
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      world.reset();
      const o = world.step(READ, 0).observation;
      counts[o] = (counts[o] ?? 0) + 1;
    }
    // ±0.02 and ±0.01 are > 5 standard errors at n = 20 000.
    expect((counts[signObservation(K, 3)] ?? 0) / n).toBeGreaterThan(0.68);
    expect((counts[signObservation(K, 3)] ?? 0) / n).toBeLessThan(0.72);
    for (const j of [0, 1, 2]) {
      expect((counts[signObservation(K, j)] ?? 0) / n).toBeGreaterThan(0.09);
      expect((counts[signObservation(K, j)] ?? 0) / n).toBeLessThan(0.11);
    }
  });

  it("rewards only a last subgoal that ends in the goal room (regime i: read, then go)", () => {
    const env = createDeskWorld({ K, p: 1, H: 2 });
    const world = new ParWorld(env, 1, new Rng(1));
    expect(world.reset()).toBe(HALLWAY_OBS);
    const read = world.step(READ, 0);
    expect(read.observation).toBe(signObservation(K, 1));
    expect(read.reward).toBe(0);
    expect(world.step(1, 1).reward).toBe(1);
    world.reset();
    // Room z at the first step does not count; only where the episode ends.
    expect(world.step(1, 0).reward).toBe(0);
    expect(world.step(0, 1).reward).toBe(0);
    // Regime (ii): reading uses the only step.
    const one = createDeskWorld({ K, p: 1, H: 1 });
    const w1 = new ParWorld(one, 2, new Rng(2));
    w1.reset();
    expect(w1.step(READ, 0).reward).toBe(0);
    w1.reset();
    expect(w1.step(2, 0).reward).toBe(1);
  });

  it("experts go straight to room z; Q*_z and the reward likelihood agree with the rewards", () => {
    const env = createDeskWorld({ K, p: 0.7, H: 2 });
    const trace = new EpisodeTrace(2);
    trace.start(HALLWAY_OBS);
    const out = new Float64Array(K + 1);
    expect(env.expert(2, trace, out)).toBe(2);
    expect([...out]).toEqual([0, 0, 1, 0, 0]);
    // Before the last step anything still lets the expert finish in z.
    for (let g = 0; g <= READ; g++) expect(env.qValue(2, trace, g)).toBe(1);
    trace.push(READ, signObservation(K, 0), Number.NaN);
    expect(env.qValue(2, trace, 2)).toBe(1);
    expect(env.qValue(2, trace, 1)).toBe(0);
    const lik = new Float64Array(K);
    env.rewardLikelihood(trace, 2, 1, lik);
    expect([...lik]).toEqual([0, 0, 1, 0]);
  });
});
