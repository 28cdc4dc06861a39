/**
 * Per-endpoint client-side limits: at most `concurrency` calls in flight, at most `requestsPerMinute` calls and
 * `tokensPerMinute` tokens per minute. Limits live in a `LimiterRegistry` keyed by `model.endpoint`, so two model
 * objects for the same server (say a planner and a critic on one llama.cpp server) share them.
 *
 * Order of waiting: first a concurrency slot (FIFO), then the rate buckets (FIFO). Taking rate tokens only when
 * a slot is held means tokens are spent just before the request is sent, which is what the server counts.
 */
import { UserError } from "../../core/errors.ts";
import { abortableSleep, isLlmError, LlmError } from "../errors.ts";
import type { GenerateRequest, GenerateResult, LanguageModel } from "../types.ts";
import { wrapGenerate } from "./wrap.ts";

/** Time source and sleeper; inject a fake one in tests. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Resolve after `ms`; when `signal` aborts, settle early (resolve or reject, either is fine). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  sleep: abortableSleep,
};

export interface RateLimits {
  /** Calls in flight at once. */
  concurrency?: number;
  requestsPerMinute?: number;
  /** Input + output tokens per minute (estimated before the call, corrected with the billed usage after). */
  tokensPerMinute?: number;
}

/**
 * Output tokens assumed for a request without `maxTokens` when estimating its TPM cost. Over-estimating only
 * delays calls a little (the difference is refunded when the usage arrives); under-estimating lets a burst
 * overshoot the server's limit.
 */
export const DEFAULT_ASSUMED_MAX_TOKENS = 512;

/** Estimated tokens of a call: UTF-8 bytes of the messages / 4, plus the maximum output of every sample. */
export function estimateTokens(
  request: GenerateRequest,
  assumedMaxTokens = DEFAULT_ASSUMED_MAX_TOKENS,
): number {
  let bytes = 0;
  for (const message of request.messages) bytes += Buffer.byteLength(message.content, "utf8");
  return Math.ceil(bytes / 4) + (request.maxTokens ?? assumedMaxTokens) * (request.n ?? 1);
}

/** FIFO counting semaphore whose waiters can abort (and then leave the queue). */
class Semaphore {
  max: number;
  active = 0;
  private readonly queue: Waiter[] = [];

  constructor(max: number) {
    this.max = max;
  }

  get queued(): number {
    return this.queue.length;
  }

  acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.queue.length === 0 && this.active < this.max) {
      this.active++;
      return Promise.resolve();
    }
    return enqueue(this.queue, signal, () => undefined);
  }

  release(): void {
    this.active--;
    this.drain();
  }

  drain(): void {
    while (this.active < this.max) {
      const next = this.queue.shift();
      if (next === undefined) return;
      this.active++;
      next.grant();
    }
  }
}

interface Waiter {
  /** Tokens asked for (rate gate only). */
  readonly tokens: number;
  grant(): void;
}

/** Put a waiter in `queue`; an abort rejects it and removes it, then calls `onLeave` (e.g. to wake a pump). */
function enqueue(
  queue: Waiter[],
  signal: AbortSignal | undefined,
  onLeave: (wasHead: boolean) => void,
  tokens = 0,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new LlmError("aborted", "the call was aborted while waiting for the rate limiter"));
      return;
    }
    const onAbort = () => {
      const position = queue.indexOf(waiter);
      if (position < 0) return;
      queue.splice(position, 1);
      reject(new LlmError("aborted", "the call was aborted while waiting for the rate limiter"));
      onLeave(position === 0);
    };
    const waiter: Waiter = {
      tokens,
      grant: () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
    };
    queue.push(waiter);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Token bucket refilled continuously at `capacity` per minute; starts full. May go negative (debt). */
class TokenBucket {
  capacity: number;
  private level: number;
  private last: number;
  private readonly clock: Clock;

  constructor(capacity: number, clock: Clock) {
    this.capacity = capacity;
    this.level = capacity;
    this.clock = clock;
    this.last = clock.now();
  }

