import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { createMultiAgent, type MultiAgentEnv } from "../envs/theory/multi-agent.ts";
import { EpisodeTrace } from "../envs/theory/par.ts";
import {
  JointBailPlanner,
  type JointHypotheses,
  MarginalBailPlanner,
  miscoordinated,
  partOf,
} from "./multi-actor.ts";
import { boltzmannExpert, type TraceView } from "./planners.ts";

function start(): EpisodeTrace {
  const trace = new EpisodeTrace(1);
  trace.start(0);
  return trace;
}

/** Empirical frequencies of `n` draws. */
function frequencies(draw: () => number, size: number, n: number): Float64Array {
  const f = new Float64Array(size);
  for (let i = 0; i < n; i++) {
    const g = draw();
    f[g] = (f[g] as number) + 1 / n;
  }
  return f;
}

/** Every draw frequency within 5 standard errors of its probability (0 exactly where the probability is 0). */
function expectMatches(freq: Float64Array, probs: Float64Array, n: number): void {
  for (let g = 0; g < probs.length; g++) {
    const q = probs[g] as number;
    const se = Math.sqrt((q * (1 - q)) / n);
    expect(Math.abs((freq[g] as number) - q)).toBeLessThanOrEqual(5 * se + 1e-12);
  }
}

/** The observation "Actor k inspected: its target is j", everyone else idle, as the env encodes it. */
function reading(env: MultiAgentEnv, k: number, j: number): { g: number; o: number } {
  const N = env.actors;
  const B = 2 * N + 1;
  let o = 1;
  for (let i = 0; i < N; i++) o += (i === k ? N + j : 2 * N) * B ** i;
  return { g: env.structuredProbes[k] as number, o };
}

