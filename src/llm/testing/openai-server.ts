/**
 * A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions protocol, with injectable faults and
 * "personalities" that emulate servers lacking features (vLLM, llama.cpp, Ollama differ). Tests and benchmarks
 * point the real `openai` client at it, so the whole HTTP path — sockets, status codes, headers, bodies — is
 * exercised without a hosted model.
 *
 * It also emulates OpenAI's fine-tuning API (files, jobs that advance one status per retrieve, cancel, events), for
 * the self-training loop's `openai` trainer.
 *
 * Answers are deterministic: the same request with the same seed gets the same text; choice `index` changes it.
 * Without a seed (or when the server "ignores" seeds) a per-server call counter plays the part of sampling noise,
 * so unseeded calls differ like real sampling does. Temperature 0 without a seed is treated as greedy (stable).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Rng } from "../../core/rng.ts";

/** The parts of a chat-completions request body the server understands (validated from the raw JSON). */
export interface ChatCompletionBody {
  readonly model?: string;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  readonly n?: number;
  readonly temperature?: number;
  readonly top_p?: number;
  readonly max_tokens?: number;
  readonly stop?: string | readonly string[];
  readonly seed?: number;
  readonly logprobs?: boolean;
  readonly top_logprobs?: number;
  readonly response_format?: {
    readonly type: string;
    readonly json_schema?: { readonly name?: string; readonly schema?: unknown; readonly strict?: boolean };
  };
}

/**
 * A fault applies to the next `times` (default 1) chat-completion requests, in the order faults were enqueued.
 * `GET /v1/models` never consumes faults. Latency (if set) is applied before the fault.
 */
export type Fault =
  /** Answer with this status. `body`: an object is sent as JSON, a string raw; default an OpenAI error body. */
  | {
      readonly kind: "status";
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      readonly body?: unknown;
      readonly times?: number;
    }
  /** Send 200 headers and half of a valid body, then destroy the socket mid-body. */
  | { readonly kind: "reset"; readonly times?: number }
  /** Send 200 headers and half of a valid body, then nothing more (the socket stays open, like a stuck proxy). */
  | { readonly kind: "stallBody"; readonly times?: number }
  /** Read the request and never answer, until the client gives up or the server closes. */
  | { readonly kind: "hang"; readonly times?: number }
  /** 200 with a body that is not valid JSON (content type `application/json` unless given). */
  | { readonly kind: "malformed"; readonly contentType?: string; readonly times?: number }
  /** A normal 200 answer (with usage) whose every choice has this content, whatever schema was asked for. */
  | { readonly kind: "schemaViolation"; readonly content: string; readonly times?: number }
  /** A 200 answer with finish_reason "length" and content cut mid-JSON (or `content` if given), with usage. */
  | { readonly kind: "truncated"; readonly content?: string; readonly times?: number };

export interface RecordedRequest {
  readonly method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  readonly path: string;
  /** Lower-cased header names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body, or undefined when there was none or it did not parse. */
  readonly body: unknown;
}