  /** Milliseconds until `amount` can be taken (0 = now). An amount above capacity waits for a full bucket. */
  waitFor(amount: number): number {
    this.refill();
    const need = Math.min(amount, this.capacity);
    if (this.level >= need) return 0;
    return Math.ceil(((need - this.level) * 60_000) / this.capacity);
  }

  take(amount: number): void {
    this.refill();
    this.level -= amount;
  }

  /** Give back (or, with a negative amount, charge more) after the real usage is known. */
  adjust(amount: number): void {
    this.refill();
    this.level = Math.min(this.capacity, this.level + amount);
  }

  setCapacity(capacity: number): void {
    this.refill();
    this.capacity = capacity;
    this.level = Math.min(this.level, capacity);
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.level = Math.min(this.capacity, this.level + (elapsed * this.capacity) / 60_000);
  }
}

/** Grants waiters in FIFO order once both buckets have room; one pump loop sleeps for the head of the queue. */
class RateGate {
  requests: TokenBucket | undefined;
  tokens: TokenBucket | undefined;
  private readonly clock: Clock;
  private readonly queue: Waiter[] = [];
  private pumping = false;
  private wake: AbortController | undefined;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  get queued(): number {
    return this.queue.length;
  }

  acquire(tokens: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.requests === undefined && this.tokens === undefined) return Promise.resolve();
    const granted = enqueue(
      this.queue,
      signal,
      (wasHead) => {
        if (wasHead) this.kick();
      },
      tokens,
    );
    this.kick();
    return granted;
  }

  /** Re-evaluate now: the head changed, or tokens were given back. */
  kick(): void {
    this.wake?.abort();
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
        const wait = Math.max(this.requests?.waitFor(1) ?? 0, this.tokens?.waitFor(head.tokens) ?? 0);
        if (wait <= 0) {
          this.requests?.take(1);
          this.tokens?.take(head.tokens);
          this.queue.shift();
          head.grant();
          continue;
        }
        const wake = new AbortController();
        this.wake = wake;
        try {
          await this.clock.sleep(wait, wake.signal);
        } catch {
          // Woken early by `kick`: loop and look again.
        } finally {
          if (this.wake === wake) this.wake = undefined;
        }
      }
    } finally {
      this.pumping = false;
    }
  }
}

/** The limits of one endpoint. */
export class EndpointLimiter {
  readonly endpoint: string;
  private readonly semaphore = new Semaphore(Number.POSITIVE_INFINITY);
  private readonly gate: RateGate;
  private readonly clock: Clock;

  constructor(endpoint: string, clock: Clock) {
    this.endpoint = endpoint;
    this.clock = clock;
    this.gate = new RateGate(clock);
  }

  /** Apply `limits`; where this endpoint already has a limit, the stricter one wins (limits never loosen). */
  tighten(limits: RateLimits): void {
    if (limits.concurrency !== undefined) {
      this.semaphore.max = Math.min(this.semaphore.max, limits.concurrency);
    }
    const rpm = limits.requestsPerMinute;
    if (rpm !== undefined) {
      if (this.gate.requests === undefined) this.gate.requests = new TokenBucket(rpm, this.clock);
      else this.gate.requests.setCapacity(Math.min(this.gate.requests.capacity, rpm));
    }
    const tpm = limits.tokensPerMinute;
    if (tpm !== undefined) {
      if (this.gate.tokens === undefined) this.gate.tokens = new TokenBucket(tpm, this.clock);
      else this.gate.tokens.setCapacity(Math.min(this.gate.tokens.capacity, tpm));
    }
  }

  /** Calls in flight and calls waiting (for a slot or for the rate buckets). */
  stats(): { active: number; queued: number } {
    return { active: this.semaphore.active, queued: this.semaphore.queued + this.gate.queued };
  }

