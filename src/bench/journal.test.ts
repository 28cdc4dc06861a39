import { describe, expect, it } from "vitest";
import { LlmError } from "../llm/errors.ts";
import { LlmCache, withCache } from "../llm/middleware/cache.ts";
import { withRetry } from "../llm/middleware/retry.ts";
import { UsageMeter, withBudget, withUsage } from "../llm/middleware/usage.ts";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import type { LanguageModel } from "../llm/types.ts";
import { emptyLlmTally, withJournal } from "./journal.ts";
import type { LlmCallRecord } from "./types.ts";

describe("withJournal", () => {
  it("journals generate and score calls with the step they happened in", async () => {
    const mock = new MockLanguageModel();
    const scoring: LanguageModel = {
      ...mock,
      id: mock.id,
      provider: mock.provider,
      endpoint: mock.endpoint,
      generate: (r) => mock.generate(r),
      capabilities: () => mock.capabilities(),
      score: async (_prefix, continuation) => ({
        logprob: -1.5,
        tokens: [...continuation].map((c) => ({ token: c, logprob: -0.5 })),
      }),
    };
    const records: LlmCallRecord[] = [];
    const tally = emptyLlmTally();
    let step = 0;
    const model = withJournal(scoring, {
      episodeId: "e#1",
      step: () => step,
      prices: {},
      record: (c) => records.push(c),
      tally,
    });
    await model.generate({ messages: [{ role: "user", content: "hi" }] });
    step = 1;
    const scored = await model.score?.("prefix", "abc");
    expect(scored?.logprob).toBe(-1.5);
    expect(records.map((r) => [r.seq, r.t, r.ok])).toEqual([
      [0, 0, true],
      [1, 1, true],
    ]);
    expect(records[1]?.messages[0]).toEqual({ role: "score:prefix", content: "prefix" });
    expect(records[1]?.responses[0]).toContain("log-likelihood -1.5, 3 tokens scored");
    expect(tally.calls).toBe(2);
  });
});

describe("withJournal: attempts", () => {
  it("journals each call's retries, retry wait and timeouts through usage → cache → budget → retry", async () => {
    // Prompt "flaky" times out once and then answers; "down" fails with a 503 on every attempt.
    let flakyCalls = 0;
    const mock = new MockLanguageModel({
      respond: (request) => {
        const text = request.messages.at(-1)?.content;
        if (text === "down") return new LlmError("server", "HTTP 503");
        if (text === "flaky" && flakyCalls++ === 0) return new LlmError("timeout", "deadline");
        return "fine";
      },
    });
    const cache = new LlmCache(":memory:");
    try {
      const retrying = withRetry(mock, { sleep: async () => {}, random: () => 0.5, maxRetries: 2 });
      const budgeted = withBudget(retrying, { maxUsd: 1, prices: {} });
      const stack = withUsage(withCache(budgeted, { cache }), new UsageMeter());
      const records: LlmCallRecord[] = [];
      const tally = emptyLlmTally();
      const model = withJournal(stack, {
        episodeId: "e#1",
        step: () => 0,
        prices: {},
        record: (c) => records.push(c),
        tally,
      });
      await model.generate({ messages: [{ role: "user", content: "flaky" }] });
      await model.generate({ messages: [{ role: "user", content: "flaky" }] }); // a cache hit
      await expect(model.generate({ messages: [{ role: "user", content: "down" }] })).rejects.toMatchObject({
        category: "server",
      });
      expect(records.map((r) => [r.ok, r.retries, r.retryWaitMs, r.timeouts])).toEqual([
        [true, 1, 250, 1],
        [true, 0, 0, 0],
        [false, 2, 250 + 500, 0],
      ]);
      expect(tally).toMatchObject({ calls: 3, retries: 3, retryWaitMs: 1000, timeouts: 1 });
    } finally {
      cache.close();
    }
  });
});
