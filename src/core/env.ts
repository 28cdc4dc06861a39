import type { ParseResult } from "./errors.ts";

/** What one environment step returns. */
export interface StepResult<O> {
  readonly observation: O;
  readonly reward: number;
  /** The episode has ended (goal reached, lost, or the environment's own step limit). */
  readonly done: boolean;
  /** Set when `done`: whether the episode counts as solved (benchmarks report success rates). */
  readonly success?: boolean;
  /** The environment's feedback in words, as the papers show it to the agent (may be empty). */
  readonly feedback: string;
  /** Environment-specific details (e.g. which plan line failed); JSON-serialisable. */
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * An environment with observations `O` and actions `A`.
 *
 * `reset` and `step` are async because some environments call out (an LLM opponent, a tool server). Planners
 * that need a fast synchronous simulator use the environment's exact *model* twin, not the live environment.
 */
export interface Env<O, A> {
  /** Stable identifier, e.g. `tictactoe` or `game24`. */
  readonly name: string;
  /** Start a new episode; the seed fixes every random choice the environment makes in it. */
  reset(seed: number): Promise<O>;
  step(action: A): Promise<StepResult<O>>;
  /** The legal actions in the current state, or `undefined` where they are not enumerable (free-text actions). */
  legalActions(): readonly A[] | undefined;
  /** The current state as text, for prompts and logs. */
  render(): string;
  /** True once the current episode has ended. */
  readonly terminal: boolean;
  /** Canonical text of an action (what the journal stores and prompts show). */
  formatAction(action: A): string;
  /** Parse untrusted text (e.g. model output) into an action, with a named error category on failure. */
  parseAction(text: string): ParseResult<A>;
}
