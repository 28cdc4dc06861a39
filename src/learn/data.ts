/**
 * Pretraining data for a planner model (Words-to-Actions §2, Variant A, DPT-style; spec §8 S1b "learned variant"):
 * each sample draws a latent z ~ P_Z, a number of past episodes, and a z-independent behaviour policy π^b that
 * plays them in the world of z; the context is the Planner's prompt for the next episode, written exactly as the
 * Planner writes it at deployment (`envs/theory/prompts.ts`, rendered by the llama.cpp provider's fallback chat
 * format), and the label is the expert's subgoal g ~ π*_z. Because π^b does not depend on z, it cancels out of the
 * posterior: the next-subgoal distribution that minimises the expected log-loss is exact BAIL,
 * Σ_z π*_z(g | τ)·P(z | context), which every sample carries along for evaluation.
 *
 * π^b [our design, after DPT's mixed context policies]: per sample a probe rate q ~ U(0, 1); each subgoal is a
 * probe (uniform over the environment's probes) with probability q, else uniform over G. So contexts range from
 * "never probed" — what naive BAIL produces at deployment — to "probed every time", what ε-greedy exploration adds.
 *
 * Everything is a pure function of (environment, seed, index): the same sample comes back whatever else is drawn.
 */
import { Rng } from "../core/rng.ts";
import { EpisodeTrace, type ParEnv, ParWorld } from "../envs/theory/par.ts";
import {
  type EpisodeText,
  type PlannerMemory,
  type PlannerStyle,
  plannerMessages,
  type StepText,
  subgoalAnswer,
} from "../envs/theory/prompts.ts";
import { renderFallbackChat } from "../llm/providers/llamacpp.ts";
import { FinitePosterior } from "../theory/posterior.ts";

export interface PromptFormat {
  readonly memory: PlannerMemory;
  readonly style: PlannerStyle;
}

/** The format the project's small planner models use: compact, with a summarised memory (short prompts). */
export const PRETRAIN_FORMAT: PromptFormat = { memory: "summary", style: "compact" };

export interface PretrainOptions {
  /** Past episodes per context: uniform on 0..maxEpisodes. */
  readonly maxEpisodes: number;
  readonly format?: PromptFormat;
}

export interface PretrainSample {
  readonly index: number;
  /** The latent the sample was drawn under. */
  readonly z: number;
  readonly episodes: number;
  /** The rendered prompt, ending where the model's answer starts. */
  readonly prompt: string;
  /** The label subgoal (index into G) and its answer text. */
  readonly label: number;
  readonly answer: string;
  /** Exact BAIL at this context: Σ_z π*_z(· | τ)·P(z | context), over G. */
  readonly bail: Float64Array;
}

/**
 * The exact Variant-A posterior of a memory and of the current episode's steps so far, and BAIL at the current
 * trace: only observation factors P_z(o′ | τ, g) (the behaviour policy cancels), then the posterior-weighted
 * mixture of the experts.
 */
export function exactBail(
  env: ParEnv,
  history: readonly HistoryEpisode[],
  current: EpisodeTrace,
): Float64Array {
  const posterior = new FinitePosterior(env.prior);
  const lik = new Float64Array(env.latentCount);
  const trace = new EpisodeTrace(env.H);
  const episodes: HistoryEpisode[] = [...history, currentSteps(current)];
  for (const e of episodes) {
    trace.start(e.observations[0] as number);
    e.subgoals.forEach((g, h) => {
      env.observationLikelihood(trace, g, e.observations[h + 1] as number, lik);
      posterior.update((z) => lik[z] as number);
      trace.push(g, e.observations[h + 1] as number, Number.NaN);
    });
  }
  const probs = posterior.probs();
  const bail = new Float64Array(env.subgoals.length);
  const expert = new Float64Array(env.subgoals.length);
  for (let z = 0; z < env.latentCount; z++) {
    const w = probs[z] as number;
    if (w === 0) continue;
    env.expert(z, current, expert);
    for (let g = 0; g < bail.length; g++) bail[g] = (bail[g] as number) + w * (expert[g] as number);
  }
  return bail;
}

