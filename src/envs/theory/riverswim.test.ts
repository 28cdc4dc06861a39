import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { LEFT, RIGHT, RiverSwim, type RiverSwimSpec, solve, standardRiver } from "./riverswim.ts";

describe("RiverSwim DP", () => {
  it("solves a two-cell, two-step river by hand", () => {
    const spec: RiverSwimSpec = { states: 2, horizon: 2, leftReward: 0.1, rightReward: 1 };
    // Cell 0: right swim stays / moves right w.p. ½ each; cell 1: falls back w.p. 0.2, stays w.p. 0.8.
    const env = new RiverSwim(spec, [Float64Array.of(0.5, 0.5), Float64Array.of(0.2, 0.8)]);
    const { v, q, policy } = env.optimal;
    // Last step: take the immediate reward.
    expect(v[1 * 2 + 0]).toBeCloseTo(0.1, 12);
    expect(v[1 * 2 + 1]).toBeCloseTo(1, 12);
    expect(policy[1 * 2 + 0]).toBe(LEFT);
    expect(policy[1 * 2 + 1]).toBe(RIGHT);
    // First step: Q(0, left) = 0.1 + 0.1, Q(0, right) = ½·0.1 + ½·1; Q(1, right) = 1 + 0.2·0.1 + 0.8·1.
    expect(q[0]).toBeCloseTo(0.2, 12);
    expect(q[1]).toBeCloseTo(0.55, 12);
    expect(v[0]).toBeCloseTo(0.55, 12);
    expect(v[1]).toBeCloseTo(1.82, 12);
    expect(policy[0]).toBe(RIGHT);
    expect(env.value).toBeCloseTo(0.55, 12);
    expect(env.gap(0, 0, LEFT)).toBeCloseTo(0.35, 12);
    expect(env.gap(0, 0, RIGHT)).toBe(0);
  });

  it("on the classical river: the DP policy's forward-evaluated value is V*, and simulation agrees", () => {
    const spec: RiverSwimSpec = { states: 6, horizon: 20, leftReward: 0.005, rightReward: 1 };
    const env = new RiverSwim(spec, standardRiver(6));
    const n = spec.states;
    const { policy } = env.optimal;
    // Forward propagation of the state distribution under the policy: an evaluation independent of the backward pass.
    let dist = new Float64Array(n);
    dist[0] = 1;
    let value = 0;
    for (let h = 0; h < spec.horizon; h++) {
      const next = new Float64Array(n);
      for (let s = 0; s < n; s++) {
        const p = dist[s] as number;
        if (p === 0) continue;
        const a = policy[h * n + s] as number;
        value += p * (a === LEFT ? (s === 0 ? spec.leftReward : 0) : s === n - 1 ? spec.rightReward : 0);
        if (a === LEFT) next[Math.max(0, s - 1)] = (next[Math.max(0, s - 1)] as number) + p;
        else {
          const row = env.river[s] as Float64Array;
          const moves = s === 0 ? [0, 1] : s === n - 1 ? [-1, 0] : [-1, 0, 1];
          moves.forEach((m, j) => {
            next[s + m] = (next[s + m] as number) + p * (row[j] as number);
          });
        }
      }
      dist = next;
    }
    expect(value).toBeCloseTo(env.value, 10);
    // With 20 steps the far right is worth swimming for from every cell at the start…
    for (let s = 0; s < n; s++) expect(policy[s]).toBe(RIGHT);
    // …but not from cell 0 at the last step, where only the sure reward can still be collected.
    expect(policy[(spec.horizon - 1) * n]).toBe(LEFT);
    // Monte Carlo with the environment's own dynamics.
    const rng = new Rng(3);
    const episodes = 20_000;
    let total = 0;
    let totalSq = 0;
    for (let e = 0; e < episodes; e++) {
      let s = 0;
      let ret = 0;
      for (let h = 0; h < spec.horizon; h++) {
        const a = policy[h * n + s] as number;
        ret += a === LEFT ? (s === 0 ? spec.leftReward : 0) : s === n - 1 ? spec.rightReward : 0;
        s = env.step(s, a, rng).next;
      }
      total += ret;
      totalSq += ret * ret;
    }
    const m = total / episodes;
    const se = Math.sqrt((totalSq / episodes - m * m) / episodes);
    expect(Math.abs(m - env.value)).toBeLessThan(4 * se);
  });

  it("solve into a preallocated solution matches a fresh one; the gap is never negative", () => {
    const spec: RiverSwimSpec = { states: 4, horizon: 7, leftReward: 0.05, rightReward: 1 };
    const env = RiverSwim.sample(
      spec,
      [
        [1, 1],
        [1, 1, 1],
        [1, 1, 1],
        [1, 1],
      ],
      new Rng(1),
    );
    const into = {
      q: new Float64Array(7 * 4 * 2),
      v: new Float64Array(8 * 4),
      policy: new Uint8Array(7 * 4),
    };
    const again = solve(spec, env.river, into);
    expect([...again.v]).toEqual([...env.optimal.v]);
    for (let h = 0; h < 7; h++)
      for (let s = 0; s < 4; s++)
        for (const a of [LEFT, RIGHT]) expect(env.gap(h, s, a)).toBeGreaterThanOrEqual(0);
    env.river.forEach((row) => {
      expect(row.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
    });
  });

  it("rejects a river with the wrong outcome counts", () => {
    const spec: RiverSwimSpec = { states: 3, horizon: 2, leftReward: 0, rightReward: 1 };
    expect(
      () => new RiverSwim(spec, [Float64Array.of(1), Float64Array.of(0, 0, 1), Float64Array.of(0, 1)]),
    ).toThrow(RangeError);
  });
});
