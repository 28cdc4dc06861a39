/**
 * The vocabulary every planner in `reason/` shares: what a search returns (`PlanResult`), what it cost
 * (`SearchStats`), the options every planner reads (`SearchOptions`), and two optional extensions of the role
 * interfaces in `core/roles.ts` that a role may implement to be asked more cheaply.
 *
 * The split follows llm-reasoners: the roles are the world model and search config (elite = actions, model =
 * step + reward + terminal, critic = value), and each planner is a search algorithm over any `Roles<S, A>`.
 */
import type { SearchNode } from "../core/episode.ts";
import { BayesactError } from "../core/errors.ts";
import type { Critic, Elite, RoleContext } from "../core/roles.ts";

/** An action the elite proposes with its prior weight (≥ 0; the planner normalises over the siblings). */
export interface Proposal<A> {
  readonly action: A;
  readonly prior: number;
}

/**
 * An elite that also weighs its proposals, e.g. by an LLM's log-likelihood of each action text (RAP's r₀ =
 * softmax of the log-likelihoods). MCTS uses the weights as priors; without this method priors are uniform.
 */
export interface PriorElite<S, A> extends Elite<S, A> {
  proposeWithPriors(state: S, breadth: number, ctx: RoleContext): Promise<readonly Proposal<A>[]>;
}

/**
 * A critic that draws `n` value samples in one request (an LLM's `n` parameter, ToT's `n_evaluate_sample`).
 * Without this method a planner that wants n samples calls `value` n times.
 */
export interface SampledCritic<S> extends Critic<S> {
  values(state: S, n: number, ctx: RoleContext): Promise<readonly number[]>;
}

export function hasPriors<S, A>(elite: Elite<S, A>): elite is PriorElite<S, A> {
  return typeof (elite as Partial<PriorElite<S, A>>).proposeWithPriors === "function";
}

export function hasSamples<S>(critic: Critic<S>): critic is SampledCritic<S> {
  return typeof (critic as Partial<SampledCritic<S>>).values === "function";
}

/** What one search (or, for a persistent MCTS tree, one call) asked of the roles. */
export interface SearchStats {
  /** Requests sent to the elite. */
  readonly eliteCalls: number;
  /** Requests sent to the world model. */
  readonly modelCalls: number;
  /** Requests sent to the critic (a batched request for n samples counts once). */
  readonly criticCalls: number;
  /** Value samples received from the critic. */
  readonly criticSamples: number;
  /** Distinct states (by `criticKey`) the critic valued. */
  readonly statesValued: number;
  /** Distinct states (by `stateKey`) the elite was asked about. */
  readonly statesExpanded: number;
  /** Questions answered from the search's memo tables instead of asking a role again. */
  readonly cacheHits: number;
  /** `cacheHits` by role. */
  readonly hits: { readonly elite: number; readonly model: number; readonly critic: number };
}

/** What every planner returns. */
export interface PlanResult<A> {
  /** The first action of the best plan: the one to execute now ("act for now"). Undefined when none exists. */
  readonly action: A | undefined;
  /** The best action sequence found. */
  readonly plan: readonly A[];
  /** Its estimated return (rewards along the plan plus the discounted critic value where it stops). */
  readonly value: number;
  /** The search tree: node 0 is the root (the state the search started from). */
  readonly nodes: readonly SearchNode[];
  /** The id of the root's child on the best plan (the `chosen` of a `planner.tree` event). */
  readonly chosen: number | null;
  readonly stats: SearchStats;
}

/** Options every planner reads. */
export interface SearchOptions<S, A> {
  /** Discount γ on later rewards and on the critic's value (default 1). */
  readonly gamma?: number;
  /**
   * Identity of a state for the memo tables: states with equal keys must be interchangeable for every role
   * (same proposals, same predictions). Default: `structuralKey` (canonical JSON with sorted keys; bigint-safe).
   */
  readonly stateKey?: (state: S) => string;
  /**
   * Identity of a state for the critic: the part of the state the critic reads (Game of 24: the numbers left,
   * while `stateKey` must also hold the committed steps that the answer line spells). Default: `stateKey`.
   */
  readonly criticKey?: (state: S) => string;
  /** Identity of an action (default `structuralKey`); duplicate proposals in one state are asked about once. */
  readonly actionKey?: (action: A) => string;
  /** Critic samples per valued state, averaged (default 1). */
  readonly valueSamples?: number;
  /** Text of a state and of an action for the search tree (default: their keys). */
  readonly describeState?: (state: S) => string;
  readonly formatAction?: (action: A) => string;
}

/** Thrown when `ctx.signal` aborts a search; no partial result is returned. */
export class SearchAborted extends BayesactError {
  constructor() {
    super("aborted", "the search was aborted");
    this.name = "SearchAborted";
  }
}

export function throwIfAborted(ctx: RoleContext): void {
  if (ctx.signal?.aborted) throw new SearchAborted();
}

/** A positive integer count option (or Infinity where "all" makes sense), with a clear error otherwise. */
export function checkCount(name: string, value: number, allowInfinity = false): number {
  const okInfinity = allowInfinity && value === Number.POSITIVE_INFINITY;
  if (!okInfinity && !(Number.isInteger(value) && value >= 1))
    throw new RangeError(
      `${name} must be a positive integer${allowInfinity ? " or Infinity" : ""}, got ${value}`,
    );
  return value;
}

export function checkGamma(gamma: number): number {
  if (!(gamma >= 0 && gamma <= 1)) throw new RangeError(`gamma must be in [0, 1], got ${gamma}`);
  return gamma;
}
