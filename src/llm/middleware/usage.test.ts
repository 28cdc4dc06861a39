import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UserError } from "../../core/errors.ts";
import { LlmError } from "../errors.ts";
import { MockLanguageModel } from "../testing/mock.ts";
import {
  costOf,
  llmTotals,
  loadPriceTable,
  modelName,
  priceFor,
  UsageMeter,
  withBudget,
  withUsage,
  worstCaseUsage,
} from "./usage.ts";

const prices = { "gpt-test": { inputPerMTok: 1, outputPerMTok: 2 } };

function pricedModel(respond?: ConstructorParameters<typeof MockLanguageModel>[0]) {
  const inner = new MockLanguageModel({ id: "openai:gpt-test", ...respond });
  // A priced HTTP model, not a free mock.
  Object.defineProperty(inner, "provider", { value: "openai-compatible" });
  return inner;
}

describe("prices", () => {
  it("looks up by full spec or bare model name; free providers cost nothing", () => {
    expect(modelName("openai-compatible:http://127.0.0.1:8000/v1#qwen")).toBe("qwen");
    expect(modelName("ollama:qwen2.5:7b")).toBe("qwen2.5:7b");
    expect(priceFor({ id: "openai:gpt-test", provider: "openai-compatible" }, prices)).toEqual(
      prices["gpt-test"],
    );
    expect(priceFor({ id: "openai:other", provider: "openai-compatible" }, prices)).toBeUndefined();
    expect(priceFor({ id: "llamacpp:/m.gguf", provider: "llamacpp" }, {})).toEqual({
      inputPerMTok: 0,
      outputPerMTok: 0,
    });
    expect(costOf({ inputTokens: 1_000_000, outputTokens: 500_000 }, prices["gpt-test"])).toBeCloseTo(2, 12);
  });
});

describe("loadPriceTable", () => {
  it("reads a valid table and rejects bad ones in one line", () => {
    const dir = mkdtempSync(join(tmpdir(), "bayesact-prices-"));
    try {
      const good = join(dir, "good.json");
      writeFileSync(good, JSON.stringify(prices));
      expect(loadPriceTable(good)).toEqual(prices);
      const cases: [string, string, RegExp][] = [
        ["missing.json", "", /no such file/],
        ["text.json", "gpt: 1", /is not JSON/],
        ["negative.json", '{"m": {"inputPerMTok": -1, "outputPerMTok": 0}}', /is invalid/],
        ["extra.json", '{"m": {"inputPerMTok": 1, "outputPerMTok": 0, "currency": "EUR"}}', /is invalid/],
      ];
      for (const [name, content, message] of cases) {
        const path = join(dir, name);
        if (content) writeFileSync(path, content);
        let error: unknown;
        try {
          loadPriceTable(path);
        } catch (e) {
          error = e;
        }
        expect(error, name).toBeInstanceOf(UserError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain("\n");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("withUsage", () => {
  it("counts calls, tokens, cost, failures (with their billed tokens) and emits llm.call", async () => {
    const meter = new UsageMeter(prices);
    const events: boolean[] = [];
    meter.events.on("llm.call", (e) => events.push(e.ok));
    let call = 0;
    const model = withUsage(
      pricedModel({
        respond: () =>
          call++ === 1
            ? new LlmError("truncated", "cut", { usage: { inputTokens: 10, outputTokens: 20 } })
            : "abcd",
      }),
      meter,
    );
    await model.generate({ messages: [{ role: "user", content: "12345678" }] });
    await expect(model.generate({ messages: [{ role: "user", content: "x" }] })).rejects.toThrow("cut");
    const snap = meter.snapshot();
    expect(snap.calls).toBe(2);
    expect(snap.failedCalls).toBe(1);
    expect(snap.inputTokens).toBe(2 + 10);
    expect(snap.outputTokens).toBe(1 + 20);
    expect(snap.costUsd).toBeCloseTo((12 * 1 + 21 * 2) / 1e6, 15);
    expect(snap.unpricedModels).toEqual([]);
    expect(events).toEqual([true, false]);
  });

  it("reports unpriced models and tokens per second", async () => {
    const meter = new UsageMeter({});
    const model = withUsage(pricedModel({ latencyMs: 5 }), meter);
    await model.generate({ messages: [{ role: "user", content: "hello" }] });
    const snap = meter.snapshot();
    expect(snap.unpricedModels).toEqual(["openai:gpt-test"]);
    expect(snap.costUsd).toBe(0);
    expect(snap.tokensPerSecond).toBeGreaterThan(0);
  });
});

describe("UsageMeter: retries and timeouts", () => {
  it("counts retries, their waits and timed-out attempts per model and in total, and writes them as totals", () => {
    const meter = new UsageMeter();
    const retried: number[] = [];
    meter.events.on("llm.retry", (e) => retried.push(e.delayMs));
    meter.recordRetry("a", 1, 250, "timeout");
    meter.recordRetry("a", 2, 500.4, "server");
    meter.recordGiveUp("a", "timeout");
    meter.recordGiveUp("b", "auth");
    meter.recordRetry("b", 1, 100, "rate_limit");
    const snap = meter.snapshot();
    expect(snap.byModel.a).toMatchObject({ retries: 2, retryWaitMs: 750.4, timeouts: 2 });
    expect(snap.byModel.b).toMatchObject({ retries: 1, retryWaitMs: 100, timeouts: 0 });
    expect(snap).toMatchObject({ retries: 3, retryWaitMs: 850.4, timeouts: 2 });
    expect(retried).toEqual([250, 500.4, 100]);
    expect(llmTotals(snap)).toMatchObject({ calls: 0, retries: 3, retry_wait_ms: 850, timeouts: 2 });
  });
});

describe("withBudget", () => {
  it("refuses a call whose worst case would cross the cap, before sending it", async () => {
    const inner = pricedModel();
    // Each call: input ≤ (5 bytes + 8) tokens, output ≤ 100 tokens → ≤ (13 + 200)/1e6 USD.
    const model = withBudget(inner, { maxUsd: 213e-6 * 2.5, prices });
    const request = { messages: [{ role: "user" as const, content: "hello" }], maxTokens: 100 };
    await model.generate(request);
    await model.generate(request);
    // Spent so far is tiny (actual usage), so further calls still fit: the cap counts real spend.
    const spentPerCall = costOf({ inputTokens: 2, outputTokens: 6 }, prices["gpt-test"]);
    expect(spentPerCall).toBeLessThan(213e-6);
    const big = { messages: request.messages, maxTokens: 1000 };
    await expect(model.generate(big)).rejects.toMatchObject({ category: "budget_exceeded" });
    expect(inner.calls).toHaveLength(2);
  });

  it("counts in-flight reservations so concurrent calls cannot overshoot", async () => {
    const inner = pricedModel({ latencyMs: 20 });
    const perCall = costOf(
      worstCaseUsage({ messages: [{ role: "user", content: "hi" }], maxTokens: 50 }, 4096),
      prices["gpt-test"],
    );
    const model = withBudget(inner, { maxUsd: perCall * 3.5, prices });
    const results = await Promise.allSettled(
      Array.from({ length: 6 }, () =>
        model.generate({ messages: [{ role: "user", content: "hi" }], maxTokens: 50 }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    expect(inner.calls).toHaveLength(3);
  });

  it("needs a price for a paid model", () => {
    expect(() => withBudget(pricedModel(), { maxUsd: 1, prices: {} })).toThrow(
      /no price for model openai:gpt-test/,
    );
  });
});
