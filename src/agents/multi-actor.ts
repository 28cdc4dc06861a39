/**
 * BAIL with several Actors (Words-to-Actions App. B, spec §7): the Planner emits a joint subgoal
 * g = (g^1, …, g^{N_A}); the experts are joint optimal policies and BAIL is their posterior mixture. Two ways to
 * decode it:
 *
 * | arm | decoding | coordinated? |
 * |---|---|---|
 * | `JointBailPlanner` | autoregressive, g^k ~ P(g^k | pt, g^{<k}): the parts already chosen are evidence about z | always: the sample is one expert's joint plan |
 * | `MarginalBailPlanner` | each Actor samples its own marginal P(g^k | pt), independently | no: parts of different experts' plans mix |
 *
 * Autoregressive decoding of the mixture Σ_z P(z|pt)·π*_z(g) reproduces it exactly (chain rule); the product of the
 * marginals does not. **Miscoordination** (spec §8 S4): a joint subgoal no hypothesis of positive posterior would
 * take, i.e. π*_z(g | τ) = 0 for every z with P(z | pt) > 0.
 *
 * Like every exact arm the planners see only indices; `JointHypotheses` is structural (the multi-agent environment
 * satisfies it): the joint subgoal index is Σ_i part_i·A^i with A subgoals per Actor.
 */
import type { Rng } from "../core/rng.ts";
import {
  type HypothesisModel,
  type Planner,
  PosteriorMemory,
  sampleIndex,
  type TraceView,
} from "./planners.ts";

export interface JointHypotheses extends HypothesisModel {
  /** N_A. */
  readonly actors: number;
  /** A: subgoals per Actor. |G| = A^{N_A}. */
  readonly actorSubgoals: number;
}

/** Actor i's part of joint subgoal g. */
export function partOf(g: number, i: number, A: number): number {
  return Math.floor(g / A ** i) % A;
}

/** Experts' joint subgoal distributions at τ for every z, as a |Z|×|G| table (row z = π*_z(· | τ)). */
function expertTable(memory: PosteriorMemory, trace: TraceView, table: Float64Array, G: number): void {
  const row = new Float64Array(G);
  for (let z = 0; z < memory.model.latentCount; z++) {
    memory.expert(z, trace, row);
    table.set(row, z * G);
  }
}

abstract class JointBase implements Planner {
  abstract readonly name: string;
  readonly seesReward = false;
  readonly memory: PosteriorMemory;
  protected readonly model: JointHypotheses;
  protected readonly rng: Rng;
  protected readonly N: number;
  protected readonly A: number;
  protected readonly G: number;
  protected readonly Z: number;
  /** Per z: the expert's subgoal when deterministic (else −1). */
  protected readonly goals: Int32Array;
  protected readonly scratch: Float64Array;
  protected readonly weights: Float64Array;
  protected readonly marginal: Float64Array;

  constructor(model: JointHypotheses, rng: Rng) {
    this.model = model;
    this.rng = rng;
    this.memory = new PosteriorMemory(model);
    this.N = model.actors;
    this.A = model.actorSubgoals;
    this.G = model.subgoals.length;
    this.Z = model.latentCount;
    if (this.A ** this.N !== this.G) {
      throw new RangeError(`joint subgoals: expected A^N = ${this.A ** this.N}, got |G| = ${this.G}`);
    }
    this.goals = new Int32Array(this.Z);
    this.scratch = new Float64Array(this.G);
    this.weights = new Float64Array(this.Z);
    this.marginal = new Float64Array(this.A);
  }

  /** Fill `goals` with every expert's deterministic subgoal at τ; false if some expert is stochastic. */
  protected deterministic(trace: TraceView): boolean {
    for (let z = 0; z < this.Z; z++) {
      const g = this.memory.expert(z, trace, this.scratch);
      if (g < 0) return false;
      this.goals[z] = g;
    }
    return true;
  }

  /** Draw from `marginal` after normalising it. */
  protected drawPart(): number {
    const m = this.marginal;
    let total = 0;
    for (let a = 0; a < this.A; a++) total += m[a] as number;
    for (let a = 0; a < this.A; a++) m[a] = (m[a] as number) / total;
    return sampleIndex(m, this.rng);
  }

  abstract act(trace: TraceView): number;
  abstract policy(trace: TraceView, out: Float64Array): void;

  beginEpisode(): void {}
  observe(trace: TraceView, g: number, o: number, r: number): void {
    this.memory.observe(trace, g, o, r);
  }
  endEpisode(): void {}
  posteriorMass(z: number): number {
    return this.memory.probs[z] as number;
  }
}

/** Joint-autoregressive BAIL: g^k ~ Σ_z P(z | pt, g^{<k})·π*_z(g^k | g^{<k}), Actor by Actor. */
export class JointBailPlanner extends JointBase {
  readonly name: string;

  constructor(model: JointHypotheses, rng: Rng, name = "joint-bail") {
    super(model, rng);
    this.name = name;
  }

