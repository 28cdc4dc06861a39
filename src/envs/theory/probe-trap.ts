/**
 * The minimal trap of Words-to-Actions §3 (spec §3, our construction): K doors, the prize behind door z, H = 1.
 *
 * | subgoal            | reward        | observation                                               |
 * |--------------------|---------------|-----------------------------------------------------------|
 * | "open door k"      | 1[k = z]      | "Nothing happened." (the same under every z)               |
 * | "consult the probe"| 0             | "The probe says: door j." — j = z w.p. p, else uniform over the K−1 others |
 *
 * Experts open door z and never probe, and the reward is hidden from the Planner, so every expert subgoal yields a
 * z-independent observation: the posterior never leaves the prior, BAIL stays Uniform{g_1..g_K}, and its regret is
 * exactly (1 − 1/K) per episode. Only the probe carries information.
 *
 * Low-level states: 0 = before the doors, 1 + k = door k opened, K + 1 = probe consulted.
 */
import type { Rng } from "../../core/rng.ts";
import { type ActorOutcome, bhattacharyya, type ParEnv, type TraceView, uniformPrior } from "./par.ts";

export interface ProbeTrapOptions {
  /** Number of doors = |Z| (≥ 2). */
  readonly K: number;
  /** Probe accuracy: P(probe names z) (the rest is spread uniformly over the wrong doors). */
  readonly p: number;
}

/** Observation indices. */
const START = 0;
const NOTHING = 1;
/** "The probe says: door j." is observation PROBE_BASE + j. */
const PROBE_BASE = 2;

export function createProbeTrap(options: ProbeTrapOptions): ParEnv {
  const { K, p } = options;
  if (!(Number.isInteger(K) && K >= 2))
    throw new RangeError(`probe trap: K must be an integer ≥ 2, got ${K}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probe trap: p must be in [0, 1], got ${p}`);
  const probe = K;
  const wrong = (1 - p) / (K - 1);
  const subgoals = [...Array.from({ length: K }, (_, k) => `open door ${k + 1}`), "consult the probe"];
  const observations = [
    "You stand before the doors.",
    "Nothing happened.",
    ...Array.from({ length: K }, (_, j) => `The probe says: door ${j + 1}.`),
  ];

  return {
    name: `probe-trap(K=${K}, p=${p})`,
    task: `The prize is behind one of ${K} doors. Open the door with the prize.`,
    H: 1,
    actorHorizon: 1,
    latentCount: K,
    prior: uniformPrior(K),
    latentNames: Array.from({ length: K }, (_, z) => `the prize is behind door ${z + 1}`),
    subgoals,
    observations,
    probes: [probe],
    optimalValue: () => 1,
    expert(z, _trace, out) {
      out.fill(0);
      out[z] = 1;
      return z;
    },
    qValue: (z, _trace, g) => (g === z ? 1 : 0),
    observationLikelihood(_trace: TraceView, g, o, out) {
      if (g < K) {
        out.fill(o === NOTHING ? 1 : 0);
        return;
      }
      const j = o - PROBE_BASE;
      if (j < 0 || j >= K) {
        out.fill(0);
        return;
      }
      for (let z = 0; z < K; z++) out[z] = z === j ? p : wrong;
    },
    rewardLikelihood(_trace, g, r, out) {
      for (let z = 0; z < K; z++) out[z] = (g === z ? 1 : 0) === r ? 1 : 0;
    },
    start: () => 0,
    actor: {
      // Opening a door or consulting the probe is one primitive step that always succeeds.
      pursue(_s: number, g: number, _z: number, _rng: Rng, out: ActorOutcome) {
        out.state = g === probe ? K + 1 : 1 + g;
        out.steps = 1;
        out.success = true;
      },
    },
    reporter: {
      report(s, z, rng) {
        if (s === 0) return START;
        if (s <= K) return NOTHING;
        if (rng.float() < p) return PROBE_BASE + z;
        // A uniform wrong door: draw among the K − 1 others.
        const j = rng.int(K - 1);
        return PROBE_BASE + (j >= z ? j + 1 : j);
      },
    },
    reward: (z, s) => (s === 1 + z ? 1 : 0),
  };
}

/**
 * η_probe = 1 − BC, the squared-Hellinger-type identifiability of one probe (spec §4):
 * BC = 2√(p(1−p)/(K−1)) + (K−2)(1−p)/(K−1). p = 1 ⇒ 1; p = 1/K ⇒ 0 (non-identifiable).
 */
export function probeTrapEta(K: number, p: number): number {
  const wrong = (1 - p) / (K - 1);
  const a = new Float64Array(K).fill(wrong);
  const b = new Float64Array(K).fill(wrong);
  a[0] = p;
  b[1] = p;
  return Math.max(0, 1 - bhattacharyya(a, b));
}

/**
 * η of an exploration policy over a whole episode of H independent steps, each probing with probability q (the
 * subgoal law is the same under every z, so only probes separate hypotheses): 1 − (1 − q·η_probe)^H. With H = 1 this
 * is the spec's q·η_probe; "always probe" is q = 1.
 */
export function explorationEta(etaProbe: number, q: number, H: number): number {
  return 1 - (1 - q * etaProbe) ** H;
}