  /**
   * Wait for a slot and for `tokens` of TPM budget. Returns the release function: call it exactly once with
   * the tokens actually billed (or `undefined` to keep the estimate).
   */
  async acquire(
    tokens: number,
    signal: AbortSignal | undefined,
  ): Promise<(billed: number | undefined) => void> {
    await this.semaphore.acquire(signal);
    try {
      await this.gate.acquire(tokens, signal);
    } catch (error) {
      this.semaphore.release();
      throw error;
    }
    let released = false;
    return (billed) => {
      if (released) return;
      released = true;
      if (billed !== undefined && this.gate.tokens !== undefined) {
        this.gate.tokens.adjust(tokens - billed);
        this.gate.kick();
      }
      this.semaphore.release();
    };
  }
}

/** Endpoint → limiter. The first wrapper for an endpoint fixes the limiter's clock. */
export class LimiterRegistry {
  private readonly limiters = new Map<string, EndpointLimiter>();

  limiterFor(endpoint: string, limits: RateLimits = {}, clock: Clock = systemClock): EndpointLimiter {
    let limiter = this.limiters.get(endpoint);
    if (limiter === undefined) {
      limiter = new EndpointLimiter(endpoint, clock);
      this.limiters.set(endpoint, limiter);
    }
    limiter.tighten(limits);
    return limiter;
  }

  get(endpoint: string): EndpointLimiter | undefined {
    return this.limiters.get(endpoint);
  }
}

/** Shared by every `withRateLimit` that does not pass its own registry. */
export const defaultLimiterRegistry = new LimiterRegistry();

export interface RateLimitOptions extends RateLimits {
  registry?: LimiterRegistry;
  clock?: Clock;
  /** Output tokens assumed when a request has no `maxTokens` (default `DEFAULT_ASSUMED_MAX_TOKENS`). */
  assumedMaxTokens?: number;
}

/**
 * Limit calls to `model.endpoint`. One `generate` counts as one request whatever its `n` (a provider without
 * native n > 1 fans out below this layer). A call larger than the whole TPM budget goes through once the bucket
 * is full and leaves it in debt, rather than waiting forever. Only `generate` is limited; `capabilities` and
 * `score` pass through.
 */
export function withRateLimit(model: LanguageModel, options: RateLimitOptions = {}): LanguageModel {
  checkPositive("concurrency", options.concurrency, true);
  checkPositive("requestsPerMinute", options.requestsPerMinute, false);
  checkPositive("tokensPerMinute", options.tokensPerMinute, false);
  const limits: RateLimits = {
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.requestsPerMinute !== undefined ? { requestsPerMinute: options.requestsPerMinute } : {}),
    ...(options.tokensPerMinute !== undefined ? { tokensPerMinute: options.tokensPerMinute } : {}),
  };
  const registry = options.registry ?? defaultLimiterRegistry;
  const limiter = registry.limiterFor(model.endpoint, limits, options.clock);
  const assumed = options.assumedMaxTokens ?? DEFAULT_ASSUMED_MAX_TOKENS;

  return wrapGenerate(model, async (request): Promise<GenerateResult> => {
    const estimate = estimateTokens(request, assumed);
    const release = await limiter.acquire(estimate, request.signal);
    try {
      const result = await model.generate(request);
      release(result.usage.inputTokens + result.usage.outputTokens);
      return result;
    } catch (error) {
      // A failure without usage keeps the estimate charged: the server usually counted the attempt anyway.
      const usage = isLlmError(error) ? error.usage : undefined;
      release(usage === undefined ? undefined : usage.inputTokens + usage.outputTokens);
      throw error;
    }
  });
}

function checkPositive(name: string, value: number | undefined, integer: boolean): void {
  if (value === undefined) return;
  const valid = integer ? Number.isInteger(value) && value >= 1 : Number.isFinite(value) && value > 0;
  if (!valid) {
    throw new UserError(
      `rate limit ${name} must be a positive ${integer ? "integer" : "number"}, got ${value}`,
      {
        category: "bad_option",
      },
    );
  }
}