  act(trace: TraceView): number {
    const { N, A, Z, weights, marginal } = this;
    weights.set(this.memory.probs);
    let g = 0;
    if (this.deterministic(trace)) {
      for (let k = 0; k < N; k++) {
        marginal.fill(0);
        for (let z = 0; z < Z; z++) {
          const w = weights[z] as number;
          if (w > 0) {
            const a = partOf(this.goals[z] as number, k, A);
            marginal[a] = (marginal[a] as number) + w;
          }
        }
        const a = this.drawPart();
        // The chosen part is evidence: experts whose plan disagrees drop out.
        for (let z = 0; z < Z; z++) if (partOf(this.goals[z] as number, k, A) !== a) weights[z] = 0;
        g += a * A ** k;
      }
      return g;
    }
    // Stochastic experts: P_z(g^k = a | g^{<k}) from each expert's joint distribution restricted to the prefix.
    const G = this.G;
    const table = new Float64Array(Z * G);
    expertTable(this.memory, trace, table, G);
    const prefixMass = new Float64Array(Z).fill(1);
    const partMass = new Float64Array(Z * A);
    for (let k = 0; k < N; k++) {
      partMass.fill(0);
      const unit = A ** k;
      for (let z = 0; z < Z; z++) {
        if ((weights[z] as number) === 0) continue;
        for (let h = 0; h < G; h++) {
          if (h % unit !== g) continue; // prefix g^{<k} must match
          const a = partOf(h, k, A);
          partMass[z * A + a] = (partMass[z * A + a] as number) + (table[z * G + h] as number);
        }
      }
      marginal.fill(0);
      for (let z = 0; z < Z; z++) {
        const w = weights[z] as number;
        const pm = prefixMass[z] as number;
        if (w === 0 || pm === 0) continue;
        for (let a = 0; a < A; a++) {
          marginal[a] = (marginal[a] as number) + (w * (partMass[z * A + a] as number)) / pm;
        }
      }
      const a = this.drawPart();
      for (let z = 0; z < Z; z++) {
        const pm = prefixMass[z] as number;
        const next = partMass[z * A + a] as number;
        weights[z] = pm > 0 ? ((weights[z] as number) * next) / pm : 0;
        prefixMass[z] = next;
      }
      g += a * unit;
    }
    return g;
  }

  /** Σ_z P(z | pt)·π*_z(g | τ): the mixture autoregressive decoding samples exactly. */
  policy(trace: TraceView, out: Float64Array): void {
    out.fill(0);
    const probs = this.memory.probs;
    for (let z = 0; z < this.Z; z++) {
      const w = probs[z] as number;
      if (w === 0) continue;
      this.memory.expert(z, trace, this.scratch);
      for (let g = 0; g < this.G; g++) out[g] = (out[g] as number) + w * (this.scratch[g] as number);
    }
  }
}

/** Independent-marginal BAIL: Actor k samples g^k ~ Σ_z P(z | pt)·π*_z(g^k), independently of the others. */
export class MarginalBailPlanner extends JointBase {
  readonly name: string;
  /** Per Actor k: its marginal over parts (N_A × A). */
  private readonly marginals: Float64Array;

  constructor(model: JointHypotheses, rng: Rng, name = "marginal-bail") {
    super(model, rng);
    this.name = name;
    this.marginals = new Float64Array(this.N * this.A);
  }

  /** Fill `marginals` at τ. */
  private computeMarginals(trace: TraceView): void {
    const { N, A, Z, G, marginals } = this;
    marginals.fill(0);
    const probs = this.memory.probs;
    const det = this.deterministic(trace);
    for (let z = 0; z < Z; z++) {
      const w = probs[z] as number;
      if (w === 0) continue;
      if (det) {
        const g = this.goals[z] as number;
        for (let k = 0; k < N; k++) {
          const i = k * A + partOf(g, k, A);
          marginals[i] = (marginals[i] as number) + w;
        }
        continue;
      }
      this.memory.expert(z, trace, this.scratch);
      for (let g = 0; g < G; g++) {
        const e = this.scratch[g] as number;
        if (e === 0) continue;
        for (let k = 0; k < N; k++) {
          const i = k * A + partOf(g, k, A);
          marginals[i] = (marginals[i] as number) + w * e;
        }
      }
    }
  }

  act(trace: TraceView): number {
    this.computeMarginals(trace);
    let g = 0;
    for (let k = 0; k < this.N; k++) {
      for (let a = 0; a < this.A; a++) this.marginal[a] = this.marginals[k * this.A + a] as number;
      g += this.drawPart() * this.A ** k;
    }
    return g;
  }

  /** Π_k P(g^k | pt): the product of the Actors' marginals. */
  policy(trace: TraceView, out: Float64Array): void {
    this.computeMarginals(trace);
    for (let g = 0; g < this.G; g++) {
      let p = 1;
      for (let k = 0; k < this.N && p > 0; k++)
        p *= this.marginals[k * this.A + partOf(g, k, this.A)] as number;
      out[g] = p;
    }
  }
}

/**
 * Miscoordination: no hypothesis of positive posterior would take joint subgoal g at τ
 * (π*_z(g | τ) = 0 for every z with `probs[z]` > 0). `scratch` has length |G|.
 */
export function miscoordinated(
  model: HypothesisModel,
  trace: TraceView,
  g: number,
  probs: ArrayLike<number>,
  scratch: Float64Array,
): boolean {
  for (let z = 0; z < model.latentCount; z++) {
    if (!((probs[z] as number) > 0)) continue;
    const e = model.expert(z, trace, scratch);
    if (e === g || (e < 0 && (scratch[g] as number) > 0)) return false;
  }
  return true;
}
