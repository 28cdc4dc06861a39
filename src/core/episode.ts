import type { Agent, EpisodeContext } from "./agent.ts";
import type { Env } from "./env.ts";
import type { Emitter } from "./events.ts";
import { Rng } from "./rng.ts";
import type { EpisodeEnd, Step, Trajectory } from "./trajectory.ts";

/**
 * One node of a planner's search tree, as journaled and shown in the report's tree explorer. Node 0 is the root
 * (the real current state); `parent` is the parent's `id`.
 */
export interface SearchNode {
  readonly id: number;
  readonly parent: number | null;
  /** The action leading here from the parent (text), null for the root. */
  readonly action: string | null;
  /** The state the world model predicted here (text). */
  readonly state: string;
  /** The planner's value estimate (critic, backed-up value or Q), null when not evaluated. */
  readonly value: number | null;
  readonly visits: number;
  /** Predicted reward on the edge into this node. */
  readonly reward?: number;
}

/** Events of the agent–environment loop. */
export interface CoreEvents {
  [key: string]: unknown;
  "episode.start": { episodeId: string; env: string; agent: string; seed: number };
  step: { episodeId: string; step: Step<unknown, unknown> };
  "episode.end": { episodeId: string; trajectory: Trajectory<unknown, unknown> };
  /** A planner finished its search for step `t` and chose `chosen` (the root's child it will act on). */
  "planner.tree": { episodeId: string; t: number; nodes: readonly SearchNode[]; chosen: number | null };
}

export interface RunEpisodeOptions {
  seed: number;
  /** Hard cap on agent actions; the episode ends with `end: "max_steps"` when reached. */
  maxSteps: number;
  episodeId?: string;
  signal?: AbortSignal;
  events?: Emitter<CoreEvents>;
}

/**
 * Run one episode: reset, then act / step / observe until the environment says done or `maxSteps` is reached.
 *
 * The environment is reset with `seed`; the agent gets `new Rng(seed).stream("agent")`, so agent and environment
 * randomness never interfere. An abort ends the episode with `end: "aborted"` after the current step.
 */
export async function runEpisode<O, A>(
  env: Env<O, A>,
  agent: Agent<O, A>,
  options: RunEpisodeOptions,
): Promise<Trajectory<O, A>> {
  const { seed, maxSteps } = options;
  const episodeId = options.episodeId ?? `${env.name}/${agent.name}/${seed}`;
  const ctx: EpisodeContext = {
    episodeId,
    seed,
    rng: new Rng(seed).stream("agent"),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.events ? { events: options.events } : {}),
  };
  options.events?.emit("episode.start", { episodeId, env: env.name, agent: agent.name, seed });
  let observation: O = await env.reset(seed);
  await agent.reset(ctx);
  const steps: Step<O, A>[] = [];
  let totalReturn = 0;
  let success = false;
  let end: EpisodeEnd = "max_steps";
  for (let t = 0; t < maxSteps; t++) {
    if (options.signal?.aborted) {
      end = "aborted";
      break;
    }
    const action = await agent.act(observation, env.legalActions(), ctx);
    const result = await env.step(action);
    const step: Step<O, A> = {
      t,
      observation,
      action,
      actionText: env.formatAction(action),
      reward: result.reward,
      nextObservation: result.observation,
      done: result.done,
      feedback: result.feedback,
      ...(result.info ? { info: result.info } : {}),
    };
    steps.push(step);
    totalReturn += result.reward;
    options.events?.emit("step", { episodeId, step });
    await agent.observe?.(step, ctx);
    observation = result.observation;
    if (result.done) {
      success = result.success ?? false;
      end = "done";
      break;
    }
  }
  const trajectory: Trajectory<O, A> = {
    env: env.name,
    agent: agent.name,
    seed,
    steps,
    totalReturn,
    success,
    end,
  };
  options.events?.emit("episode.end", { episodeId, trajectory });
  return trajectory;
}
