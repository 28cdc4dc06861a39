/**
 * BAWM — the LLM as a world model (Words-to-Actions App. B, spec §6): a perfectly pretrained LLM predicts the next
 * observation by the posterior predictive
 *
 * ```
 * P_LLM(o′ | pt, g) = Σ_z P_z(o′ | τ, g) · P(z | pt)        (and the reward the same way, when ω does not fix it)
 * ```
 *
 * and the Planner plans inside it. Two planners (exact twins, no LLM call):
 *
 * | mode | plans with | within-episode belief |
 * |---|---|---|
 * | `bayes-adaptive` | expectimax over (belief, τ): after each predicted o′ the belief is updated by Bayes' rule | updated by every observation, real or imagined |
 * | `certainty-equivalent` (CE) | the posterior-mean model of the episode's start, as if it were the truth | frozen for the episode |
 *
 * Neither values information that helps only *later* episodes (spec §6): that is what the ε-greedy switch
 * (`EpsilonGreedyPlanner`, outside the planner) is for. Between episodes both keep the exact posterior of their
 * memory (Variant A), exploratory episodes included.
 *
 * **Ties.** Exact planning ties often: a Bayes-adaptive planner is indifferent to a probe whose every outcome leaves
 * this episode's decision unchanged (value of information exactly 0), and CE, whose model carries no information, is
 * indifferent to a probe that precedes the decision. How ties are broken decides whether either keeps learning, so it
 * is an explicit option: `information` (default) prefers the largest expected information gain about z *in the
 * planner's own model* (always 0 for CE), then the imitation prior; `imitation` samples the BAIL mixture
 * Σ_z P(z)·π*_z restricted to the tied subgoals (what a pretrained LLM falls back on); `uniform` is uniform over them.
 *
 * **World-model error** δ_wm (spec §8 S3): every query of the world model answers
 * (1 − δ)·P_LLM + δ·Uniform — over the Reporter's vocabulary for observations, over `rewardSupport` for rewards.
 * After an imagined observation the model conditions exactly on it; one that no hypothesis of positive belief can
 * produce (only the noise produces it) leaves the belief as it was.
 *
 * The expectimax is exact and allocation-free: per node O(|G|·|O|·|Z|) likelihood work, depth H − h. The root's
 * answer is cached while the belief and o_1 are unchanged (the common case once the posterior stops moving).
 */
import type { Rng } from "../core/rng.ts";
import { entropy } from "../theory/stats.ts";
import {
  type HypothesisModel,
  type Planner,
  PosteriorMemory,
  sampleIndex,
  type TraceView,
} from "./planners.ts";

/** The hypothesis side a world-model planner needs: BAIL's, plus the episode length and the Reporter's vocabulary. */
export interface WorldModelHypotheses extends HypothesisModel {
  /** Subgoals per episode. */
  readonly H: number;
  /** The Reporter's vocabulary (only its size is used). */
  readonly observations: readonly string[];
}

export type BawmMode = "bayes-adaptive" | "certainty-equivalent";
export type TieBreak = "information" | "imitation" | "uniform";

export interface BawmOptions {
  readonly mode: BawmMode;
  /** δ_wm ∈ [0, 1]: weight of uniform noise in every world-model prediction (default 0). */
  readonly deltaWm?: number;
  /** Default `information`. */
  readonly tieBreak?: TieBreak;
  /** The values a reward can take (default [0, 1]): expected rewards are Σ_r r·P_z(r | τ, g). */
  readonly rewardSupport?: readonly number[];
  readonly name?: string;
}

/** Values closer than this are a tie (exact values here are sums of a few products of probabilities). */
const TIE = 1e-9;

