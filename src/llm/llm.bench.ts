/**
 * `npm run bench:llm` — throughput of the LLM layer against the loopback OpenAI-compatible server.
 *
 * 200 independent requests with 50 ms injected server latency, through the real `openai` client and the standard
 * middleware (rate limit → provider), at concurrency 1, 8 and 32. Ideal time = requests × latency / concurrency;
 * the ratio measured/ideal is the layer's overhead (goal: ≤ 1.2 at concurrency 32). Then the same 200 requests
 * through the SQLite cache: first pass (misses) against a second pass (all hits) (goal: ≥ 100× faster).
 * Every number printed is measured in this run.
 *
 * Two baselines put the ratio in context: the wave floor ⌈requests / concurrency⌉ × latency (a FIFO limiter with
 * equal latencies finishes in waves, so requests × latency / concurrency is not reachable when concurrency does
 * not divide requests), and raw `fetch` of the same requests through a plain worker pool, which is the cost of
 * loopback HTTP + JSON on this machine without any bayesact code.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LlmCache, withCache } from "./middleware/cache.ts";
import { LimiterRegistry, withRateLimit } from "./middleware/rate-limit.ts";
import { OpenAICompatibleModel } from "./providers/openai-compatible.ts";
import { spawnOpenAIServer } from "./testing/spawn-server.ts";
import type { LanguageModel } from "./types.ts";

const REQUESTS = 200;
const LATENCY_MS = 50;

function request(i: number) {
  return {
    messages: [{ role: "user" as const, content: `request ${i}: say something` }],
    maxTokens: 16,
    seed: i,
  };
}

async function runAll(model: LanguageModel, concurrency: number): Promise<number> {
  const started = performance.now();
  // All requests are issued at once; the per-endpoint limiter is what holds them to `concurrency`.
  const limited = withRateLimit(model, { concurrency, registry: new LimiterRegistry() });
  const results = await Promise.all(Array.from({ length: REQUESTS }, (_, i) => limited.generate(request(i))));
  if (results.some((r) => r.choices.length !== 1)) throw new Error("bench: a request returned no choice");
  return performance.now() - started;
}

/** The same requests as bare `fetch` calls, `concurrency` workers pulling from a shared counter. */
async function runRawFetch(url: string, concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const r = request(i);
      const response = await fetch(`${url}/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "bench", messages: r.messages, max_tokens: r.maxTokens, seed: r.seed }),
      });
      await response.json();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - started;
}

async function main(): Promise<void> {
  // The server runs in its own process: in-process it would compete with the client for the event loop.
  const server = await spawnOpenAIServer({ latencyMs: LATENCY_MS });
  const dir = mkdtempSync(join(tmpdir(), "bayesact-bench-"));
  try {
    const provider = new OpenAICompatibleModel({ baseURL: server.url, model: "bench", timeoutMs: 30_000 });
    await runAll(provider, 8); // warm up sockets and the JIT
    console.log(
      `bench:llm — ${REQUESTS} requests, ${LATENCY_MS} ms server latency, loopback HTTP, openai client`,
    );
    console.log("concurrency  wall_ms   req/s  ideal_ms  ratio  | wave_floor_ms  raw_fetch_ms  bayesact/raw");
    for (const concurrency of [1, 8, 32]) {
      const wall = await runAll(provider, concurrency);
      const raw = await runRawFetch(server.url, concurrency);
      const ideal = (REQUESTS * LATENCY_MS) / concurrency;
      const floor = Math.ceil(REQUESTS / concurrency) * LATENCY_MS;
      console.log(
        [
          String(concurrency).padStart(11),
          wall.toFixed(0).padStart(7),
          ((REQUESTS / wall) * 1000).toFixed(1).padStart(6),
          ideal.toFixed(0).padStart(8),
          (wall / ideal).toFixed(3).padStart(5),
          " |",
          floor.toFixed(0).padStart(13),
          raw.toFixed(0).padStart(12),
          (wall / raw).toFixed(3).padStart(12),
        ].join("  "),
      );
    }

    for (const concurrency of [1, 32]) {
      const cache = new LlmCache(join(dir, `cache-${concurrency}.sqlite`));
      const cached = withCache(provider, { cache });
      const first = await runAll(cached, concurrency);
      const second = await runAll(cached, concurrency);
      const hits = cache.stats().hits;
      cache.close();
      console.log(
        `cache, concurrency ${concurrency}: first pass ${first.toFixed(0)} ms, cached pass ${second.toFixed(1)} ms ` +
          `(${hits} of ${REQUESTS} served from the cache), speed-up ${(first / second).toFixed(0)}x`,
      );
    }
    await provider.close();
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
