/**
 * Multi-agent coordination of Words-to-Actions App. B (spec §7, §8 S4; our design): N_A Actors and N_A targets.
 * The latent z is a permutation σ — Actor i's own target is σ(i) — so |Z| = N_A!, uniform prior. One joint subgoal
 * per episode (H = 1): each Actor either goes to a target, inspects (reads where its own target is, right with
 * probability p, else a uniformly chosen wrong target, freshly drawn), or idles. The reward is 1 only if every Actor
 * reaches its own target in that episode (hidden from the Planner). Going somewhere or idling tells nothing about z;
 * the experts (the joint plan "Actor i → σ(i)") never inspect, so the posterior moves only through inspections.
 *
 * Everything is index-coded as the PAR loop wants. With A = N_A + 2 parts per Actor (targets 0..N_A−1, then
 * `inspect`, then `idle`), the joint subgoal g = Σ_i part_i·A^i, so G has A^{N_A} members. Per Actor the Reporter says
 * "at target k" (k), "inspected: target j" (N_A + j) or "idle" (2N_A): B = 2N_A + 1 values, and the joint
 * observation is 1 + Σ_i b_i·B^i (0 = everyone at the start). The low-level state after a joint subgoal is 1 + g (the
 * Actors always arrive, in one primitive step each), 0 at the start.
 */
import type { Rng } from "../../core/rng.ts";
import { type ActorOutcome, EpisodeTrace, type ParEnv, uniformPrior } from "./par.ts";

export interface MultiAgentOptions {
  /** N_A ≥ 2 (default 2); |G| = (N_A + 2)^{N_A}, |O| = (2N_A + 1)^{N_A} + 1. */
  readonly actors?: number;
  /** Inspection accuracy (default 0.7). */
  readonly p?: number;
}

export interface MultiAgentEnv extends ParEnv {
  /** N_A. */
  readonly actors: number;
  /** A: subgoals per Actor (targets, inspect, idle); the joint subgoal index is Σ_i part_i·A^i. */
  readonly actorSubgoals: number;
  /** The per-Actor part `inspect` (= N_A) and `idle` (= N_A + 1). */
  readonly inspect: number;
  readonly idle: number;
  /** σ_z as arrays: `permutations[z][i]` = Actor i's target under z. */
  readonly permutations: readonly (readonly number[])[];
  /** The joint subgoal of expert z ("Actor i → σ_z(i)" for every i). */
  readonly expertGoal: Int32Array;
  /** Structured exploration: the N_A joint subgoals in which exactly one Actor inspects and the others idle. */
  readonly structuredProbes: readonly number[];
  /** Part of Actor i in joint subgoal g. */
  part(g: number, i: number): number;
  /** The joint subgoal made of `parts` (one per Actor). */
  joint(parts: readonly number[]): number;
}

/** Every permutation of 0..n−1 in lexicographic order. */
export function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (let first = 0; first < n; first++) {
    for (const rest of permutations(n - 1)) out.push([first, ...rest.map((x) => (x >= first ? x + 1 : x))]);
  }
  return out;
}

