import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../core/errors.ts";
import { createModel } from "./create.ts";
import { LlmCache } from "./middleware/cache.ts";
import { UsageMeter } from "./middleware/usage.ts";
import { type OpenAIServer, startOpenAIServer } from "./testing/openai-server.ts";

let server: OpenAIServer;
let dir: string;

beforeAll(async () => {
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), "bayesact-create-"));
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const ask = (content: string) => ({
  messages: [{ role: "user" as const, content }],
  temperature: 0.8,
  maxTokens: 16,
});

describe("createModel", () => {
  it("a second identical run through the cache makes zero provider calls; new sample indexes do", async () => {
    const cache = new LlmCache(join(dir, "cache.sqlite"));
    const meter = new UsageMeter();
    const spec = `openai-compatible:${server.url}#fake`;
    const m = createModel(spec, { meter, cache: { cache }, capabilities: { multipleSamples: true } });
    const before = server.requests.length;
    const first = await m.generate({ ...ask("tree search prompt"), n: 3 });
    expect(server.requests.length - before).toBe(1);
    const again = await m.generate({ ...ask("tree search prompt"), n: 3 });
    expect(server.requests.length - before).toBe(1);
    expect(again.choices).toEqual(first.choices);
    expect(again.cacheHits).toBe(3);
    expect(new Set(first.choices.map((c) => c.text)).size).toBe(3); // temperature > 0: distinct samples
    await m.generate({ ...ask("tree search prompt"), n: 2, sampleIndex: 3 });
    expect(server.requests.length - before).toBe(2);
    expect(cache.stats().entries).toBe(5);
    expect(meter.snapshot()).toMatchObject({ calls: 3, cacheHits: 3, samples: 8 });
    // cache-only mode (the CLI's --cache-only): a hit is served, a miss is a named error, no provider call.
    const cacheOnly = createModel(spec, { cache: { cache, mode: "cache-only" } });
    await expect(cacheOnly.generate({ ...ask("tree search prompt"), n: 3 })).resolves.toBeDefined();
    await expect(cacheOnly.generate(ask("never asked"))).rejects.toMatchObject({ category: "cache_miss" });
    expect(server.requests.length - before).toBe(2);
    cache.close();
  });

  it("record then replay through the same stack gives identical results without a server", async () => {
    const cassette = join(dir, "cassette.jsonl");
    const spec = `openai-compatible:${server.url}#fake`;
    const recorder = createModel(spec, { record: cassette, capabilities: { multipleSamples: true } });
    const recorded = await recorder.generate({ ...ask("record me"), n: 2, seed: 4 });
    const replayer = createModel(`replay:${cassette}`);
    const before = server.requests.length;
    const replayed = await replayer.generate({ ...ask("record me"), n: 2, seed: 4 });
    expect(JSON.stringify(replayed)).toBe(JSON.stringify(recorded));
    expect(server.requests.length).toBe(before);
    await expect(replayer.generate(ask("something else"))).rejects.toMatchObject({ category: "replay_miss" });
  });

  it("user mistakes are one-line UserErrors", () => {
    expect(() => createModel("exact")).toThrow(UserError);
    expect(() => createModel("openai:gpt-4o-mini", { env: {} })).toThrow(/OPENAI_API_KEY is not set/);
    expect(() => createModel("bogus")).toThrow(/bad model spec/);
  });

  it("a llamacpp spec is cheap to create: nothing loads until the first call", async () => {
    const m = createModel("llamacpp:/nonexistent/model.gguf");
    expect(m.id).toBe("llamacpp:/nonexistent/model.gguf");
    await expect(m.generate(ask("hi"))).rejects.toMatchObject({ category: "not_found" });
  });
});
