import { describe, expect, it } from "vitest";
import type { RunEvents } from "../bench/runner.ts";
import { Emitter } from "../core/events.ts";
import { UsageMeter } from "../llm/middleware/usage.ts";
import { bufferOutput } from "./output.ts";
import { formatLlmLine, showProgress, wantsLiveBar } from "./progress.ts";

describe("progress", () => {
  it("without a terminal prints plain lines: at start, every interval, and at the end", async () => {
    const events = new Emitter<RunEvents>();
    const meter = new UsageMeter();
    const out = bufferOutput();
    const stop = showProgress(events, meter, out, { live: false, intervalMs: 20 });
    events.emit("run.start", { total: 4, alreadyDone: 1, successesSoFar: 1 });
    meter.recordCall(
      { id: "m", provider: "mock" },
      { usage: { inputTokens: 100, outputTokens: 20 }, latencyMs: 5, cacheHits: 0, samples: 1 },
    );
    events.emit("episode.done", {
      record: {} as never,
      done: 2,
      total: 4,
      successes: 1,
    });
    await new Promise((r) => setTimeout(r, 70));
    stop();
    expect(out.stderr.length).toBeGreaterThanOrEqual(3);
    expect(out.stderr[0]).toMatch(/^progress: 1\/4 episodes \| success 100\.0% \| LLM 0 calls/);
    expect(out.stderr.at(-1)).toMatch(
      /^progress: 2\/4 episodes \| success 50\.0% \| LLM 1 calls, 120 tokens, \$0\.0000/,
    );
    expect(out.stdout).toEqual([]);
  });

  it("the progress line counts retries and timeouts; the final LLM line also the time waited", () => {
    const events = new Emitter<RunEvents>();
    const meter = new UsageMeter();
    const out = bufferOutput();
    const stop = showProgress(events, meter, out, { live: false, intervalMs: 60_000 });
    events.emit("run.start", { total: 1, alreadyDone: 0, successesSoFar: 0 });
    meter.recordRetry("m", 1, 1500, "timeout");
    meter.recordGiveUp("m", "timeout");
    stop();
    expect(out.stderr.at(-1)).toMatch(/LLM 0 calls, 0 tokens, \$0\.0000, 1 retries, 2 timeouts/);
    const llm = { calls: 3, input_tokens: 10, output_tokens: 5, cost_usd: 0, cache_hits: 1 };
    expect(formatLlmLine({ ...llm, retries: 2, retry_wait_ms: 1500, timeouts: 1 })).toBe(
      "LLM: 3 calls, 10 input + 5 output tokens, $0, 1 cache hits, 2 retries (1.5 s waited), 1 timeouts",
    );
    // A summary written before these fields existed.
    expect(formatLlmLine(llm)).toContain("0 retries (0.0 s waited), 0 timeouts");
  });

  it("uses a live bar only on a terminal and never under CI=true", () => {
    const tty = { isTTY: true } as NodeJS.WriteStream;
    const pipe = { isTTY: false } as NodeJS.WriteStream;
    expect(wantsLiveBar(tty, {})).toBe(true);
    expect(wantsLiveBar(tty, { CI: "true" })).toBe(false);
    expect(wantsLiveBar(pipe, {})).toBe(false);
  });
});
