/** One transition s_t --a_t--> s_{t+1} with its reward and feedback: the unit the run store journals. */
export interface Step<O, A> {
  readonly t: number;
  readonly observation: O;
  readonly action: A;
  /** `Env.formatAction(action)`. */
  readonly actionText: string;
  readonly reward: number;
  readonly nextObservation: O;
  readonly done: boolean;
  readonly feedback: string;
  readonly info?: Readonly<Record<string, unknown>>;
}

/** Why an episode stopped. */
export type EpisodeEnd = "done" | "max_steps" | "aborted";

export interface Trajectory<O, A> {
  readonly env: string;
  readonly agent: string;
  readonly seed: number;
  readonly steps: readonly Step<O, A>[];
  /** Undiscounted sum of rewards. */
  readonly totalReturn: number;
  /** The environment's verdict at the end; false when the episode did not finish. */
  readonly success: boolean;
  readonly end: EpisodeEnd;
}
