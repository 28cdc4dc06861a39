import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { createMultiAgent, episodeEta, permutations } from "./multi-agent.ts";
import { EpisodeTrace, observationDistribution, ParWorld } from "./par.ts";
import { probeTrapEta } from "./probe-trap.ts";

function start(): EpisodeTrace {
  const trace = new EpisodeTrace(1);
  trace.start(0);
  return trace;
}

describe("multi-agent environment (S4)", () => {
  it("enumerates N_A! permutations, (N_A + 2)^N_A joint subgoals and (2N_A + 1)^N_A + 1 observations", () => {
    expect(permutations(3)).toEqual([
      [0, 1, 2],
      [0, 2, 1],
      [1, 0, 2],
      [1, 2, 0],
      [2, 0, 1],
      [2, 1, 0],
    ]);
    for (const N of [2, 3]) {
      const env = createMultiAgent({ actors: N });
      const fact = N === 2 ? 2 : 6;
      expect(env.latentCount).toBe(fact);
      expect(env.subgoals).toHaveLength((N + 2) ** N);
      expect(env.observations).toHaveLength((2 * N + 1) ** N + 1);
      expect(new Set(env.subgoals).size).toBe(env.subgoals.length);
      expect(env.H).toBe(1);
    }
    const env = createMultiAgent({ actors: 2 });
    expect(env.subgoals[env.joint([1, 2])]).toBe("Actor 1: go to target 2; Actor 2: inspect");
    expect(env.latentNames[1]).toBe("Actor 1 → target 2, Actor 2 → target 1");
    expect(() => createMultiAgent({ actors: 1 })).toThrow(RangeError);
  });

  it("experts send every Actor to its own target; structured probes have exactly one inspector", () => {
    const env = createMultiAgent({ actors: 3 });
    const out = new Float64Array(env.subgoals.length);
    env.permutations.forEach((sigma, z) => {
      const g = env.expert(z, start(), out);
      expect(g).toBe(env.joint(sigma));
      expect(out[g]).toBe(1);
      for (let i = 0; i < 3; i++) expect(env.part(g, i)).toBe(sigma[i]);
    });
    expect(env.structuredProbes).toHaveLength(3);
    env.structuredProbes.forEach((g, k) => {
      for (let i = 0; i < 3; i++) expect(env.part(g, i)).toBe(i === k ? env.inspect : env.idle);
    });
    // The probe-rate set: every joint subgoal with at least one inspector: 5^3 − 4^3.
    expect(env.probes).toHaveLength(125 - 64);
  });

  it("observation likelihoods normalise for every joint subgoal and z", () => {
    for (const N of [2, 3]) {
      const env = createMultiAgent({ actors: N, p: 0.7 });
      for (let g = 0; g < env.subgoals.length; g++) {
        for (let z = 0; z < env.latentCount; z++) {
          const d = observationDistribution(env, start(), g, z);
          expect(Math.abs(d.reduce((s, x) => s + x, 0) - 1)).toBeLessThan(1e-12);
        }
      }
    }
  });

  it("the Reporter draws inspections with the likelihood's frequencies", () => {
    const env = createMultiAgent({ actors: 3, p: 0.7 });
    const z = 3; // σ = (1, 2, 0)
    const g = env.joint([env.inspect, 0, env.inspect]);
    const world = new ParWorld(env, z, new Rng(9));
    const expected = observationDistribution(env, start(), g, z);
    const counts = new Float64Array(env.observations.length);
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      world.reset();
      const o = world.step(g, 0).observation;
      counts[o] = (counts[o] ?? 0) + 1;
    }
    for (let o = 0; o < counts.length; o++) {
      const e = expected[o] as number;
      const se = Math.sqrt((e * (1 - e)) / n);
      // 5 standard errors (and zero where the likelihood is zero).
      expect(Math.abs((counts[o] as number) / n - e)).toBeLessThanOrEqual(5 * se + 1e-12);
    }
  });

  it("rewards only the joint plan in which every Actor reaches its own target", () => {
    const env = createMultiAgent({ actors: 2 });
    const world = new ParWorld(env, 1, new Rng(3)); // σ = (1, 0)
    world.reset();
    expect(world.step(env.joint([1, 0]), 0).reward).toBe(1);
    world.reset();
    expect(world.step(env.joint([0, 1]), 0).reward).toBe(0);
    world.reset();
    expect(world.step(env.joint([1, 1]), 0).reward).toBe(0);
    world.reset();
    expect(world.step(env.joint([1, env.inspect]), 0).reward).toBe(0);
  });

  it("episodeEta: one structured reading at N_A = 2 is the trap's η_probe; uniform joint exploration by hand", () => {
    const p = 0.7;
    const env = createMultiAgent({ actors: 2, p });
    const G = env.subgoals.length;
    const structured = new Float64Array(G);
    for (const g of env.structuredProbes) structured[g] = 1 / 2;
    expect(episodeEta(env, structured)).toBeCloseTo(probeTrapEta(2, p), 12);
    // Uniform: each Actor inspects w.p. 1/4; an episode with k inspections has BC = (2√(p(1−p)))^k.
    const bc1 = 2 * Math.sqrt(p * (1 - p));
    const bc = 9 / 16 + (6 / 16) * bc1 + (1 / 16) * bc1 ** 2;
    expect(episodeEta(env, new Float64Array(G).fill(1 / G))).toBeCloseTo(1 - bc, 12);
    // Going to targets or idling never separates hypotheses.
    const goOnly = new Float64Array(G);
    goOnly[env.joint([0, 1])] = 1;
    expect(episodeEta(env, goOnly)).toBe(0);
  });
});
