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
