import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { EpisodeTrace } from "../envs/theory/par.ts";
import { createProbeTrap } from "../envs/theory/probe-trap.ts";
import { epsilonAt } from "../theory/schedules.ts";
import {
  BailPlanner,
  EpsilonGreedyPlanner,
  EpsilonTable,
  OraclePlanner,
  PosteriorMemory,
  PosteriorSamplingPlanner,
  PretrainingErrorPlanner,
  sampleIndex,
} from "./planners.ts";

// Tests may use a concrete environment; the planners themselves only see its structural hypothesis side.
const K = 4;
const env = createProbeTrap({ K, p: 0.7 });
const PROBE = K;
const NOTHING = 1;
const probeSays = (door: number) => 2 + door;
const G = env.subgoals.length;

function start(): EpisodeTrace {
  const trace = new EpisodeTrace(1);
  trace.start(0);
  return trace;
}

function policyOf(
  planner: { policy?: (t: EpisodeTrace, out: Float64Array) => void },
  trace = start(),
): number[] {
  const out = new Float64Array(G);
  planner.policy?.(trace, out);
  return [...out];
}

describe("BAIL and posterior sampling in the trap", () => {
  it("BAIL at the prior is exactly Uniform over the doors: expected regret 1 − 1/K per episode", () => {
    const bail = new BailPlanner(env, new Rng(1));
    const pi = policyOf(bail);
    expect(pi).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
    // Expected regret of the episode = 1 − π(g_{z*}) for every z*.
    for (let z = 0; z < K; z++) expect(1 - (pi[z] as number)).toBe(1 - 1 / K);
  });

  it("opening doors never moves the posterior (hidden reward, z-free observation)", () => {
    const bail = new BailPlanner(env, new Rng(2));
    const trace = start();
    for (let i = 0; i < 10_000; i++) bail.observe(trace, i % K, NOTHING, Number.NaN);
    for (let z = 0; z < K; z++) expect(Math.abs(bail.posteriorMass(z) - 0.25)).toBeLessThanOrEqual(1e-12);
  });

  it("a probe moves the posterior by Bayes' rule, and BAIL follows it", () => {
    const bail = new BailPlanner(env, new Rng(3));
    const trace = start();
    bail.observe(trace, PROBE, probeSays(2), Number.NaN);
    // 0.7 vs 0.1 for each wrong door: P(z = 2) = 0.7 / (0.7 + 3·0.1).
    expect(bail.posteriorMass(2)).toBeCloseTo(0.7, 12);
    expect(policyOf(bail)[2]).toBeCloseTo(0.7, 12);
    const sure = new BailPlanner(createProbeTrap({ K, p: 1 }), new Rng(3));
    sure.observe(trace, PROBE, probeSays(1), Number.NaN);
    expect(policyOf(sure)).toEqual([0, 1, 0, 0, 0]);
  });

  it("BAIL samples from its policy; posterior sampling commits to one z per episode", () => {
    const bail = new BailPlanner(env, new Rng(4));
    const trace = start();
    bail.observe(trace, PROBE, probeSays(0), Number.NaN);
    const counts = [0, 0, 0, 0, 0];
    const n = 40_000;
    for (let i = 0; i < n; i++) {
      const g = bail.act(trace);
      counts[g] = (counts[g] ?? 0) + 1;
    }
    // s.e. ≤ 0.0023: within 5 s.e. of 0.7 / 0.1.
    expect(Math.abs((counts[0] ?? 0) / n - 0.7)).toBeLessThan(0.012);
    expect(counts[PROBE]).toBe(0);

    const ps = new PosteriorSamplingPlanner(env, new Rng(5));
    const seen = new Set<number>();
    for (let t = 1; t <= 200; t++) {
      ps.beginEpisode();
      const g = ps.act(trace);
      expect(policyOf(ps, trace)).toEqual([0, 1, 2, 3, 4].map((x) => (x === g ? 1 : 0)));
      seen.add(g);
    }
    expect(seen).toEqual(new Set([0, 1, 2, 3]));
  });

  it("the oracle plays the true expert", () => {
    const oracle = new OraclePlanner(env, 3, new Rng(0));
    expect(oracle.act(start())).toBe(3);
    expect(policyOf(oracle)).toEqual([0, 0, 0, 1, 0]);
  });
});

