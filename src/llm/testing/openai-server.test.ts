import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIServer, type OpenAIServerOptions, startOpenAIServer, tokenize } from "./openai-server.ts";

const servers: OpenAIServer[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
});

async function start(options?: OpenAIServerOptions): Promise<OpenAIServer> {
  const server = await startOpenAIServer(options);
  servers.push(server);
  return server;
}

const user = (content: string) => ({ role: "user", content });

function post(server: OpenAIServer, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

interface Completion {
  model: string;
  choices: {
    index: number;
    message: { content: string };
    finish_reason: string;
    logprobs: { content: { token: string; logprob: number; top_logprobs: { logprob: number }[] }[] } | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

async function chat(server: OpenAIServer, body: unknown): Promise<Completion> {
  const res = await post(server, body);
  expect(res.status).toBe(200);
  return (await res.json()) as Completion;
}

const texts = (c: Completion) => c.choices.map((choice) => choice.message.content);

describe("startOpenAIServer: normal answers", () => {
  it("answers on 127.0.0.1 with choices, usage and the model name", async () => {
    const server = await start();
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    const body = await chat(server, { model: "m1", messages: [user("hello there")] });
    expect(body.model).toBe("m1");
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0]?.finish_reason).toBe("stop");
    const content = body.choices[0]?.message.content ?? "";
    expect(body.usage).toEqual({
      prompt_tokens: Math.ceil("hello there".length / 4),
      completion_tokens: Math.ceil(content.length / 4),
      total_tokens: Math.ceil("hello there".length / 4) + Math.ceil(content.length / 4),
    });
  });

  it("is deterministic per seed, differs per index and between unseeded calls", async () => {
    const server = await start();
    const seeded = { messages: [user("q")], n: 3, seed: 7, temperature: 1 };
    const a = texts(await chat(server, seeded));
    const b = texts(await chat(server, seeded));
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(3);
    const other = texts(await chat(server, { ...seeded, seed: 8 }));
    expect(other).not.toEqual(a);
    const unseeded = { messages: [user("q")], temperature: 1 };
    expect(texts(await chat(server, unseeded))).not.toEqual(texts(await chat(server, unseeded)));
    const greedy = { messages: [user("q")], temperature: 0 };
    expect(texts(await chat(server, greedy))).toEqual(texts(await chat(server, greedy)));
  });

  it("uses the respond option for content", async () => {
    const server = await start({ respond: (body, i) => `${body.messages.length}:${i}`, model: "served" });
    const body = await chat(server, { model: "asked", messages: [user("a"), user("b")], n: 2 });
    expect(texts(body)).toEqual(["2:0", "2:1"]);
    expect(body.model).toBe("served");
  });

  it("truncates at max_tokens with finish_reason length, and cuts at stop sequences", async () => {
    const server = await start({ respond: () => "one two three four five" });
    const cut = await chat(server, { messages: [user("x")], max_tokens: 2 });
    expect(texts(cut)).toEqual(["one two"]);
    expect(cut.choices[0]?.finish_reason).toBe("length");
    const whole = await chat(server, { messages: [user("x")], max_tokens: 5 });
    expect(whole.choices[0]?.finish_reason).toBe("stop");
    const stopped = await chat(server, { messages: [user("x")], stop: [" four", " three"] });
    expect(texts(stopped)).toEqual(["one two"]);
  });

  it("returns consistent fake logprobs", async () => {
    const server = await start({ respond: () => "alpha beta  gamma" });
    const body = await chat(server, { messages: [user("x")], logprobs: true, top_logprobs: 3 });
    const tokens = body.choices[0]?.logprobs?.content ?? [];
    expect(tokens.map((t) => t.token).join("")).toBe("alpha beta  gamma");
    expect(tokens.map((t) => t.token)).toEqual(tokenize("alpha beta  gamma"));
    for (const t of tokens) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top_logprobs).toHaveLength(3);
      expect(t.top_logprobs[0]?.logprob).toBe(t.logprob);
      const mass = t.top_logprobs.reduce((s, alt) => s + Math.exp(alt.logprob), 0);
      expect(mass).toBeLessThanOrEqual(1);
    }
    const plain = await chat(server, { messages: [user("x")] });
    expect(plain.choices[0]?.logprobs).toBeNull();
  });

  it("answers json_schema requests with JSON that fits the schema by default", async () => {
    const server = await start();
    const schema = {
      type: "object",
      properties: {
        action: { type: "string", enum: ["left", "right"] },
        score: { type: "number" },
        steps: { type: "array", items: { type: "integer" }, minItems: 2 },
        done: { type: "boolean" },
      },
      required: ["action", "score", "steps", "done"],
      additionalProperties: false,
    };
    const body = await chat(server, {
      messages: [user("x")],
      response_format: { type: "json_schema", json_schema: { name: "s", schema, strict: true } },
    });
    const value = JSON.parse(body.choices[0]?.message.content ?? "") as Record<string, unknown>;
    expect(["left", "right"]).toContain(value.action);
    expect(typeof value.score).toBe("number");
    expect(value.steps).toHaveLength(2);
    expect(typeof value.done).toBe("boolean");
  });

  it("serves /v1/models, 404s unknown routes, rejects bad bodies and records requests", async () => {
    const server = await start({ model: "listed" });
    const models = await fetch(`${server.url}/models`);
    expect(await models.json()).toMatchObject({ data: [{ id: "listed" }] });
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { message: expect.stringContaining("/v1/nope") } });
    expect((await post(server, "{not json")).status).toBe(400);
    expect((await post(server, { messages: [] })).status).toBe(400);
    expect((await post(server, { messages: [user("x")], n: 0 })).status).toBe(400);
    await post(server, { messages: [user("x")] }, { headers: { "x-test": "yes" } });
    const last = server.requests.at(-1);
    expect(last).toMatchObject({
      method: "POST",
      path: "/v1/chat/completions",
      body: { messages: [user("x")] },
    });
    expect(last?.headers["x-test"]).toBe("yes");
    expect(server.requests.map((r) => r.path)).toContain("/v1/models");
  });
});

