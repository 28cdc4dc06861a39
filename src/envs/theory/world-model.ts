/**
 * The desk/sign setting of Words-to-Actions spec §8 S3 (BAWM, spec §6; our design): the high-level kernel of the S2
 * gridworld with K rooms around an info desk, and H subgoals per episode. The latent z ∈ {0..K−1} is the goal room;
 * the reward is 1 if the **last** subgoal ends in room z (hidden from the Planner). Reading the sign at the desk
 * reports z with probability p (else a uniformly chosen wrong room), freshly drawn at every visit; going to a room
 * reports only the room, the same under every z. No expert ever reads the sign.
 *
 * | regime | H | what reading the sign buys |
 * |---|---|---|
 * | (i)  | 2 | "read, then go": the sign pays off **within** the episode |
 * | (ii) | 1 | reading uses the only step (reward 0): the sign pays off only in **later** episodes (the §3 trap) |
 *
 * The Actor walks to a room or the desk in one primitive step and always arrives (the gridworld's BFS controller
 * reaches every room and the desk within H_a, so its induced kernel is exactly this deterministic, z-free table).
 * Low-level states: 0 = the hallway (start), 1 + k = room k, K + 1 = the desk.
 */
import type { Rng } from "../../core/rng.ts";
import { type ActorOutcome, type ParEnv, uniformPrior } from "./par.ts";

export interface DeskWorldOptions {
  /** Rooms = |Z| (default 4, as in the gridworld). */
  readonly K?: number;
  /** Sign accuracy P(the sign points to z) (default 0.7). */
  readonly p?: number;
  /** Subgoals per episode: 2 = regime (i), 1 = regime (ii) (default 2). */
  readonly H?: number;
}

/** Observation 0: the start. */
export const HALLWAY_OBS = 0;
/** "You are in room k+1." */
export const roomObservation = (k: number): number => 1 + k;
/** "The sign points to room j+1." */
export const signObservation = (K: number, j: number): number => 1 + K + j;

export function createDeskWorld(options: DeskWorldOptions = {}): ParEnv {
  const K = options.K ?? 4;
  const p = options.p ?? 0.7;
  const H = options.H ?? 2;
  if (!(Number.isInteger(K) && K >= 2))
    throw new RangeError(`desk world: K must be an integer ≥ 2, got ${K}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`desk world: p must be in [0, 1], got ${p}`);
  if (!(Number.isInteger(H) && H >= 1))
    throw new RangeError(`desk world: H must be a positive integer, got ${H}`);
  const readSign = K;
  const desk = K + 1;
  const wrong = (1 - p) / (K - 1);
  const signBase = 1 + K;

  return {
    name: `desk-world(K=${K}, p=${p}, H=${H})`,
    task:
      `Find the goal room among rooms 1-${K} and be inside it after your ${H === 1 ? "single subgoal" : `${H} subgoals`}. ` +
      "A sign at the info desk points to the goal room (it is not always right).",
    H,
    actorHorizon: 1,
    latentCount: K,
    prior: uniformPrior(K),
    latentNames: Array.from({ length: K }, (_, z) => `the goal is room ${z + 1}`),
    subgoals: [
      ...Array.from({ length: K }, (_, k) => `go to room ${k + 1}`),
      "read the sign at the info desk",
    ],
    observations: [
      "You are in the hallway.",
      ...Array.from({ length: K }, (_, k) => `You are in room ${k + 1}. Nothing seen.`),
      ...Array.from({ length: K }, (_, j) => `You are at the info desk. The sign points to room ${j + 1}.`),
    ],
    probes: [readSign],
    optimalValue: () => 1,
    // "Straight to room z" at every step.
    expert(z, _trace, out) {
      out.fill(0);
      out[z] = 1;
      return z;
    },
    // Before the last step any subgoal still lets the expert end in room z.
    qValue: (z, trace, g) => (trace.h < H - 1 ? 1 : g === z ? 1 : 0),
    observationLikelihood(_trace, g, o, out) {
      if (g < K) {
        out.fill(o === roomObservation(g) ? 1 : 0);
        return;
      }
      const j = o - signBase;
      if (j < 0 || j >= K) {
        out.fill(0);
        return;
      }
      for (let z = 0; z < K; z++) out[z] = z === j ? p : wrong;
    },
    rewardLikelihood(trace, g, r, out) {
      const last = trace.h === H - 1;
      for (let z = 0; z < K; z++) out[z] = (last && g === z ? 1 : 0) === r ? 1 : 0;
    },
    start: () => 0,
    actor: {
      pursue(_s: number, g: number, _z: number, _rng: Rng, out: ActorOutcome) {
        out.state = g === readSign ? desk : 1 + g;
        out.steps = 1;
        out.success = true;
      },
    },
    reporter: {
      report(s, z, rng) {
        if (s === 0) return HALLWAY_OBS;
        if (s <= K) return roomObservation(s - 1);
        if (rng.float() < p) return signBase + z;
        const j = rng.int(K - 1);
        return signBase + (j >= z ? j + 1 : j);
      },
    },
    reward: (z, s, h) => (h === H - 1 && s === 1 + z ? 1 : 0),
  };
}
