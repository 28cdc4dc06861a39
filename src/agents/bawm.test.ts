import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { EpisodeTrace } from "../envs/theory/par.ts";
import {
  createDeskWorld,
  HALLWAY_OBS,
  roomObservation,
  signObservation,
} from "../envs/theory/world-model.ts";
import { BawmPlanner, posteriorPredictive } from "./bawm.ts";
import { EpsilonGreedyPlanner } from "./planners.ts";

// Tests may use a concrete environment; the planner only sees its structural hypothesis side.
const K = 4;
const READ = K;
const p = 0.7;
const w = (1 - p) / (K - 1);
const O = 1 + 2 * K;

function trace(H: number): EpisodeTrace {
  const t = new EpisodeTrace(H);
  t.start(HALLWAY_OBS);
  return t;
}

function values(planner: BawmPlanner, t: EpisodeTrace, G = K + 1): number[] {
  return [...planner.values(t, new Float64Array(G))];
}

function policy(planner: BawmPlanner, t: EpisodeTrace): number[] {
  const out = new Float64Array(K + 1);
  planner.policy(t, out);
  return [...out];
}

/** A planner whose memory has read one sign pointing to room 1: belief (0.7, 0.1, 0.1, 0.1). */
function afterOneSign(H: number, options: ConstructorParameters<typeof BawmPlanner>[2]): BawmPlanner {
  const env = createDeskWorld({ K, p, H });
  const planner = new BawmPlanner(env, new Rng(1), options);
  planner.observe(trace(H), READ, signObservation(K, 0), Number.NaN);
  planner.beginEpisode();
  return planner;
}

const H = (b: number[]) => -b.reduce((s, x) => s + (x > 0 ? x * Math.log(x) : 0), 0);

describe("posterior predictive (the LLM as world model)", () => {
  it("normalises at the prior, after updates and with world-model noise", () => {
    const env = createDeskWorld({ K, p, H: 2 });
    const planner = new BawmPlanner(env, new Rng(0), { mode: "bayes-adaptive", deltaWm: 0.1 });
    const out = new Float64Array(O);
    const sum = () => out.reduce((s, x) => s + x, 0);
    for (let g = 0; g <= READ; g++) {
      posteriorPredictive(env, trace(2), g, Float64Array.from([0.25, 0.25, 0.25, 0.25]), out);
      expect(sum()).toBeCloseTo(1, 12);
    }
    for (const j of [0, 0, 2]) planner.observe(trace(2), READ, signObservation(K, j), Number.NaN);
    for (let g = 0; g <= READ; g++) {
      planner.predictive(trace(2), g, out);
      expect(sum()).toBeCloseTo(1, 12);
      // Uniform noise reaches every observation.
      expect(Math.min(...out)).toBeGreaterThanOrEqual(0.1 / O - 1e-15);
    }
    // The exact predictive of the sign: Σ_z b(z)·P_z(j), by hand at the prior: p/4 + 3w/4 = 1/4 for every j.
    posteriorPredictive(env, trace(2), READ, Float64Array.from([0.25, 0.25, 0.25, 0.25]), out);
    for (let j = 0; j < K; j++) expect(out[signObservation(K, j)]).toBeCloseTo(0.25, 12);
  });
});