describe("posterior variants and the control arm", () => {
  it("with rewards visible a failed door is ruled out (Thompson sampling)", () => {
    const control = new BailPlanner(env, new Rng(6), { seesReward: true });
    const trace = start();
    control.observe(trace, 1, NOTHING, 0);
    expect(control.posteriorMass(1)).toBe(0);
    expect(control.posteriorMass(0)).toBeCloseTo(1 / 3, 12);
    control.observe(trace, 3, NOTHING, 1);
    expect(control.posteriorMass(3)).toBeCloseTo(1, 12);
    expect(policyOf(control)).toEqual([0, 0, 0, 1, 0]);
  });

  it("Variant B needs full-support experts and counts the planner's own subgoals as expert evidence", () => {
    expect(() => new PosteriorMemory(env, { variant: "B" })).toThrow(RangeError);
    const beta = 2;
    const memory = new PosteriorMemory(env, { variant: "B", beta });
    const trace = start();
    // Opening door 1 says nothing about z, but under Variant B the subgoal itself is an expert label.
    memory.observe(trace, 0, NOTHING, Number.NaN);
    const e = Math.exp(beta);
    expect(memory.probs[0]).toBeCloseTo(e / (e + K - 1), 12);
    // A Boltzmann expert has full support: π_z^β(g) ∝ exp(β·1[g = z]).
    const out = new Float64Array(G);
    expect(memory.expert(2, trace, out)).toBe(-1);
    expect(out[2]).toBeCloseTo(e / (e + K), 12);
    expect(out[PROBE]).toBeCloseTo(1 / (e + K), 12);
  });
});

describe("ε-greedy and pretraining error", () => {
  it("episode-level switching explores with probability ε_t and stores exploratory episodes", () => {
    const bail = new BailPlanner(createProbeTrap({ K, p: 1 }), new Rng(7));
    const eps = new EpsilonGreedyPlanner(bail, env, new Rng(8), {
      schedule: { kind: "constant", epsilon: 0.3 },
      explore: "probe",
    });
    const trace = start();
    let explored = 0;
    const n = 20_000;
    for (let t = 1; t <= n; t++) {
      eps.beginEpisode(t);
      const pi = policyOf(eps, trace);
      if (eps.exploring) {
        explored++;
        expect(eps.act(trace)).toBe(PROBE);
        expect(pi).toEqual([0, 0, 0, 0, 1]);
      }
    }
    // s.e. ≈ 0.0032.
    expect(Math.abs(explored / n - 0.3)).toBeLessThan(0.016);
    // The base sees every episode, the exploratory ones included.
    eps.observe(trace, PROBE, probeSays(3), Number.NaN);
    expect(eps.posteriorMass(3)).toBe(1);
  });

  it("per-step mixing is (1 − ε)·base + ε·π_exp; uniform π_exp spreads over G", () => {
    const eps = new EpsilonGreedyPlanner(new BailPlanner(env, new Rng(9)), env, new Rng(10), {
      schedule: { kind: "constant", epsilon: 0.2 },
      explore: "uniform",
      switching: "step",
    });
    eps.beginEpisode(1);
    const pi = policyOf(eps);
    for (let g = 0; g < K; g++) expect(pi[g]).toBeCloseTo(0.8 * 0.25 + 0.2 / G, 12);
    expect(pi[PROBE]).toBeCloseTo(0.2 / G, 12);
  });

  it("the ε table equals the schedule", () => {
    const schedule = { kind: "power", c: 2, power: 0.5 } as const;
    const table = new EpsilonTable(schedule);
    for (const t of [1, 2, 3, 100, 1023, 1024, 5000, 77_777])
      expect(table.at(t)).toBe(epsilonAt(schedule, t));
  });

  it("pretraining error mixes δ of uniform wrong subgoals into BAIL", () => {
    const delta = 0.1;
    const zStar = 1;
    const planner = new PretrainingErrorPlanner(
      new BailPlanner(env, new Rng(11)),
      env,
      zStar,
      delta,
      new Rng(12),
    );
    const pi = policyOf(planner);
    // Wrong subgoals under z* = 1: doors 1, 3, 4 and the probe.
    expect(pi[zStar]).toBeCloseTo(0.9 * 0.25, 12);
    for (const g of [0, 2, 3]) expect(pi[g]).toBeCloseTo(0.9 * 0.25 + delta / 4, 12);
    expect(pi[PROBE]).toBeCloseTo(delta / 4, 12);
    expect(pi.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    expect(() => new PretrainingErrorPlanner(planner, env, 0, 1.5, new Rng(0))).toThrow(RangeError);
  });

  it("sampleIndex draws in proportion to the probabilities", () => {
    const probs = new Float64Array([0.5, 0, 0.3, 0.2]);
    const rng = new Rng(13);
    const counts = [0, 0, 0, 0];
    const n = 50_000;
    for (let i = 0; i < n; i++) {
      const k = sampleIndex(probs, rng);
      counts[k] = (counts[k] ?? 0) + 1;
    }
    expect(counts[1]).toBe(0);
    expect(Math.abs((counts[2] ?? 0) / n - 0.3)).toBeLessThan(0.011);
  });
});