describe("startOpenAIServer: personalities", () => {
  it("rejects json_schema and logprobs with HTTP 400 when unsupported", async () => {
    const server = await start({ supports: { jsonSchema: false, logprobs: false } });
    const schema = await post(server, {
      messages: [user("x")],
      response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" } } },
    });
    expect(schema.status).toBe(400);
    expect(await schema.json()).toMatchObject({ error: { message: expect.stringContaining("json_schema") } });
    const logprobs = await post(server, { messages: [user("x")], logprobs: true });
    expect(logprobs.status).toBe(400);
    expect((await post(server, { messages: [user("x")] })).status).toBe(200);
  });

  it("rejects n > 1 or silently answers one choice, as configured", async () => {
    const strict = await start({ supports: { n: false }, nUnsupported: "error" });
    expect((await post(strict, { messages: [user("x")], n: 2 })).status).toBe(400);
    const lax = await start({ supports: { n: false }, nUnsupported: "single" });
    expect((await chat(lax, { messages: [user("x")], n: 3 })).choices).toHaveLength(1);
  });

  it("ignores seeds when seed is unsupported", async () => {
    const server = await start({ supports: { seed: false } });
    const req = { messages: [user("x")], seed: 1, temperature: 1 };
    expect(texts(await chat(server, req))).not.toEqual(texts(await chat(server, req)));
  });

  it("checks the API key and the context length, in the configured error style", async () => {
    const server = await start({ apiKey: "sk-right", contextLength: 4, errorStyle: "flat" });
    const wrong = await post(
      server,
      { messages: [user("x")] },
      { headers: { authorization: "Bearer sk-wrong" } },
    );
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({
      object: "error",
      message: expect.stringContaining("API key"),
    });
    const auth = { headers: { authorization: "Bearer sk-right", "content-type": "application/json" } };
    expect((await post(server, { messages: [user("short")] }, auth)).status).toBe(200);
    const long = await post(server, { messages: [user("x".repeat(100))] }, auth);
    expect(long.status).toBe(400);
    expect(await long.json()).toMatchObject({ message: expect.stringContaining("maximum context length") });
  });
});