export interface OpenAIServerOptions {
  /** Model name reported in answers and by `/v1/models` (default: the request's `model`, else "fake-model"). */
  model?: string;
  /** Content of choice `index` (0-based within one response). Default: deterministic text, JSON for schemas. */
  respond?: (body: ChatCompletionBody, index: number) => string;
  /** Features the server supports (all default to true). Unsupported ones behave as described on each field. */
  supports?: {
    /** false: `response_format` json_schema gets HTTP 400. */
    jsonSchema?: boolean;
    /** false: `logprobs: true` gets HTTP 400. */
    logprobs?: boolean;
    /** false: n > 1 gets HTTP 400 or a single choice, see `nUnsupported`. */
    n?: boolean;
    /** false: `seed` is silently ignored, so seeded calls differ. */
    seed?: boolean;
  };
  /**
   * How a server without n > 1 reacts to it: "error" (HTTP 400), "single" (one choice), or "error500" (HTTP 500
   * "Only one completion choice is allowed", as older llama.cpp servers answer).
   */
  nUnsupported?: "error" | "single" | "error500";
  /** Require `Authorization: Bearer <apiKey>`; otherwise HTTP 401. */
  apiKey?: string;
  /** Require HTTP Basic authentication with this `user:password` (a reverse proxy); otherwise HTTP 401. */
  basicAuth?: string;
  /** Prompts longer than this many tokens (characters / 4) get a context-length HTTP 400. */
  contextLength?: number;
  /** false: omit `usage` from answers, as some servers do. */
  usage?: boolean;
  /**
   * Error body shape: "openai" `{"error": {"message", "type", "code"}}` (OpenAI, llama.cpp) or "flat"
   * `{"object": "error", "message", "type", "code"}` (older vLLM).
   */
  errorStyle?: "openai" | "flat";
  /** Delay before every answer, in milliseconds (a timer, not a busy wait). */
  latencyMs?: number;
  /** How fine-tuning jobs end and how long they take (the fine-tuning endpoints are always served). */
  fineTuning?: {
    /** Make a job end `failed` with this error: always, or when the function (given the job) returns one. */
    fail?: FineTuningError | ((job: FineTuningJobBody) => FineTuningError | undefined);
    /**
     * Retrieves until a job is done (default 3): created `validating_files`, then `queued`, `running`, …, and the
     * N-th retrieve sees `succeeded` (or `failed`). 0: the job is done when created.
     */
    pollsUntilDone?: number;
  };
}

export interface FineTuningError {
  readonly code: string;
  readonly message: string;
}

/** The parts of a fine-tuning job request the server understands. */
export interface FineTuningJobBody {
  readonly model: string;
  readonly training_file: string;
  readonly suffix?: string;
  readonly n_epochs?: number;
}

/** A file uploaded through `POST /v1/files`. */
export interface UploadedFile {
  readonly id: string;
  readonly filename: string;
  readonly purpose: string;
  readonly content: string;
}

/** A fine-tuning job as the server keeps it. `retrieves` counts `GET /v1/fine_tuning/jobs/{id}`. */
export interface FineTuningJobRecord {
  readonly id: string;
  readonly body: FineTuningJobBody;
  status: "validating_files" | "queued" | "running" | "succeeded" | "failed" | "cancelled";
  retrieves: number;
}

