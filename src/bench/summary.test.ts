import { describe, expect, it } from "vitest";
import { meanCurves, summarize, wilson } from "./summary.ts";
import type { EpisodeRecord } from "./types.ts";

function episode(curves?: Record<string, number[]>): EpisodeRecord {
  return {
    id: "x#1",
    index: 0,
    instance: "x",
    seed: 1,
    status: "done",
    success: true,
    totalReturn: 1,
    steps: 1,
    end: "done",
    llmCalls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    cacheHits: 0,
    retries: 0,
    retryWaitMs: 0,
    timeouts: 0,
    wallMs: 0,
    ...(curves ? { curves } : {}),
  };
}

describe("summary", () => {
  it("averages episode curves index by index, a short series counting with its last value", () => {
    const mean = meanCurves([episode({ solved: [0, 1] }), episode({ solved: [0, 0, 0, 0] }), episode()]);
    expect(mean).toEqual({ solved: [0, 0.5, 0.5, 0.5] });
  });
  it("records the run's options, which qualify the model (exact twins vs imperfect twins)", () => {
    const config = {
      env: "game24",
      agent: "rafa",
      model: "exact",
      split: "test",
      instances: ["x"],
      seeds: [1],
      concurrency: 1,
      maxSteps: 2,
      prices: {},
      cache: { path: "", mode: "off" as const },
      dataDir: ".",
      options: { roles: "imperfect", rate: 0.3 },
    };
    const summary = summarize(config, [episode()], 0);
    expect(summary.options).toEqual({ roles: "imperfect", rate: 0.3 });
    expect(summary.model).toBe("exact");
  });

  it("totals the episodes' retries, retry waits (whole ms) and timeouts in the llm block", () => {
    const config = {
      env: "tictactoe",
      agent: "direct",
      model: "m",
      split: "test",
      instances: ["x"],
      seeds: [1, 2],
      concurrency: 1,
      maxSteps: 2,
      prices: {},
      cache: { path: "", mode: "off" as const },
      dataDir: ".",
      options: {},
    };
    const a = { ...episode(), retries: 2, retryWaitMs: 300.4, timeouts: 1 };
    const b = { ...episode(), id: "x#2", seed: 2, retries: 1, retryWaitMs: 100.3, timeouts: 0 };
    expect(summarize(config, [a, b], 0).llm).toMatchObject({ retries: 3, retry_wait_ms: 401, timeouts: 1 });
  });

  it("Wilson intervals stay inside [0, 1] at the edges", () => {
    expect(wilson(0, 10).low).toBe(0);
    expect(wilson(10, 10).high).toBe(1);
    const mid = wilson(5, 10);
    expect(mid.low).toBeCloseTo(0.2366, 3);
    expect(mid.high).toBeCloseTo(0.7634, 3);
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
  });
});
