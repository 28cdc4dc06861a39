/**
 * `LanguageModel` over any server speaking the OpenAI chat-completions protocol (OpenAI, vLLM, llama.cpp
 * server, Ollama, LM Studio). HTTP goes through the official `openai` client; this module maps requests,
 * answers and failures into the library's vocabulary and probes what the endpoint supports.
 *
 * The client never retries (`maxRetries: 0`): retries, rate limits and budgets belong to the middleware, which
 * must see every attempt.
 */
import OpenAI, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from "openai";
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from "openai/resources/chat/completions";
import { LlmError, type LlmErrorCategory, parseRetryAfter, sumUsage } from "../errors.ts";
import type {
  Capabilities,
  ChatMessage,
  Choice,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  TokenLogprob,
  Usage,
} from "../types.ts";

export interface OpenAICompatibleOptions {
  /** Base URL including the version prefix, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** Model name sent in every request. */
  model: string;
  /** Sent as `Authorization: Bearer …`; local servers usually need none. Never appears in error messages. */
  apiKey?: string;
  /** Canonical spec (default `openai-compatible:${baseURL}#${model}`). */
  id?: string;
  /** Per-attempt timeout in milliseconds (default 60 000); `GenerateRequest.timeoutMs` overrides it. */
  timeoutMs?: number;
  /** Known capabilities: these are not probed, and override probe results. */
  capabilities?: Partial<Capabilities>;
  defaultHeaders?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const PROBE_MAX_TOKENS = 16;
const PROBE_SEED = 20_240_601;

/** The outcome of one HTTP call, before the caller's sample indexes are assigned. */
interface RawCompletion {
  readonly model: string;
  readonly choices: readonly Omit<Choice, "index">[];
  readonly usage: Usage;
}

/** Per-request knobs the provider varies when it splits or probes (the rest come from `GenerateRequest`). */
interface CallShape {
  readonly n: number;
  readonly seed: number | undefined;
  /** Aborts sibling calls when one of an emulated batch fails. */
  readonly extraSignal?: AbortSignal;
}

export class OpenAICompatibleModel implements LanguageModel {
  readonly id: string;
  readonly provider = "openai-compatible";
  readonly endpoint: string;
  /** Options without the key. The key lives only inside `#client` (a true private field): serialising or
   * inspecting the model object, e.g. into a run manifest or a log, can never reveal it. */
  private readonly options: Omit<OpenAICompatibleOptions, "apiKey">;
  readonly #client: OpenAI;
  private readonly redact: (text: string) => string;
  private readonly capabilityProbe: SharedProbe<Capabilities>;
  private readonly multipleSamplesProbe: SharedProbe<ProbeOutcome>;
  private closed = false;

  constructor(options: OpenAICompatibleOptions) {
    const { apiKey: _key, ...withoutKey } = options;
    this.options = withoutKey;
    this.endpoint = options.baseURL;
    this.id = options.id ?? `openai-compatible:${options.baseURL}#${options.model}`;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#client = new OpenAI({
      baseURL: options.baseURL,
      apiKey: options.apiKey ?? "not-needed",
      maxRetries: 0,
      timeout,
      ...(options.defaultHeaders ? { defaultHeaders: options.defaultHeaders } : {}),
    });
    const key = options.apiKey;
    // Servers sometimes echo request headers in error bodies; a key must never reach a log line.
    this.redact = key && key.length >= 4 ? (text) => text.split(key).join("[redacted]") : (text) => text;
    this.capabilityProbe = new SharedProbe((signal) => this.probeAll(signal));
    this.multipleSamplesProbe = new SharedProbe((signal) => this.probeMultipleSamples(signal));
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const started = performance.now();
    const n = request.n ?? 1;
    if (!Number.isInteger(n) || n < 1) {
      throw new LlmError("bad_request", `${this.where()}: n must be a positive integer, got ${n}`);
    }
    const first = request.sampleIndex ?? 0;
    let native = n === 1;
    if (n > 1) native = await this.supportsMultipleSamples(request.signal);