export interface OpenAIServer {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:41234/v1`. */
  readonly url: string;
  /** Every request, recorded as soon as its body has arrived (before latency and faults apply). */
  readonly requests: readonly RecordedRequest[];
  /** Files uploaded for fine-tuning, in upload order. */
  readonly files: readonly UploadedFile[];
  /** Fine-tuning jobs, in creation order (live records: their status advances). */
  readonly fineTuningJobs: readonly FineTuningJobRecord[];
  enqueueFault(fault: Fault): void;
  setLatency(ms: number): void;
  /** Stop listening and destroy every open socket (including hanging requests); never blocks. */
  close(): Promise<void>;
}

const MAX_N = 128;

export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  const requests: RecordedRequest[] = [];
  const faults: { fault: Fault; remaining: number }[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let latencyMs = options.latencyMs ?? 0;
  let unseededCalls = 0;
  let closed = false;

  const nextFault = (): Fault | undefined => {
    const head = faults[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) faults.shift();
    return head.fault;
  };

  const sendError = (res: ServerResponse, status: number, message: string, type: string, code?: string) => {
    const error = { message, type, param: null, code: code ?? status };
    const body = options.errorStyle === "flat" ? { object: "error", ...error } : { error };
    sendJson(res, status, body);
  };

  const handleChat = (res: ServerResponse, raw: unknown, headers: Readonly<Record<string, string>>) => {
    const fault = nextFault();
    if (fault?.kind === "hang") return; // the socket stays open until the client or close() ends it
    if (fault?.kind === "status") {
      sendFault(res, fault, options.errorStyle ?? "openai");
      return;
    }
    if (fault?.kind === "reset") {
      const text = JSON.stringify({
        id: "chatcmpl-reset",
        object: "chat.completion",
        created: 0,
        model: options.model ?? "fake-model",
        choices: [
          { index: 0, message: { role: "assistant", content: "never delivered" }, finish_reason: "stop" },
        ],
      });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
      // Destroy only once the headers and half of the body have reached the kernel, so the client sees a
      // 200 and then a truncated body rather than a refused connection.
      res.write(text.slice(0, Math.floor(text.length / 2)), () => setImmediate(() => res.socket?.destroy()));
      return;
    }
    if (fault?.kind === "stallBody") {
      const text =
        '{"id": "chatcmpl-stall", "object": "chat.completion", "choices": [{"index": 0, "message": ';
      res.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text) * 2,
      });
      res.write(text);
      return; // the rest never comes; close() destroys the socket
    }
    if (fault?.kind === "malformed") {
      res.writeHead(200, { "content-type": fault.contentType ?? "application/json" });
      res.end('{"id": "chatcmpl-malformed", "choices": [{"index": 0, "message": ');
      return;
    }
    if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
      sendError(res, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
      return;
    }
    if (
      options.basicAuth !== undefined &&
      headers.authorization !== `Basic ${Buffer.from(options.basicAuth).toString("base64")}`
    ) {
      sendError(res, 401, "Basic authentication required.", "invalid_request_error", "unauthorized");
      return;
    }
    const parsed = parseChatBody(raw);
    if (typeof parsed === "string") {
      sendError(res, 400, parsed, "invalid_request_error");
      return;
    }
    let body = parsed;
    const supports = options.supports ?? {};
    if (body.response_format?.type === "json_schema" && supports.jsonSchema === false) {
      sendError(res, 400, "response_format type json_schema is not supported", "invalid_request_error");
      return;
    }
    if (body.logprobs === true && supports.logprobs === false) {
      sendError(res, 400, "logprobs is not supported by this server", "invalid_request_error");
      return;
    }
    if ((body.n ?? 1) > 1 && supports.n === false) {
      if ((options.nUnsupported ?? "error") === "error") {
        sendError(res, 400, "only n = 1 is supported", "invalid_request_error");
        return;
      }
      if (options.nUnsupported === "error500") {
        sendError(res, 500, "Only one completion choice is allowed", "server_error", "500");
        return;
      }
      body = { ...body, n: 1 };
    }
    if (body.seed !== undefined && supports.seed === false) {
      const { seed: _ignored, ...rest } = body;
      body = rest;
    }
    const promptTokens = countTokens(body.messages.reduce((s, m) => s + m.content.length, 0));
    if (options.contextLength !== undefined && promptTokens > options.contextLength) {
      sendError(
        res,
        400,
        `This model's maximum context length is ${options.contextLength} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`,
        "invalid_request_error",
        "context_length_exceeded",
      );
      return;
    }

    const noise = body.seed === undefined && body.temperature !== 0 ? `call-${unseededCalls++}` : undefined;
    const respond = options.respond ?? ((b: ChatCompletionBody, i: number) => defaultRespond(b, i, noise));
    const choices = [];
    for (let i = 0; i < (body.n ?? 1); i++) {
      let content: string;
      let finish: "stop" | "length" = "stop";
      if (fault?.kind === "schemaViolation") {
        content = fault.content;
      } else if (fault?.kind === "truncated") {
        content = fault.content ?? '{"answer": "this answer was cut off in the mid';
        finish = "length";
      } else {
        ({ content, finish } = shape(respond(body, i), body));
      }
      const logprobs =
        body.logprobs === true ? { content: fakeLogprobs(content, body.top_logprobs ?? 0) } : null;
      choices.push({
        index: i,
        message: { role: "assistant", content },
        logprobs,
        finish_reason: finish,
      });
    }
    const completionTokens = choices.reduce((s, c) => s + countTokens(c.message.content.length), 0);
    sendJson(res, 200, {
      id: `chatcmpl-${requests.length}`,
      object: "chat.completion",
      created: 0,
      model: options.model ?? body.model ?? "fake-model",
      choices,
      ...(options.usage === false
        ? {}
        : {
            usage: {
              prompt_tokens: promptTokens,
              completion_tokens: completionTokens,
              total_tokens: promptTokens + completionTokens,
            },
          }),
    });
  };

  // Fine-tuning state: uploaded files and jobs, with each job's events (oldest first).
  const files: UploadedFile[] = [];
  const jobs: FineTuningJobRecord[] = [];
  const jobState = new Map<string, { fail: FineTuningError | undefined; events: object[]; tokens: number }>();
  let eventClock = 0;
  const pollsUntilDone = options.fineTuning?.pollsUntilDone ?? 3;

  const jobJson = (job: FineTuningJobRecord) => {
    const state = jobState.get(job.id);
    const done = job.status === "succeeded" || job.status === "failed" || job.status === "cancelled";
    const epochs = job.body.n_epochs ?? 1;
    return {
      object: "fine_tuning.job",
      id: job.id,
      model: job.body.model,
      created_at: 0,
      finished_at: done ? 1 : null,
      fine_tuned_model:
        job.status === "succeeded"
          ? `ft:${job.body.model}:bayesact:${job.body.suffix ?? ""}:${job.id.slice("ftjob-".length)}`
          : null,
      organization_id: "org-bayesact",
      result_files: [],
      status: job.status,
      validation_file: null,
      training_file: job.body.training_file,
      hyperparameters: { n_epochs: epochs, batch_size: "auto", learning_rate_multiplier: "auto" },
      method: {
        type: "supervised",
        supervised: {
          hyperparameters: { n_epochs: epochs, batch_size: "auto", learning_rate_multiplier: "auto" },
        },
      },
      trained_tokens: job.status === "succeeded" ? (state?.tokens ?? 0) * epochs : null,
      error:
        job.status === "failed" && state?.fail !== undefined
          ? { code: state.fail.code, message: state.fail.message, param: null }
          : null,
      seed: 0,
      estimated_finish: null,
      integrations: null,
      metadata: null,
      ...(job.body.suffix !== undefined ? { user_provided_suffix: job.body.suffix } : {}),
    };
  };

  const setStatus = (job: FineTuningJobRecord, status: FineTuningJobRecord["status"]) => {
    if (job.status === status) return;
    job.status = status;
    addEvent(job);
  };

  /** An event for the job's current status, as OpenAI logs each step of a job. */
  const addEvent = (job: FineTuningJobRecord) => {
    const status = job.status;
    const message = {
      validating_files: "Validating training file",
      queued: "Fine-tuning job queued",
      running: "Fine-tuning job started",
      succeeded: "The job has successfully completed",
      failed: `The job failed: ${jobState.get(job.id)?.fail?.message ?? "unknown error"}`,
      cancelled: "The job was cancelled",
    }[status];
    eventClock += 1;
    jobState.get(job.id)?.events.push({
      object: "fine_tuning.job.event",
      id: `ftevent-${eventClock}`,
      created_at: eventClock,
      level: status === "failed" ? "error" : "info",
      message,
      type: "message",
      data: {},
    });
  };

  /** The status a job has after `retrieves` retrieves (or at creation, with 0). */
  const statusAfter = (job: FineTuningJobRecord): FineTuningJobRecord["status"] => {
    if (job.retrieves >= pollsUntilDone)
      return jobState.get(job.id)?.fail !== undefined ? "failed" : "succeeded";
    return job.retrieves === 0 ? "validating_files" : job.retrieves === 1 ? "queued" : "running";
  };

  const handleFineTuning = (
    res: ServerResponse,
    method: string,
    path: string,
    headers: Readonly<Record<string, string>>,
    raw: Buffer,
    json: unknown,
  ) => {
    if (options.apiKey !== undefined && headers.authorization !== `Bearer ${options.apiKey}`) {
      sendError(res, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
      return;
    }
    const segments = path.split("/").slice(2); // ["files", id?] or ["fine_tuning", "jobs", id?, action?]
    if (segments[0] === "files") {
      if (method === "POST" && segments.length === 1) {
        const parts = parseMultipart(raw, headers["content-type"]);
        if (typeof parts === "string") {
          sendError(res, 400, parts, "invalid_request_error");
          return;
        }
        const purpose = parts.get("purpose")?.data.toString("utf8");
        const file = parts.get("file");
        if (purpose === undefined || file === undefined) {
          sendError(res, 400, "'file' and 'purpose' are required", "invalid_request_error");
          return;
        }
        const content = file.data.toString("utf8");
        const invalid = purpose === "fine-tune" ? checkTrainingFile(content) : undefined;
        if (invalid !== undefined) {
          sendError(
            res,
            400,
            `Invalid file format for Fine-Tuning API: ${invalid}`,
            "invalid_request_error",
            "invalid_file_format",
          );
          return;
        }
        const uploaded = {
          id: `file-${files.length + 1}`,
          filename: file.filename ?? "upload",
          purpose,
          content,
        };
        files.push(uploaded);
        sendJson(res, 200, fileJson(uploaded));
        return;
      }
      const uploaded = files.find((f) => f.id === segments[1]);
      if (method === "GET" && segments.length === 2 && uploaded !== undefined) {
        sendJson(res, 200, fileJson(uploaded));
        return;
      }
      if (method === "GET" && segments.length === 2) {
        sendError(res, 404, `No such File object: ${segments[1]}`, "invalid_request_error");
        return;
      }
    } else if (segments[1] === "jobs") {
      if (method === "POST" && segments.length === 2) {
        const body = parseJobBody(json);
        if (typeof body === "string") {
          sendError(res, 400, body, "invalid_request_error");
          return;
        }
        const training = files.find((f) => f.id === body.training_file);
        if (training === undefined) {
          sendError(
            res,
            400,
            `invalid training_file: ${body.training_file}`,
            "invalid_request_error",
            "invalid_training_file",
          );
          return;
        }
        const fail = options.fineTuning?.fail;
        const job: FineTuningJobRecord = {
          id: `ftjob-${jobs.length + 1}`,
          body,
          status: "validating_files",
          retrieves: 0,
        };
        jobs.push(job);
        jobState.set(job.id, {
          fail: typeof fail === "function" ? fail(body) : fail,
          events: [],
          tokens: countTokens(training.content.length),
        });
        addEvent(job);
        setStatus(job, statusAfter(job));
        sendJson(res, 200, jobJson(job));
        return;
      }
      const job = jobs.find((j) => j.id === segments[2]);
      if (job === undefined) {
        sendError(res, 404, `No such fine-tuning job: ${segments[2] ?? ""}`, "invalid_request_error");
        return;
      }
      const done = job.status === "succeeded" || job.status === "failed" || job.status === "cancelled";
      if (method === "GET" && segments.length === 3) {
        job.retrieves += 1;
        if (!done) setStatus(job, statusAfter(job));
        sendJson(res, 200, jobJson(job));
        return;
      }
      if (method === "POST" && segments[3] === "cancel" && segments.length === 4) {
        if (done) {
          sendError(res, 400, `Job has already ${job.status}: ${job.id}`, "invalid_request_error");
          return;
        }
        setStatus(job, "cancelled");
        sendJson(res, 200, jobJson(job));
        return;
      }
      if (method === "GET" && segments[3] === "events" && segments.length === 4) {
        const events = [...(jobState.get(job.id)?.events ?? [])].reverse(); // newest first, as OpenAI lists them
        sendJson(res, 200, { object: "list", data: events, has_more: false });
        return;
      }
    }
    sendError(res, 404, `no route for ${method} ${path}`, "not_found_error");
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const rawBody = raw.toString("utf8");
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    let json: unknown;
    try {
      json = rawBody === "" ? undefined : JSON.parse(rawBody);
    } catch {
      json = undefined;
    }
    requests.push({ method: req.method ?? "GET", path, headers, body: json });

    const dispatch = () => {
      if (res.destroyed || closed) return;
      if (req.method === "POST" && path === "/v1/chat/completions") {
        if (rawBody !== "" && json === undefined) {
          nextFault(); // a request consumes its fault even when its body is bad
          sendError(res, 400, "request body is not valid JSON", "invalid_request_error");
          return;
        }
        handleChat(res, json, headers);
      } else if (req.method === "GET" && path === "/v1/models") {
        const id = options.model ?? "fake-model";
        sendJson(res, 200, {
          object: "list",
          data: [{ id, object: "model", created: 0, owned_by: "bayesact" }],
        });
      } else if (
        path === "/v1/files" ||
        path.startsWith("/v1/files/") ||
        path.startsWith("/v1/fine_tuning/")
      ) {
        handleFineTuning(res, req.method ?? "GET", path, headers, raw, json);
      } else {
        sendError(res, 404, `no route for ${req.method ?? "?"} ${path}`, "not_found_error");
      }
    };
    if (latencyMs > 0) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        dispatch();
      }, latencyMs);
      timers.add(timer);
    } else {
      dispatch();
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
    req.on("error", () => res.destroy());
  });
  // Many concurrent keep-alive clients (benchmarks run 32 at once); Node's defaults are fine, but never let the
  // server's own timeouts end a deliberately hanging request before the client's deadline does.
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    files,
    fineTuningJobs: jobs,
    enqueueFault(fault) {
      faults.push({ fault, remaining: fault.times ?? 1 });
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Hanging requests and idle keep-alive sockets would otherwise hold close() open forever.
        server.closeAllConnections();
      });
    },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function sendFault(res: ServerResponse, fault: Fault & { kind: "status" }, style: "openai" | "flat"): void {
  let text: string;
  let contentType = "application/json";
  if (typeof fault.body === "string") {
    text = fault.body;
    contentType = "text/plain";
  } else if (fault.body !== undefined) {
    text = JSON.stringify(fault.body);
  } else {
    const error = {
      message: `injected fault: HTTP ${fault.status}`,
      type:
        fault.status === 429
          ? "rate_limit_error"
          : fault.status >= 500
            ? "server_error"
            : "invalid_request_error",
      param: null,
      code: fault.status,
    };
    text = JSON.stringify(style === "flat" ? { object: "error", ...error } : { error });
  }
  res.writeHead(fault.status, {
    "content-type": contentType,
    "content-length": String(Buffer.byteLength(text)),
    ...fault.headers,
  });
  res.end(text);
}

