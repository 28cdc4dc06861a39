import { abortableSleep, type LlmError, sumUsage, toLlmError, ZERO_USAGE } from "../errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel, Usage } from "../types.ts";
import { wrapGenerate } from "./wrap.ts";

export interface RetryInfo {
  /** 1 for the first retry. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: LlmError;
}

export interface RetryOptions {
  /** Retries after the first attempt (default 4, so at most 5 attempts). */
  maxRetries?: number;
  /** First backoff ceiling in ms (default 500); doubles each retry. */
  baseDelayMs?: number;
  /** Backoff ceiling in ms (default 30 000); a server's retry-after is honoured even when larger, up to `maxRetryAfterMs`. */
  maxDelayMs?: number;
  /** A server asking to wait longer than this (default 120 000 ms) is not retried: the error is returned. */
  maxRetryAfterMs?: number;
  /** Uniform [0, 1) source for jitter (default Math.random: jitter spreads clients, it does not need a seed). */
  random?: () => number;
  /** Injected for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  onRetry?: (info: RetryInfo) => void;
}

/**
 * Exponential backoff with full jitter ("AWS architecture blog" variant): the wait before retry k is uniform in
 * [0, min(maxDelay, base · 2^(k−1))], or the server's `retry-after` when it gave one (plus up to 10% jitter, so
 * clients told the same instant do not stampede). Only errors whose category is retryable are retried; an abort
 * is never retried and interrupts a backoff wait at once.
 */
export function computeDelay(attempt: number, error: LlmError, options: RetryOptions): number {
  const random = options.random ?? Math.random;
  if (error.retryAfterMs !== undefined) return error.retryAfterMs * (1 + 0.1 * random());
  const base = options.baseDelayMs ?? 500;
  const cap = Math.min(options.maxDelayMs ?? 30_000, base * 2 ** (attempt - 1));
  return random() * cap;
}

export function withRetry(model: LanguageModel, options: RetryOptions = {}): LanguageModel {
  const maxRetries = options.maxRetries ?? 4;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
  const sleep = options.sleep ?? abortableSleep;

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    // Failed attempts can still bill tokens (a malformed or cut-off body); they are added to what we return or
    // throw, so usage accounting outside this middleware sees everything billed.
    let failedUsage: Usage = ZERO_USAGE;
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await model.generate(request);
        return attempt === 0 ? result : { ...result, usage: sumUsage(result.usage, failedUsage) };
      } catch (thrown) {
        const error = toLlmError(thrown, request.signal).plusUsage(failedUsage);
        if (error.usage) failedUsage = error.usage;
        const canRetry =
          error.retryable &&
          attempt < maxRetries &&
          !request.signal?.aborted &&
          (error.retryAfterMs === undefined || error.retryAfterMs <= maxRetryAfterMs);
        if (!canRetry) throw error;
        const delayMs = computeDelay(attempt + 1, error, options);
        options.onRetry?.({ attempt: attempt + 1, delayMs, error });
        await sleep(delayMs, request.signal);
      }
    }
  }

  return wrapGenerate(model, generate);
}
