/** core/: the vocabulary every other layer speaks. Imports nothing from above. */
export type { Agent, EpisodeContext } from "./agent.ts";
export type { Env, StepResult } from "./env.ts";
export { type CoreEvents, type RunEpisodeOptions, runEpisode, type SearchNode } from "./episode.ts";
export { BayesactError, fail, ok, type ParseResult, UserError } from "./errors.ts";
export { Emitter, type EventMap, type Listener } from "./events.ts";
export { Memory } from "./memory.ts";
export { Rng } from "./rng.ts";
export type {
  Critic,
  Elite,
  Experience,
  Learner,
  Prediction,
  RoleContext,
  Roles,
  WorldModel,
} from "./roles.ts";
export type { EpisodeEnd, Step, Trajectory } from "./trajectory.ts";