describe("Bayes-adaptive and certainty-equivalent expectimax, by hand", () => {
  it("regime (i) at the prior: reading is worth p, going is worth 1/K; CE sees no value in the sign", () => {
    const env = createDeskWorld({ K, p, H: 2 });
    const ba = new BawmPlanner(env, new Rng(0), { mode: "bayes-adaptive" });
    // Q(room k) = max_k b(k) = 1/4 (the belief does not move); Q(read) = Σ_j P(j)·max_k b(k | j) = 4·(1/4)·p.
    const q = values(ba, trace(2));
    for (let k = 0; k < K; k++) expect(q[k]).toBeCloseTo(0.25, 12);
    expect(q[READ]).toBeCloseTo(p, 12);
    expect(policy(ba, trace(2))).toEqual([0, 0, 0, 0, 1]);
    const ce = new BawmPlanner(env, new Rng(0), { mode: "certainty-equivalent" });
    for (const v of values(ce, trace(2))) expect(v).toBeCloseTo(0.25, 12);
    // Every subgoal ties; CE's model carries no information, so imitation breaks the tie: a room, never the sign.
    expect(policy(ce, trace(2))).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
    // Broken uniformly, the sign gets 1/|G|.
    const ceUniform = new BawmPlanner(env, new Rng(0), { mode: "certainty-equivalent", tieBreak: "uniform" });
    for (const x of policy(ceUniform, trace(2))) expect(x).toBeCloseTo(0.2, 12);
  });

  it("regime (i), second step: BA uses the sign just read, CE ignores it", () => {
    const env = createDeskWorld({ K, p, H: 2 });
    const ba = new BawmPlanner(env, new Rng(0), { mode: "bayes-adaptive" });
    const ce = new BawmPlanner(env, new Rng(0), { mode: "certainty-equivalent" });
    const t = trace(2);
    for (const planner of [ba, ce]) {
      planner.beginEpisode();
      planner.observe(t, READ, signObservation(K, 1), Number.NaN);
    }
    t.push(READ, signObservation(K, 1), Number.NaN);
    const q = values(ba, t);
    [w / (w * 3 + p), p / (w * 3 + p), w / (w * 3 + p), w / (w * 3 + p), 0].forEach((v, i) => {
      expect(q[i]).toBeCloseTo(v, 12);
    });
    expect(policy(ba, t)).toEqual([0, 1, 0, 0, 0]);
    // CE plans with the belief of the episode's start.
    const qc = values(ce, t);
    [0.25, 0.25, 0.25, 0.25, 0].forEach((v, i) => {
      expect(qc[i]).toBeCloseTo(v, 12);
    });
    // Its memory did learn (for the next episode).
    expect(ce.posteriorMass(1)).toBeCloseTo(p / (p + 3 * w), 12);
  });

  it("after one sign the value of another reading is exactly 0: the tie-break decides whether BA keeps reading", () => {
    const info = afterOneSign(2, { mode: "bayes-adaptive" });
    const t = trace(2);
    // Every subgoal is worth max b = 0.7: a contrary sign can at most tie rooms 1 and j (both odds p/w = 7).
    for (const v of values(info, t)) expect(v).toBeCloseTo(0.7, 12);
    // Information gain of the sign, by hand: H(b) − Σ_j P(j)·H(b | j).
    const b = [0.7, 0.1, 0.1, 0.1];
    let expected = 0;
    for (let j = 0; j < K; j++) {
      const joint = b.map((x, z) => x * (z === j ? p : w));
      const pj = joint.reduce((s, x) => s + x, 0);
      expected += pj * H(joint.map((x) => x / pj));
    }
    expect(info.informationGain(t, READ)).toBeCloseTo(H(b) - expected, 12);
    expect(info.informationGain(t, 0)).toBe(0);
    expect(policy(info, t)).toEqual([0, 0, 0, 0, 1]);
    const imitation = afterOneSign(2, { mode: "bayes-adaptive", tieBreak: "imitation" });
    policy(imitation, t).forEach((x, i) => {
      expect(x).toBeCloseTo([0.7, 0.1, 0.1, 0.1, 0][i] as number, 12);
    });
  });

  it("world-model noise turns that zero into a loss: with δ_wm > 0 BA prefers going", () => {
    for (const delta of [0.05, 0.1]) {
      const planner = afterOneSign(2, { mode: "bayes-adaptive", deltaWm: delta });
      const q = values(planner, trace(2));
      // Rooms: (1 − δ)·0.7 + δ — every step's reward prediction carries δ/2 of noise, the same for every subgoal.
      for (let k = 0; k < K; k++) expect(q[k]).toBeCloseTo((1 - delta) * 0.7 + delta, 12);
      // Read: noise adds weight δ/|O| to every sign, whose posteriors have Σ_j max b(· | j) < K·max b.
      const b = [0.7, 0.1, 0.1, 0.1];
      let sumMax = 0;
      for (let j = 0; j < K; j++) {
        const joint = b.map((x, z) => x * (z === j ? p : w));
        const pj = joint.reduce((s, x) => s + x, 0);
        sumMax += Math.max(...joint) / pj;
      }
      const diff = (1 - delta) * (delta / O) * (sumMax - K * 0.7);
      expect(diff).toBeLessThan(0);
      expect((q[READ] as number) - (q[0] as number)).toBeCloseTo(diff, 12);
      expect(policy(planner, trace(2))[READ]).toBe(0);
    }
  });

  it("regime (ii): Q(room k) = b(k) and reading is worth 0, so BA never reads; δ_wm changes no decision", () => {
    for (const delta of [0, 0.1]) {
      const planner = afterOneSign(1, { mode: "bayes-adaptive", deltaWm: delta });
      const q = values(planner, trace(1));
      [0.7, 0.1, 0.1, 0.1, 0].forEach((v, i) => {
        expect(q[i]).toBeCloseTo((1 - delta) * v + delta / 2, 12);
      });
      expect(policy(planner, trace(1))).toEqual([1, 0, 0, 0, 0]);
    }
    const env = createDeskWorld({ K, p, H: 1 });
    const prior = new BawmPlanner(env, new Rng(0), { mode: "bayes-adaptive" });
    expect(policy(prior, trace(1))).toEqual([0.25, 0.25, 0.25, 0.25, 0]);
  });

  it("recurses over deeper episodes: with H = 3 and a perfect sign a first room still leaves time to read", () => {
    const env = createDeskWorld({ K: 2, p: 1, H: 3 });
    const ba = new BawmPlanner(env, new Rng(0), { mode: "bayes-adaptive" });
    // Read now then go, or go, read, go: both certain.
    expect(values(ba, trace(3), 3)).toEqual([1, 1, 1]);
    const ce = new BawmPlanner(env, new Rng(0), { mode: "certainty-equivalent" });
    for (const v of values(ce, trace(3), 3)) expect(v).toBeCloseTo(0.5, 12);
    const t = trace(3);
    t.push(0, roomObservation(0), Number.NaN);
    t.push(1, roomObservation(1), Number.NaN);
    // Last step: no time left to read.
    expect(values(ba, t, 3)).toEqual([0.5, 0.5, 0]);
  });

  it("samples only maximisers, reproducibly, and rejects a bad δ_wm", () => {
    const env = createDeskWorld({ K, p, H: 1 });
    const a = new BawmPlanner(env, new Rng(5), { mode: "bayes-adaptive" });
    const b = new BawmPlanner(env, new Rng(5), { mode: "bayes-adaptive" });
    const draws = Array.from({ length: 200 }, () => a.act(trace(1)));
    expect(draws).toEqual(Array.from({ length: 200 }, () => b.act(trace(1))));
    expect(draws.every((g) => g >= 0 && g < K)).toBe(true);
    expect(new Set(draws).size).toBe(K);
    expect(() => new BawmPlanner(env, new Rng(0), { mode: "bayes-adaptive", deltaWm: 1.5 })).toThrow(
      RangeError,
    );
    expect(a.name).toBe("bawm-ba");
    expect(new BawmPlanner(env, new Rng(0), { mode: "certainty-equivalent", deltaWm: 0.1 }).name).toBe(
      "bawm-ce δ_wm=0.1",
    );
  });

  it("inside the ε-greedy switch, exploratory episodes enter the memory", () => {
    const env = createDeskWorld({ K, p, H: 1 });
    const bawm = new BawmPlanner(env, new Rng(1), { mode: "bayes-adaptive" });
    const eps = new EpsilonGreedyPlanner(bawm, env, new Rng(2), {
      schedule: { kind: "constant", epsilon: 1 },
      explore: "probe",
    });
    const t = trace(1);
    eps.beginEpisode(1);
    const g = eps.act(t);
    expect(g).toBe(READ);
    eps.observe(t, READ, signObservation(K, 2), Number.NaN);
    eps.endEpisode(t);
    expect(bawm.posteriorMass(2)).toBeCloseTo(p / (p + 3 * w), 12);
  });
});