/** Validate the JSON body into the shape the server understands; a string is the HTTP 400 message. */
function parseChatBody(raw: unknown): ChatCompletionBody | string {
  if (!isRecord(raw)) return "the body must be a JSON object";
  const messages = raw.messages;
  if (!Array.isArray(messages) || messages.length === 0) return "'messages' must be a non-empty array";
  const parsedMessages: { role: string; content: string }[] = [];
  for (const m of messages) {
    if (!isRecord(m) || typeof m.role !== "string" || typeof m.content !== "string") {
      return "each message needs a string 'role' and string 'content'";
    }
    parsedMessages.push({ role: m.role, content: m.content });
  }
  const body: {
    -readonly [K in keyof ChatCompletionBody]: ChatCompletionBody[K];
  } = { messages: parsedMessages };
  if (typeof raw.model === "string") body.model = raw.model;
  const n = raw.n;
  if (n !== undefined && n !== null) {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_N) return `'n' must be 1..${MAX_N}`;
    body.n = n;
  }
  for (const key of ["temperature", "top_p", "seed", "max_tokens", "top_logprobs"] as const) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (typeof v !== "number" || !Number.isFinite(v)) return `'${key}' must be a number`;
    body[key] = v;
  }
  if (body.max_tokens !== undefined && body.max_tokens < 1) return "'max_tokens' must be at least 1";
  if (raw.logprobs !== undefined && raw.logprobs !== null) {
    if (typeof raw.logprobs !== "boolean") return "'logprobs' must be a boolean";
    body.logprobs = raw.logprobs;
  }
  if (typeof raw.stop === "string") body.stop = raw.stop;
  else if (Array.isArray(raw.stop) && raw.stop.every((s) => typeof s === "string")) body.stop = raw.stop;
  const rf = raw.response_format;
  if (isRecord(rf) && typeof rf.type === "string") {
    const js = rf.json_schema;
    body.response_format = {
      type: rf.type,
      ...(isRecord(js)
        ? {
            json_schema: {
              ...(typeof js.name === "string" ? { name: js.name } : {}),
              schema: js.schema,
              ...(typeof js.strict === "boolean" ? { strict: js.strict } : {}),
            },
          }
        : {}),
    };
    if (rf.type === "json_schema" && !isRecord(js)) return "'response_format.json_schema' is required";
  }
  return body;
}

