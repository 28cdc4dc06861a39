/**
 * The hierarchical PAR gridworld of Words-to-Actions spec §8 S2 (our design): a 9×9 four-room world with an info
 * desk. The latent z ∈ {0..3} is the goal room; reward 1 if the agent ends episode's H = 3 subgoals in room z
 * (terminal, hidden from the Planner). The sign at the desk points to z with probability p (else to a uniformly
 * chosen wrong room), freshly drawn at every visit; everywhere else the Reporter says only where the agent is, the
 * same under every z.
 *
 * ```
 *   col 012345678
 *  row0  #########
 *  row1  #111#222#      rooms 1–4 (3×3 each), centres (2,2) (2,6) (6,2) (6,6)
 *  row2  #111#222#
 *  row3  #111S222#      S = start (3,4), a hallway door between rooms 1 and 2
 *  row4  ##-#D#-##      D = info desk (4,4); '-' hallway doors 1↔3 and 2↔4
 *  row5  #333-444#      '-' hallway door 3↔4
 *  row6  #333#444#
 *  row7  #333#444#
 *  row8  #########
 * ```
 *
 * The Actor is a BFS controller: for "go to room k" it walks a shortest path to room k's centre, for "read the sign
 * at the info desk" to the desk, taking the first distance-decreasing move in the order N, E, S, W, for at most
 * H_a = 12 primitive steps, and reports success when it arrived. Dynamics do not depend on z and the controller is
 * deterministic, so every rollout is precomputed once (the induced high-level kernel P^A(s′ | s, g) is a table);
 * `pursue` still counts the primitive steps. Because that kernel is deterministic and z-free, the low-level state
 * after τ_h is a function of τ_h (replay the subgoals from the start), which is what the exact likelihoods use.
 */
import type { Rng } from "../../core/rng.ts";
import { type ActorOutcome, type ParEnv, type TraceView, uniformPrior } from "./par.ts";

export interface GridworldOptions {
  /** Sign accuracy: P(the sign points to z). Default 0.7. */
  readonly p?: number;
  /** Subgoals per episode (default 3). */
  readonly H?: number;
  /** The Actor's primitive-step budget per subgoal (default 12). */
  readonly actorHorizon?: number;
}

export const GRID_LAYOUT: readonly string[] = [
  "#########",
  "#...#...#",
  "#...#...#",
  "#.......#",
  "##.#D#.##",
  "#.......#",
  "#...#...#",
  "#...#...#",
  "#########",
];
const WIDTH = 9;
const CELLS = WIDTH * WIDTH;
const cell = (r: number, c: number) => r * WIDTH + c;
export const START_CELL = cell(3, 4);
export const DESK_CELL = cell(4, 4);
export const ROOM_CENTRES: readonly number[] = [cell(2, 2), cell(2, 6), cell(6, 2), cell(6, 6)];
const ROOMS = 4;
/** Subgoal index of "read the sign at the info desk". */
export const READ_SIGN = ROOMS;
/** Observation indices: rooms 0..3, then the hallway, then "the sign points to room j" = SIGN_BASE + j. */
const HALLWAY = ROOMS;
const SIGN_BASE = ROOMS + 1;

/** Room 0..3 of a cell, −1 for hallway cells, the desk and walls. */
export function roomOf(s: number): number {
  const r = Math.floor(s / WIDTH);
  const c = s % WIDTH;
  if (r < 1 || r > 7 || c < 1 || c > 7 || r === 4 || c === 4) return -1;
  return (r > 4 ? 2 : 0) + (c > 4 ? 1 : 0);
}

export function isFree(s: number): boolean {
  const row = GRID_LAYOUT[Math.floor(s / WIDTH)] ?? "";
  return s >= 0 && s < CELLS && row[s % WIDTH] !== "#";
}

/** Primitive moves N, E, S, W as cell offsets. */
const MOVES = [-WIDTH, 1, WIDTH, -1] as const;

/** BFS distances to `target` over free cells (−1 unreachable). */
export function bfsDistances(target: number): Int32Array {
  const dist = new Int32Array(CELLS).fill(-1);
  dist[target] = 0;
  const queue = [target];
  for (let i = 0; i < queue.length; i++) {
    const s = queue[i] as number;
    for (const m of MOVES) {
      const n = s + m;
      if (isFree(n) && dist[n] === -1) {
        dist[n] = (dist[s] as number) + 1;
        queue.push(n);
      }
    }
  }
  return dist;
}

/** One primitive step of the BFS controller toward a target with distance map `dist` (stays put at the target). */
export function controllerMove(s: number, dist: Int32Array): number {
  const d = dist[s] as number;
  if (d <= 0) return s;
  for (const m of MOVES) {
    const n = s + m;
    if (isFree(n) && dist[n] === d - 1) return n;
  }
  return s;
}

