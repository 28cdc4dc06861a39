import { describe, expect, it } from "vitest";
import { LlmError } from "../errors.ts";
import { MockLanguageModel, type MockModelOptions } from "../testing/mock.ts";
import type { GenerateRequest, GenerateResult } from "../types.ts";
import { type Clock, estimateTokens, LimiterRegistry, withRateLimit } from "./rate-limit.ts";

/** Let queued promise reactions and a few event-loop turns run. */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A clock that only moves when the test says so. */
class FakeClock implements Clock {
  time = 0;
  private timers: { at: number; resolve: () => void }[] = [];

  now(): number {
    return this.time;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const timer = { at: this.time + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.timers = this.timers.filter((t) => t !== timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  async advance(ms: number): Promise<void> {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.resolve();
    await settle();
  }
}

/**
 * Counts calls in flight per endpoint (shared across instances through `counters`) and optionally holds every
 * call until `open()` is called.
 */
class MeteredMock extends MockLanguageModel {
  static counters = new Map<string, { now: number; max: number }>();
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  constructor(options: MockModelOptions & { held?: boolean } = {}) {
    super(options);
    if (options.held) this.hold();
  }

  hold(): void {
    let open = () => {};
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gate = { promise, open };
  }

  open(): void {
    this.gate?.open();
    this.gate = undefined;
  }

  get counter(): { now: number; max: number } {
    let counter = MeteredMock.counters.get(this.endpoint);
    if (counter === undefined) {
      counter = { now: 0, max: 0 };
      MeteredMock.counters.set(this.endpoint, counter);
    }
    return counter;
  }

  override async generate(request: GenerateRequest): Promise<GenerateResult> {
    const counter = this.counter;
    counter.now++;
    counter.max = Math.max(counter.max, counter.now);
    try {
      if (this.gate) await this.gate.promise;
      else await settle(1);
      return await super.generate(request);
    } finally {
      counter.now--;
    }
  }
}

let endpointCounter = 0;
const freshEndpoint = () => `mock://endpoint-${endpointCounter++}`;
const ask = (content = "hi", extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  ...extra,
});

/** Track a promise's state without awaiting it. */
function track<T>(promise: Promise<T>): { settled: boolean; error: unknown; promise: Promise<T> } {
  const state = { settled: false, error: undefined as unknown, promise };
  promise.then(
    () => {
      state.settled = true;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

describe("withRateLimit concurrency", () => {
  it("never has more than `concurrency` calls in flight under 50 concurrent calls", async () => {
    const inner = new MeteredMock({ endpoint: freshEndpoint() });
    const model = withRateLimit(inner, { concurrency: 4, registry: new LimiterRegistry() });
    await Promise.all(Array.from({ length: 50 }, (_, i) => model.generate(ask(`q${i}`))));
    expect(inner.calls).toHaveLength(50);
    expect(inner.counter.max).toBe(4);
  });

  it("shares the limit between models on one endpoint but not across endpoints", async () => {
    const registry = new LimiterRegistry();
    const shared = freshEndpoint();
    const a = withRateLimit(new MeteredMock({ endpoint: shared }), { concurrency: 2, registry });
    const b = withRateLimit(new MeteredMock({ endpoint: shared }), { concurrency: 2, registry });
    const other = new MeteredMock({ endpoint: freshEndpoint() });
    const c = withRateLimit(other, { concurrency: 2, registry });
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => [
        a.generate(ask(`a${i}`)),
        b.generate(ask(`b${i}`)),
        c.generate(ask()),
      ]).flat(),
    );
    expect(MeteredMock.counters.get(shared)?.max).toBe(2);
    expect(other.counter.max).toBe(2);
    expect(registry.get(shared)?.stats()).toEqual({ active: 0, queued: 0 });
  });

  it("releases the slot when the inner call fails", async () => {
    const inner = new MeteredMock({
      endpoint: freshEndpoint(),
      respond: (_r, _i, call) => (call === 0 ? new LlmError("server", "boom") : "ok"),
    });
    const registry = new LimiterRegistry();
    const model = withRateLimit(inner, { concurrency: 1, registry });
    await expect(model.generate(ask())).rejects.toMatchObject({ category: "server" });
    expect(registry.get(inner.endpoint)?.stats()).toEqual({ active: 0, queued: 0 });
    const result = await model.generate(ask());
    expect(result.choices[0]?.text).toBe("ok");
  });

  it("an abort while queued rejects with `aborted` and gives the place to the next caller", async () => {
    const inner = new MeteredMock({ endpoint: freshEndpoint(), held: true });
    const registry = new LimiterRegistry();
    const model = withRateLimit(inner, { concurrency: 1, registry });
    const limiter = registry.get(inner.endpoint);
    const first = track(model.generate(ask("first")));
    const controller = new AbortController();
    const second = track(model.generate(ask("second", { signal: controller.signal })));
    const third = track(model.generate(ask("third")));
    await settle();
    expect(limiter?.stats()).toEqual({ active: 1, queued: 2 });

    controller.abort();
    await settle();
    expect(second.settled).toBe(true);
    expect(second.error).toBeInstanceOf(LlmError);
    expect(second.error).toMatchObject({ category: "aborted" });
    expect(limiter?.stats()).toEqual({ active: 1, queued: 1 });

    inner.open();
    await Promise.all([first.promise, third.promise]);
    expect(inner.calls.map((c) => c.request.messages[0]?.content)).toEqual(["first", "third"]);
    expect(limiter?.stats()).toEqual({ active: 0, queued: 0 });
  });
});

describe("withRateLimit rates (fake clock)", () => {
  it("makes the (limit+1)-th request of a minute wait until one request's worth has refilled", async () => {
    const clock = new FakeClock();
    const inner = new MockLanguageModel({ endpoint: freshEndpoint() });
    const model = withRateLimit(inner, { requestsPerMinute: 3, registry: new LimiterRegistry(), clock });
    const calls = Array.from({ length: 4 }, () => track(model.generate(ask())));
    await settle();
    expect(inner.calls).toHaveLength(3);
    // 3 per minute refills one request every 20 s.
    await clock.advance(19_999);
    expect(inner.calls).toHaveLength(3);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(4);
    await Promise.all(calls.map((c) => c.promise));
  });

  it("makes a request wait until the token bucket has room for its estimate", async () => {
    const clock = new FakeClock();
    // 40 chars of prompt = 10 tokens; 30 output tokens asked for and billed (120 chars): estimate = usage = 40.
    const inner = new MockLanguageModel({ endpoint: freshEndpoint(), respond: () => "y".repeat(120) });
    const model = withRateLimit(inner, { tokensPerMinute: 100, registry: new LimiterRegistry(), clock });
    const request = ask("x".repeat(40), { maxTokens: 30 });
    expect(estimateTokens(request)).toBe(40);
    await model.generate(request);
    await model.generate(request);
    const third = track(model.generate(request));
    await settle();
    expect(inner.calls).toHaveLength(2);
    // 20 tokens left, 40 needed: 20 tokens at 100/min take 12 s.
    await clock.advance(11_999);
    expect(inner.calls).toHaveLength(2);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(3);
    await third.promise;
  });

  it("refunds the unused part of the estimate once the usage is known", async () => {
    const clock = new FakeClock();
    // Estimate 10 + 30 = 40, but the empty answer bills only the 10 input tokens.
    const inner = new MockLanguageModel({ endpoint: freshEndpoint(), respond: () => "" });
    const model = withRateLimit(inner, { tokensPerMinute: 100, registry: new LimiterRegistry(), clock });
    const request = ask("x".repeat(40), { maxTokens: 30 });
    await model.generate(request);
    await model.generate(request);
    // Without the refund 20 tokens would be left and this call would wait for the (frozen) clock.
    const third = track(model.generate(request));
    await settle();
    expect(third.settled).toBe(true);
    expect(inner.calls).toHaveLength(3);
  });

  it("lets a request larger than the whole TPM budget through once the bucket is full", async () => {
    const clock = new FakeClock();
    const inner = new MockLanguageModel({ endpoint: freshEndpoint(), respond: () => "y".repeat(120) });
    const model = withRateLimit(inner, { tokensPerMinute: 100, registry: new LimiterRegistry(), clock });
    await model.generate(ask("x".repeat(40), { maxTokens: 30 })); // 40 used, 60 left
    const huge = track(model.generate(ask("x".repeat(40), { maxTokens: 500 })));
    await settle();
    expect(inner.calls).toHaveLength(1);
    // Full again after 40 tokens at 100/min = 24 s.
    await clock.advance(23_999);
    expect(inner.calls).toHaveLength(1);
    await clock.advance(1);
    expect(inner.calls).toHaveLength(2);
    await huge.promise;
  });

  it("an abort while waiting for the rate frees the slot and the queue head", async () => {
    const clock = new FakeClock();
    const inner = new MockLanguageModel({ endpoint: freshEndpoint() });
    const registry = new LimiterRegistry();
    const model = withRateLimit(inner, { concurrency: 1, requestsPerMinute: 1, registry, clock });
    await model.generate(ask("first"));
    const controller = new AbortController();
    const second = track(model.generate(ask("second", { signal: controller.signal })));
    const third = track(model.generate(ask("third")));
    await settle();
    controller.abort();
    await settle();
    expect(second.error).toMatchObject({ category: "aborted" });
    await clock.advance(60_000);
    await third.promise;
    expect(inner.calls.map((c) => c.request.messages[0]?.content)).toEqual(["first", "third"]);
    expect(registry.get(inner.endpoint)?.stats()).toEqual({ active: 0, queued: 0 });
  });

  it("rejects nonsensical limits", () => {
    expect(() =>
      withRateLimit(new MockLanguageModel(), { concurrency: 0, registry: new LimiterRegistry() }),
    ).toThrow(/concurrency/);
  });
});