    let choices: Choice[];
    let model: string;
    let usage: Usage;
    if (native) {
      // A request carries seed + (index of its first sample): batches starting at different indexes must not
      // repeat each other's samples, and a cache asking for "sample k" alone sends the same seed as the k-th
      // call of an emulated batch.
      const raw = await this.call(request, { n, seed: offsetSeed(request.seed, first) });
      choices = raw.choices.slice(0, n).map((c, i) => ({ ...c, index: first + i }));
      model = raw.model;
      usage = raw.usage;
      if (choices.length < n) {
        // The server silently returned fewer choices (it ignores n): fill the rest one sample at a time.
        const rest = await this.emulate(request, first + choices.length, n - choices.length);
        choices = [...choices, ...rest.choices];
        usage = sumUsage(usage, rest.usage);
      }
    } else {
      const raw = await this.emulate(request, first, n);
      ({ choices, model, usage } = raw);
    }
    return {
      model,
      choices,
      usage,
      latencyMs: performance.now() - started,
      ...(request.responseFormat ? { structuredMode: "native" as const } : {}),
    };
  }

  /**
   * n concurrent single-sample calls for samples `first … first + count − 1`. With a seed, sample i is sent
   * seed + i, so the samples differ from each other yet replay exactly; the first failure cancels the rest.
   */
  private async emulate(
    request: GenerateRequest,
    first: number,
    count: number,
  ): Promise<{ model: string; choices: Choice[]; usage: Usage }> {
    const siblings = new AbortController();
    const raws = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        this.call(request, {
          n: 1,
          seed: offsetSeed(request.seed, first + i),
          extraSignal: siblings.signal,
        }).catch((error: unknown) => {
          siblings.abort();
          throw error;
        }),
      ),
    );
    const choices: Choice[] = [];
    raws.forEach((raw, i) => {
      const choice = raw.choices[0];
      if (choice) choices.push({ ...choice, index: first + i });
    });
    return {
      model: raws[0]?.model ?? this.options.model,
      choices,
      usage: raws.reduce((sum, raw) => sumUsage(sum, raw.usage), { inputTokens: 0, outputTokens: 0 }),
    };
  }

  /** One HTTP call with its own deadline; every failure comes out as an `LlmError`. */
  private async call(request: GenerateRequest, shape: CallShape): Promise<RawCompletion> {
    const timeoutMs = request.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Our own deadline (not AbortSignal.timeout, which cannot be cleared) so that a timeout and a caller abort
    // can be told apart by which signal fired first: the client reports both as APIUserAbortError.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const sources = [deadline.signal];
    if (request.signal) sources.push(request.signal);
    if (shape.extraSignal) sources.push(shape.extraSignal);
    const signal = AbortSignal.any(sources);
    try {
      const completion: unknown = await this.#client.chat.completions.create(this.toParams(request, shape), {
        signal,
        timeout: timeoutMs,
        maxRetries: 0,
      });
      return this.fromCompletion(completion);
    } catch (error) {
      if (error instanceof LlmError) throw error;
      if (signal.aborted) {
        const timedOut = signal.reason === deadline.signal.reason;
        throw timedOut
          ? new LlmError("timeout", `${this.where()}: no answer within ${timeoutMs} ms (no HTTP status)`, {
              cause: error,
            })
          : new LlmError("aborted", `${this.where()}: the call was aborted (no HTTP status)`, {
              cause: error,
            });
      }
      throw this.mapError(error, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  private toParams(request: GenerateRequest, shape: CallShape): ChatCompletionCreateParamsNonStreaming {
    const params: ChatCompletionCreateParamsNonStreaming = {
      model: this.options.model,
      messages: request.messages.map(toMessageParam),
    };
    if (shape.n > 1) params.n = shape.n;
    if (request.temperature !== undefined) params.temperature = request.temperature;
    if (request.topP !== undefined) params.top_p = request.topP;
    if (request.maxTokens !== undefined) params.max_tokens = request.maxTokens;
    if (request.stop !== undefined && request.stop.length > 0) params.stop = [...request.stop];
    if (shape.seed !== undefined) params.seed = shape.seed;
    if (request.responseFormat) {
      params.response_format = {
        type: "json_schema",
        json_schema: {
          name: request.responseFormat.name,
          schema: { ...request.responseFormat.schema },
          strict: true,
        },
      };
    }
    if (request.logprobs) {
      params.logprobs = true;
      if (request.logprobs.top > 0) params.top_logprobs = request.logprobs.top;
    }
    return params;
  }

  /** Validate a 200 body: the client hands back whatever parsed (even a string or nothing). */
  private fromCompletion(completion: unknown): RawCompletion {
    if (!isRecord(completion) || !Array.isArray(completion.choices)) {
      const got =
        completion === undefined || completion === "" ? "an empty body" : `a body without "choices"`;
      throw new LlmError("malformed_response", `${this.where()}: HTTP 200 with ${got}`, {
        status: 200,
        ...(typeof completion === "string" ? { raw: this.redact(completion.slice(0, 2000)) } : {}),
      });
    }
    const entries: unknown[] = completion.choices;
    if (entries.length === 0 || !entries.every(isRecord)) {
      throw new LlmError("malformed_response", `${this.where()}: HTTP 200 with no usable choices`, {
        status: 200,
      });
    }
    const sorted = [...entries].sort((a, b) => count(a.index) - count(b.index));
    const choices = sorted.map((c): Omit<Choice, "index"> => {
      const content = isRecord(c.message) ? c.message.content : undefined;
      const logprobs =
        isRecord(c.logprobs) && Array.isArray(c.logprobs.content)
          ? c.logprobs.content.map(toTokenLogprob)
          : undefined;
      return {
        // null content (a refusal or tool call) is an empty answer, not a malformed one
        text: typeof content === "string" ? content : "",
        finishReason: toFinishReason(c.finish_reason),
        ...(logprobs ? { logprobs } : {}),
      };
    });
    const usage = isRecord(completion.usage) ? completion.usage : undefined;
    const model = completion.model;
    return {
      model: typeof model === "string" && model !== "" ? model : this.options.model,
      choices,
      usage: { inputTokens: count(usage?.prompt_tokens), outputTokens: count(usage?.completion_tokens) },
    };
  }

  private mapError(error: unknown, timeoutMs: number): LlmError {
    const where = this.where();
    // APIConnectionTimeoutError extends APIConnectionError: test it first.
    if (error instanceof APIConnectionTimeoutError) {
      return new LlmError("timeout", `${where}: no answer within ${timeoutMs} ms (no HTTP status)`, {
        cause: error,
      });
    }
    if (error instanceof APIUserAbortError) {
      return new LlmError("aborted", `${where}: the call was aborted (no HTTP status)`, { cause: error });
    }
    if (error instanceof APIConnectionError) {
      const detail = this.oneLine(describeCause(error));
      return new LlmError("connection", `${where}: connection failed (no HTTP status): ${detail}`, {
        cause: error,
      });
    }
    if (error instanceof APIError && typeof error.status === "number") {
      return this.mapStatusError(error, error.status);
    }
    // The client parses 200 bodies with a bare JSON.parse: invalid JSON escapes as a SyntaxError.
    if (error instanceof SyntaxError) {
      return new LlmError("malformed_response", `${where}: HTTP 200 with a body that is not valid JSON`, {
        cause: error,
        status: 200,
      });
    }
    // A socket dropped while the 200 body streams in escapes as undici's `TypeError: terminated`.
    const detail = this.oneLine(error instanceof Error ? describeCause(error) : String(error));
    return new LlmError("connection", `${where}: connection failed while reading the answer: ${detail}`, {
      cause: error,
    });
  }

  private mapStatusError(error: APIError, status: number): LlmError {
    const body: unknown = error.error;
    const serverMessage =
      isRecord(body) && typeof body.message === "string"
        ? body.message
        : error.message.replace(/^\d{3}\s*/, "");
    const message = `${this.where()}: HTTP ${status}: ${this.oneLine(serverMessage)}`;
    const retryAfterMs = parseRetryAfter(error.headers);
    const options = { cause: error, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    let category: LlmErrorCategory;
    if (error instanceof RateLimitError || status === 429) category = "rate_limit";
    else if (status >= 500) category = "server";
    else if (error instanceof AuthenticationError || error instanceof PermissionDeniedError)
      category = "auth";
    else if (error instanceof NotFoundError) category = "not_found";
    else if (status === 408) category = "timeout";
    else if (isContextLengthError(error, serverMessage)) category = "context_length";
    else if (error instanceof BadRequestError || (status >= 400 && status < 500)) category = "bad_request";
    else category = "server";
    return new LlmError(category, message, options);
  }

  async capabilities(options: { signal?: AbortSignal } = {}): Promise<Capabilities> {
    return this.capabilityProbe.get(options.signal);
  }

  private async supportsMultipleSamples(signal: AbortSignal | undefined): Promise<boolean> {
    const given = this.options.capabilities?.multipleSamples;
    if (given !== undefined) return given;
    return (await this.multipleSamplesProbe.get(signal)).supported;
  }

  /**
   * Probe every unknown capability concurrently. A 4xx rejection means "lacks the feature"; anything else (auth,
   * not found, connection, timeout, 5xx) means the endpoint is unusable or unwell, so the probe fails with it.
   */
  private async probeAll(signal: AbortSignal): Promise<Capabilities> {
    const given = this.options.capabilities ?? {};
    const fatal = new AbortController();
    const probeSignal = AbortSignal.any([signal, fatal.signal]);
    const guard = <T>(promise: Promise<T>): Promise<T> =>
      promise.catch((error: unknown) => {
        fatal.abort(); // stop sibling probes at the first fatal error
        throw error;
      });
    const unknown = (name: keyof Capabilities, probe: () => Promise<ProbeOutcome>): Promise<ProbeOutcome> =>
      typeof given[name] === "boolean" ? Promise.resolve({ supported: given[name] }) : guard(probe());
    const results = await Promise.allSettled([
      unknown("jsonSchema", () => this.probeJsonSchema(probeSignal)),
      unknown("logprobs", () => this.probeLogprobs(probeSignal)),
      unknown("multipleSamples", () => this.multipleSamplesProbe.get(probeSignal)),
      unknown("seed", () => this.probeSeed(probeSignal)),
    ]);
    fatal.abort();
    const outcomes: ProbeOutcome[] = [];
    let firstError: unknown;
    for (const result of results) {
      if (result.status === "fulfilled") outcomes.push(result.value);
      // Prefer the error that caused the abort over the siblings' "aborted".
      else if (firstError === undefined || (isLlmCategory(firstError, "aborted") && !signal.aborted)) {
        firstError = result.reason;
      }
    }
    if (firstError !== undefined) throw firstError;
    const [jsonSchema, logprobs, multipleSamples, seed] = outcomes as [
      ProbeOutcome,
      ProbeOutcome,
      ProbeOutcome,
      ProbeOutcome,
    ];
    const notes = [jsonSchema, logprobs, multipleSamples, seed].flatMap((o) => (o.note ? [o.note] : []));
    const grammar = given.grammar ?? false;
    const score = given.score ?? false;
    if (!grammar || !score)
      notes.push("grammar and score are not available over the OpenAI-compatible protocol");
    if (given.notes) notes.push(...given.notes);
    return {
      jsonSchema: jsonSchema.supported,
      grammar,
      logprobs: logprobs.supported,
      multipleSamples: multipleSamples.supported,
      seed: seed.supported,
      score,
      notes,
    };
  }

  private async probeJsonSchema(signal: AbortSignal): Promise<ProbeOutcome> {
    const outcome = await this.probeCall("json_schema", signal, {
      messages: [{ role: "user", content: 'Answer with the JSON object {"ok": true}.' }],
      temperature: 0,
      responseFormat: {
        type: "json_schema",
        name: "probe",
        schema: {
          type: "object",
          properties: { ok: { type: "boolean" } },
          required: ["ok"],
          additionalProperties: false,
        },
      },
    });
    if ("note" in outcome) return { supported: false, note: outcome.note };
    const text = outcome.raw.choices[0]?.text ?? "";
    try {
      const value: unknown = JSON.parse(text);
      if (isRecord(value)) return { supported: true };
    } catch {
      // fall through: accepted but not honoured
    }
    return { supported: false, note: "json_schema accepted but the answer is not a JSON object" };
  }

  private async probeLogprobs(signal: AbortSignal): Promise<ProbeOutcome> {
    const outcome = await this.probeCall("logprobs", signal, {
      messages: [{ role: "user", content: "Say hi." }],
      temperature: 0,
      maxTokens: 4,
      logprobs: { top: 2 },
    });
    if ("note" in outcome) return { supported: false, note: outcome.note };
    const tokens = outcome.raw.choices[0]?.logprobs;
    return tokens && tokens.length > 0
      ? { supported: true }
      : { supported: false, note: "logprobs accepted but none returned" };
  }

  private async probeMultipleSamples(signal: AbortSignal): Promise<ProbeOutcome> {
    const outcome = await this.probeCall(
      "n=2",
      signal,
      { messages: [{ role: "user", content: "Say a word." }], temperature: 1, maxTokens: 4 },
      2,
    );
    if ("note" in outcome) return { supported: false, note: outcome.note };
    const got = outcome.raw.choices.length;
    return got >= 2 ? { supported: true } : { supported: false, note: `n=2 returned ${got} choice(s)` };
  }

  private async probeSeed(signal: AbortSignal): Promise<ProbeOutcome> {
    const request: GenerateRequest = {
      messages: [{ role: "user", content: "Write a random word." }],
      temperature: 1,
      seed: PROBE_SEED,
    };
    const [a, b] = await Promise.all([
      this.probeCall("seed", signal, request),
      this.probeCall("seed", signal, request),
    ]);
    if ("note" in a) return { supported: false, note: a.note };
    if ("note" in b) return { supported: false, note: b.note };
    return a.raw.choices[0]?.text === b.raw.choices[0]?.text
      ? { supported: true }
      : { supported: false, note: "seed ignored: two seeded temperature-1 requests returned different text" };
  }

  /** One probe request; a 4xx answer becomes a note ("<feature> rejected: HTTP 400 …"), other errors throw. */
  private async probeCall(
    feature: string,
    signal: AbortSignal,
    request: GenerateRequest,
    n = 1,
  ): Promise<{ raw: RawCompletion } | { note: string }> {
    try {
      const raw = await this.call(
        { maxTokens: PROBE_MAX_TOKENS, ...request, signal },
        { n, seed: request.seed },
      );
      return { raw };
    } catch (error) {
      if (
        error instanceof LlmError &&
        (error.category === "bad_request" || error.category === "context_length")
      ) {
        const prefix = `${this.where()}: `;
        const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
        return { note: `${feature} rejected: ${this.oneLine(detail, 200)}` };
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Only probes run detached from a caller; generate calls end with their callers' signals and deadlines.
    this.capabilityProbe.cancel();
    this.multipleSamplesProbe.cancel();
  }

  /** Names the endpoint in every message (never the key). */
  private where(): string {
    return `openai-compatible ${redactUrl(this.options.baseURL)} (model ${this.options.model})`;
  }

  private oneLine(text: string, max = 300): string {
    const flat = this.redact(text).replace(/\s+/g, " ").trim();
    return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  }
}

interface ProbeOutcome {
  readonly supported: boolean;
  readonly note?: string;
}

/**
 * A memoised async computation shared by concurrent callers. It runs detached from any one caller: each caller
 * can abort its own wait, and the computation itself is aborted only when every waiter has gone (or on
 * `cancel`). A failure is not remembered, so the next call tries again.
 */
class SharedProbe<T> {
  private readonly compute: (signal: AbortSignal) => Promise<T>;
  private value: { readonly v: T } | undefined;
  private running: { promise: Promise<T>; controller: AbortController; waiters: number } | undefined;

  constructor(compute: (signal: AbortSignal) => Promise<T>) {
    this.compute = compute;
  }

  get(signal?: AbortSignal): Promise<T> {
    if (this.value) return Promise.resolve(this.value.v);
    if (signal?.aborted) return Promise.reject(abortedError());
    let run = this.running;
    if (!run) {
      const controller = new AbortController();
      const promise = this.compute(controller.signal).then(
        (v) => {
          this.value = { v };
          if (this.running?.promise === promise) this.running = undefined;
          return v;
        },
        (error: unknown) => {
          if (this.running?.promise === promise) this.running = undefined;
          throw error;
        },
      );
      promise.catch(() => {}); // waiters handle the rejection; a run nobody awaits must not go unhandled
      run = { promise, controller, waiters: 0 };
      this.running = run;
    }
    const current = run;
    current.waiters += 1;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        current.waiters -= 1;
        if (current.waiters === 0) current.controller.abort();
        reject(abortedError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      current.promise.then(
        (v) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(v);
        },
        (error: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }

  cancel(): void {
    this.running?.controller.abort();
  }
}

function abortedError(): LlmError {
  return new LlmError("aborted", "the call was aborted");
}

function offsetSeed(seed: number | undefined, index: number): number | undefined {
  return seed === undefined ? undefined : seed + index;
}

function toMessageParam(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case "system":
      return { role: "system", content: message.content };
    case "user":
      return { role: "user", content: message.content };
    case "assistant":
      return { role: "assistant", content: message.content };
  }
}

function toFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case "stop":
    case "length":
    case "content_filter":
    case "tool_calls":
      return reason;
    case "function_call":
      return "tool_calls";
    default:
      return "unknown";
  }
}

function toTokenLogprob(entry: unknown): TokenLogprob {
  if (!isRecord(entry)) return { token: "", logprob: Number.NaN };
  const token = typeof entry.token === "string" ? entry.token : "";
  const logprob = typeof entry.logprob === "number" ? entry.logprob : Number.NaN;
  const top = Array.isArray(entry.top_logprobs)
    ? entry.top_logprobs.filter(isRecord).map((t) => ({
        token: typeof t.token === "string" ? t.token : "",
        logprob: typeof t.logprob === "number" ? t.logprob : Number.NaN,
      }))
    : [];
  return top.length > 0 ? { token, logprob, top } : { token, logprob };
}

/** A non-negative integer token count, or 0 when the server omitted or garbled it. */
function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

function isContextLengthError(error: APIError, message: string): boolean {
  if (error.code === "context_length_exceeded" || error.type === "exceed_context_size_error") return true;
  return /context (length|size|window)|maximum context|too many tokens|prompt is too long/i.test(message);
}

function isLlmCategory(error: unknown, category: LlmErrorCategory): boolean {
  return error instanceof LlmError && error.category === category;
}

/** The innermost useful message of an error chain, on one line (e.g. "terminated: other side closed"). */
function describeCause(error: Error): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth++) {
    if (current.message && !parts.includes(current.message)) parts.push(current.message);
    current = current.cause;
  }
  return parts.join(": ").replace(/\s+/g, " ").slice(0, 300);
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = "";
      parsed.password = "";
      return parsed.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
    }
  } catch {
    // not a URL: shown as given
  }
  return url;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