function fileJson(file: UploadedFile) {
  return {
    object: "file",
    id: file.id,
    bytes: Buffer.byteLength(file.content),
    created_at: 0,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed",
    status_details: null,
    expires_at: null,
  };
}

/** Enough of multipart/form-data (RFC 7578) for the `openai` client's uploads: each part's name, filename, bytes. */
function parseMultipart(
  body: Buffer,
  contentType: string | undefined,
): Map<string, { data: Buffer; filename?: string }> | string {
  const match = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  const boundary = match?.[1] ?? match?.[2];
  if (boundary === undefined) return "the body must be multipart/form-data with a boundary";
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  const parts = new Map<string, { data: Buffer; filename?: string }>();
  let at = body.indexOf(delimiter);
  if (at < 0) return "no multipart boundary in the body";
  for (;;) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString("latin1") === "--") return parts; // the closing delimiter
    const headerEnd = body.indexOf("\r\n\r\n", start);
    if (headerEnd < 0) return "malformed multipart part headers";
    const end = body.indexOf(next, headerEnd + 4);
    if (end < 0) return "unterminated multipart part";
    const headers = body.subarray(start, headerEnd).toString("utf8");
    const disposition = /content-disposition:\s*form-data(;[^\r\n]*)/i.exec(headers)?.[1] ?? "";
    const name = /;\s*name="([^"]*)"/.exec(disposition)?.[1];
    const filename = /;\s*filename="([^"]*)"/.exec(disposition)?.[1];
    const data = body.subarray(headerEnd + 4, end);
    if (name !== undefined) parts.set(name, filename === undefined ? { data } : { data, filename });
    at = end + 2;
  }
}

