import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createModel } from "../create.ts";
import { LlmError } from "../errors.ts";
import { MockLanguageModel } from "../testing/mock.ts";
import { type OpenAIServer, startOpenAIServer } from "../testing/openai-server.ts";
import type { Capabilities } from "../types.ts";
import { computeDelay, type RetryInfo, withRetry } from "./retry.ts";
import { UsageMeter } from "./usage.ts";

const noSleep = async () => {};

describe("withRetry", () => {
  it("retries retryable errors and returns the eventual answer with failed attempts' usage added", async () => {
    const errors = [
      new LlmError("rate_limit", "429", { retryAfterMs: 20 }),
      new LlmError("malformed_response", "bad json", { usage: { inputTokens: 5, outputTokens: 2 } }),
    ];
    const inner = new MockLanguageModel({ respond: (_r, _i, call) => errors[call] ?? "fine" });
    const waits: number[] = [];
    const model = withRetry(inner, {
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
      onRetry: () => {},
    });
    const result = await model.generate({ messages: [{ role: "user", content: "hi" }] });
    expect(result.choices[0]?.text).toBe("fine");
    expect(inner.calls).toHaveLength(3);
    expect(result.usage.inputTokens).toBe(1 + 5);
    expect(result.usage.outputTokens).toBe(1 + 2);
    // retry-after honoured (20 ms + 10% jitter × 0.5), then exponential: uniform(0, 500 · 2) × 0.5
    expect(waits[0]).toBeCloseTo(21, 6);
    expect(waits[1]).toBeCloseTo(500, 6);
  });

  it("does not retry non-retryable errors", async () => {
    const inner = new MockLanguageModel({ respond: () => new LlmError("auth", "401") });
    const model = withRetry(inner, { sleep: noSleep });
    await expect(model.generate({ messages: [] })).rejects.toMatchObject({ category: "auth" });
    expect(inner.calls).toHaveLength(1);
  });

  it("gives up after maxRetries with the last error, carrying all billed usage", async () => {
    const inner = new MockLanguageModel({
      respond: () => new LlmError("server", "503", { usage: { inputTokens: 1, outputTokens: 1 } }),
    });
    const model = withRetry(inner, { sleep: noSleep, maxRetries: 2 });
    const error = await model.generate({ messages: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).category).toBe("server");
    expect((error as LlmError).usage).toEqual({ inputTokens: 3, outputTokens: 3 });
    expect(inner.calls).toHaveLength(3);
  });

  it("does not wait longer than the server-requested limit allows", async () => {
    const inner = new MockLanguageModel({
      respond: () => new LlmError("rate_limit", "429", { retryAfterMs: 10 * 60_000 }),
    });
    const model = withRetry(inner, { sleep: noSleep, maxRetryAfterMs: 60_000 });
    await expect(model.generate({ messages: [] })).rejects.toMatchObject({ category: "rate_limit" });
    expect(inner.calls).toHaveLength(1);
  });

  it("an abort during the backoff wait rejects at once as aborted", async () => {
    const controller = new AbortController();
    const inner = new MockLanguageModel({ respond: () => new LlmError("server", "500") });
    const model = withRetry(inner, { baseDelayMs: 60_000, random: () => 0.99 });
    const pending = model.generate({ messages: [], signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ category: "aborted" });
  });

  it("caps exponential backoff at maxDelayMs", () => {
    const e = new LlmError("server", "500");
    expect(computeDelay(30, e, { random: () => 0.999999, maxDelayMs: 1000 })).toBeLessThanOrEqual(1000);
    expect(computeDelay(1, e, { random: () => 1 - 1e-12, baseDelayMs: 100 })).toBeCloseTo(100, 6);
  });
});

