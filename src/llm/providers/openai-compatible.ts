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
import { redactUrlCredentials } from "../../core/redact.ts";
import { LlmError, type LlmErrorCategory, parseRetryAfter, sumUsage } from "../errors.ts";
import type {
  Capabilities,
  ChatMessage,
  Choice,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  ScoreResult,
  TokenLogprob,
  Usage,
} from "../types.ts";

export interface OpenAICompatibleOptions {
  /**
   * Base URL including the version prefix, e.g. `http://127.0.0.1:8000/v1`. Credentials in it
   * (`http://user:password@host/v1`, e.g. for a reverse proxy) are sent as HTTP Basic authentication and appear
   * nowhere else: not in `id`, `endpoint`, messages or anything derived from them.
   */
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
/** The JSON-schema probe's answer has room for whitespace a grammar allows between tokens. */
const JSON_PROBE_MAX_TOKENS = 64;
const PROBE_SEED = 20_240_601;
/**
 * Tags each HTTP request with our call id, so the `fetch` hook can tell that call whether the status line arrived
 * and what the error body said; the hook removes it before sending.
 */
const CALL_HEADER = "x-bayesact-call";

/**
 * Words by which a server's error message names the feature a probe tried: such an answer means "unsupported"
 * whatever its status (llama.cpp's older servers answer n > 1 with HTTP 500 "Only one completion choice is
 * allowed").
 */
const FEATURE_WORDS: Readonly<Record<ProbedFeature, RegExp>> = {
  json_schema: /json|schema|response_format|grammar/i,
  logprobs: /logprob|n_probs|probabilit/i,
  "n=2": /\bn\b|n_cmpl|choices?\b|completions?\b|samples?\b/i,
  seed: /\bseed/i,
};

type ProbedFeature = "json_schema" | "logprobs" | "n=2" | "seed";

/** Sampling for scoring requests: greedy over whatever is allowed, raw probabilities reported, prompt cached. */
const SCORING_SAMPLER = {
  n_probs: 1,
  post_sampling_probs: false,
  temperature: 0,
  top_k: 0,
  min_p: 0,
  top_p: 1,
  cache_prompt: true,
} as const;

/** What one HTTP call saw, filled by the `fetch` hook. */
interface CallTrace {
  /** The HTTP status, once the status line and headers arrived. */
  status?: number;
  /** The body of a non-2xx answer, as text (the `openai` client keeps only its `error` field). */
  errorBody?: string;
}

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
  /** `Authorization` for the server's own (non-OpenAI) endpoints and for URL credentials; never shown. */
  readonly #authorization: string | undefined;
  /** Basic credentials from the URL: they replace the client's bearer header on every request. */
  readonly #basicAuth: string | undefined;
  private readonly traces = new Map<string, CallTrace>();
  private callSeq = 0;
  private readonly redact: (text: string) => string;
  private readonly capabilityProbe: SharedProbe<Capabilities>;
  private readonly multipleSamplesProbe: SharedProbe<ProbeOutcome>;
  /** Whether the server is llama.cpp's llama-server (its `/props`), which can score given text. */
  private readonly llamaCppProbe: SharedProbe<{ readonly origin: string } | { readonly note: string }>;
  private closed = false;

