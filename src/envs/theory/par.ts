/**
 * The Planner/Actor/Reporter (PAR) abstraction of Words-to-Actions §1 (He et al., ICML 2024), the shared shape of
 * every latent-parameter hierarchical environment in the theory lab (probe trap, gridworld, and later the
 * world-model and multi-agent experiments).
 *
 * ```
 * latent z ∈ {0..|Z|−1} ~ prior, drawn once per seed, never shown to the Planner
 * for episode t = 1..T:
 *     s_1 ← start(z);                      o_1 ← Reporter(s_1)
 *     for h = 1..H:
 *         g_h ← Planner(memory, ω, τ_h)     τ_h = (o_1, g_1, …, o_h): language only
 *         s_{h+1} ← Actor pursues g_h from s_h for ≤ H_a primitive steps (under z's dynamics)
 *         o_{h+1} ← Reporter(s_{h+1});      r_h ← reward(z, s_{h+1}, h)   (hidden from the Planner)
 * ```
 *
 * Everything is index-coded so the episode loop can run tens of millions of steps without allocating: a subgoal is
 * an index into `subgoals` (the language set G), an observation an index into `observations` (the Reporter's
 * vocabulary: observation `o` *is* the text `observations[o]`), a low-level state an integer the environment
 * interprets. An environment has two sides:
 *
 * - the **hypothesis side** — what a perfectly pretrained Planner knows about the family {P_z}: the prior, the
 *   experts π*_z(·|τ) and their values Q*_z, J*_z, and the observation likelihood P_z(o′ | τ, g) that makes the
 *   exact posterior (Variant A of spec §2: only observation factors; the behaviour policy cancels). These are
 *   functions of the public trace τ only, never of the hidden low-level state.
 * - the **world side** — the Actor, the Reporter, the start state and the reward, which see z and the low-level
 *   state. `ParWorld` runs them for one latent z.
 *
 * Reusing it: a world-model planner (BAWM, spec §6) gets its posterior predictive from `observationDistribution`;
 * a multi-agent environment (spec §7) enumerates joint subgoals as G and joint positions as the state.
 */
import type { Rng } from "../../core/rng.ts";

/** The planner-visible part of the current episode, τ_h = (o_1, g_1, …, o_h), as indices. */
export interface TraceView {
  /** Subgoals taken so far in this episode (0 ≤ h ≤ H). */
  readonly h: number;
  /** `obs[0..h]`: o_1 … o_{h+1} in 0-based slots. */
  readonly obs: Int32Array;
  /** `goals[0..h−1]`. */
  readonly goals: Int32Array;
  /** `rewards[0..h−1]`; NaN where the reward is hidden from the Planner. */
  readonly rewards: Float64Array;
}

/** A reusable, allocation-free trace of one episode. */
export class EpisodeTrace implements TraceView {
  h = 0;
  readonly obs: Int32Array;
  readonly goals: Int32Array;
  readonly rewards: Float64Array;

  constructor(H: number) {
    this.obs = new Int32Array(H + 1);
    this.goals = new Int32Array(H);
    this.rewards = new Float64Array(H);
  }

  /** Begin an episode with the first observation o_1. */
  start(o1: number): void {
    this.h = 0;
    this.obs[0] = o1;
  }

  /** Append (g_h, r_h, o_{h+1}). */
  push(g: number, o: number, r: number): void {
    this.goals[this.h] = g;
    this.rewards[this.h] = r;
    this.h += 1;
    this.obs[this.h] = o;
  }
}

/** What the Actor reports after pursuing one subgoal (a mutable record the caller reuses). */
export interface ActorOutcome {
  /** Low-level state reached. */
  state: number;
  /** Primitive steps taken (≤ H_a). */
  steps: number;
  /** Whether the subgoal was achieved within H_a steps. */
  success: boolean;
}

/** The frozen goal-conditioned policy π_A(a | s, g), run for at most H_a primitive steps. */
export interface Actor {
  /** Pursue subgoal `g` from state `s` under latent `z` (whose dynamics P_z it follows); write the result into `out`. */
  pursue(s: number, g: number, z: number, rng: Rng, out: ActorOutcome): void;
}

/** O_rep(o | s): the low-level state (with z, whose emission it may depend on) as an observation index. */
export interface Reporter {
  report(s: number, z: number, rng: Rng): number;
}

export interface ParEnv {
  readonly name: string;
  /** ω: the task instruction a language Planner sees (fixed per environment here). */
  readonly task: string;
  /** Subgoals per episode. */
  readonly H: number;
  /** H_a: the Actor's primitive-step budget per subgoal. */
  readonly actorHorizon: number;