/** A chat fine-tuning file: JSONL, each line an object with a `messages` array. Undefined when valid. */
function checkTrainingFile(content: string): string | undefined {
  let records = 0;
  for (const [i, line] of content.split("\n").entries()) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      return `line ${i + 1} is not valid JSON`;
    }
    if (!isRecord(parsed) || !Array.isArray(parsed.messages)) return `line ${i + 1} has no 'messages' array`;
    records += 1;
  }
  return records === 0 ? "the file has no examples" : undefined;
}

/** Validate a fine-tuning job request; a string is the HTTP 400 message. */
function parseJobBody(raw: unknown): FineTuningJobBody | string {
  if (!isRecord(raw)) return "the body must be a JSON object";
  if (typeof raw.model !== "string" || raw.model === "") return "'model' is required";
  if (typeof raw.training_file !== "string") return "'training_file' is required";
  if (raw.suffix !== undefined && raw.suffix !== null && typeof raw.suffix !== "string")
    return "'suffix' must be a string";
  // n_epochs may come the deprecated way (hyperparameters) or inside `method.supervised`.
  const method = isRecord(raw.method) && isRecord(raw.method.supervised) ? raw.method.supervised : {};
  const hyper = isRecord(method.hyperparameters)
    ? method.hyperparameters
    : isRecord(raw.hyperparameters)
      ? raw.hyperparameters
      : {};
  const epochs = hyper.n_epochs;
  if (
    epochs !== undefined &&
    epochs !== "auto" &&
    (typeof epochs !== "number" || !Number.isInteger(epochs) || epochs < 1)
  )
    return "'n_epochs' must be a positive integer or 'auto'";
  return {
    model: raw.model,
    training_file: raw.training_file,
    ...(typeof raw.suffix === "string" ? { suffix: raw.suffix } : {}),
    ...(typeof epochs === "number" ? { n_epochs: epochs } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Apply `stop` and `max_tokens` to generated content, as a real server would while decoding. */
function shape(content: string, body: ChatCompletionBody): { content: string; finish: "stop" | "length" } {
  let text = content;
  const stops = typeof body.stop === "string" ? [body.stop] : (body.stop ?? []);
  for (const s of stops) {
    const at = s === "" ? -1 : text.indexOf(s);
    if (at >= 0) text = text.slice(0, at);
  }
  const tokens = tokenize(text);
  if (body.max_tokens !== undefined && tokens.length > body.max_tokens) {
    return { content: tokens.slice(0, body.max_tokens).join(""), finish: "length" };
  }
  return { content: text, finish: "stop" };
}

/** Fake tokenizer: a token is a run of non-space characters with the whitespace before it. Lossless. */
export function tokenize(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

/** Tokens charged for `chars` characters of text (characters / 4, rounded up). */
function countTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/**
 * Consistent fake log-probabilities: each token gets p in [0.3, 0.99) from a hash of its text and position;
 * alternatives `<alt1>`, `<alt2>`, … share the remaining mass geometrically, so the listed probabilities sum < 1.
 */
function fakeLogprobs(content: string, top: number) {
  return tokenize(content).map((token, position) => {
    const p = 0.3 + 0.69 * new Rng(`${position}\u0000${token}`).float();
    const alternatives = [{ token, logprob: Math.log(p), bytes: null }];
    let rest = 1 - p;
    for (let j = 1; j < top; j++) {
      rest /= 2;
      alternatives.push({ token: `<alt${j}>`, logprob: Math.log(rest), bytes: null });
    }
    return { token, logprob: Math.log(p), bytes: null, top_logprobs: alternatives.slice(0, top) };
  });
}

const WORDS = [
  "move",
  "left",
  "right",
  "stack",
  "block",
  "red",
  "blue",
  "goal",
  "plan",
  "value",
  "think",
  "next",
  "four",
  "seven",
  "add",
  "subtract",
];

/** Deterministic text from the last message, the choice index and the seed (or per-call noise). */
export function defaultRespond(body: ChatCompletionBody, index: number, noise?: string): string {
  const last = body.messages.at(-1)?.content ?? "";
  const key = body.seed !== undefined ? `seed-${body.seed}` : (noise ?? "greedy");
  const seeded = new Rng(`${last}\u0000${index}\u0000${key}`);
  const rng = () => seeded.float();
  const schema =
    body.response_format?.type === "json_schema" ? body.response_format.json_schema?.schema : undefined;
  if (schema !== undefined) return JSON.stringify(exampleFor(schema, rng, 0));
  const words = Array.from({ length: 5 + Math.floor(rng() * 5) }, () => pick(WORDS, rng));
  return `sample ${index}: ${words.join(" ")}`;
}

/** A value that satisfies common JSON schemas (objects, arrays, enums, consts, primitive types). */
function exampleFor(schema: unknown, rng: () => number, depth: number): unknown {
  if (!isRecord(schema) || depth > 8) return null;
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0)
    return schema.enum[Math.floor(rng() * schema.enum.length)];
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) return exampleFor(options[0], rng, depth + 1);
  }
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null") : [schema.type];
  switch (types[0]) {
    case "object": {
      const out: Record<string, unknown> = {};
      const properties = isRecord(schema.properties) ? schema.properties : {};
      for (const [name, sub] of Object.entries(properties)) out[name] = exampleFor(sub, rng, depth + 1);
      return out;
    }
    case "array": {
      const min = typeof schema.minItems === "number" ? schema.minItems : 1;
      return Array.from({ length: Math.max(min, 1) }, () => exampleFor(schema.items, rng, depth + 1));
    }
    case "string":
      return pick(WORDS, rng);
    case "integer":
      return Math.floor(rng() * 10);
    case "number":
      return Math.floor(rng() * 100) / 10;
    case "boolean":
      return rng() < 0.5;
    default:
      return null;
  }
}

function pick<T>(items: readonly T[], rng: () => number): T {
  const item = items[Math.floor(rng() * items.length)];
  if (item === undefined) throw new Error("pick from an empty list");
  return item;
}
