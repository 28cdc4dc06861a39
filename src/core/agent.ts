import type { CoreEvents } from "./episode.ts";
import type { Emitter } from "./events.ts";
import type { Rng } from "./rng.ts";
import type { Step } from "./trajectory.ts";

/** What an agent gets for one episode. */
export interface EpisodeContext {
  readonly episodeId: string;
  readonly seed: number;
  /** The agent's own random stream for this episode (derived from the seed, independent of the environment's). */
  readonly rng: Rng;
  readonly signal?: AbortSignal;
  readonly events?: Emitter<CoreEvents>;
}

/** An agent: chooses actions from observations and learns from the steps it sees. */
export interface Agent<O, A> {
  readonly name: string;
  /** Called before each episode. Memory that should persist across episodes is the agent's choice. */
  reset(ctx: EpisodeContext): void | Promise<void>;
  /** Choose the next action. `legal` is `Env.legalActions()` (undefined when not enumerable). */
  act(observation: O, legal: readonly A[] | undefined, ctx: EpisodeContext): Promise<A>;
  /** See the outcome of the action just taken (reward, feedback, next observation). */
  observe?(step: Step<O, A>, ctx: EpisodeContext): void | Promise<void>;
}
