import type { Rng } from "./rng.ts";

/**
 * The roles an LLM plays in RAFA and Words-to-Actions (DESIGN.md table). Each has an LLM implementation and an
 * exact twin behind the same interface; environments ship their exact twins, agents only see these interfaces.
 * All are async because the LLM implementations are.
 */
export interface RoleContext {
  readonly rng: Rng;
  readonly signal?: AbortSignal;
}

/** Proposer ("elite"): up to `breadth` candidate actions in a state. */
export interface Elite<S, A> {
  propose(state: S, breadth: number, ctx: RoleContext): Promise<readonly A[]>;
}

export interface Prediction<S> {
  readonly state: S;
  readonly reward: number;
  readonly done: boolean;
}

/** World model: the predicted next state and reward of taking `action` in `state`. */
export interface WorldModel<S, A> {
  predict(state: S, action: A, ctx: RoleContext): Promise<Prediction<S>>;
}

/** Critic: the value of a state (expected future return from it). */
export interface Critic<S> {
  value(state: S, ctx: RoleContext): Promise<number>;
}

export interface Roles<S, A> {
  readonly elite: Elite<S, A>;
  readonly model: WorldModel<S, A>;
  readonly critic: Critic<S>;
}

/**
 * One real transition in RAFA's memory buffer D_t: what the agent saw, did, expected and got. Learners turn a
 * prefix of these (D_{t_k}, frozen at the last switch) into the roles used for planning.
 */
export interface Experience<S, A> {
  /** Step index within the episode (0-based). */
  readonly t: number;
  /** The planner state the agent acted from. */
  readonly state: S;
  /** The planner action whose consequences were observed (the plan's first action). */
  readonly action: A;
  /** The environment action's text (for Game of 24, possibly the whole submitted plan). */
  readonly actionText: string;
  /** What the model of that epoch predicted for (state, action), when it was asked. */
  readonly predicted?: Prediction<S>;
  /** The planner state observed after acting. */
  readonly next: S;
  readonly reward: number;
  readonly done: boolean;
  readonly feedback: string;
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * The learner (RAFA spec §1.1): turns the memory buffer into the roles used for planning. With an LLM it writes
 * reflections into the prompts; its exact twin is a posterior update; an imperfect twin corrects its corrupted
 * answers with what the feedback revealed.
 */
export interface Learner<S, A> {
  learn(memory: readonly Experience<S, A>[], ctx: RoleContext): Roles<S, A> | Promise<Roles<S, A>>;
  /** Posterior entropy (nats) given a memory, for entropy-drop switching. */
  entropy?(memory: readonly Experience<S, A>[]): number;
}