describe("withRetry: attempts", () => {
  it("the result carries its retries, the time waited before them and the attempts that timed out", async () => {
    const errors = [new LlmError("timeout", "deadline"), new LlmError("server", "503")];
    const inner = new MockLanguageModel({ respond: (_r, _i, call) => errors[call] ?? "fine" });
    const waits: number[] = [];
    const model = withRetry(inner, {
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    });
    const result = await model.generate({ messages: [{ role: "user", content: "hi" }] });
    expect(waits).toHaveLength(2);
    expect(result.attempts).toEqual({
      retries: 2,
      retryWaitMs: (waits[0] ?? 0) + (waits[1] ?? 0),
      timeouts: 1,
    });
    // A first attempt that succeeds reports nothing.
    const plain = withRetry(new MockLanguageModel(), { sleep: noSleep });
    expect((await plain.generate({ messages: [] })).attempts).toBeUndefined();
  });

  it("a call that times out on every attempt counts the last timeout too, with its usage", async () => {
    const inner = new MockLanguageModel({
      respond: () => new LlmError("timeout", "deadline", { usage: { inputTokens: 1, outputTokens: 0 } }),
    });
    const model = withRetry(inner, { sleep: noSleep, maxRetries: 2, random: () => 0 });
    const error = (await model.generate({ messages: [] }).catch((e: unknown) => e)) as LlmError;
    expect(error.category).toBe("timeout");
    expect(error.attempts).toEqual({ retries: 2, retryWaitMs: 0, timeouts: 3 });
    expect(error.usage).toEqual({ inputTokens: 3, outputTokens: 0 });
    // plusUsage keeps the attempts (every copy of the error does).
    expect(error.plusUsage({ inputTokens: 1, outputTokens: 1 }).attempts).toEqual(error.attempts);
  });

  it("an abort during a backoff wait keeps the failed attempts' usage and attempts", async () => {
    const controller = new AbortController();
    const inner = new MockLanguageModel({
      respond: () => new LlmError("server", "500", { usage: { inputTokens: 2, outputTokens: 1 } }),
    });
    const model = withRetry(inner, {
      random: () => 0.5,
      baseDelayMs: 1000,
      sleep: async () => {
        controller.abort();
        throw new LlmError("aborted", "the call was aborted");
      },
    });
    const error = (await model
      .generate({ messages: [], signal: controller.signal })
      .catch((e: unknown) => e)) as LlmError;
    expect(error.category).toBe("aborted");
    expect(error.usage).toEqual({ inputTokens: 2, outputTokens: 1 });
    expect(error.attempts).toEqual({ retries: 1, retryWaitMs: 500, timeouts: 0 });
  });
});

/** A mock whose capability probe fails with the given errors, one per call, and then succeeds. */
function flakyProbe(failures: readonly LlmError[]): { model: MockLanguageModel; probes: () => number } {
  const model = new MockLanguageModel();
  const succeed = model.capabilities.bind(model);
  let probes = 0;
  model.capabilities = async (): Promise<Capabilities> => {
    const failure = failures[probes++];
    if (failure) throw failure;
    return succeed();
  };
  return { model, probes: () => probes };
}

