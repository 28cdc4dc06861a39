import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BayesactError } from "../../core/errors.ts";
import { LlmError } from "../errors.ts";
import { MockLanguageModel } from "../testing/mock.ts";
import type { GenerateRequest } from "../types.ts";
import { LlmCache, withCache } from "./cache.ts";
import { withRetry } from "./retry.ts";

const prompt = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  temperature: 0.8,
  ...extra,
});

/** A mock whose answers depend on the call number, so a cached answer is distinguishable from a fresh one. */
const freshMock = () =>
  new MockLanguageModel({ respond: (_r, index, call) => `sample ${index} from call ${call}` });

let dir: string;
const caches: LlmCache[] = [];
const open = (path = ":memory:") => {
  const cache = new LlmCache(path);
  caches.push(cache);
  return cache;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-cache-"));
});
afterEach(() => {
  for (const cache of caches.splice(0)) cache.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("withCache", () => {
  it("serves a second identical run without calling the model", async () => {
    const inner = freshMock();
    const cache = open();
    const model = withCache(inner, { cache });
    const first = await model.generate(prompt("hello", { n: 2 }));
    const second = await model.generate(prompt("hello", { n: 2 }));
    expect(inner.calls).toHaveLength(1);
    expect(second.choices).toEqual(first.choices);
    expect(first.cacheHits).toBe(0);
    expect(second.cacheHits).toBe(2);
    expect(second.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(first.usage.outputTokens).toBeGreaterThan(0);
    expect(cache.stats()).toEqual({ entries: 2, hits: 2, misses: 2 });
  });

  it("stores one entry per sample index and asks the model only for new indexes", async () => {
    const inner = freshMock();
    const cache = open();
    const model = withCache(inner, { cache });
    await model.generate(prompt("tree", { n: 3 }));
    expect(cache.stats().entries).toBe(3);

    const more = await model.generate(prompt("tree", { n: 2, sampleIndex: 3 }));
    expect(inner.calls).toHaveLength(2);
    expect(inner.calls[1]?.request.sampleIndex).toBe(3);
    expect(inner.calls[1]?.request.n).toBe(2);
    expect(more.choices.map((c) => c.index)).toEqual([3, 4]);
    expect(more.cacheHits).toBe(0);
    expect(cache.stats().entries).toBe(5);
  });

  it("keys by sample index even at temperature 0", async () => {
    const inner = freshMock();
    const cache = open();
    const model = withCache(inner, { cache });
    await model.generate(prompt("greedy", { temperature: 0 }));
    const other = await model.generate(prompt("greedy", { temperature: 0, sampleIndex: 1 }));
    expect(inner.calls).toHaveLength(2);
    expect(other.choices[0]?.text).toBe("sample 1 from call 1");
  });

  it("on a partial hit calls the model once per contiguous missing run and returns choices in index order", async () => {
    const inner = freshMock();
    const cache = open();
    const model = withCache(inner, { cache });
    await model.generate(prompt("mix", { n: 2 })); // samples 0, 1
    await model.generate(prompt("mix", { sampleIndex: 4 })); // sample 4
    const before = inner.calls.length;

    const all = await model.generate(prompt("mix", { n: 6 }));
    const runs = inner.calls.slice(before).map((c) => [c.request.sampleIndex, c.request.n]);
    expect(runs).toEqual([
      [2, 2],
      [5, 1],
    ]);
    expect(all.choices.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(all.choices.map((c) => c.text)).toEqual([
      "sample 0 from call 0",
      "sample 1 from call 0",
      "sample 2 from call 2",
      "sample 3 from call 2",
      "sample 4 from call 1",
      "sample 5 from call 3",
    ]);
    expect(all.cacheHits).toBe(3);
    // Mock charges ceil(chars / 4) per call: "mix" → 1 input token per call, two calls.
    expect(all.usage.inputTokens).toBe(2);
  });

  it("in cache-only mode a miss fails with the model and the prompt named, and never calls the model", async () => {
    const inner = freshMock();
    const cache = open();
    await withCache(inner, { cache }).generate(prompt("known question"));
    const offline = withCache(inner, { cache, mode: "cache-only" });

    const hit = await offline.generate(prompt("known question"));
    expect(hit.cacheHits).toBe(1);

    const error = await offline
      .generate(prompt("What is the capital of France?\nAnswer briefly."))
      .catch((e) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error.category).toBe("cache_miss");
    expect(error.message).toContain("mock:echo");
    expect(error.message).toContain("What is the capital of France? Answer briefly.");
    expect(inner.calls).toHaveLength(1);
  });

  it("keeps entries across close and reopen of a file", async () => {
    const path = join(dir, "sub", "llm-cache.sqlite");
    const first = open(path);
    const written = await withCache(freshMock(), { cache: first }).generate(prompt("persist", { n: 2 }));
    first.close();

    const inner = freshMock();
    const reopened = open(path);
    const read = await withCache(inner, { cache: reopened }).generate(prompt("persist", { n: 2 }));
    expect(inner.calls).toHaveLength(0);
    expect(read.choices).toEqual(written.choices);
    expect(reopened.stats().entries).toBe(2);
  });

  it("makes one inner call for concurrent identical requests, and shares overlapping samples", async () => {
    const inner = new MockLanguageModel({ latencyMs: 5 });
    const model = withCache(inner, { cache: open() });
    const [a, b] = await Promise.all([model.generate(prompt("same")), model.generate(prompt("same"))]);
    expect(inner.calls).toHaveLength(1);
    expect(b.choices).toEqual(a.choices);
    expect((a.cacheHits ?? 0) + (b.cacheHits ?? 0)).toBe(1);

    await Promise.all([
      model.generate(prompt("overlap", { n: 3 })),
      model.generate(prompt("overlap", { n: 3, sampleIndex: 1 })),
    ]);
    const overlapCalls = inner.calls.slice(1).map((c) => [c.request.sampleIndex, c.request.n]);
    expect(overlapCalls).toEqual([
      [0, 3],
      [3, 1],
    ]);
  });

  it("a waiter whose shared call was aborted by its owner asks the model itself", async () => {
    const inner = new MockLanguageModel({ latencyMs: 20 });
    const model = withCache(inner, { cache: open() });
    const controller = new AbortController();
    const owner = model.generate(prompt("shared", { signal: controller.signal }));
    const waiter = model.generate(prompt("shared"));
    controller.abort();
    await expect(owner).rejects.toMatchObject({ category: "aborted" });
    const result = await waiter;
    expect(result.choices[0]?.text).toBe("echo[0]: shared");
    expect(inner.calls).toHaveLength(2);
  });

  it("does not cache failed calls", async () => {
    const inner = new MockLanguageModel({
      respond: (_r, index, call) => (call === 0 ? new LlmError("server", "boom") : `ok ${index}`),
    });
    const cache = open();
    const model = withCache(inner, { cache });
    await expect(model.generate(prompt("flaky"))).rejects.toMatchObject({ category: "server" });
    expect(cache.stats().entries).toBe(0);
    const result = await model.generate(prompt("flaky"));
    expect(result.choices[0]?.text).toBe("ok 0");
    expect(inner.calls).toHaveLength(2);
    expect(cache.stats().entries).toBe(1);
  });

  it("passes through in off mode", async () => {
    const inner = freshMock();
    const model = withCache(inner, { cache: open(), mode: "off" });
    await model.generate(prompt("x"));
    const second = await model.generate(prompt("x"));
    expect(inner.calls).toHaveLength(2);
    expect(second.cacheHits).toBeUndefined();
  });

  it("delegates identity and capabilities to the inner model", async () => {
    const inner = new MockLanguageModel({
      id: "mock:a",
      endpoint: "mock://a",
      capabilities: { logprobs: true },
    });
    const model = withCache(inner, { cache: open() });
    expect([model.id, model.provider, model.endpoint]).toEqual(["mock:a", "mock", "mock://a"]);
    expect((await model.capabilities()).logprobs).toBe(true);
  });
});

/**
 * A mock behind a retry layer (no real waits; each wait 250 ms by its jitter) whose every inner call fails its first
 * attempt with a 503, or answers sample `failIndex` with `failWith`.
 */
function retryingModel(options: { latencyMs?: number; failIndex?: number; failWith?: LlmError } = {}) {
  const failedOnce = new Set<number>();
  const inner = new MockLanguageModel({
    ...(options.latencyMs !== undefined ? { latencyMs: options.latencyMs } : {}),
    respond: (request, index) => {
      if (index === options.failIndex && options.failWith) return options.failWith;
      const start = request.sampleIndex ?? 0;
      if (index === start && !failedOnce.has(start)) {
        failedOnce.add(start);
        return new LlmError("server", "HTTP 503");
      }
      return `sample ${index}`;
    },
  });
  return withRetry(inner, { sleep: async () => {}, random: () => 0.5 });
}

describe("withCache: attempts of the inner calls", () => {
  it("a partial hit reports the summed attempts of the calls it made; a full hit reports none", async () => {
    const model = withCache(retryingModel(), { cache: open() });
    const one = await model.generate(prompt("p", { sampleIndex: 1 }));
    expect(one.attempts).toEqual({ retries: 1, retryWaitMs: 250, timeouts: 0 });
    // Samples 0 and 2 are missing: two inner calls, each retried once.
    const partial = await model.generate(prompt("p", { n: 3 }));
    expect(partial.cacheHits).toBe(1);
    expect(partial.attempts).toEqual({ retries: 2, retryWaitMs: 500, timeouts: 0 });
    const full = await model.generate(prompt("p", { n: 3 }));
    expect(full.cacheHits).toBe(3);
    expect(full.attempts).toBeUndefined();
  });

  it("identical requests in flight: the one that made the call reports its attempts, the waiter none", async () => {
    const model = withCache(retryingModel({ latencyMs: 5 }), { cache: open() });
    const [a, b] = await Promise.all([model.generate(prompt("same")), model.generate(prompt("same"))]);
    expect(a.attempts).toEqual({ retries: 1, retryWaitMs: 250, timeouts: 0 });
    expect(b.cacheHits).toBe(1);
    expect(b.attempts).toBeUndefined();
  });

  it("a failed inner call's error also carries the usage and attempts of the request's other calls", async () => {
    const model = withCache(retryingModel({ failIndex: 2, failWith: new LlmError("auth", "HTTP 401") }), {
      cache: open(),
    });
    await model.generate(prompt("q", { sampleIndex: 1 }));
    const error = (await model.generate(prompt("q", { n: 3 })).catch((e: unknown) => e)) as LlmError;
    expect(error.category).toBe("auth");
    // The call for sample 0 was retried once and answered; the one for sample 2 failed at once.
    expect(error.attempts).toEqual({ retries: 1, retryWaitMs: 250, timeouts: 0 });
    expect(error.usage?.outputTokens).toBeGreaterThan(0);
  });

  it("a waiter sharing a failed call fails with it, but its tokens and attempts stay the owner's", async () => {
    const inner = new MockLanguageModel({
      latencyMs: 5,
      respond: () => new LlmError("server", "HTTP 500", { usage: { inputTokens: 1, outputTokens: 1 } }),
    });
    const model = withCache(withRetry(inner, { sleep: async () => {}, maxRetries: 1, random: () => 0 }), {
      cache: open(),
    });
    const [owner, waiter] = (await Promise.all([
      model.generate(prompt("down")).catch((e: unknown) => e),
      model.generate(prompt("down")).catch((e: unknown) => e),
    ])) as [LlmError, LlmError];
    expect(inner.calls).toHaveLength(2);
    expect(owner.attempts).toEqual({ retries: 1, retryWaitMs: 0, timeouts: 0 });
    expect(owner.usage).toEqual({ inputTokens: 2, outputTokens: 2 });
    expect(waiter.category).toBe("server");
    expect(waiter.attempts).toBeUndefined();
    expect(waiter.usage).toBeUndefined();
  });
});

describe("LlmCache", () => {
  it("rejects an SQLite file that is not a bayesact cache with cache_invalid", () => {
    const path = join(dir, "foreign.sqlite");
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)");
    db.close();
    const error = (() => {
      try {
        open(path);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BayesactError);
    expect(error).toMatchObject({ category: "cache_invalid", userFacing: true });
    expect(String((error as Error).message)).not.toContain("\n");
    expect((error as Error).message).toContain(path);
  });

  it("rejects a file that is not SQLite at all with cache_invalid", () => {
    const path = join(dir, "garbage.sqlite");
    writeFileSync(
      path,
      "this is not a database, just some text that is long enough to have a header\n".repeat(20),
    );
    expect(() => open(path)).toThrow(expect.objectContaining({ category: "cache_invalid" }));
  });

  it("rejects a cache written by another schema version", () => {
    const path = join(dir, "future.sqlite");
    open(path).close();
    const db = new DatabaseSync(path);
    db.exec("UPDATE meta SET value = '99' WHERE key = 'version'");
    db.close();
    expect(() => open(path)).toThrow(/schema version 99/);
  });
});