/** One past episode as indices: o_1 … o_{H+1} and g_1 … g_H. */
export interface HistoryEpisode {
  readonly observations: readonly number[];
  readonly subgoals: readonly number[];
}

/** The memory as the Planner keeps it (texts). */
export function episodeTexts(env: ParEnv, history: readonly HistoryEpisode[]): EpisodeText[] {
  return history.map((e, i) => ({
    index: i + 1,
    steps: e.subgoals.map(
      (g, h): StepText => ({
        observation: env.observations[e.observations[h] as number] ?? "",
        subgoal: env.subgoals[g] ?? "",
      }),
    ),
    outcome: env.observations[e.observations[e.subgoals.length] as number] ?? "",
  }));
}

/** The steps of an episode in progress, as indices (o_1 … o_{h+1}, g_1 … g_h). */
function currentSteps(current: EpisodeTrace): HistoryEpisode {
  return {
    observations: Array.from(current.obs.subarray(0, current.h + 1)),
    subgoals: Array.from(current.goals.subarray(0, current.h)),
  };
}

/** The prompt the Planner shows a model before subgoal `current.h + 1` of episode `history.length + 1`. */
export function plannerPrompt(
  env: ParEnv,
  history: readonly HistoryEpisode[],
  current: EpisodeTrace,
  format: PromptFormat,
): string {
  const memory = episodeTexts(env, history);
  const messages = plannerMessages({
    env,
    memory,
    total: memory.length,
    current: Array.from(
      current.goals.subarray(0, current.h),
      (g, h): StepText => ({
        observation: env.observations[current.obs[h] as number] ?? "",
        subgoal: env.subgoals[g] ?? "",
      }),
    ),
    observation: env.observations[current.obs[current.h] as number] ?? "",
    episode: memory.length + 1,
    seesReward: false,
    memoryMode: format.memory,
    style: format.style,
  });
  return renderFallbackChat(messages);
}

export function pretrainSample(
  env: ParEnv,
  seed: number | string,
  index: number,
  options: PretrainOptions,
): PretrainSample {
  const rng = new Rng(seed).stream(`pretrain ${env.name} #${index}`);
  const z = rng.categorical(env.prior);
  const world = new ParWorld(env, z, rng.stream("world"));
  const episodes = rng.int(options.maxEpisodes + 1);
  const q = rng.float();
  const G = env.subgoals.length;
  const behaviour = (): number =>
    env.probes.length > 0 && rng.float() < q
      ? (env.probes[rng.int(env.probes.length)] as number)
      : rng.int(G);
  const history: HistoryEpisode[] = [];
  for (let t = 0; t < episodes; t++) {
    const observations = [world.reset()];
    const subgoals: number[] = [];
    for (let h = 0; h < env.H; h++) {
      const g = behaviour();
      subgoals.push(g);
      observations.push(world.step(g, h).observation);
    }
    history.push({ observations, subgoals });
  }
  // The context ends before subgoal h of the next episode, h uniform over the episode's steps (only when H > 1:
  // the probe trap's samples draw nothing more).
  const current = new EpisodeTrace(env.H);
  current.start(world.reset());
  const stop = env.H > 1 ? rng.int(env.H) : 0;
  for (let h = 0; h < stop; h++) {
    const g = behaviour();
    current.push(g, world.step(g, h).observation, Number.NaN);
  }
  const expert = new Float64Array(G);
  const deterministic = env.expert(z, current, expert);
  const label = deterministic >= 0 ? deterministic : rng.categorical(expert);
  return {
    index,
    z,
    episodes,
    prompt: plannerPrompt(env, history, current, options.format ?? PRETRAIN_FORMAT),
    label,
    answer: subgoalAnswer(env.subgoals[label] ?? ""),
    bail: exactBail(env, history, current),
  };
}
