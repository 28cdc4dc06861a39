import type { Rng } from "../../core/rng.ts";
import { DirichletTransitions } from "../../theory/dirichlet.ts";

/**
 * RiverSwim (Strehl & Littman 2008), episodic, with a Dirichlet prior on the river.
 *
 * A chain of `states` cells; every episode starts in cell 0 and lasts `horizon` steps (undiscounted). Swimming
 * `left` (with the current) always moves one cell left. Swimming `right` (against it) has an uncertain outcome:
 * in cell s it moves left / stays / moves right with probabilities θ*_s — the latent parameter, one categorical
 * row per cell (cell 0 has no "left" outcome and the last cell no "right" one, so every outcome is observable).
 * Rewards are known and deterministic: `leftReward` for swimming left in cell 0 (the small sure thing) and
 * `rightReward` for swimming right in the last cell (the far right that pays).
 *
 * Why episodic and undiscounted with known rewards: the Dirichlet on the river is then the whole posterior and is
 * exactly conjugate, the optimal values come from a finite backward DP (no discount or convergence tolerance), and
 * the regret of a step is the exact action gap V*_h(s) − Q*_h(s, a) under θ*, whose sum over an episode has
 * expectation V*_0(0) − V^π_0(0) even when the policy changes mid-episode (performance-difference lemma).
 */

export const LEFT = 0;
export const RIGHT = 1;

export interface RiverSwimSpec {
  readonly states: number;
  readonly horizon: number;
  readonly leftReward: number;
  readonly rightReward: number;
}

/** A river: the outcome probabilities of swimming right in each cell (cell 0: [stay, right]; last: [left, stay]). */
export type River = readonly Float64Array[];

/** Outcome j of swimming right in cell s, as a displacement. */
export function displacement(spec: RiverSwimSpec, s: number, j: number): number {
  const n = spec.states;
  if (s === 0) return j === 0 ? 0 : 1;
  if (s === n - 1) return j === 0 ? -1 : 0;
  return j - 1;
}

/** Number of outcomes of swimming right in cell s. */
export function outcomeCount(spec: RiverSwimSpec, s: number): number {
  return s === 0 || s === spec.states - 1 ? 2 : 3;
}

export function reward(spec: RiverSwimSpec, s: number, a: number): number {
  if (a === LEFT) return s === 0 ? spec.leftReward : 0;
  return s === spec.states - 1 ? spec.rightReward : 0;
}

/** The classical river (Osband, Russo & Van Roy 2013): 0.6 → right from cell 0, 0.05 / 0.6 / 0.35 inside, 0.4 / 0.6 at the end. */
export function standardRiver(states: number): River {
  return Array.from({ length: states }, (_, s) =>
    s === 0
      ? Float64Array.of(0.4, 0.6)
      : s === states - 1
        ? Float64Array.of(0.4, 0.6)
        : Float64Array.of(0.05, 0.6, 0.35),
  );
}

/** Finite-horizon DP: Q[h][s][a] (flattened as (h·n + s)·2 + a), V[h][s] ((horizon + 1) × n), greedy policy. */
export interface RiverSolution {
  readonly q: Float64Array;
  readonly v: Float64Array;
  /** policy[h·n + s] ∈ {LEFT, RIGHT}; ties go left. */
  readonly policy: Uint8Array;
}

/** Exact backward induction under `river` (the "ε-optimal planner" with ε = 0), O(horizon · states). */
export function solve(spec: RiverSwimSpec, river: River, into?: RiverSolution): RiverSolution {
  const n = spec.states;
  const H = spec.horizon;
  const q = into?.q ?? new Float64Array(H * n * 2);
  const v = into?.v ?? new Float64Array((H + 1) * n);
  const policy = into?.policy ?? new Uint8Array(H * n);
  for (let s = 0; s < n; s++) v[H * n + s] = 0;
  for (let h = H - 1; h >= 0; h--) {
    const next = (h + 1) * n;
    for (let s = 0; s < n; s++) {
      const ql = reward(spec, s, LEFT) + (v[next + (s === 0 ? 0 : s - 1)] as number);
      const p = river[s] as Float64Array;
      let qr = reward(spec, s, RIGHT);
      for (let j = 0; j < p.length; j++)
        qr += (p[j] as number) * (v[next + s + displacement(spec, s, j)] as number);
      const i = (h * n + s) * 2;
      q[i] = ql;
      q[i + 1] = qr;
      policy[h * n + s] = qr > ql ? RIGHT : LEFT;
      v[h * n + s] = Math.max(qr, ql);
    }
  }
  return { q, v, policy };
}

/** A river instance with its own exact solution, for acting and for regret. */
export class RiverSwim {
  readonly spec: RiverSwimSpec;
  readonly river: River;
  readonly optimal: RiverSolution;

  constructor(spec: RiverSwimSpec, river: River) {
    if (spec.states < 2 || spec.horizon < 1)
      throw new RangeError("RiverSwim: needs >= 2 states and horizon >= 1");
    river.forEach((p, s) => {
      if (p.length !== outcomeCount(spec, s))
        throw new RangeError(`RiverSwim: cell ${s} needs ${outcomeCount(spec, s)} outcomes`);
    });
    this.spec = spec;
    this.river = river;
    this.optimal = solve(spec, river);
  }

  /** Draw a river from Dirichlet priors, one parameter vector per cell. */
  static sample(spec: RiverSwimSpec, prior: readonly (readonly number[])[], rng: Rng): RiverSwim {
    const posterior = new DirichletTransitions(prior);
    return new RiverSwim(
      spec,
      prior.map((_, s) => posterior.sample(s, rng)),
    );
  }

  /** Take `a` in cell `s`: the next cell, the outcome index of a right swim (−1 for left) and the reward. */
  step(s: number, a: number, rng: Rng): { next: number; outcome: number } {
    if (a === LEFT) return { next: s === 0 ? 0 : s - 1, outcome: -1 };
    const j = rng.categorical(this.river[s] as Float64Array);
    return { next: s + displacement(this.spec, s, j), outcome: j };
  }

  /** Exact regret of taking `a` in cell s with h steps done: V*_h(s) − Q*_h(s, a). */
  gap(h: number, s: number, a: number): number {
    const n = this.spec.states;
    return (this.optimal.v[h * n + s] as number) - (this.optimal.q[(h * n + s) * 2 + a] as number);
  }

  /** Optimal expected return of an episode. */
  get value(): number {
    return this.optimal.v[0] as number;
  }
}
