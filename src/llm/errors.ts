import { BayesactError } from "../core/errors.ts";
import type { Attempts, Usage } from "./types.ts";

/**
 * Named failure categories of a model call. Retry logic reads `retryable`; the CLI reads `userFacing`.
 *
 * - `rate_limit` 429; `server` 5xx; `connection` reset/refused/DNS; `timeout` per-attempt deadline passed;
 *   `malformed_response` a body that is not the protocol's JSON — all retryable.
 * - `aborted` the caller's signal; `auth` 401/403; `bad_request` other 4xx; `not_found` 404 (model or route);
 *   `context_length` prompt too long; `truncated` output cut at max tokens where a complete answer was required;
 *   `schema_violation` structured output that does not validate even after repair; `budget_exceeded` the
 *   configured cost cap would be crossed; `cache_miss` cache-only mode had no entry; `replay_miss` a cassette
 *   had no matching request; `unsupported` the provider cannot do what was asked — not retryable.
 */
export type LlmErrorCategory =
  | "rate_limit"
  | "server"
  | "connection"
  | "timeout"
  | "malformed_response"
  | "aborted"
  | "auth"
  | "bad_request"
  | "not_found"
  | "context_length"
  | "truncated"
  | "schema_violation"
  | "budget_exceeded"
  | "cache_miss"
  | "replay_miss"
  | "unsupported";

const RETRYABLE: ReadonlySet<LlmErrorCategory> = new Set([
  "rate_limit",
  "server",
  "connection",
  "timeout",
  "malformed_response",
]);

/** Categories a user causes and can fix (wrong URL, key, model name): the CLI prints one line, exit 2. */
const USER_FACING: ReadonlySet<LlmErrorCategory> = new Set([
  "auth",
  "not_found",
  "budget_exceeded",
  "cache_miss",
  "replay_miss",
]);

export interface LlmErrorOptions {
  cause?: unknown;
  status?: number;
  /** Server-requested wait before retrying (from `retry-after-ms` / `retry-after`). */
  retryAfterMs?: number;
  /** Tokens the failed call still consumed (e.g. a truncated or schema-violating answer). */
  usage?: Usage;
  /** Overrides the category's default. */
  retryable?: boolean;
  /** The raw text that failed to parse or validate, for diagnostics (never logged with secrets). */
  raw?: string;
  /** The attempts the failed call made (set by the retry middleware). */
  attempts?: Attempts;
}

export class LlmError extends BayesactError {
  declare readonly category: LlmErrorCategory;
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly usage: Usage | undefined;
  readonly raw: string | undefined;
  readonly attempts: Attempts | undefined;

  constructor(category: LlmErrorCategory, message: string, options: LlmErrorOptions = {}) {
    super(category, message, { cause: options.cause, userFacing: USER_FACING.has(category) });
    this.name = "LlmError";
    this.retryable = options.retryable ?? RETRYABLE.has(category);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.usage = options.usage;
    this.raw = options.raw;
    this.attempts = options.attempts;
  }

  /** This error with `extra` billed tokens added (e.g. those of earlier failed attempts). */
  plusUsage(extra: Usage): LlmError {
    if (extra.inputTokens === 0 && extra.outputTokens === 0) return this;
    return this.copy({ usage: sumUsage(this.usage ?? ZERO_USAGE, extra) });
  }

  /** This error with `extra` attempts added (e.g. those of other calls a cached request made). */
  plusAttempts(extra: Attempts | undefined): LlmError {
    if (extra === undefined || isZeroAttempts(extra)) return this;
    return this.copy({ attempts: sumAttempts(this.attempts, extra) });
  }

  /** A copy with some options replaced; everything else (cause, status, retry-after, usage, attempts) kept. */
  private copy(changes: Pick<LlmErrorOptions, "usage" | "attempts">): LlmError {
    const usage = changes.usage ?? this.usage;
    const attempts = changes.attempts ?? this.attempts;
    return new LlmError(this.category, this.message, {
      cause: this.cause,
      retryable: this.retryable,
      ...(usage !== undefined ? { usage } : {}),
      ...(attempts !== undefined ? { attempts } : {}),
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.retryAfterMs !== undefined ? { retryAfterMs: this.retryAfterMs } : {}),
      ...(this.raw !== undefined ? { raw: this.raw } : {}),
    });
  }
}

export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 });

export function sumUsage(a: Usage, b: Usage): Usage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
}

export const ZERO_ATTEMPTS: Attempts = Object.freeze({ retries: 0, retryWaitMs: 0, timeouts: 0 });

export function isZeroAttempts(a: Attempts): boolean {
  return a.retries === 0 && a.retryWaitMs === 0 && a.timeouts === 0;
}

/** Field-wise sum; `undefined` counts as none. */
export function sumAttempts(a: Attempts | undefined, b: Attempts | undefined): Attempts {
  const x = a ?? ZERO_ATTEMPTS;
  const y = b ?? ZERO_ATTEMPTS;
  return {
    retries: x.retries + y.retries,
    retryWaitMs: x.retryWaitMs + y.retryWaitMs,
    timeouts: x.timeouts + y.timeouts,
  };
}

export function isLlmError(error: unknown): error is LlmError {
  return error instanceof LlmError;
}

/**
 * The model answered, but nothing usable came of it: JSON outside the schema (after the repair round), a cut-off
 * answer, or a malformed response. Roles that judge or simulate (critics, the simulated executor) record this as a
 * named result; transport failures (network, auth, budget) are not this and propagate.
 */
export function isUnusableAnswer(error: unknown): error is LlmError {
  return (
    isLlmError(error) &&
    (error.category === "schema_violation" ||
      error.category === "truncated" ||
      error.category === "malformed_response")
  );
}

/** Parse `retry-after-ms` (milliseconds) or `retry-after` (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(
  headers: { get(name: string): string | null } | undefined,
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const v = Number(ms);
    if (Number.isFinite(v) && v >= 0) return v;
  }
  const ra = headers.get("retry-after");
  if (ra === null || ra.trim() === "") return undefined;
  const seconds = Number(ra);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(ra);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}

/** Wrap any thrown value as an `LlmError`, keeping existing ones; `signal` tells an abort from other failures. */
export function toLlmError(error: unknown, signal?: AbortSignal): LlmError {
  if (error instanceof LlmError) return error;
  if (signal?.aborted) return new LlmError("aborted", "the call was aborted", { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new LlmError("connection", message, { cause: error });
}

/** `setTimeout` as a promise that rejects with `LlmError("aborted")` as soon as `signal` fires. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new LlmError("aborted", "the call was aborted"));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new LlmError("aborted", "the call was aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