describe("withRetry: capability probes", () => {
  it("re-runs a probe that failed with retryable errors, reporting each retry through onRetry", async () => {
    const { model: inner, probes } = flakyProbe([
      new LlmError("server", "HTTP 503"),
      new LlmError("connection", "reset"),
      new LlmError("malformed_response", "no choices"),
    ]);
    const retries: RetryInfo[] = [];
    const model = withRetry(inner, { sleep: noSleep, onRetry: (info) => retries.push(info) });
    await expect(model.capabilities()).resolves.toMatchObject({ multipleSamples: true });
    expect(probes()).toBe(4);
    expect(retries.map((r) => [r.attempt, r.error.category])).toEqual([
      [1, "server"],
      [2, "connection"],
      [3, "malformed_response"],
    ]);
  });

  it("honours a probe's retry-after, and gives up after maxRetries", async () => {
    const { model: inner } = flakyProbe([new LlmError("rate_limit", "HTTP 429", { retryAfterMs: 1500 })]);
    const waits: number[] = [];
    const model = withRetry(inner, {
      random: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await model.capabilities();
    expect(waits).toEqual([1500]);

    const always = flakyProbe(Array.from({ length: 10 }, () => new LlmError("server", "HTTP 500")));
    const limited = withRetry(always.model, { sleep: noSleep, maxRetries: 2 });
    await expect(limited.capabilities()).rejects.toMatchObject({ category: "server" });
    expect(always.probes()).toBe(3);
  });

  it("does not retry a probe that failed for a reason retrying cannot fix", async () => {
    const { model: inner, probes } = flakyProbe([new LlmError("auth", "HTTP 401")]);
    const onRetry = (info: RetryInfo) => {
      throw new Error(`unexpected retry ${info.attempt}`);
    };
    const model = withRetry(inner, { sleep: noSleep, onRetry });
    await expect(model.capabilities()).rejects.toMatchObject({ category: "auth" });
    expect(probes()).toBe(1);
  });

  it("an abort during a probe's backoff wait stops it at once", async () => {
    const controller = new AbortController();
    const { model: inner, probes } = flakyProbe(
      Array.from({ length: 10 }, () => new LlmError("server", "HTTP 500")),
    );
    const model = withRetry(inner, { baseDelayMs: 60_000, random: () => 0.99 });
    const pending = model.capabilities({ signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    await expect(pending).rejects.toMatchObject({ category: "aborted" });
    expect(probes()).toBe(1);
  });
});

describe("withRetry: scoring", () => {
  it("retries a score call that failed transiently; an unsupported one is not retried", async () => {
    const inner = new MockLanguageModel();
    let calls = 0;
    const scoring = Object.assign(Object.create(inner) as MockLanguageModel, {
      score: async (prefix: string, continuation: string) => {
        calls += 1;
        if (calls === 1) throw new LlmError("server", "HTTP 503: loading");
        if (prefix === "no") throw new LlmError("unsupported", "cannot score");
        return { logprob: -continuation.length, tokens: [] };
      },
    });
    const retries: RetryInfo[] = [];
    const model = withRetry(scoring, { sleep: noSleep, onRetry: (i) => retries.push(i) });
    expect(await model.score?.("a", "bcd")).toEqual({ logprob: -3, tokens: [] });
    expect(calls).toBe(2);
    expect(retries).toHaveLength(1);
    await expect(model.score?.("no", "x")).rejects.toMatchObject({ category: "unsupported" });
    expect(calls).toBe(3);
  });
});

describe("withRetry in the standard stack (loopback server)", () => {
  let server: OpenAIServer;
  beforeAll(async () => {
    server = await startOpenAIServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("start-up probes that meet a 503 and then a 429 with retry-after are retried and resolve", async () => {
    server.enqueueFault({ kind: "status", status: 503, times: 1 });
    server.enqueueFault({ kind: "status", status: 429, headers: { "retry-after-ms": "50" }, times: 1 });
    const meter = new UsageMeter();
    const model = createModel(`openai-compatible:${server.url}#m`, { meter, retry: { baseDelayMs: 20 } });
    try {
      const capabilities = await model.capabilities();
      expect(capabilities.jsonSchema).toBe(true);
      // The probe retries are the meter's too.
      expect(meter.snapshot().retries).toBeGreaterThanOrEqual(1);
    } finally {
      await model.close?.();
    }
  });

  it("a call that hangs on every attempt: the meter and the error count each timeout and retry", async () => {
    const meter = new UsageMeter();
    const model = createModel(`openai-compatible:${server.url}#m`, {
      meter,
      timeoutMs: 100,
      capabilities: { jsonSchema: true, logprobs: true, multipleSamples: true, seed: true },
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });
    server.enqueueFault({ kind: "hang", times: 2 });
    try {
      const error = (await model
        .generate({ messages: [{ role: "user", content: "hi" }] })
        .catch((e: unknown) => e)) as LlmError;
      expect(error.category).toBe("timeout");
      expect(error.attempts).toMatchObject({ retries: 1, timeouts: 2 });
      expect(meter.snapshot()).toMatchObject({ calls: 1, failedCalls: 1, retries: 1, timeouts: 2 });
      expect(meter.snapshot().retryWaitMs).toBe(error.attempts?.retryWaitMs);
    } finally {
      await model.close?.();
    }
  });
});