  // —— hypothesis side: functions of the public trace only ——
  /** |Z|. */
  readonly latentCount: number;
  /** P_Z (normalised). */
  readonly prior: Float64Array;
  /** Human-readable hypotheses, e.g. "the goal is room 3" (prompts that ask for a stated posterior, reports). */
  readonly latentNames: readonly string[];
  /** G, the language subgoals. */
  readonly subgoals: readonly string[];
  /** The Reporter's vocabulary. */
  readonly observations: readonly string[];
  /** Subgoals no expert takes whose outcome depends on z (π_exp "always probe"; the probe-rate series). */
  readonly probes: readonly number[];
  /** J*_z = J_z(π*_z): the optimal expected return, for regret. */
  optimalValue(z: number): number;
  /**
   * π*_z(· | τ_h): writes a distribution over G into `out` (length |G|). Returns the subgoal when the expert is
   * deterministic at τ_h, else −1 (lets samplers skip a categorical draw).
   */
  expert(z: number, trace: TraceView, out: Float64Array): number;
  /** Q*_z(τ_h, g): expected return of taking g now and the expert afterwards (Boltzmann experts, Variant B). */
  qValue(z: number, trace: TraceView, g: number): number;
  /** `out[z] = P_z(o | τ_h, g)` for every z (length |Z|): the observation factor of the exact posterior. */
  observationLikelihood(trace: TraceView, g: number, o: number, out: Float64Array): void;
  /** `out[z] = P_z(r | τ_h, g)`: the reward factor, for arms that see rewards (the control arm). */
  rewardLikelihood(trace: TraceView, g: number, r: number, out: Float64Array): void;

  // —— world side: sees z and the low-level state ——
  /** s_1 under latent z. */
  start(z: number, rng: Rng): number;
  readonly actor: Actor;
  readonly reporter: Reporter;
  /** r_h(s_{h+1}) ∈ [0, 1] for the subgoal taken at 0-based step `h`. */
  reward(z: number, s: number, h: number): number;
}

/** The result of one subgoal in the world (a mutable record `ParWorld` reuses). */
export interface StepOutcome {
  observation: number;
  reward: number;
  /** Primitive Actor steps. */
  steps: number;
  /** The Actor's success flag. */
  success: boolean;
}

/** One environment instance with a fixed latent z: runs the Actor, the Reporter and the reward. */
export class ParWorld {
  readonly env: ParEnv;
  readonly z: number;
  /** The low-level state (hidden from the Planner). */
  state = 0;
  private readonly rng: Rng;
  private readonly actorOut: ActorOutcome = { state: 0, steps: 0, success: false };
  private readonly out: StepOutcome = { observation: 0, reward: 0, steps: 0, success: false };

  constructor(env: ParEnv, z: number, rng: Rng) {
    if (!(Number.isInteger(z) && z >= 0 && z < env.latentCount)) {
      throw new RangeError(`ParWorld: latent ${z} outside 0..${env.latentCount - 1}`);
    }
    this.env = env;
    this.z = z;
    this.rng = rng;
  }

  /** Start an episode; returns o_1. */
  reset(): number {
    this.state = this.env.start(this.z, this.rng);
    return this.env.reporter.report(this.state, this.z, this.rng);
  }

  /** The Actor pursues `g` at 0-based step `h`; the Reporter describes where it ended. The record is reused. */
  step(g: number, h: number): StepOutcome {
    const env = this.env;
    env.actor.pursue(this.state, g, this.z, this.rng, this.actorOut);
    this.state = this.actorOut.state;
    const out = this.out;
    out.observation = env.reporter.report(this.state, this.z, this.rng);
    out.reward = env.reward(this.z, this.state, h);
    out.steps = this.actorOut.steps;
    out.success = this.actorOut.success;
    return out;
  }
}

/**
 * P_z(· | τ_h, g) over the whole observation vocabulary (length |O|) for one z: the posterior predictive's
 * building block (BAWM) and a check that the likelihoods normalise. O(|O|·|Z|).
 */
export function observationDistribution(
  env: ParEnv,
  trace: TraceView,
  g: number,
  z: number,
  out: Float64Array = new Float64Array(env.observations.length),
): Float64Array {
  const lik = new Float64Array(env.latentCount);
  for (let o = 0; o < env.observations.length; o++) {
    env.observationLikelihood(trace, g, o, lik);
    out[o] = lik[z] as number;
  }
  return out;
}

/** Draw z ~ P_Z. */
export function drawLatent(env: ParEnv, rng: Rng): number {
  return rng.categorical(env.prior);
}

/** Bhattacharyya coefficient Σ_o √(P(o)·Q(o)) of two distributions on the same support. */
export function bhattacharyya(p: ArrayLike<number>, q: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.sqrt((p[i] as number) * (q[i] as number));
  return s;
}

/** A uniform prior over n latents. */
export function uniformPrior(n: number): Float64Array {
  return new Float64Array(n).fill(1 / n);
}
