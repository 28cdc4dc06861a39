import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import {
  bfsDistances,
  createGridworld,
  DESK_CELL,
  GRID_LAYOUT,
  isFree,
  READ_SIGN,
  ROOM_CENTRES,
  roomOf,
  START_CELL,
} from "./gridworld.ts";
import { type ActorOutcome, EpisodeTrace, observationDistribution, ParWorld } from "./par.ts";

const env = createGridworld({ p: 0.7 });

/** Every subgoal sequence of length n. */
function sequences(n: number, G: number): number[][] {
  if (n === 0) return [[]];
  return sequences(n - 1, G).flatMap((s) => Array.from({ length: G }, (_, g) => [...s, g]));
}

describe("gridworld layout and BFS Actor", () => {
  it("is a 9×9 four-room world with a desk and a hallway start", () => {
    expect(GRID_LAYOUT).toHaveLength(9);
    for (const row of GRID_LAYOUT) expect(row).toHaveLength(9);
    ROOM_CENTRES.forEach((c, k) => {
      expect(isFree(c)).toBe(true);
      expect(roomOf(c)).toBe(k);
    });
    expect(isFree(DESK_CELL)).toBe(true);
    expect(roomOf(DESK_CELL)).toBe(-1);
    expect(roomOf(START_CELL)).toBe(-1);
    // Every free cell is connected to the desk.
    const dist = bfsDistances(DESK_CELL);
    for (let s = 0; s < 81; s++) if (isFree(s)) expect(dist[s]).toBeGreaterThanOrEqual(0);
  });

  it("reaches every room and the desk from the start, every room centre and the desk within H_a = 12", () => {
    const out: ActorOutcome = { state: 0, steps: 0, success: false };
    const rng = new Rng(0);
    for (const from of [START_CELL, DESK_CELL, ...ROOM_CENTRES]) {
      for (let g = 0; g < env.subgoals.length; g++) {
        env.actor.pursue(from, g, 0, rng, out);
        const target = g === READ_SIGN ? DESK_CELL : (ROOM_CENTRES[g] as number);
        expect(out.success).toBe(true);
        expect(out.state).toBe(target);
        // The controller walks a shortest path.
        expect(out.steps).toBe(bfsDistances(target)[from]);
        expect(out.steps).toBeLessThanOrEqual(12);
        if (g !== READ_SIGN) expect(roomOf(out.state)).toBe(g);
      }
    }
  });

  it("stops after H_a primitive steps and reports failure when the target is further", () => {
    const short = createGridworld({ actorHorizon: 2 });
    const out: ActorOutcome = { state: 0, steps: 0, success: false };
    short.actor.pursue(START_CELL, 3, 0, new Rng(0), out); // room 4 is 5 steps away
    expect(out.success).toBe(false);
    expect(out.steps).toBe(2);
    expect(bfsDistances(ROOM_CENTRES[3] as number)[out.state]).toBe(3);
  });
});

describe("gridworld Reporter, reward and exact model", () => {
  it("reports where the Actor ended in words; at the desk the sign points to z with probability p", () => {
    const z = 1;
    const world = new ParWorld(env, z, new Rng(3));
    expect(env.observations[world.reset()]).toBe("You are in the hallway. Nothing seen.");
    expect(env.observations[world.step(2, 0).observation]).toBe("You are in room 3. Nothing seen.");
    let right = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const text = env.observations[world.step(READ_SIGN, 0).observation] ?? "";
      expect(text).toMatch(/^You are at the info desk\. The sign points to room [1-4]\.$/);
      if (text.endsWith("room 2.")) right++;
    }
    // s.e. of the frequency ≈ 0.0032 at n = 20000.
    expect(Math.abs(right / n - 0.7)).toBeLessThan(0.016);
  });

  it("pays 1 only when the last subgoal leaves the agent in room z", () => {
    const world = new ParWorld(env, 2, new Rng(0));
    world.reset();
    expect(world.step(2, 0).reward).toBe(0); // right room, but not the last step
    expect(world.step(READ_SIGN, 1).reward).toBe(0);
    expect(world.step(2, 2).reward).toBe(1);
    world.reset();
    world.step(2, 0);
    world.step(2, 1);
    expect(world.step(READ_SIGN, 2).reward).toBe(0);
  });

  it("likelihoods normalise after every subgoal history, and only the sign depends on z", () => {
    const trace = new EpisodeTrace(env.H);
    const G = env.subgoals.length;
    for (let h = 0; h < env.H; h++) {
      for (const prefix of sequences(h, G)) {
        trace.start(4);
        // Observations along the prefix do not matter to the kernel; the goals do.
        for (const g of prefix) trace.push(g, 0, 0);
        for (let g = 0; g < G; g++) {
          for (let z = 0; z < 4; z++) {
            const dist = observationDistribution(env, trace, g, z);
            expect(dist.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
          }
          const lik = new Float64Array(4);
          env.observationLikelihood(trace, g, g === READ_SIGN ? 5 : g, lik);
          if (g === READ_SIGN)
            expect([...lik].map((x) => x.toFixed(6))).toEqual([
              "0.700000",
              "0.100000",
              "0.100000",
              "0.100000",
            ]);
          else expect([...lik]).toEqual([1, 1, 1, 1]);
        }
      }
    }
  });

  it("experts go straight to room z; J*_z = 1; Q* separates subgoals only at the last step", () => {
    const trace = new EpisodeTrace(env.H);
    trace.start(4);
    const out = new Float64Array(env.subgoals.length);
    for (let z = 0; z < 4; z++) {
      expect(env.optimalValue(z)).toBe(1);
      expect(env.expert(z, trace, out)).toBe(z);
      expect([...out]).toEqual([0, 1, 2, 3, 4].map((g) => (g === z ? 1 : 0)));
      for (let g = 0; g < 5; g++) expect(env.qValue(z, trace, g)).toBe(1);
    }
    trace.push(READ_SIGN, 5, 0);
    trace.push(1, 1, 0);
    for (let z = 0; z < 4; z++)
      for (let g = 0; g < 5; g++) expect(env.qValue(z, trace, g)).toBe(g === z ? 1 : 0);
    const lik = new Float64Array(4);
    env.rewardLikelihood(trace, 3, 1, lik);
    expect([...lik]).toEqual([0, 0, 0, 1]);
  });
});