describe("startOpenAIServer: faults", () => {
  it("answers injected statuses with headers, in FIFO order and `times` often", async () => {
    const server = await start();
    server.enqueueFault({ kind: "status", status: 429, headers: { "retry-after": "0.05" }, times: 2 });
    server.enqueueFault({ kind: "status", status: 503, body: "upstream down" });
    server.enqueueFault({ kind: "status", status: 200, body: { object: "chat.completion" } });
    const first = await post(server, { messages: [user("x")] });
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("0.05");
    expect(await first.json()).toMatchObject({ error: { type: "rate_limit_error" } });
    expect((await post(server, { messages: [user("x")] })).status).toBe(429);
    const third = await post(server, { messages: [user("x")] });
    expect(third.status).toBe(503);
    expect(await third.text()).toBe("upstream down");
    const fourth = await post(server, { messages: [user("x")] });
    expect(await fourth.json()).toEqual({ object: "chat.completion" });
    expect((await post(server, { messages: [user("x")] })).status).toBe(200);
  });

  it("does not spend faults on /v1/models", async () => {
    const server = await start();
    server.enqueueFault({ kind: "status", status: 500 });
    expect((await fetch(`${server.url}/models`)).status).toBe(200);
    expect((await post(server, { messages: [user("x")] })).status).toBe(500);
  });

  it("resets the socket mid-body after a 200", async () => {
    const server = await start();
    server.enqueueFault({ kind: "reset" });
    const res = await post(server, { messages: [user("x")] });
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
    expect((await post(server, { messages: [user("x")] })).status).toBe(200);
  });

  it("hangs until the client gives up", async () => {
    const server = await start();
    server.enqueueFault({ kind: "hang" });
    await expect(
      post(server, { messages: [user("x")] }, { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    expect(server.requests).toHaveLength(1);
    expect((await post(server, { messages: [user("x")] })).status).toBe(200);
  });

  it("sends malformed JSON with a 200", async () => {
    const server = await start();
    server.enqueueFault({ kind: "malformed" });
    const res = await post(server, { messages: [user("x")] });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    const text = await res.text();
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
  });

  it("answers schema violations and truncated output with usage", async () => {
    const server = await start();
    const request = {
      messages: [user("x")],
      n: 2,
      response_format: { type: "json_schema", json_schema: { name: "s", schema: { type: "object" } } },
    };
    server.enqueueFault({ kind: "schemaViolation", content: "not json at all" });
    const violating = await chat(server, request);
    expect(texts(violating)).toEqual(["not json at all", "not json at all"]);
    expect(violating.usage?.completion_tokens).toBeGreaterThan(0);
    server.enqueueFault({ kind: "truncated" });
    const truncated = await chat(server, request);
    expect(truncated.choices.map((c) => c.finish_reason)).toEqual(["length", "length"]);
    const cut = truncated.choices[0]?.message.content ?? "";
    expect(cut.startsWith("{")).toBe(true);
    expect(() => JSON.parse(cut)).toThrow(SyntaxError);
    expect(truncated.usage?.total_tokens).toBeGreaterThan(0);
  });
});

describe("startOpenAIServer: concurrency, latency and close", () => {
  it("serves many concurrent requests under latency", async () => {
    const server = await start({ latencyMs: 20 });
    const bodies = await Promise.all(
      Array.from({ length: 64 }, (_, i) => chat(server, { messages: [user(`q${i}`)], seed: i })),
    );
    expect(bodies).toHaveLength(64);
    expect(server.requests).toHaveLength(64);
  });

  it("holds answers for the configured latency", async () => {
    const server = await start();
    server.setLatency(60_000);
    await expect(
      post(server, { messages: [user("x")] }, { signal: AbortSignal.timeout(100) }),
    ).rejects.toThrow();
    server.setLatency(0);
    expect((await post(server, { messages: [user("x")] })).status).toBe(200);
  });

  it("closes promptly with a hanging request and a pending latency timer", async () => {
    const server = await startOpenAIServer({});
    server.enqueueFault({ kind: "hang" });
    const hanging = post(server, { messages: [user("x")] });
    const settled = hanging.then(
      () => "answered",
      () => "failed",
    );
    while (server.requests.length < 1) await new Promise((r) => setTimeout(r, 5));
    server.setLatency(60_000);
    const delayed = post(server, { messages: [user("y")] }).then(
      () => "answered",
      () => "failed",
    );
    while (server.requests.length < 2) await new Promise((r) => setTimeout(r, 5));
    await server.close();
    expect(await settled).toBe("failed");
    expect(await delayed).toBe("failed");
    await server.close(); // idempotent
  });
});