export function createGridworld(options: GridworldOptions = {}): ParEnv {
  const p = options.p ?? 0.7;
  const H = options.H ?? 3;
  const actorHorizon = options.actorHorizon ?? 12;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`gridworld: p must be in [0, 1], got ${p}`);
  if (!(Number.isInteger(H) && H >= 1)) throw new RangeError(`gridworld: H must be a positive integer`);
  const wrong = (1 - p) / (ROOMS - 1);
  const G = ROOMS + 1;
  const targets = [...ROOM_CENTRES, DESK_CELL];

  // The induced high-level kernel: rolling the controller out for ≤ H_a steps from every free cell, per subgoal.
  const dest = new Int32Array(G * CELLS);
  const steps = new Int32Array(G * CELLS);
  const reached = new Uint8Array(G * CELLS);
  targets.forEach((target, g) => {
    const dist = bfsDistances(target);
    for (let s = 0; s < CELLS; s++) {
      if (!isFree(s)) continue;
      let x = s;
      let n = 0;
      while (x !== target && n < actorHorizon) {
        x = controllerMove(x, dist);
        n++;
      }
      dest[g * CELLS + s] = x;
      steps[g * CELLS + s] = n;
      reached[g * CELLS + s] = x === target ? 1 : 0;
    }
  });
  const next = (s: number, g: number) => dest[g * CELLS + s] as number;

  const rewardOf = (z: number, s: number, h: number) => (h === H - 1 && roomOf(s) === z ? 1 : 0);

  // V*_z(s, h): the best return from state s with subgoals h..H−1 left, over the deterministic kernel.
  const value = new Float64Array(ROOMS * (H + 1) * CELLS);
  const vIndex = (z: number, h: number, s: number) => (z * (H + 1) + h) * CELLS + s;
  for (let z = 0; z < ROOMS; z++) {
    for (let h = H - 1; h >= 0; h--) {
      for (let s = 0; s < CELLS; s++) {
        if (!isFree(s)) continue;
        let best = 0;
        for (let g = 0; g < G; g++) {
          const s2 = next(s, g);
          const q = rewardOf(z, s2, h) + (value[vIndex(z, h + 1, s2)] as number);
          if (q > best) best = q;
        }
        value[vIndex(z, h, s)] = best;
      }
    }
  }

  /** The low-level state after τ_h: replay its subgoals through the deterministic kernel. */
  const stateAt = (trace: TraceView) => {
    let s = START_CELL;
    for (let i = 0; i < trace.h; i++) s = next(s, trace.goals[i] as number);
    return s;
  };
  const qAt = (z: number, s: number, h: number, g: number) => {
    const s2 = next(s, g);
    return rewardOf(z, s2, h) + (value[vIndex(z, h + 1, s2)] as number);
  };
  const placeObservation = (s: number) => {
    const room = roomOf(s);
    return room >= 0 ? room : HALLWAY;
  };

  return {
    name: `gridworld(p=${p}, H=${H})`,
    task: `Find the goal room among rooms 1-4 and be inside it after your ${H} subgoals. A sign at the info desk points to the goal room (it is not always right).`,
    H,
    actorHorizon,
    latentCount: ROOMS,
    prior: uniformPrior(ROOMS),
    latentNames: Array.from({ length: ROOMS }, (_, z) => `the goal is room ${z + 1}`),
    subgoals: [
      ...Array.from({ length: ROOMS }, (_, k) => `go to room ${k + 1}`),
      "read the sign at the info desk",
    ],
    observations: [
      ...Array.from({ length: ROOMS }, (_, k) => `You are in room ${k + 1}. Nothing seen.`),
      "You are in the hallway. Nothing seen.",
      ...Array.from(
        { length: ROOMS },
        (_, j) => `You are at the info desk. The sign points to room ${j + 1}.`,
      ),
    ],
    probes: [READ_SIGN],
    optimalValue: (z) => value[vIndex(z, 0, START_CELL)] as number,
    // "Straight to room z" at every step.
    expert(z, _trace, out) {
      out.fill(0);
      out[z] = 1;
      return z;
    },
    qValue: (z, trace, g) => qAt(z, stateAt(trace), trace.h, g),
    observationLikelihood(trace, g, o, out) {
      const s2 = next(stateAt(trace), g);
      if (s2 === DESK_CELL) {
        const j = o - SIGN_BASE;
        for (let z = 0; z < ROOMS; z++) out[z] = j < 0 || j >= ROOMS ? 0 : z === j ? p : wrong;
      } else {
        out.fill(o === placeObservation(s2) ? 1 : 0);
      }
    },
    rewardLikelihood(trace, g, r, out) {
      const s2 = next(stateAt(trace), g);
      for (let z = 0; z < ROOMS; z++) out[z] = rewardOf(z, s2, trace.h) === r ? 1 : 0;
    },
    start: () => START_CELL,
    actor: {
      pursue(s: number, g: number, _z: number, _rng: Rng, out: ActorOutcome) {
        const i = g * CELLS + s;
        out.state = dest[i] as number;
        out.steps = steps[i] as number;
        out.success = reached[i] === 1;
      },
    },
    reporter: {
      report(s, z, rng) {
        if (s !== DESK_CELL) return placeObservation(s);
        if (rng.float() < p) return SIGN_BASE + z;
        const j = rng.int(ROOMS - 1);
        return SIGN_BASE + (j >= z ? j + 1 : j);
      },
    },
    reward: rewardOf,
  };
}