export function createMultiAgent(options: MultiAgentOptions = {}): MultiAgentEnv {
  const N = options.actors ?? 2;
  const p = options.p ?? 0.7;
  if (!(Number.isInteger(N) && N >= 2 && N <= 5)) {
    throw new RangeError(`multi-agent: actors must be an integer in 2..5, got ${N}`);
  }
  if (!(p >= 0 && p <= 1)) throw new RangeError(`multi-agent: p must be in [0, 1], got ${p}`);
  const A = N + 2;
  const inspect = N;
  const idle = N + 1;
  const B = 2 * N + 1;
  const G = A ** N;
  const wrong = (1 - p) / (N - 1);
  const perms = permutations(N);
  const Z = perms.length;

  const part = (g: number, i: number) => Math.floor(g / A ** i) % A;
  const joint = (parts: readonly number[]) => parts.reduce((s, a, i) => s + a * A ** i, 0);
  const expertGoal = Int32Array.from(perms, (sigma) => joint(sigma));
  // Decoded tables: the hot loops never divide.
  const parts = new Int32Array(G * N);
  for (let g = 0; g < G; g++) for (let i = 0; i < N; i++) parts[g * N + i] = part(g, i);
  const obsParts = new Int32Array((B ** N + 1) * N).fill(-1);
  for (let o = 1; o <= B ** N; o++) {
    for (let i = 0; i < N; i++) obsParts[o * N + i] = Math.floor((o - 1) / B ** i) % B;
  }
  const sigma = new Int32Array(Z * N);
  perms.forEach((s, z) => {
    s.forEach((t, i) => {
      sigma[z * N + i] = t;
    });
  });

  const partName = (a: number) => (a < N ? `go to target ${a + 1}` : a === inspect ? "inspect" : "idle");
  const obsName = (b: number) =>
    b < N ? `is at target ${b + 1}` : b < 2 * N ? `inspected: its target is ${b - N + 1}` : "idled";
  const subgoals = Array.from({ length: G }, (_, g) =>
    Array.from({ length: N }, (_, i) => `Actor ${i + 1}: ${partName(part(g, i))}`).join("; "),
  );
  const observations = ["All Actors are at the start."];
  for (let o = 1; o <= B ** N; o++) {
    observations.push(
      `${Array.from({ length: N }, (_, i) => `Actor ${i + 1} ${obsName(obsParts[o * N + i] as number)}`).join("; ")}.`,
    );
  }
  const structuredProbes = Array.from({ length: N }, (_, k) =>
    joint(Array.from({ length: N }, (_, i) => (i === k ? inspect : idle))),
  );
  const probes: number[] = [];
  for (let g = 0; g < G; g++) {
    for (let i = 0; i < N; i++) {
      if (parts[g * N + i] === inspect) {
        probes.push(g);
        break;
      }
    }
  }

  return {
    name: `multi-agent(N_A=${N}, p=${p})`,
    task:
      `${N} Actors must each reach their own target (an unknown one-to-one assignment of Actors to targets 1-${N}) ` +
      "in the same episode. An Actor may inspect instead, to read where its own target is (the reading is not always right), or idle.",
    H: 1,
    actorHorizon: 1,
    latentCount: Z,
    prior: uniformPrior(Z),
    latentNames: perms.map((s) => s.map((t, i) => `Actor ${i + 1} → target ${t + 1}`).join(", ")),
    subgoals,
    observations,
    probes,
    actors: N,
    actorSubgoals: A,
    inspect,
    idle,
    permutations: perms,
    expertGoal,
    structuredProbes,
    part,
    joint,
    optimalValue: () => 1,
    expert(z, _trace, out) {
      out.fill(0);
      const g = expertGoal[z] as number;
      out[g] = 1;
      return g;
    },
    qValue: (z, _trace, g) => (g === expertGoal[z] ? 1 : 0),
    observationLikelihood(_trace, g, o, out) {
      if (o <= 0 || o > B ** N) {
        out.fill(0);
        return;
      }
      for (let z = 0; z < Z; z++) {
        let l = 1;
        for (let i = 0; i < N && l > 0; i++) {
          const a = parts[g * N + i] as number;
          const b = obsParts[o * N + i] as number;
          if (a < N) l = b === a ? l : 0;
          else if (a === idle) l = b === 2 * N ? l : 0;
          else if (b < N || b >= 2 * N) l = 0;
          else l *= b - N === sigma[z * N + i] ? p : wrong;
        }
        out[z] = l;
      }
    },
    rewardLikelihood(_trace, g, r, out) {
      for (let z = 0; z < Z; z++) out[z] = (g === expertGoal[z] ? 1 : 0) === r ? 1 : 0;
    },
    start: () => 0,
    actor: {
      pursue(_s: number, g: number, _z: number, _rng: Rng, out: ActorOutcome) {
        out.state = 1 + g;
        out.steps = N;
        out.success = true;
      },
    },
    reporter: {
      report(s, z, rng) {
        if (s === 0) return 0;
        const g = s - 1;
        let o = 1;
        let scale = 1;
        for (let i = 0; i < N; i++) {
          const a = parts[g * N + i] as number;
          let b: number;
          if (a < N) b = a;
          else if (a === idle) b = 2 * N;
          else {
            const own = sigma[z * N + i] as number;
            if (rng.float() < p) b = N + own;
            else {
              const j = rng.int(N - 1);
              b = N + (j >= own ? j + 1 : j);
            }
          }
          o += b * scale;
          scale *= B;
        }
        return o;
      },
    },
    reward: (z, s) => (s === 1 + (expertGoal[z] as number) ? 1 : 0),
  };
}

/**
 * η of one exploratory episode of a one-step environment (spec §4's identifiability): min over z ≠ z′ of
 * 1 − Σ_g π(g)·Σ_o √(P_z(o | g)·P_z′(o | g)), the Bhattacharyya distance of the two episode laws under the
 * exploration policy π (a distribution over G). O(|G|·|O|·|Z|²); meant for reports, once per configuration.
 */
export function episodeEta(env: ParEnv, policy: ArrayLike<number>): number {
  if (env.H !== 1) throw new RangeError("episodeEta: one-step environments only");
  const Z = env.latentCount;
  const trace = new EpisodeTrace(1);
  trace.start(0);
  const lik = new Float64Array(Z);
  const bc = new Float64Array(Z * Z);
  for (let g = 0; g < env.subgoals.length; g++) {
    const w = policy[g] as number;
    if (!(w > 0)) continue;
    for (let o = 0; o < env.observations.length; o++) {
      env.observationLikelihood(trace, g, o, lik);
      for (let a = 0; a < Z; a++) {
        const la = lik[a] as number;
        if (la === 0) continue;
        for (let b = a + 1; b < Z; b++)
          bc[a * Z + b] = (bc[a * Z + b] as number) + w * Math.sqrt(la * (lik[b] as number));
      }
    }
  }
  let min = Number.POSITIVE_INFINITY;
  for (let a = 0; a < Z; a++)
    for (let b = a + 1; b < Z; b++) min = Math.min(min, 1 - (bc[a * Z + b] as number));
  return Math.max(0, min);
}
