/**
 * Every server fault through the standard stack (`createModel`: usage → cache → budget → retry → rate limit →
 * provider) against a real HTTP server on 127.0.0.1. For each fault: the documented behaviour (docs/llm.md,
 * "What happens when the server misbehaves"), usage still counted, and no unhandled rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createModel } from "./create.ts";
import { LlmError } from "./errors.ts";
import { UsageMeter } from "./middleware/usage.ts";
import { generateObject } from "./structured.ts";
import { type OpenAIServer, startOpenAIServer } from "./testing/openai-server.ts";

const Answer = z.strictObject({ answer: z.enum(["yes", "no"]) });
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

let server: OpenAIServer;
let meter: UsageMeter;

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  server = await startOpenAIServer({
    respond: (body) => (body.response_format ? '{"answer":"yes"}' : "plain answer"),
  });
});

afterAll(async () => {
  await server.close();
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

function model(options: { timeoutMs?: number; maxRetries?: number } = {}) {
  meter = new UsageMeter({});
  return createModel(`openai-compatible:${server.url}#fake`, {
    meter,
    timeoutMs: options.timeoutMs ?? 10_000,
    retry: { baseDelayMs: 1, maxRetries: options.maxRetries ?? 3 },
    capabilities: { jsonSchema: true, logprobs: true, multipleSamples: true, seed: true },
  });
}

const ask = { messages: [{ role: "user" as const, content: "is it?" }], maxTokens: 32 };

describe("retryable faults: retried and then succeed", () => {
  const cases = [
    ["429 with retry-after", { kind: "status", status: 429, headers: { "retry-after": "0.05" } }],
    ["429 with retry-after-ms", { kind: "status", status: 429, headers: { "retry-after-ms": "30" } }],
    ["500", { kind: "status", status: 500 }],
    ["503", { kind: "status", status: 503 }],
    ["connection reset mid-body", { kind: "reset" }],
    ["malformed JSON body", { kind: "malformed" }],
  ] as const;
  for (const [name, fault] of cases) {
    it(name, async () => {
      const m = model();
      const before = server.requests.length;
      server.enqueueFault(fault);
      const result = await m.generate(ask);
      expect(result.choices[0]?.text).toBe("plain answer");
      expect(server.requests.length - before).toBe(2);
      const snap = meter.snapshot();
      expect(snap).toMatchObject({ calls: 1, failedCalls: 0, retries: 1 });
      expect(snap.inputTokens).toBeGreaterThan(0);
      expect(snap.outputTokens).toBeGreaterThan(0);
    });
  }

  it("a hang past the per-attempt timeout is retried", async () => {
    const m = model({ timeoutMs: 300 });
    server.enqueueFault({ kind: "hang" });
    const result = await m.generate(ask);
    expect(result.choices[0]?.text).toBe("plain answer");
    expect(meter.snapshot()).toMatchObject({ calls: 1, retries: 1 });
  });

  it("429 waits at least the server's retry-after", async () => {
    const m = model();
    const waits: number[] = [];
    meter.events.on("llm.retry", (e) => waits.push(e.delayMs));
    server.enqueueFault({ kind: "status", status: 429, headers: { "retry-after": "0.2" } });
    await m.generate(ask);
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(200);
  });
});

describe("faults that end in a named error", () => {
  it("a persistent 503 gives up after maxRetries as `server`, counted as one failed call", async () => {
    const m = model({ maxRetries: 2 });
    server.enqueueFault({ kind: "status", status: 503, times: 3 });
    const error = await m.generate(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ category: "server", status: 503 });
    expect(meter.snapshot()).toMatchObject({ calls: 1, failedCalls: 1, retries: 2 });
  });

  it("a hang on every attempt ends as `timeout`", async () => {
    const m = model({ timeoutMs: 150, maxRetries: 1 });
    server.enqueueFault({ kind: "hang", times: 2 });
    await expect(m.generate(ask)).rejects.toMatchObject({ category: "timeout" });
    expect(meter.snapshot()).toMatchObject({ failedCalls: 1, retries: 1 });
  });

  it("401 is `auth`, not retried", async () => {
    const m = model();
    const before = server.requests.length;
    server.enqueueFault({ kind: "status", status: 401 });
    await expect(m.generate(ask)).rejects.toMatchObject({ category: "auth", retryable: false });
    expect(server.requests.length - before).toBe(1);
  });

  it("truncated output: plain generation returns it with finishReason `length` and its usage", async () => {
    const m = model();
    server.enqueueFault({ kind: "truncated", content: "plain ans" });
    const result = await m.generate(ask);
    expect(result.choices[0]).toMatchObject({ text: "plain ans", finishReason: "length" });
    expect(meter.snapshot().outputTokens).toBeGreaterThan(0);
  });

  it("truncated output: structured output fails at once as `truncated`, usage counted", async () => {
    const m = model();
    // Chat requests only: the capability probe also asks GET /props (is this llama.cpp, which can score?).
    const chats = () => server.requests.filter((r) => r.path === "/v1/chat/completions").length;
    const before = chats();
    server.enqueueFault({ kind: "truncated" });
    const error = await generateObject(m, { ...ask, schema: Answer }).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: "truncated" });
    expect((error as LlmError).usage?.outputTokens).toBeGreaterThan(0);
    expect(chats() - before).toBe(1);
    expect(meter.snapshot().outputTokens).toBeGreaterThan(0);
  });

  it("a schema-violating answer is repaired in one round; both calls' usage is counted", async () => {
    const m = model();
    server.enqueueFault({ kind: "schemaViolation", content: '{"answer":"maybe"}' });
    const result = await generateObject(m, { ...ask, schema: Answer });
    expect(result).toMatchObject({ object: { answer: "yes" }, repaired: true, mode: "native" });
    expect(meter.snapshot().calls).toBe(2);
    expect(result.usage.outputTokens).toBe(meter.snapshot().outputTokens);
  });

  it("two schema-violating answers are `schema_violation` with the raw text and both calls' usage", async () => {
    const m = model();
    server.enqueueFault({ kind: "schemaViolation", content: "no JSON here", times: 2 });
    const error = await generateObject(m, { ...ask, schema: Answer }).catch((e: unknown) => e);
    expect(error).toMatchObject({ category: "schema_violation", raw: "no JSON here" });
    expect((error as LlmError).usage?.outputTokens).toBe(meter.snapshot().outputTokens);
    expect(meter.snapshot().calls).toBe(2);
  });

  it("a caller abort is `aborted` and is not retried", async () => {
    const m = model();
    const before = server.requests.length;
    server.enqueueFault({ kind: "hang" });
    const controller = new AbortController();
    const pending = m.generate({ ...ask, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ category: "aborted" });
    expect(server.requests.length - before).toBe(1);
  });
});