describe("joint-autoregressive vs independent-marginal BAIL", () => {
  it("at the prior, joint decoding samples one expert's plan: each permutation 1/N_A!, nothing else", () => {
    const env = createMultiAgent({ actors: 3 });
    const joint = new JointBailPlanner(env, new Rng(1));
    const G = env.subgoals.length;
    const exact = new Float64Array(G);
    joint.policy(start(), exact);
    for (let g = 0; g < G; g++) {
      expect(exact[g]).toBeCloseTo(env.expertGoal.includes(g) ? 1 / 6 : 0, 12);
    }
    const n = 30_000;
    expectMatches(
      frequencies(() => joint.act(start()), G, n),
      exact,
      n,
    );
  });

  it("at the prior, marginal decoding is the product of uniform marginals: (1/N_A)^N_A per target tuple", () => {
    const env = createMultiAgent({ actors: 2 });
    const marginal = new MarginalBailPlanner(env, new Rng(2));
    const G = env.subgoals.length;
    const exact = new Float64Array(G);
    marginal.policy(start(), exact);
    for (let g = 0; g < G; g++) {
      const targets = env.part(g, 0) < 2 && env.part(g, 1) < 2;
      expect(exact[g]).toBeCloseTo(targets ? 1 / 4 : 0, 12);
    }
    const n = 30_000;
    const freq = frequencies(() => marginal.act(start()), G, n);
    expectMatches(freq, exact, n);
    // Both Actors sent to the same target: no expert's plan — probability 1 − N_A!/N_A^N_A = 1/2.
    let mis = 0;
    for (let g = 0; g < G; g++) {
      if (miscoordinated(env, start(), g, joint0(env), new Float64Array(G))) mis += freq[g] as number;
    }
    expect(Math.abs(mis - 0.5)).toBeLessThan(5 * Math.sqrt(0.25 / n));
  });

  it("after a reading, joint decoding is still the posterior mixture; the marginal product is not", () => {
    const env = createMultiAgent({ actors: 3, p: 0.7 });
    const joint = new JointBailPlanner(env, new Rng(3));
    const marginal = new MarginalBailPlanner(env, new Rng(4));
    const { g, o } = reading(env, 0, 1); // Actor 1 read "target 2"
    for (const planner of [joint, marginal]) planner.observe(start(), g, o, Number.NaN);
    const G = env.subgoals.length;
    // Posterior by hand: σ(0) = 1 for z ∈ {2, 3} (likelihood 0.7), 0.15 otherwise; normaliser 2·0.7 + 4·0.15.
    const post = env.permutations.map((s) => (s[0] === 1 ? 0.7 : 0.15) / 2);
    post.forEach((q, z) => {
      expect(joint.posteriorMass(z)).toBeCloseTo(q, 12);
    });
    const mixture = new Float64Array(G);
    env.expertGoal.forEach((e, z) => {
      mixture[e] = post[z] as number;
    });
    const exact = new Float64Array(G);
    joint.policy(start(), exact);
    for (let x = 0; x < G; x++) expect(exact[x]).toBeCloseTo(mixture[x] as number, 12);
    const n = 30_000;
    expectMatches(
      frequencies(() => joint.act(start()), G, n),
      mixture,
      n,
    );
    // The marginal product: Actor 1's marginal puts 0.7 on target 2; the product spreads mass off the permutations.
    const product = new Float64Array(G);
    marginal.policy(start(), product);
    let offPlan = 0;
    for (let x = 0; x < G; x++) if (!env.expertGoal.includes(x)) offPlan += product[x] as number;
    expect(offPlan).toBeGreaterThan(0.5);
    expectMatches(
      frequencies(() => marginal.act(start()), G, n),
      product,
      n,
    );
  });

  it("autoregressive decoding of stochastic (Boltzmann) experts reproduces their mixture", () => {
    const env = createMultiAgent({ actors: 2 });
    const beta = 1.5;
    // The same hypotheses with full-support experts π_z ∝ exp(β·Q*_z): the general decoding path.
    const soft: JointHypotheses = {
      ...env,
      expert(z: number, trace: TraceView, out: Float64Array): number {
        boltzmannExpert(env, z, trace, beta, out);
        return -1;
      },
    };
    const joint = new JointBailPlanner(soft, new Rng(6));
    const G = env.subgoals.length;
    const exact = new Float64Array(G);
    joint.policy(start(), exact);
    const row = new Float64Array(G);
    const mixture = new Float64Array(G);
    for (let z = 0; z < 2; z++) {
      boltzmannExpert(env, z, start(), beta, row);
      for (let g = 0; g < G; g++) mixture[g] = (mixture[g] as number) + 0.5 * (row[g] as number);
    }
    for (let g = 0; g < G; g++) expect(exact[g]).toBeCloseTo(mixture[g] as number, 12);
    const n = 40_000;
    expectMatches(
      frequencies(() => joint.act(start()), G, n),
      mixture,
      n,
    );
  });

  it("miscoordination: inconsistent with every z of positive posterior", () => {
    const env = createMultiAgent({ actors: 3, p: 1 });
    const G = env.subgoals.length;
    const scratch = new Float64Array(G);
    const uniform = new Float64Array(6).fill(1 / 6);
    // At the prior every expert plan is coordinated, anything else is not.
    for (let g = 0; g < G; g++) {
      expect(miscoordinated(env, start(), g, uniform, scratch)).toBe(!env.expertGoal.includes(g));
    }
    // A perfect reading rules hypotheses out: a permutation outside the support is now miscoordinated.
    const joint = new JointBailPlanner(env, new Rng(7));
    const { g, o } = reading(env, 2, 0); // Actor 3's target is 1 ⇒ σ ∈ {(1,2,0), (2,1,0)}
    joint.observe(start(), g, o, Number.NaN);
    const probs = joint.memory.probs;
    expect([...probs].map((x) => (x > 0 ? 1 : 0))).toEqual([0, 0, 0, 1, 0, 1]);
    expect(miscoordinated(env, start(), env.joint([1, 2, 0]), probs, scratch)).toBe(false);
    expect(miscoordinated(env, start(), env.joint([0, 1, 2]), probs, scratch)).toBe(true);
    // Joint decoding never leaves the support.
    for (let i = 0; i < 2000; i++) {
      expect(miscoordinated(env, start(), joint.act(start()), probs, scratch)).toBe(false);
    }
  });

  it("partOf decodes the joint index Σ_i part_i·A^i", () => {
    const env = createMultiAgent({ actors: 3 });
    const g = env.joint([4, 0, 3]);
    expect([0, 1, 2].map((i) => partOf(g, i, env.actorSubgoals))).toEqual([4, 0, 3]);
    expect(() => new JointBailPlanner({ ...env, actorSubgoals: 4 }, new Rng(0))).toThrow(RangeError);
  });
});

/** The uniform prior over the permutations of `env`. */
function joint0(env: MultiAgentEnv): Float64Array {
  return new Float64Array(env.latentCount).fill(1 / env.latentCount);
}
