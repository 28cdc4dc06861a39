import {
  abortableSleep,
  isZeroAttempts,
  type LlmError,
  sumAttempts,
  sumUsage,
  toLlmError,
  ZERO_USAGE,
} from "../errors.ts";
import type {
  Attempts,
  Capabilities,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  Usage,
} from "../types.ts";
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
  /** Called before each retry's wait, for calls and capability probes alike. */
  onRetry?: (info: RetryInfo) => void;
  /** Called when an attempt failed and is not retried (`attempt` counts from 1), e.g. to count a last timeout. */
  onGiveUp?: (info: { readonly attempt: number; readonly error: LlmError }) => void;
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

/**
 * Retry `generate`, `capabilities` (the start-up probes: one transient 429 or 5xx must not end a run) and `score`
 * with the same policy. The result (or final error) carries the `attempts` it took, and the tokens failed attempts billed.
 */
export function withRetry(model: LanguageModel, options: RetryOptions = {}): LanguageModel {
  const maxRetries = options.maxRetries ?? 4;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
  const sleep = options.sleep ?? abortableSleep;

  /** The one retry loop, for both kinds of request. */
  async function retrying<T>(
    run: () => Promise<T>,
    signal: AbortSignal | undefined,
  ): Promise<{ value: T; failedUsage: Usage; attempts: Attempts }> {
    // Failed attempts can still bill tokens (a malformed or cut-off body); they are added to what we return or
    // throw, so usage accounting outside this middleware sees everything billed.
    let failedUsage: Usage = ZERO_USAGE;
    let retries = 0;
    let retryWaitMs = 0;
    let timeouts = 0;
    const tally = (): Attempts => ({ retries, retryWaitMs, timeouts });
    for (;;) {
      let error: LlmError;
      try {
        return { value: await run(), failedUsage, attempts: tally() };
      } catch (thrown) {
        error = toLlmError(thrown, signal).plusUsage(failedUsage);
      }
      if (error.usage) failedUsage = error.usage;
      if (error.category === "timeout") timeouts++;
      const canRetry =
        error.retryable &&
        retries < maxRetries &&
        !signal?.aborted &&
        (error.retryAfterMs === undefined || error.retryAfterMs <= maxRetryAfterMs);
      if (!canRetry) {
        options.onGiveUp?.({ attempt: retries + 1, error });
        throw error.plusAttempts(tally());
      }
      retries++;
      const delayMs = computeDelay(retries, error, options);
      retryWaitMs += delayMs;
      options.onRetry?.({ attempt: retries, delayMs, error });
      try {
        await sleep(delayMs, signal);
      } catch (thrown) {
        throw toLlmError(thrown, signal).plusUsage(failedUsage).plusAttempts(tally());
      }
    }
  }

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    const { value, failedUsage, attempts } = await retrying(() => model.generate(request), request.signal);
    if (isZeroAttempts(attempts)) return value;
    return {
      ...value,
      usage: sumUsage(value.usage, failedUsage),
      attempts: sumAttempts(value.attempts, attempts),
    };
  }

  async function capabilities(o?: { signal?: AbortSignal }): Promise<Capabilities> {
    // The provider remembers only a successful probe, so calling it again probes again.
    return (await retrying(() => model.capabilities(o), o?.signal)).value;
  }

  // Exact scoring over HTTP (llama.cpp's server) meets the same transient faults as generation.
  const score = model.score;
  return {
    ...wrapGenerate(model, generate),
    capabilities,
    ...(score
      ? {
          score: async (prefix: string, continuation: string, o?: { signal?: AbortSignal }) =>
            (await retrying(() => score.call(model, prefix, continuation, o), o?.signal)).value,
        }
      : {}),
  };
}
