/**
 * The one interface every language model implements (OpenAI-compatible HTTP, local GGUF, replay, mocks) and
 * every middleware wraps. Types only; no behaviour.
 */

export type ChatRole = "system" | "user" | "assistant";

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

/** A JSON Schema object (draft 2020-12 subset that OpenAI strict mode and GBNF grammars understand). */
export type JsonSchema = { readonly [key: string]: unknown };

/** Ask for output that validates against a JSON schema. */
export interface ResponseFormat {
  readonly type: "json_schema";
  /** Schema name sent to servers that want one (letters, digits, `_`, `-`). */
  readonly name: string;
  readonly schema: JsonSchema;
}

export interface GenerateRequest {
  readonly messages: readonly ChatMessage[];
  /** Number of samples (default 1). Providers without native n > 1 issue n requests. */
  readonly n?: number;
  /**
   * Index of the first sample (default 0): samples are numbered sampleIndex … sampleIndex + n − 1. The cache keys
   * each sample by its index, so a tree search asking again for "sample 3 of this prompt" replays exactly, and
   * asking for fresh samples means asking for new indexes.
   */
  readonly sampleIndex?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
  readonly seed?: number;
  /** Structured output: the provider uses native JSON schema, a grammar, or nothing (see `structured.ts`). */
  readonly responseFormat?: ResponseFormat;
  /** Return per-token log-probabilities, with this many alternatives per position (0 = only the chosen token). */
  readonly logprobs?: { readonly top: number };
  readonly signal?: AbortSignal;
  /** Per-attempt timeout in milliseconds (the provider's default applies when absent). */
  readonly timeoutMs?: number;
}

export interface TokenLogprob {
  readonly token: string;
  readonly logprob: number;
  /** The `top` most likely alternatives at this position (may include the chosen token). */
  readonly top?: readonly { readonly token: string; readonly logprob: number }[];
}

export type FinishReason = "stop" | "length" | "content_filter" | "tool_calls" | "unknown";

export interface Choice {
  /** Sample index (see `GenerateRequest.sampleIndex`). */
  readonly index: number;
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly logprobs?: readonly TokenLogprob[];
}

export interface Usage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** How a structured-output request was satisfied. */
export type StructuredMode = "native" | "grammar" | "prompt";

export interface GenerateResult {
  /** The model that answered (server-reported name when available). */
  readonly model: string;
  readonly choices: readonly Choice[];
  /** Tokens billed for this call (0 for a full cache hit; a replay returns the recorded usage, so replayed runs account as the original did). */
  readonly usage: Usage;
  /** Wall time of the call in milliseconds. */
  readonly latencyMs: number;
  /** Set by the provider when `responseFormat` was honoured natively or by grammar. */
  readonly structuredMode?: StructuredMode;
  /** Number of choices served from the cache (set by the cache middleware). */
  readonly cacheHits?: number;
  /** What it took to get the answer (set by the retry middleware; absent when nothing was retried or timed out). */
  readonly attempts?: Attempts;
}

/**
 * The attempts behind one call, as the retry middleware saw them: `retries` attempts after the first,
 * `retryWaitMs` spent in the backoff and retry-after waits before them (a wait cut short by an abort counts in
 * full), `timeouts` attempts that ended in category `timeout` (the last one included).
 */
export interface Attempts {
  readonly retries: number;
  readonly retryWaitMs: number;
  readonly timeouts: number;
}

/** What a model endpoint supports, probed once and recorded in run manifests. */
export interface Capabilities {
  readonly jsonSchema: boolean;
  readonly grammar: boolean;
  readonly logprobs: boolean;
  /** Native n > 1 in one request. */
  readonly multipleSamples: boolean;
  /** `seed` accepted and honoured (same seed, same output at temperature > 0). */
  readonly seed: boolean;
  /** Exact log-likelihood scoring via `score`. */
  readonly score: boolean;
  /** Free-form notes from the probe (e.g. "json_schema rejected: HTTP 400"). */
  readonly notes?: readonly string[];
}

export interface ScoreResult {
  /** Sum of log p(continuation token | prefix, earlier continuation tokens), natural log. */
  readonly logprob: number;
  readonly tokens: readonly TokenLogprob[];
}

export interface LanguageModel {
  /** Canonical model spec, e.g. `openai-compatible:http://127.0.0.1:8000/v1#qwen`; used in cache keys. */
  readonly id: string;
  /** Provider family, e.g. `openai-compatible`, `llamacpp`, `replay`, `mock`. */
  readonly provider: string;
  /** Endpoint identity for per-endpoint limits (base URL, model path). */
  readonly endpoint: string;
  generate(request: GenerateRequest): Promise<GenerateResult>;
  /** Probe (once, then remembered) what the endpoint supports. */
  capabilities(options?: { signal?: AbortSignal }): Promise<Capabilities>;
  /** Exact log-likelihood of `continuation` after `prefix` (raw text, no chat template). Local models only. */
  score?(prefix: string, continuation: string, options?: { signal?: AbortSignal }): Promise<ScoreResult>;
  /** Release sockets, native memory, file handles. Idempotent. */
  close?(): Promise<void>;
}

/** A middleware wraps a model and returns a model: `withRetry(withUsage(provider, meter), opts)`. */
export type Middleware = (model: LanguageModel) => LanguageModel;
