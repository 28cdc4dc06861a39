import { describe, expect, it } from "vitest";
import { LlmError } from "../errors.ts";
import { MockLanguageModel } from "../testing/mock.ts";
import { computeDelay, withRetry } from "./retry.ts";

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