/** A trace the planner writes imagined steps into. */
class ScratchTrace implements TraceView {
  h = 0;
  readonly obs: Int32Array;
  readonly goals: Int32Array;
  readonly rewards: Float64Array;
  constructor(H: number) {
    this.obs = new Int32Array(H + 1);
    this.goals = new Int32Array(H);
    this.rewards = new Float64Array(H).fill(Number.NaN);
  }
  copy(from: TraceView): void {
    this.h = from.h;
    for (let i = 0; i <= from.h; i++) this.obs[i] = from.obs[i] as number;
    for (let i = 0; i < from.h; i++) this.goals[i] = from.goals[i] as number;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Whether a likelihood row is the same for every z of positive belief (then Bayes' rule leaves the belief as is). */
function constantOn(row: Float64Array, belief: Float64Array): boolean {
  let first = Number.NaN;
  for (let z = 0; z < row.length; z++) {
    if ((belief[z] as number) === 0) continue;
    const v = row[z] as number;
    if (Number.isNaN(first)) first = v;
    else if (v !== first) return false;
  }
  return true;
}

/**
 * The exact posterior predictive Σ_z P_z(o | τ, g)·belief(z) over the whole vocabulary, into `out` (length |O|).
 * `lik` is a scratch vector of length |Z|.
 */
export function posteriorPredictive(
  model: WorldModelHypotheses,
  trace: TraceView,
  g: number,
  belief: Float64Array,
  out: Float64Array,
  lik: Float64Array = new Float64Array(model.latentCount),
): Float64Array {
  for (let o = 0; o < out.length; o++) {
    model.observationLikelihood(trace, g, o, lik);
    out[o] = dot(belief, lik);
  }
  return out;
}

export class BawmPlanner implements Planner {
  readonly name: string;
  readonly seesReward = false;
  readonly mode: BawmMode;
  readonly deltaWm: number;
  readonly tieBreak: TieBreak;
  readonly memory: PosteriorMemory;
  private readonly model: WorldModelHypotheses;
  private readonly rng: Rng;
  private readonly H: number;
  private readonly G: number;
  private readonly O: number;
  private readonly Z: number;
  private readonly support: readonly number[];
  private readonly supportMean: number;
  /** CE's belief: the memory posterior at the start of the episode. */
  private readonly frozen: Float64Array;
  private readonly tr: ScratchTrace;
  /** Per depth: likelihood rows of every observation for the subgoal being evaluated, as views. */
  private readonly rows: Float64Array[][];
  private readonly pred: Float64Array[];
  private readonly child: Float64Array[];
  private readonly rew: Float64Array;
  private readonly q0: Float64Array;
  private readonly dist: Float64Array;
  private readonly expertScratch: Float64Array;
  private readonly igPred: Float64Array;
  private readonly igPost: Float64Array;
  private readonly igRows: Float64Array[];
  // Root cache: the tie-broken distribution at h = 0 for one (o_1, belief).
  private cacheValid = false;
  private cacheObs = -1;
  private readonly cacheBelief: Float64Array;
  private readonly cacheDist: Float64Array;

  constructor(model: WorldModelHypotheses, rng: Rng, options: BawmOptions) {
    const delta = options.deltaWm ?? 0;
    if (!(delta >= 0 && delta <= 1)) throw new RangeError(`δ_wm must be in [0, 1], got ${delta}`);
    const support = options.rewardSupport ?? [0, 1];
    if (support.length === 0) throw new RangeError("rewardSupport must not be empty");
    this.model = model;
    this.rng = rng;
    this.mode = options.mode;
    this.deltaWm = delta;
    this.tieBreak = options.tieBreak ?? "information";
    this.memory = new PosteriorMemory(model);
    this.H = model.H;
    this.G = model.subgoals.length;
    this.O = model.observations.length;
    this.Z = model.latentCount;
    this.support = support;
    this.supportMean = support.reduce((s, r) => s + r, 0) / support.length;
    this.frozen = Float64Array.from(this.memory.probs);
    this.tr = new ScratchTrace(this.H);
    const { H, O, Z, G } = this;
    const views = (buffer: Float64Array) =>
      Array.from({ length: O }, (_, o) => buffer.subarray(o * Z, (o + 1) * Z));
    this.rows = Array.from({ length: H }, () => views(new Float64Array(O * Z)));
    this.pred = Array.from({ length: H }, () => new Float64Array(O));
    this.child = Array.from({ length: H }, () => new Float64Array(Z));
    this.rew = new Float64Array(Z);
    this.q0 = new Float64Array(G);
    this.dist = new Float64Array(G);
    this.expertScratch = new Float64Array(G);
    this.igPred = new Float64Array(O);
    this.igPost = new Float64Array(Z);
    this.igRows = views(new Float64Array(O * Z));
    this.cacheBelief = new Float64Array(Z);
    this.cacheDist = new Float64Array(G);
    const short = this.mode === "bayes-adaptive" ? "ba" : "ce";
    this.name =
      options.name ??
      `bawm-${short}${delta > 0 ? ` δ_wm=${delta}` : ""}${this.tieBreak === "information" ? "" : ` (${this.tieBreak} ties)`}`;
  }

  beginEpisode(): void {
    this.frozen.set(this.memory.probs);
  }

  /** The belief the planner plans with at this moment (BA: the current posterior; CE: the episode's start). */
  belief(): Float64Array {
    return this.mode === "bayes-adaptive" ? this.memory.probs : this.frozen;
  }

  act(trace: TraceView): number {
    const dist = this.decide(trace);
    let only = -1;
    for (let g = 0; g < this.G; g++) {
      if ((dist[g] as number) > 0) {
        if (only >= 0) return sampleIndex(dist, this.rng);
        only = g;
      }
    }
    return only;
  }

  observe(trace: TraceView, g: number, o: number, r: number): void {
    this.memory.observe(trace, g, o, r);
  }

  endEpisode(): void {}

  /** The distribution `act` samples from: the tie-broken maximisers of the planned values. */
  policy(trace: TraceView, out: Float64Array): void {
    out.set(this.decide(trace));
  }

  posteriorMass(z: number): number {
    return this.memory.probs[z] as number;
  }

  /** The planned value Q(τ_h, g) of every subgoal at the current belief, into `out` (length |G|). */
  values(trace: TraceView, out: Float64Array): Float64Array {
    const belief = this.belief();
    this.tr.copy(trace);
    for (let g = 0; g < this.G; g++) out[g] = this.q(0, belief, g);
    return out;
  }

  /** The planner's world model (1 − δ)·P_LLM(· | pt, g) + δ·Uniform over the vocabulary, into `out` (length |O|). */
  predictive(trace: TraceView, g: number, out: Float64Array): Float64Array {
    posteriorPredictive(this.model, trace, g, this.belief(), out, this.rew);
    const d = this.deltaWm;
    if (d > 0) for (let o = 0; o < this.O; o++) out[o] = (1 - d) * (out[o] as number) + d / this.O;
    return out;
  }

  /** Expected information gain about z from subgoal g at τ_h in the planner's own model (0 for CE). */
  informationGain(trace: TraceView, g: number): number {
    if (this.mode === "certainty-equivalent") return 0;
    return this.gain(trace, this.memory.probs, g);
  }

  private decide(trace: TraceView): Float64Array {
    const belief = this.belief();
    const cacheable = trace.h === 0;
    if (
      cacheable &&
      this.cacheValid &&
      this.cacheObs === trace.obs[0] &&
      sameVector(belief, this.cacheBelief)
    ) {
      return this.cacheDist;
    }
    const { G, q0, dist } = this;
    this.values(trace, q0);
    let max = Number.NEGATIVE_INFINITY;
    for (let g = 0; g < G; g++) if ((q0[g] as number) > max) max = q0[g] as number;
    // dist marks the tied maximisers first, then becomes the tie-break distribution over them.
    let tied = 0;
    for (let g = 0; g < G; g++) {
      const isMax = (q0[g] as number) >= max - TIE;
      dist[g] = isMax ? 1 : 0;
      if (isMax) tied++;
    }
    if (tied > 1) this.breakTies(trace, belief, dist);
    if (cacheable) {
      this.cacheValid = true;
      this.cacheObs = trace.obs[0] as number;
      this.cacheBelief.set(belief);
      this.cacheDist.set(dist);
    }
    return dist;
  }

  /** `dist` holds 1 on the tied subgoals; turn it into the tie-break distribution. */
  private breakTies(trace: TraceView, belief: Float64Array, dist: Float64Array): void {
    const G = this.G;
    if (this.tieBreak === "information" && this.mode === "bayes-adaptive") {
      let best = Number.NEGATIVE_INFINITY;
      const gains = this.q0; // the values are no longer needed
      for (let g = 0; g < G; g++) {
        if (dist[g] === 0) continue;
        gains[g] = this.gain(trace, belief, g);
        if ((gains[g] as number) > best) best = gains[g] as number;
      }
      for (let g = 0; g < G; g++) if (dist[g] === 1 && (gains[g] as number) < best - TIE) dist[g] = 0;
    }
    let total = 0;
    if (this.tieBreak !== "uniform") {
      // The imitation prior Σ_z belief(z)·π*_z(g | τ) on the tied subgoals.
      const w = this.expertScratch;
      const acc = this.q0;
      for (let g = 0; g < G; g++) acc[g] = 0;
      for (let z = 0; z < this.Z; z++) {
        const bz = belief[z] as number;
        if (bz === 0) continue;
        const e = this.memory.expert(z, trace, w);
        if (e >= 0) acc[e] = (acc[e] as number) + bz;
        else for (let g = 0; g < G; g++) acc[g] = (acc[g] as number) + bz * (w[g] as number);
      }
      for (let g = 0; g < G; g++) {
        const v = dist[g] === 1 ? (acc[g] as number) : 0;
        total += v;
        acc[g] = v;
      }
      if (total > 0) {
        for (let g = 0; g < G; g++) dist[g] = (acc[g] as number) / total;
        return;
      }
    }
    let count = 0;
    for (let g = 0; g < G; g++) count += dist[g] as number;
    for (let g = 0; g < G; g++) dist[g] = (dist[g] as number) / count;
  }

  /** I(z; o′ | τ, g) = H(belief) − Σ_o P(o)·H(belief | o), with the exact predictive. */
  private gain(trace: TraceView, belief: Float64Array, g: number): number {
    const rows = this.igRows;
    const pred = this.igPred;
    const post = this.igPost;
    const prior = entropy(belief);
    let expected = 0;
    let informative = false;
    for (let o = 0; o < this.O; o++) {
      const row = rows[o] as Float64Array;
      this.model.observationLikelihood(trace, g, o, row);
      const p = dot(belief, row);
      pred[o] = p;
      if (p <= 0) continue;
      if (constantOn(row, belief)) {
        expected += p * prior;
        continue;
      }
      informative = true;
      for (let z = 0; z < this.Z; z++) post[z] = ((belief[z] as number) * (row[z] as number)) / p;
      expected += p * entropy(post);
    }
    // Outcomes that are z-free everywhere carry exactly no information (not a rounding residue).
    return informative ? Math.max(0, prior - expected) : 0;
  }

  /** V(belief, τ) at the scratch trace's step: max over subgoals of `q`. */
  private value(d: number, belief: Float64Array): number {
    let best = Number.NEGATIVE_INFINITY;
    for (let g = 0; g < this.G; g++) {
      const v = this.q(d, belief, g);
      if (v > best) best = v;
    }
    return best;
  }

  /** Q(belief, τ, g) in the (noisy) posterior-predictive model; `d` = depth below the root (selects scratch). */
  private q(d: number, belief: Float64Array, g: number): number {
    const tr = this.tr;
    const h = tr.h;
    const m = this.model;
    const delta = this.deltaWm;
    let r = 0;
    for (const rv of this.support) {
      if (rv === 0) continue;
      m.rewardLikelihood(tr, g, rv, this.rew);
      r += rv * dot(belief, this.rew);
    }
    const q = (1 - delta) * r + delta * this.supportMean;
    if (h + 1 >= this.H) return q;

    const O = this.O;
    const rows = this.rows[d] as Float64Array[];
    const pred = this.pred[d] as Float64Array;
    for (let o = 0; o < O; o++) {
      const row = rows[o] as Float64Array;
      m.observationLikelihood(tr, g, o, row);
      pred[o] = dot(belief, row);
    }
    const updates = this.mode === "bayes-adaptive";
    const child = this.child[d] as Float64Array;
    const noise = delta / O;
    let continuation = 0;
    tr.goals[h] = g;
    for (let o = 0; o < O; o++) {
      const p = pred[o] as number;
      const w = (1 - delta) * p + noise;
      if (w <= 0) continue;
      let next = belief;
      const row = rows[o] as Float64Array;
      if (updates && p > 0 && !constantOn(row, belief)) {
        for (let z = 0; z < this.Z; z++) child[z] = ((belief[z] as number) * (row[z] as number)) / p;
        next = child;
      }
      tr.obs[h + 1] = o;
      tr.h = h + 1;
      continuation += w * this.value(d + 1, next);
      tr.h = h;
    }
    return q + continuation;
  }
}

function sameVector(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
