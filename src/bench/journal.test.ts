import { describe, expect, it } from "vitest";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import type { LanguageModel } from "../llm/types.ts";
import { type EpisodeLlmTally, withJournal } from "./journal.ts";
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
    const tally: EpisodeLlmTally = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, cacheHits: 0 };
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
