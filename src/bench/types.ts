/**
 * The data model of a run: what `run.sqlite`, `manifest.json` and `summary.json` hold, and what the report reads.
 * A run is a grid of episodes (agent × environment instance × seed) under one config.
 */
import type { SearchNode } from "../core/episode.ts";
import type { Capabilities } from "../llm/types.ts";

export interface RunConfig {
  readonly env: string;
  readonly agent: string;
  /** Model spec string, or `exact` for the exact twins. */
  readonly model: string;
  readonly split: string;
  /** Environment instances, in the split's order (after `--episodes` limited them). */
  readonly instances: readonly string[];
  readonly seeds: readonly number[];
  readonly concurrency: number;
  /** LLM calls in flight at once per endpoint (default 8); raise it with many concurrent episodes. */
  readonly llmConcurrency?: number;
  readonly maxSteps: number;
  readonly budgetUsd?: number;
  /** Per-attempt timeout of every model call in ms (`--llm-timeout`); absent: the provider's default, 60 s. */
  readonly llmTimeoutMs?: number;
  /** USD per million tokens by model (from `--prices`), kept so a resumed run prices calls the same way. */
  readonly prices: Readonly<
    Record<string, { readonly inputPerMTok: number; readonly outputPerMTok: number }>
  >;
  /** LLM response cache: file and mode (`off` is `--no-cache`). */
  readonly cache: { readonly path: string; readonly mode: "read-write" | "cache-only" | "off" };
  /** Where benchmark data is read from. */
  readonly dataDir: string;
  /** Options of the environment and agent (e.g. opponent style, breadth), as resolved. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface Manifest {
  readonly runId: string;
  readonly createdAt: string;
  readonly bayesact: string;
  readonly node: string;
  readonly platform: string;
  /** `git rev-parse HEAD` of the working directory, when it is a git checkout. */
  readonly gitCommit: string | null;
  readonly config: RunConfig;
  /** sha256 of every data file the environment read, by path. */
  readonly dataFiles: Readonly<Record<string, string>>;
  /** Probed capabilities per model spec (empty on the exact twins). */
  readonly models: Readonly<Record<string, Capabilities>>;
}

export type EpisodeStatus = "running" | "done";

export interface EpisodeRecord {
  /** `${instance}#${seed}`: unique in a run, stable across resumes. */
  readonly id: string;
  /** Position in the grid (instance-major, then seed). */
  readonly index: number;
  readonly instance: string;
  readonly seed: number;
  readonly status: EpisodeStatus;
  readonly success: boolean;
  readonly totalReturn: number;
  readonly steps: number;
  /** Why the episode stopped: `done`, `max_steps`, `aborted`, or `error:<category>` when the agent failed. */
  readonly end: string;
  readonly llmCalls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly cacheHits: number;
  /** Retried attempts of the episode's calls, the time waited before them, and attempts that timed out. */
  readonly retries: number;
  readonly retryWaitMs: number;
  readonly timeouts: number;
  readonly wallMs: number;
  /** The environment's own per-episode series (e.g. solved by try k), averaged into `summary.curves`. */
  readonly curves?: Readonly<Record<string, readonly number[]>>;
}

export interface StepRecord {
  readonly episodeId: string;
  readonly t: number;
  /** The observation the agent acted on, as text (`Env.render()` before the action). */
  readonly observation: string;
  readonly action: string;
  readonly reward: number;
  readonly feedback: string;
  readonly done: boolean;
  /** The observation after the action, as text (so the last step's outcome is journaled too). */
  readonly nextObservation: string;
  readonly info?: Readonly<Record<string, unknown>>;
}

export interface LlmCallRecord {
  readonly episodeId: string;
  /** The step during which the call was made. */
  readonly t: number;
  /** Order of the call within the episode. */
  readonly seq: number;
  /** `requestKey` of the request: identical requests share it. */
  readonly requestHash: string;
  readonly model: string;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  /** The choices' texts, in sample order (empty when the call failed). */
  readonly responses: readonly string[];
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly latencyMs: number;
  readonly costUsd: number;
  readonly cacheHits: number;
  readonly samples: number;
  /** Attempts after the first (0 for a cache hit, and in runs journaled before these columns existed). */
  readonly retries: number;
  /** Time spent in backoff and retry-after waits before those retries. */
  readonly retryWaitMs: number;
  /** Attempts that ended in category `timeout`, the last one included. */
  readonly timeouts: number;
  readonly ok: boolean;
  readonly errorCategory?: string;
}

export interface TreeRecord {
  readonly episodeId: string;
  readonly t: number;
  readonly nodes: readonly SearchNode[];
  /** Id of the root child the agent acted on, when known. */
  readonly chosen: number | null;
}

/** A 95% interval. */
export interface Interval {
  readonly low: number;
  readonly high: number;
}

export interface Summary {
  readonly env: string;
  readonly agent: string;
  readonly model: string;
  readonly split: string;
  /** The run's `--opt` options (e.g. `roles: "imperfect"`), which can change what `model` means. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly episodes: number;
  readonly success_rate: number;
  /** Wilson score interval for the success rate. */
  readonly success_ci95: Interval;
  readonly mean_return: number;
  readonly mean_steps: number;
  readonly llm: {
    readonly calls: number;
    readonly input_tokens: number;
    readonly output_tokens: number;
    readonly cost_usd: number;
    readonly cache_hits: number;
    /** Retried attempts, ms waited before them, attempts that timed out (absent in summaries of older versions). */
    readonly retries?: number;
    readonly retry_wait_ms?: number;
    readonly timeouts?: number;
  };
  /** Wall time of the run in seconds (the only field that differs between identical runs). */
  readonly wall_s: number;
  /** Fraction of episodes solved within t steps, t = 1 … maxSteps (index 0 is t = 1). */
  readonly success_by_step: readonly number[];
  /** Results per environment instance, in the split's order. */
  readonly per_instance: readonly {
    readonly instance: string;
    readonly episodes: number;
    readonly success_rate: number;
    readonly mean_return: number;
    readonly mean_steps: number;
  }[];
  /** Environment-specific curves, e.g. `{ "score_by_game": [...] }`. */
  readonly curves: Readonly<Record<string, readonly number[]>>;
}

/** Everything the report needs from one run folder. */
export interface RunData {
  readonly dir: string;
  readonly manifest: Manifest;
  readonly summary: Summary;
  readonly episodes: readonly EpisodeRecord[];
  readonly steps: (episodeId: string) => readonly StepRecord[];
  readonly trees: (episodeId: string) => readonly TreeRecord[];
  readonly llmCalls: (episodeId: string) => readonly LlmCallRecord[];
}
