/**
 * A real language model as the Words-to-Actions Planner (spec §8, "Real-agent mapping"): the prompt holds the task
 * ω, the memory of past episodes as (o_h, g_h) lines with each episode's outcome, the current partial episode, and
 * an instruction to choose ONE subgoal from the listed G. The answer comes back as structured output,
 * `{"subgoal": <enum of G>}`, so the model never has to produce free text and the answer is always a member of G.
 *
 * The ε-greedy switch stays outside (wrap this in `EpsilonGreedyPlanner`); exploratory episodes still enter the
 * memory through `observe`/`endEpisode`. A model that fails the schema also after the repair round (or whose answer
 * is cut at `maxTokens`) does not stop the experiment: the step takes a uniformly random subgoal and the failure is
 * counted in `stats()`. Every other failure (unreachable server, aborted, replay miss, prompt too long) propagates:
 * a silent fallback there would misreport what the model did.
 */
import { z } from "zod";
import type { Rng } from "../core/rng.ts";
import type {
  EpisodeText,
  LanguageTask,
  PlannerMemory,
  PlannerStyle,
  StepText,
} from "../envs/theory/prompts.ts";
import { plannerMessages } from "../envs/theory/prompts.ts";
import { LlmError } from "../llm/errors.ts";
import { generateObject } from "../llm/structured.ts";
import type { LanguageModel } from "../llm/types.ts";
import type { Planner, PlannerStats, TraceView } from "./planners.ts";

export {
  type EpisodeText,
  type LanguageTask,
  type PlannerMemory,
  type PlannerStyle,
  plannerMessages,
  type StepText,
  subgoalAnswer,
  summaryLines,
} from "../envs/theory/prompts.ts";

export interface LlmPlannerOptions {
  readonly model: LanguageModel;
  readonly env: LanguageTask;
  /** The planner's stream: request seeds and fallback subgoals. */
  readonly rng: Rng;
  /** Past episodes shown (the most recent ones); all when absent. */
  readonly contextEpisodes?: number;
  /**
   * How the memory is written: `episodes` (default) lists every past episode step by step; `summary` counts how
   * often each (observation, subgoal) led to each next observation — Krishnamurthy et al.'s (2024) summarised
   * history, which keeps the prompt short for a small model. For environments whose observation likelihood depends
   * on the trace only through the last observation and subgoal (the probe trap, the gridworld) the counts are a
   * sufficient statistic of the Variant-A posterior, so exact BAIL is the same under both.
   */
  readonly memory?: PlannerMemory;
  /** `full` (default): a system message and spelled-out instructions; `compact`: the short form a small model is pretrained on. */
  readonly style?: PlannerStyle;
  /** Show each past episode's return (the control arm). Default false: rewards are hidden from the Planner. */
  readonly seesReward?: boolean;
  /** Sampling temperature (default 1: g ~ LLM(· | prompt), the object BAIL describes). */
  readonly temperature?: number;
  /** Output token cap (default 200). */
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
  readonly name?: string;
}

/** The failures answered with a uniform subgoal; everything else propagates. */
const MODEL_FAILURES: ReadonlySet<string> = new Set(["schema_violation", "truncated"]);

export class LlmPlanner implements Planner {
  readonly name: string;
  readonly seesReward: boolean;
  private readonly options: LlmPlannerOptions;
  private readonly schema: z.ZodType<{ subgoal: string }>;
  private readonly index: ReadonlyMap<string, number>;
  private readonly memory: EpisodeText[] = [];
  private current: StepText[] = [];
  private episodes = 0;
  private t = 0;
  private readonly counters: PlannerStats = {
    calls: 0,
    failures: 0,
    repaired: 0,
    inputTokens: 0,
    outputTokens: 0,
  };

  constructor(options: LlmPlannerOptions) {
    const G = options.env.subgoals;
    if (G.length === 0) throw new RangeError("LlmPlanner: the subgoal set is empty");
    if (new Set(G).size !== G.length) throw new RangeError("LlmPlanner: subgoals must be distinct");
    if (options.contextEpisodes !== undefined && !(options.contextEpisodes >= 0)) {
      throw new RangeError("LlmPlanner: contextEpisodes must be ≥ 0");
    }
    this.options = options;
    this.seesReward = options.seesReward ?? false;
    this.name = options.name ?? `llm${this.seesReward ? " (rewards visible)" : ""}`;
    this.schema = z.strictObject({ subgoal: z.enum(G as [string, ...string[]]) });
    this.index = new Map(G.map((g, i) => [g, i]));
  }

  beginEpisode(t: number): void {
    this.t = t;
    this.current = [];
  }

  async act(trace: TraceView): Promise<number> {
    const { env, model, rng } = this.options;
    const observation = env.observations[trace.obs[trace.h] as number] ?? "";
    const messages = plannerMessages({
      env,
      memory: this.memory,
      total: this.episodes,
      current: this.current,
      observation,
      episode: this.t,
      seesReward: this.seesReward,
      ...(this.options.memory ? { memoryMode: this.options.memory } : {}),
      ...(this.options.style ? { style: this.options.style } : {}),
    });
    // Drawn before the call so the stream advances the same way whether the call succeeds or fails.
    const seed = rng.nextUint32() >>> 1;
    this.counters.calls += 1;
    try {
      const result = await generateObject(model, {
        messages,
        schema: this.schema,
        name: "subgoal",
        temperature: this.options.temperature ?? 1,
        maxTokens: this.options.maxTokens ?? 200,
        seed,
        ...(this.options.signal ? { signal: this.options.signal } : {}),
      });
      this.counters.inputTokens += result.usage.inputTokens;
      this.counters.outputTokens += result.usage.outputTokens;
      if (result.repaired) this.counters.repaired += 1;
      const g = this.index.get(result.object.subgoal);
      if (g !== undefined) return g;
      // Unreachable after validation against the enum; treated as a failure rather than trusted.
      this.counters.failures += 1;
      return rng.int(env.subgoals.length);
    } catch (error) {
      if (!(error instanceof LlmError) || !MODEL_FAILURES.has(error.category)) throw error;
      this.counters.failures += 1;
      this.counters.inputTokens += error.usage?.inputTokens ?? 0;
      this.counters.outputTokens += error.usage?.outputTokens ?? 0;
      return rng.int(env.subgoals.length);
    }
  }

  observe(trace: TraceView, g: number): void {
    const { env } = this.options;
    this.current.push({
      observation: env.observations[trace.obs[trace.h] as number] ?? "",
      subgoal: env.subgoals[g] ?? "",
    });
  }

  endEpisode(trace: TraceView): void {
    const { env } = this.options;
    this.episodes += 1;
    let reward: number | undefined;
    if (this.seesReward) {
      reward = 0;
      for (let h = 0; h < trace.h; h++) reward += trace.rewards[h] as number;
    }
    this.memory.push({
      index: this.episodes,
      steps: this.current,
      outcome: env.observations[trace.obs[trace.h] as number] ?? "",
      ...(reward === undefined ? {} : { reward }),
    });
    const window = this.options.contextEpisodes;
    if (window !== undefined) while (this.memory.length > window) this.memory.shift();
    this.current = [];
  }

  stats(): PlannerStats {
    return { ...this.counters };
  }
}