  constructor(options: OpenAICompatibleOptions) {
    const { apiKey: _key, ...withoutKey } = options;
    const { baseURL, credentials } = splitCredentials(options.baseURL);
    if (credentials !== undefined && options.apiKey) {
      throw new LlmError(
        "bad_request",
        `openai-compatible ${baseURL}: the URL carries credentials and an API key is set too; use one of them`,
      );
    }
    this.options = { ...withoutKey, baseURL };
    this.endpoint = baseURL;
    this.id = redactUrlCredentials(options.id ?? `openai-compatible:${options.baseURL}#${options.model}`);
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#basicAuth =
      credentials === undefined ? undefined : `Basic ${Buffer.from(credentials.pair).toString("base64")}`;
    this.#authorization = this.#basicAuth ?? (options.apiKey ? `Bearer ${options.apiKey}` : undefined);
    this.#client = new OpenAI({
      baseURL,
      apiKey: options.apiKey ?? "not-needed",
      maxRetries: 0,
      timeout,
      ...(options.defaultHeaders ? { defaultHeaders: options.defaultHeaders } : {}),
      fetch: (url, init) => this.traceFetch(url, init),
    });
    // Servers sometimes echo request headers or URLs in error bodies; no secret may reach a log line.
    const secrets = [options.apiKey, credentials?.password, credentials?.user, this.#basicAuth]
      .filter((x): x is string => x !== undefined && x.length >= 4)
      .sort((a, b) => b.length - a.length);
    this.redact = (text) =>
      redactUrlCredentials(secrets.reduce((t, secret) => t.split(secret).join("[redacted]"), text));
    this.capabilityProbe = new SharedProbe((signal) => this.probeAll(signal));
    this.multipleSamplesProbe = new SharedProbe((signal) => this.probeMultipleSamples(signal));
    this.llamaCppProbe = new SharedProbe((signal) => this.probeLlamaCpp(signal));
  }

  /**
   * The `openai` client's fetch: records the status of each tagged call as soon as its headers arrive, keeps the
   * whole body of error answers (the client would keep only its `error` field), and puts URL credentials in the
   * `Authorization` header (fetch refuses URLs that carry them).
   */
  private async traceFetch(url: string | URL | Request, init?: RequestInit): Promise<Response> {
    const headers = new Headers(init?.headers);
    const callId = headers.get(CALL_HEADER);
    headers.delete(CALL_HEADER);
    if (this.#basicAuth !== undefined) headers.set("authorization", this.#basicAuth);
    const response = await fetch(url, { ...init, headers });
    const trace = callId === null ? undefined : this.traces.get(callId);
    if (trace === undefined) return response;
    trace.status = response.status;
    if (response.ok) return response;
    const text = await response.text();
    trace.errorBody = text;
    return new Response(text, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
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
    const callId = String(++this.callSeq);
    const trace: CallTrace = {};
    this.traces.set(callId, trace);
    try {
      const completion: unknown = await this.#client.chat.completions.create(this.toParams(request, shape), {
        signal,
        timeout: timeoutMs,
        maxRetries: 0,
        headers: { [CALL_HEADER]: callId },
      });
      return this.fromCompletion(completion);
    } catch (error) {
      if (error instanceof LlmError) throw error;
      if (signal.aborted) {
        const timedOut = signal.reason === deadline.signal.reason;
        throw timedOut
          ? new LlmError("timeout", `${this.where()}: ${timeoutText(timeoutMs, trace)}`, { cause: error })
          : new LlmError("aborted", `${this.where()}: the call was aborted (${statusText(trace)})`, {
              cause: error,
            });
      }
      throw this.mapError(error, timeoutMs, trace);
    } finally {
      clearTimeout(timer);
      this.traces.delete(callId);
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

  private mapError(error: unknown, timeoutMs: number, trace: CallTrace): LlmError {
    const where = this.where();
    // APIConnectionTimeoutError extends APIConnectionError: test it first.
    if (error instanceof APIConnectionTimeoutError) {
      return new LlmError("timeout", `${where}: ${timeoutText(timeoutMs, trace)}`, { cause: error });
    }
    if (error instanceof APIUserAbortError) {
      return new LlmError("aborted", `${where}: the call was aborted (${statusText(trace)})`, {
        cause: error,
      });
    }
    if (error instanceof APIConnectionError) {
      const detail = this.oneLine(describeCause(error));
      const during =
        trace.status === undefined ? "(no HTTP status)" : `while reading an HTTP ${trace.status} answer`;
      return new LlmError("connection", `${where}: connection failed ${during}: ${detail}`, {
        cause: error,
      });
    }
    if (error instanceof APIError && typeof error.status === "number") {
      return this.mapStatusError(error, error.status, trace);
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

  private mapStatusError(error: APIError, status: number, trace: CallTrace): LlmError {
    const body: unknown = error.error;
    const serverMessage =
      trace.errorBody !== undefined
        ? errorBodyMessage(trace.errorBody)
        : isRecord(body) && typeof body.message === "string"
          ? body.message
          : error.message.replace(/^\d{3}\s*/, "");
    const message = `${this.where()}: HTTP ${status}: ${this.oneLine(serverMessage) || "(no message)"}`;
    const retryAfterMs = parseRetryAfter(error.headers);
    const options = { cause: error, status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    const contextLength =
      error.code === "context_length_exceeded" ||
      error.type === "exceed_context_size_error" ||
      isContextLengthMessage(serverMessage);
    let category: LlmErrorCategory;
    if (error instanceof RateLimitError) category = "rate_limit";
    else if (error instanceof AuthenticationError || error instanceof PermissionDeniedError)
      category = "auth";
    else if (error instanceof NotFoundError) category = "not_found";
    else if (error instanceof BadRequestError && !contextLength) category = "bad_request";
    else category = categoryForStatus(status, contextLength);
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
   * Probe every unknown capability concurrently. An error answer that rejects the feature — a 4xx, or a 5xx whose
   * message names it — means "lacks the feature". Anything else (auth, not found, connection, timeout, another
   * 5xx) means the endpoint is unusable or unwell: the probe fails with that error, its message saying which probe
   * request met it, and the retry middleware (`withRetry`) tries the probe again when the error is transient.
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
      unknown("score", () => this.probeScore(probeSignal)),
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
    const [jsonSchema, logprobs, multipleSamples, seed, score] = outcomes as [
      ProbeOutcome,
      ProbeOutcome,
      ProbeOutcome,
      ProbeOutcome,
      ProbeOutcome,
    ];
    const notes = [jsonSchema, logprobs, multipleSamples, seed, score].flatMap((o) =>
      o.note ? [o.note] : [],
    );
    // GBNF grammars are a llama.cpp request field the `LanguageModel` interface does not expose; JSON schemas
    // reach llama-server as `response_format`, which it turns into a grammar itself.
    const grammar = given.grammar ?? false;
    if (given.notes) notes.push(...given.notes);
    return {
      jsonSchema: jsonSchema.supported,
      grammar,
      logprobs: logprobs.supported,
      multipleSamples: multipleSamples.supported,
      seed: seed.supported,
      score: score.supported,
      notes,
    };
  }

  private async probeJsonSchema(signal: AbortSignal): Promise<ProbeOutcome> {
    const outcome = await this.probeCall("json_schema", signal, {
      messages: [{ role: "user", content: 'Answer with the JSON object {"ok": true}.' }],
      temperature: 0,
      maxTokens: JSON_PROBE_MAX_TOKENS,
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
    const choice = outcome.raw.choices[0];
    const text = choice?.text ?? "";
    try {
      const value: unknown = JSON.parse(text);
      if (isRecord(value)) return { supported: true };
    } catch {
      // A grammar-constrained answer cut at the token limit is still an honoured one (a small or random model
      // can spend its tokens on the whitespace the grammar allows).
      if (choice?.finishReason === "length" && text.trimStart().startsWith("{"))
        return {
          supported: true,
          note: `json_schema: the probe's answer was cut at ${JSON_PROBE_MAX_TOKENS} tokens inside a JSON object; taken as honoured`,
        };
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

  /**
   * One probe request. A rejection of the feature becomes a note ("<feature> rejected: HTTP 400 …"): a 4xx, or a
   * 5xx whose message names the feature. Other errors are thrown with the probe named in the message and their
   * category, status and retry-after kept, so retries treat them like any failed call.
   */
  private async probeCall(
    feature: ProbedFeature,
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
      if (!(error instanceof LlmError)) throw error;
      const prefix = `${this.where()}: `;
      const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      const rejected =
        error.category === "bad_request" ||
        error.category === "context_length" ||
        (error.category === "server" && FEATURE_WORDS[feature].test(detail.replace(/^HTTP \d{3}: /, "")));
      if (rejected) return { note: `${feature} rejected: ${this.oneLine(detail, 200)}` };
      if (error.category === "aborted") throw error;
      throw probeError(error, `${prefix}the capability probe's ${feature} request failed: ${detail}`);
    }
  }

  /** Score capability: llama.cpp's server, and one real scored token to prove it. */
  private async probeScore(signal: AbortSignal): Promise<ProbeOutcome> {
    const server = await this.llamaCppProbe.get(signal);
    if ("note" in server) return { supported: false, note: server.note };
    try {
      const result = await this.score("The", " end", { signal });
      return Number.isFinite(result.logprob)
        ? { supported: true }
        : { supported: false, note: `score: llama.cpp returned a log-likelihood of ${result.logprob}` };
    } catch (error) {
      if (!(error instanceof LlmError) || error.category === "aborted") throw error;
      const prefix = `${this.where()}: `;
      const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      if (error.category === "bad_request" || error.category === "not_found")
        return { supported: false, note: `score rejected: ${this.oneLine(detail, 200)}` };
      throw probeError(error, `${prefix}the capability probe's score request failed: ${detail}`);
    }
  }

  /** Is this llama.cpp's llama-server? Its `GET /props` (beside `/v1`) describes the loaded model. */
  private async probeLlamaCpp(signal: AbortSignal): Promise<{ origin: string } | { note: string }> {
    const origin = this.nativeOrigin();
    const notLlamaCpp = (why: string) => ({
      note: `score: over HTTP only llama.cpp's llama-server scores given text, and this server is not one (${why})`,
    });
    if (origin === undefined) return notLlamaCpp("the base URL does not end in /v1");
    let props: unknown;
    try {
      props = await this.native("GET", "/props", undefined, signal);
    } catch (error) {
      if (!(error instanceof LlmError) || error.category === "aborted") throw error;
      // Any other answer below 500 (404 above all) says "no such endpoint": not llama.cpp, nothing broken.
      const transient = error.category === "rate_limit" || error.category === "timeout";
      if (error.status !== undefined && error.status < 500 && !transient)
        return notLlamaCpp(`GET /props: HTTP ${error.status}`);
      const detail = error.message.replace(`${this.where()} `, "");
      throw probeError(error, `${this.where()}: the capability probe's ${detail}`);
    }
    return isRecord(props) && isRecord(props.default_generation_settings)
      ? { origin }
      : notLlamaCpp("GET /props does not describe a llama.cpp model");
  }

  /**
   * Exact log-likelihood of `continuation` after the raw text `prefix` (no chat template), on llama.cpp's
   * llama-server: the server tokenizes (`/tokenize`, with the BOS token when the model wants one, as
   * `LlamaCppModel.score` does), then `/completion` generates exactly the continuation's tokens — under a grammar
   * of token ids (`<[id]>`) in one request, or one request per token forced by a logit bias when some token is a
   * byte of a multi-byte character — and reports each one's log-probability under the raw distribution
   * (`n_probs` with `post_sampling_probs: false`: softmax of the logits, before any sampler, bias or grammar). The
   * server computes probabilities in single precision, so a log-probability below about −87 reads as −∞.
   */
  async score(
    prefix: string,
    continuation: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<ScoreResult> {
    const signal = options.signal ?? new AbortController().signal;
    const server = await this.llamaCppProbe.get(signal);
    if ("note" in server) throw new LlmError("unsupported", `${this.where()}: ${server.note}`);
    /** Token ids, and whether every token's text is complete UTF-8 on its own (byte tokens are not). */
    const tokenize = async (content: string, addSpecial: boolean) => {
      const body = await this.native(
        "POST",
        "/tokenize",
        { content, add_special: addSpecial, parse_special: false, with_pieces: true },
        signal,
      );
      const entries = isRecord(body) && Array.isArray(body.tokens) ? body.tokens : undefined;
      if (entries === undefined || !entries.every((t) => isRecord(t) && Number.isInteger(t.id)))
        throw new LlmError("malformed_response", `${this.where()}: /tokenize answered without a token list`);
      const pieces = entries as { id: number; piece: unknown }[];
      return {
        ids: pieces.map((t) => t.id),
        // The server sends a piece that is not valid UTF-8 as its bytes.
        whole: pieces.map((t) => typeof t.piece === "string"),
        endsIncomplete: pieces.map((t) => Array.isArray(t.piece) && endsInsideCharacter(t.piece)),
      };
    };
    const context = (await tokenize(prefix, true)).ids;
    if (context.length === 0) {
      throw new LlmError(
        "bad_request",
        "score needs a non-empty prefix: this model has no BOS token to start from",
      );
    }
    let targets: number[] = [];
    let wholePieces = true;
    let incomplete: boolean[] = [];
    if (continuation !== "") {
      // Score the continuation as the model reads the joined text, when the prefix's tokens survive joining.
      const joined = await tokenize(prefix + continuation, true);
      const alone =
        joined.ids.length > context.length && context.every((t, i) => joined.ids[i] === t)
          ? {
              ids: joined.ids.slice(context.length),
              whole: joined.whole.slice(context.length),
              endsIncomplete: joined.endsIncomplete.slice(context.length),
            }
          : await tokenize(continuation, false);
      targets = alone.ids;
      wholePieces = alone.whole.every(Boolean);
      incomplete = alone.endsIncomplete;
    }
    if (targets.length === 0) return { logprob: 0, tokens: [] };
    const entries = wholePieces
      ? await this.scoreByGrammar(context, targets, signal)
      : await this.scoreByBias(context, targets, incomplete, signal);
    const tokens: TokenLogprob[] = [];
    for (const [i, target] of targets.entries()) {
      const entry: unknown = entries[i];
      if (!isRecord(entry) || entry.id !== target || typeof entry.logprob !== "number") {
        throw new LlmError(
          "malformed_response",
          `${this.where()}: /completion did not score the asked tokens (position ${i}: wanted token ${target})`,
        );
      }
      tokens.push({ token: typeof entry.token === "string" ? entry.token : "", logprob: entry.logprob });
    }
    return { logprob: tokens.reduce((sum, t) => sum + t.logprob, 0), tokens };
  }

  /**
   * One `/completion` that generates exactly `targets` under a grammar of token ids and reports each one's raw
   * log-probability. llama.cpp's grammars reject tokens whose text is not complete UTF-8 (byte tokens of a
   * multi-byte character), so this is for continuations of whole-character tokens only.
   */
  private async scoreByGrammar(
    context: number[],
    targets: number[],
    signal: AbortSignal,
  ): Promise<unknown[]> {
    const body = await this.native(
      "POST",
      "/completion",
      {
        prompt: context,
        n_predict: targets.length,
        grammar: `root ::= ${targets.map((t) => `<[${t}]>`).join(" ")}`,
        ...SCORING_SAMPLER,
      },
      signal,
    );
    return isRecord(body) && Array.isArray(body.completion_probabilities)
      ? body.completion_probabilities
      : [];
  }

  /**
   * One `/completion` per target token, each forcing it with a logit bias (the reported probability is the raw
   * one: biases act in the sampler, after the logits are read). Sequential, so each request reuses the slot's
   * cached prompt and evaluates one new token. The server withholds the probabilities of a generated token that
   * ends inside a multi-byte character, so for such a token a whole-character filler is forced instead and the
   * target's probability is read from the full distribution (`n_probs` = the vocabulary size).
   */
  private async scoreByBias(
    context: number[],
    targets: number[],
    incomplete: readonly boolean[],
    signal: AbortSignal,
  ): Promise<unknown[]> {
    const out: unknown[] = [];
    let full: { vocabulary: number; filler: number } | undefined;
    for (const [j, target] of targets.entries()) {
      const prompt = [...context, ...targets.slice(0, j)];
      if (!incomplete[j]) {
        const body = await this.native(
          "POST",
          "/completion",
          { prompt, n_predict: 1, ...SCORING_SAMPLER, logit_bias: [[target, 1000]] },
          signal,
        );
        out.push(firstProbability(body));
        continue;
      }
      full ??= await this.fullDistributionSetup(signal);
      const body = await this.native(
        "POST",
        "/completion",
        {
          prompt,
          n_predict: 1,
          ...SCORING_SAMPLER,
          n_probs: full.vocabulary,
          logit_bias: [[full.filler, 1000]],
        },
        signal,
      );
      const first = firstProbability(body);
      const top = isRecord(first) && Array.isArray(first.top_logprobs) ? first.top_logprobs : [];
      const entry: unknown = top.find((t: unknown) => isRecord(t) && t.id === target);
      out.push(isRecord(entry) ? { ...entry, token: "" } : undefined);
    }
    return out;
  }

  /** The vocabulary size (`/v1/models`' `meta.n_vocab`) and a filler token whose text is one whole character. */
  private async fullDistributionSetup(signal: AbortSignal): Promise<{ vocabulary: number; filler: number }> {
    const models = await this.native("GET", "/v1/models", undefined, signal);
    const data = isRecord(models) && Array.isArray(models.data) ? models.data : [];
    const meta: unknown = isRecord(data[0]) ? data[0].meta : undefined;
    const vocabulary =
      isRecord(meta) && Number.isInteger(meta.n_vocab) ? (meta.n_vocab as number) : undefined;
    const tokens = await this.native("POST", "/tokenize", { content: "a", add_special: false }, signal);
    const filler = isRecord(tokens) && Array.isArray(tokens.tokens) ? tokens.tokens[0] : undefined;
    if (vocabulary === undefined || typeof filler !== "number") {
      throw new LlmError(
        "malformed_response",
        `${this.where()}: cannot read the vocabulary size or tokenize a filler from llama-server`,
      );
    }
    return { vocabulary, filler };
  }

  /** `http://host:port` of a base URL `http://host:port[/prefix]/v1`: where llama-server's own endpoints live. */
  private nativeOrigin(): string | undefined {
    const base = this.options.baseURL.replace(/\/+$/, "");
    return base.endsWith("/v1") ? base.slice(0, -3) : undefined;
  }

  /** One request to a server endpoint outside the OpenAI protocol, with the same deadline and error mapping. */
  private async native(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    signal: AbortSignal,
  ): Promise<unknown> {
    const origin = this.nativeOrigin();
    if (origin === undefined) throw new LlmError("unsupported", `${this.where()}: no native endpoints`);
    const timeoutMs = this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    const combined = AbortSignal.any([signal, deadline.signal]);
    const trace: CallTrace = {};
    const where = `${this.where()} ${method} ${path}`;
    try {
      const headers: Record<string, string> = { accept: "application/json" };
      if (body !== undefined) headers["content-type"] = "application/json";
      if (this.#authorization !== undefined) headers.authorization = this.#authorization;
      const response = await fetch(`${origin}${path}`, {
        method,
        headers,
        signal: combined,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      trace.status = response.status;
      const text = await response.text();
      if (!response.ok) {
        const message = errorBodyMessage(text);
        const retryAfterMs = parseRetryAfter(response.headers);
        throw new LlmError(
          categoryForStatus(response.status, isContextLengthMessage(message)),
          `${where}: HTTP ${response.status}: ${this.oneLine(message) || "(no message)"}`,
          { status: response.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
        );
      }
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new LlmError(
          "malformed_response",
          `${where}: HTTP ${response.status} with a body that is not JSON`,
          {
            cause: error,
            status: response.status,
          },
        );
      }
    } catch (error) {
      if (error instanceof LlmError) throw error;
      if (signal.aborted) throw new LlmError("aborted", `${where}: the call was aborted`, { cause: error });
      if (deadline.signal.aborted)
        throw new LlmError("timeout", `${where}: ${timeoutText(timeoutMs, trace)}`, { cause: error });
      const detail = this.oneLine(error instanceof Error ? describeCause(error) : String(error));
      throw new LlmError("connection", `${where}: connection failed (${statusText(trace)}): ${detail}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Only probes run detached from a caller; generate calls end with their callers' signals and deadlines.
    this.capabilityProbe.cancel();
    this.multipleSamplesProbe.cancel();
    this.llamaCppProbe.cancel();
  }

  /** Names the endpoint in every message (never a key or URL credentials: the base URL holds none). */
  private where(): string {
    return `openai-compatible ${this.options.baseURL} (model ${this.options.model})`;
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

function isContextLengthMessage(message: string): boolean {
  return /context (length|size|window)|maximum context|too many tokens|prompt is too long|exceeds? the available context/i.test(
    message,
  );
}

/** The category of an HTTP error status (for answers the `openai` client did not classify, and native calls). */
function categoryForStatus(status: number, contextLength: boolean): LlmErrorCategory {
  if (status === 429) return "rate_limit";
  if (status >= 500) return "server";
  if (status === 401 || status === 403) return "auth";
  if (status === 404) return "not_found";
  if (status === 408) return "timeout";
  if (contextLength) return "context_length";
  if (status >= 400 && status < 500) return "bad_request";
  return "server";
}

/**
 * The human message of an error body, in the shapes servers use: OpenAI's `{"error": {"message"}}`, older vLLM's
 * flat `{"message"}`, `{"error": "…", "message": "…"}` (both kept), FastAPI's `{"detail"}`, or plain text.
 */
export function errorBodyMessage(text: string): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  if (typeof json === "string") return json;
  if (!isRecord(json)) return text;
  const parts: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === "string" && value.trim() !== "" && !parts.includes(value)) parts.push(value);
  };
  const error = json.error;
  if (isRecord(error)) add(error.message);
  else add(error);
  add(json.message);
  if (typeof json.detail === "string") add(json.detail);
  else if (json.detail !== undefined && parts.length === 0) parts.push(JSON.stringify(json.detail));
  return parts.length > 0 ? parts.join(": ") : text;
}

/** Do these bytes end inside a UTF-8 character (a lead byte whose continuation bytes are missing)? */
export function endsInsideCharacter(bytes: readonly unknown[]): boolean {
  const b = bytes.map((x) => (typeof x === "number" ? x : 0));
  for (let back = 1; back <= Math.min(4, b.length); back++) {
    const byte = b[b.length - back] ?? 0;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: look further back for its lead
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back;
  }
  return false;
}

function firstProbability(body: unknown): unknown {
  return isRecord(body) && Array.isArray(body.completion_probabilities)
    ? body.completion_probabilities[0]
    : undefined;
}

function statusText(trace: CallTrace): string {
  return trace.status === undefined ? "no HTTP status" : `after an HTTP ${trace.status} status line`;
}

function timeoutText(timeoutMs: number, trace: CallTrace): string {
  return trace.status === undefined
    ? `no answer within ${timeoutMs} ms (no HTTP status)`
    : `HTTP ${trace.status} arrived, but its body did not finish within ${timeoutMs} ms`;
}

/** A failed probe request as an error of its own category, retry-after and status, with a message naming it. */
function probeError(error: LlmError, message: string): LlmError {
  return new LlmError(error.category, message, {
    cause: error,
    retryable: error.retryable,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(error.usage !== undefined ? { usage: error.usage } : {}),
  });
}

/** The base URL without user info, and the user info (percent-decoded) when it had some. */
function splitCredentials(url: string): {
  baseURL: string;
  credentials: { user: string; password: string; pair: string } | undefined;
} {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { baseURL: url, credentials: undefined };
  }
  if (parsed.username === "" && parsed.password === "") return { baseURL: url, credentials: undefined };
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.username = "";
  parsed.password = "";
  const stripped = parsed.toString();
  return {
    baseURL: url.endsWith("/") ? stripped : stripped.replace(/\/$/, ""),
    credentials: { user, password, pair: `${user}:${password}` },
  };
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
