import { inspect } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { LlmError, type LlmErrorCategory } from "../errors.ts";
import { type OpenAIServer, type OpenAIServerOptions, startOpenAIServer } from "../testing/openai-server.ts";
import type { GenerateRequest } from "../types.ts";
import { OpenAICompatibleModel, type OpenAICompatibleOptions } from "./openai-compatible.ts";

const API_KEY = "sk-test-7c1f9a2b4d6e8f00-secret";

const servers: OpenAIServer[] = [];
const models: OpenAICompatibleModel[] = [];
const thrown: unknown[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
});

afterEach(async () => {
  await Promise.all(models.splice(0).map((m) => m.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(() => {
  process.off("unhandledRejection", onUnhandled);
  expect(unhandled).toEqual([]);
  // Every error any test provoked: none may reveal the key.
  expect(thrown.length).toBeGreaterThan(10);
  for (const error of thrown) {
    expect(String(error)).not.toContain(API_KEY);
    expect(error instanceof Error ? error.message : "").not.toContain(API_KEY);
  }
});

async function setup(
  serverOptions: OpenAIServerOptions = {},
  modelOptions: Partial<OpenAICompatibleOptions> = {},
): Promise<{ server: OpenAIServer; model: OpenAICompatibleModel }> {
  const server = await startOpenAIServer(serverOptions);
  servers.push(server);
  const model = new OpenAICompatibleModel({
    baseURL: server.url,
    model: "test-model",
    apiKey: API_KEY,
    ...modelOptions,
  });
  models.push(model);
  return { server, model };
}

const ask = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  ...extra,
});

/** The `LlmError` a promise rejects with (fails the test if it resolves or rejects with something else). */
async function failure(promise: Promise<unknown>, category: LlmErrorCategory): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    thrown.push(error);
    expect(error).toBeInstanceOf(LlmError);
    const e = error as LlmError;
    expect(e.category, e.message).toBe(category);
    expect(e.message).not.toMatch(/\n/);
    return e;
  }
  throw new Error(`expected an LlmError "${category}", but the call succeeded`);
}

const chatBodies = (server: OpenAIServer) =>
  server.requests
    .filter((r) => r.path === "/v1/chat/completions")
    .map((r) => r.body as Record<string, unknown>);

describe("OpenAICompatibleModel.generate", () => {
  it("chats: maps messages and options, reports the served model, usage and latency", async () => {
    const { server, model } = await setup({ model: "served-name", respond: () => "hi there" });
    expect(model.id).toBe(`openai-compatible:${server.url}#test-model`);
    expect(model.provider).toBe("openai-compatible");
    expect(model.endpoint).toBe(server.url);
    const result = await model.generate({
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello" },
      ],
      temperature: 0.5,
      topP: 0.9,
      maxTokens: 32,
      stop: ["\n\n"],
    });
    expect(result.model).toBe("served-name");
    expect(result.choices).toEqual([{ index: 0, text: "hi there", finishReason: "stop" }]);
    expect(result.usage).toEqual({ inputTokens: Math.ceil(13 / 4), outputTokens: Math.ceil(8 / 4) });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    expect(result.structuredMode).toBeUndefined();
    const [body] = chatBodies(server);
    expect(body).toEqual({
      model: "test-model",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "hello" },
      ],
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 32,
      stop: ["\n\n"],
    });
    expect(server.requests[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it("sends default headers and a placeholder key when none is given", async () => {
    const { server } = await setup();
    const bare = new OpenAICompatibleModel({
      baseURL: server.url,
      model: "m",
      defaultHeaders: { "x-team": "a" },
    });
    models.push(bare);
    expect(bare.id).toBe(`openai-compatible:${server.url}#m`);
    await bare.generate(ask("x"));
    expect(server.requests[0]?.headers.authorization).toBe("Bearer not-needed");
    expect(server.requests[0]?.headers["x-team"]).toBe("a");
    const named = new OpenAICompatibleModel({
      baseURL: server.url,
      model: "m",
      id: "openai-compatible:custom",
    });
    expect(named.id).toBe("openai-compatible:custom");
  });

  it("asks a server with native n for all samples in one request, offsetting indexes and the seed", async () => {
    const { server, model } = await setup({}, { capabilities: { multipleSamples: true } });
    const result = await model.generate(ask("q", { n: 3, sampleIndex: 4, seed: 100, temperature: 1 }));
    expect(result.choices.map((c) => c.index)).toEqual([4, 5, 6]);
    expect(new Set(result.choices.map((c) => c.text)).size).toBe(3);
    const bodies = chatBodies(server);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toMatchObject({ n: 3, seed: 104 });
    // Same request, same samples.
    const again = await model.generate(ask("q", { n: 3, sampleIndex: 4, seed: 100, temperature: 1 }));
    expect(again.choices).toEqual(result.choices);
  });

  it("emulates n with concurrent single requests (seed + sample index), summing usage", async () => {
    const { server, model } = await setup(
      { supports: { n: false } },
      { capabilities: { multipleSamples: false } },
    );
    const result = await model.generate(ask("q", { n: 3, sampleIndex: 2, seed: 10, temperature: 1 }));
    expect(result.choices.map((c) => c.index)).toEqual([2, 3, 4]);
    expect(new Set(result.choices.map((c) => c.text)).size).toBe(3);
    const bodies = chatBodies(server);
    expect(bodies.map((b) => b.seed).sort()).toEqual([12, 13, 14]);
    expect(bodies.every((b) => b.n === undefined)).toBe(true);
    const outputTokens = result.choices.reduce((s, c) => s + Math.ceil(c.text.length / 4), 0);
    expect(result.usage).toEqual({ inputTokens: 3 * Math.ceil(1 / 4), outputTokens });
    // Sample 3 asked alone is the sample 3 of the batch: same seed, same text.
    const alone = await model.generate(ask("q", { sampleIndex: 3, seed: 10, temperature: 1 }));
    expect(alone.choices).toEqual([result.choices[1]]);
  });

  it("probes n lazily (once) before the first n > 1 request and then emulates", async () => {
    const { server, model } = await setup({ supports: { n: false }, nUnsupported: "error" });
    await model.generate(ask("a"));
    expect(chatBodies(server)).toHaveLength(1); // n = 1 needs no probe
    const result = await model.generate(ask("q", { n: 2 }));
    expect(result.choices.map((c) => c.index)).toEqual([0, 1]);
    const afterFirst = chatBodies(server);
    expect(afterFirst.filter((b) => b.n === 2)).toHaveLength(1); // the probe
    expect(afterFirst).toHaveLength(4); // 1 + probe + 2 singles
    await model.generate(ask("q", { n: 2 }));
    expect(chatBodies(server)).toHaveLength(6); // no second probe
  });

  it("tops up when a server claiming n support returns fewer choices", async () => {
    const { server, model } = await setup(
      { supports: { n: false }, nUnsupported: "single" },
      { capabilities: { multipleSamples: true } },
    );
    const result = await model.generate(ask("q", { n: 3, seed: 1 }));
    expect(result.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(chatBodies(server).map((b) => b.seed)).toEqual([1, 2, 3]);
  });

  it("maps logprobs", async () => {
    const { server, model } = await setup({ respond: () => "red blue" });
    const result = await model.generate(ask("x", { logprobs: { top: 2 } }));
    expect(chatBodies(server)[0]).toMatchObject({ logprobs: true, top_logprobs: 2 });
    const tokens = result.choices[0]?.logprobs ?? [];
    expect(tokens.map((t) => t.token)).toEqual(["red", " blue"]);
    for (const t of tokens) {
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top).toHaveLength(2);
      expect(t.top?.[0]).toEqual({ token: t.token, logprob: t.logprob });
    }
    const only = await model.generate(ask("x", { logprobs: { top: 0 } }));
    expect(chatBodies(server)[1]).toMatchObject({ logprobs: true });
    expect(chatBodies(server)[1]?.top_logprobs).toBeUndefined();
    expect(only.choices[0]?.logprobs?.[0]).not.toHaveProperty("top");
    const none = await model.generate(ask("x"));
    expect(none.choices[0]).not.toHaveProperty("logprobs");
  });

  it("sends json_schema natively and says so", async () => {
    const { server, model } = await setup();
    const schema = { type: "object", properties: { move: { type: "string" } }, required: ["move"] };
    const result = await model.generate(
      ask("x", { responseFormat: { type: "json_schema", name: "Move", schema } }),
    );
    expect(result.structuredMode).toBe("native");
    expect(chatBodies(server)[0]?.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "Move", schema, strict: true },
    });
    expect(JSON.parse(result.choices[0]?.text ?? "")).toHaveProperty("move");
  });

  it("returns truncated output as finishReason length with usage (not an error at this layer)", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "truncated" });
    const result = await model.generate(ask("x", { maxTokens: 8 }));
    expect(result.choices[0]?.finishReason).toBe("length");
    expect(() => JSON.parse(result.choices[0]?.text ?? "")).toThrow();
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
  });

  it("returns a schema-violating answer as is, with usage", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "schemaViolation", content: '{"wrong": 1}' });
    const result = await model.generate(
      ask("x", { responseFormat: { type: "json_schema", name: "s", schema: { type: "object" } } }),
    );
    expect(result.choices[0]?.text).toBe('{"wrong": 1}');
    expect(result.usage.outputTokens).toBe(3);
  });

  it("reports zero usage when the server omits it", async () => {
    const { model } = await setup({ usage: false });
    const result = await model.generate(ask("x"));
    expect(result.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(result.choices).toHaveLength(1);
  });

  it("rejects a non-positive n before calling", async () => {
    const { server, model } = await setup();
    await failure(model.generate(ask("x", { n: 0 })), "bad_request");
    expect(server.requests).toHaveLength(0);
  });
});

describe("OpenAICompatibleModel error mapping", () => {
  it("429 → rate_limit with retry-after (seconds) and retry-after-ms", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "status", status: 429, headers: { "retry-after": "0.05" } });
    const a = await failure(model.generate(ask("x")), "rate_limit");
    expect(a.retryAfterMs).toBe(50);
    expect(a.status).toBe(429);
    expect(a.retryable).toBe(true);
    expect(a.message).toContain(server.url);
    expect(a.message).toContain("429");
    server.enqueueFault({
      kind: "status",
      status: 429,
      headers: { "retry-after-ms": "75", "retry-after": "9" },
    });
    expect((await failure(model.generate(ask("x")), "rate_limit")).retryAfterMs).toBe(75);
    server.enqueueFault({ kind: "status", status: 429 });
    expect((await failure(model.generate(ask("x")), "rate_limit")).retryAfterMs).toBeUndefined();
    expect(chatBodies(server)).toHaveLength(3); // the client itself never retried
  });

  it("5xx → server (honouring retry-after), never retried by the client", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "status", status: 500 });
    const e500 = await failure(model.generate(ask("x")), "server");
    expect(e500.status).toBe(500);
    expect(e500.message).toMatch(/HTTP 500/);
    server.enqueueFault({
      kind: "status",
      status: 503,
      headers: { "retry-after": "2" },
      body: "overloaded\nretry",
    });
    const e503 = await failure(model.generate(ask("x")), "server");
    expect(e503.retryAfterMs).toBe(2000);
    expect(e503.message).toContain("overloaded retry");
    expect(chatBodies(server)).toHaveLength(2);
  });

  it("401/403 → auth, 404 → not_found, other 4xx → bad_request", async () => {
    const { server, model } = await setup({ apiKey: "sk-a-different-key" });
    const e401 = await failure(model.generate(ask("x")), "auth");
    expect(e401.status).toBe(401);
    expect(e401.userFacing).toBe(true);
    server.enqueueFault({ kind: "status", status: 403 });
    await failure(model.generate(ask("x")), "auth");
    const wrongPath = new OpenAICompatibleModel({
      baseURL: `${server.url}/nowhere`,
      model: "m",
      apiKey: API_KEY,
    });
    models.push(wrongPath);
    const e404 = await failure(wrongPath.generate(ask("x")), "not_found");
    expect(e404.message).toContain("/nowhere");
    server.enqueueFault({ kind: "status", status: 422 });
    expect((await failure(model.generate(ask("x")), "bad_request")).retryable).toBe(false);
  });

  it("400 about context length → context_length (OpenAI and flat error bodies)", async () => {
    for (const errorStyle of ["openai", "flat"] as const) {
      const { model } = await setup({ contextLength: 8, errorStyle });
      const e = await failure(model.generate(ask("word ".repeat(50))), "context_length");
      expect(e.status).toBe(400);
      expect(e.message).toContain("maximum context length");
    }
    const { server, model } = await setup();
    server.enqueueFault({
      kind: "status",
      status: 400,
      body: {
        error: {
          message: "the request exceeds the available context size",
          type: "exceed_context_size_error",
        },
      },
    });
    await failure(model.generate(ask("x")), "context_length");
    server.enqueueFault({ kind: "status", status: 400 });
    await failure(model.generate(ask("x")), "bad_request");
  });

  it("a reset mid-body → connection", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "reset" });
    const e = await failure(model.generate(ask("x")), "connection");
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(server.url);
    expect((await model.generate(ask("x"))).choices).toHaveLength(1);
  });

  it("a refused connection → connection", async () => {
    const { server } = await setup();
    const url = server.url;
    await server.close();
    const model = new OpenAICompatibleModel({ baseURL: url, model: "m", apiKey: API_KEY });
    models.push(model);
    const e = await failure(model.generate(ask("x")), "connection");
    expect(e.message).toContain(url);
    expect(e.message).toContain("no HTTP status");
  });

  it("a hang past the per-attempt timeout → timeout (request option and constructor default)", async () => {
    const { server, model } = await setup({}, { timeoutMs: 150 });
    server.enqueueFault({ kind: "hang", times: 2 });
    const e = await failure(model.generate(ask("x")), "timeout");
    expect(e.retryable).toBe(true);
    expect(e.message).toContain("150 ms");
    await failure(model.generate(ask("x", { timeoutMs: 100 })), "timeout");
  });

  it("a latency longer than the timeout → timeout", async () => {
    const { server, model } = await setup({}, { timeoutMs: 100 });
    server.setLatency(60_000);
    await failure(model.generate(ask("x")), "timeout");
  });

  it("the caller's abort → aborted, before or during the call", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "hang" });
    const controller = new AbortController();
    const pending = model.generate(ask("x", { signal: controller.signal, timeoutMs: 30_000 }));
    while (server.requests.length < 1) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    const e = await failure(pending, "aborted");
    expect(e.retryable).toBe(false);
    await failure(model.generate(ask("x", { signal: AbortSignal.abort() })), "aborted");
    expect(server.requests).toHaveLength(1);
  });

  it("an aborted emulated batch → aborted, and the other samples are cancelled", async () => {
    const { server, model } = await setup({}, { capabilities: { multipleSamples: false } });
    server.enqueueFault({ kind: "hang", times: 3 });
    const controller = new AbortController();
    const pending = model.generate(ask("x", { n: 3, signal: controller.signal }));
    while (server.requests.length < 3) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await failure(pending, "aborted");
  });

  it("one failing sample fails an emulated batch with its own category", async () => {
    const { server, model } = await setup({}, { capabilities: { multipleSamples: false } });
    server.enqueueFault({ kind: "status", status: 500 });
    server.enqueueFault({ kind: "hang", times: 2 });
    await failure(model.generate(ask("x", { n: 3 })), "server");
  });

  it("invalid JSON, an empty body or a body without choices → malformed_response", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "malformed" });
    const e = await failure(model.generate(ask("x")), "malformed_response");
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(server.url);
    server.enqueueFault({ kind: "malformed", contentType: "text/html" });
    await failure(model.generate(ask("x")), "malformed_response");
    server.enqueueFault({ kind: "status", status: 200, body: { object: "chat.completion", model: "m" } });
    expect((await failure(model.generate(ask("x")), "malformed_response")).message).toContain("choices");
    server.enqueueFault({ kind: "status", status: 200, body: { choices: [] } });
    await failure(model.generate(ask("x")), "malformed_response");
    server.enqueueFault({
      kind: "status",
      status: 200,
      body: "",
      headers: { "content-type": "application/json" },
    });
    await failure(model.generate(ask("x")), "malformed_response");
  });

  it("keeps both parts of an error body whose `error` is a string, and reads flat and FastAPI bodies", async () => {
    const { server, model } = await setup();
    server.enqueueFault({
      kind: "status",
      status: 404,
      body: { error: "Not Found", message: "model m is not loaded" },
    });
    const a = await failure(model.generate(ask("q")), "not_found");
    expect(a.message).toMatch(/HTTP 404: Not Found: model m is not loaded$/);
    server.enqueueFault({
      kind: "status",
      status: 422,
      body: { detail: [{ loc: ["body", "n"], msg: "too big" }] },
    });
    const b = await failure(model.generate(ask("q")), "bad_request");
    expect(b.message).toContain('HTTP 422: [{"loc":["body","n"],"msg":"too big"}]');
    server.enqueueFault({ kind: "status", status: 500, body: "upstream exploded" });
    const c = await failure(model.generate(ask("q")), "server");
    expect(c.message).toMatch(/HTTP 500: upstream exploded$/);
  });

  it("says the status arrived when the body stalls after it (not 'no HTTP status')", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "stallBody" });
    const error = await failure(model.generate(ask("q", { timeoutMs: 200 })), "timeout");
    expect(error.message).toMatch(/HTTP 200 arrived, but its body did not finish within 200 ms$/);
    expect(error.message).not.toContain("no HTTP status");
  });

  it("sends URL credentials as HTTP Basic authentication and shows them nowhere", async () => {
    const password = "pw-9f3e1d2c-secret";
    const { server } = await setup({ basicAuth: `alice:${password}` });
    const url = server.url.replace("http://", `http://alice:${encodeURIComponent(password)}@`);
    const model = new OpenAICompatibleModel({ baseURL: url, model: "m" });
    models.push(model);
    const result = await model.generate(ask("q"));
    expect(result.choices).toHaveLength(1);
    expect(server.requests.at(-1)?.headers.authorization).toBe(
      `Basic ${Buffer.from(`alice:${password}`).toString("base64")}`,
    );
    for (const text of [model.id, model.endpoint, JSON.stringify(model), inspect(model, { depth: 5 })]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain("alice");
    }
    expect(model.id).toBe(`openai-compatible:${server.url.replace("http://", "http://***@")}#m`);
    server.enqueueFault({ kind: "status", status: 500, body: { error: { message: `bad auth for ${url}` } } });
    const error = await failure(model.generate(ask("q")), "server");
    expect(error.message).not.toContain(password);
    // refused connection: the underlying fetch error must not carry the URL's credentials either
    const dead = new OpenAICompatibleModel({ baseURL: "http://bob:hunter22@127.0.0.1:1/v1", model: "m" });
    models.push(dead);
    const refused = await failure(dead.generate(ask("q")), "connection");
    expect(refused.message).not.toContain("hunter22");
    expect(refused.message).toContain("127.0.0.1:1");
  });

  it("refuses URL credentials together with an API key", () => {
    expect(
      () => new OpenAICompatibleModel({ baseURL: "http://u:p@127.0.0.1:1/v1", model: "m", apiKey: API_KEY }),
    ).toThrow(/carries credentials and an API key/);
  });

  it("never puts the API key in an error, even when the server echoes it", async () => {
    const { server, model } = await setup();
    server.enqueueFault({
      kind: "status",
      status: 400,
      body: { error: { message: `bad header Authorization: Bearer ${API_KEY}` } },
    });
    const e = await failure(model.generate(ask("x")), "bad_request");
    expect(e.message).toContain("[redacted]");
  });

  it("never reveals the API key when the model object is serialised or inspected", async () => {
    const { model } = await setup();
    await model.generate(ask("x")); // the client exists and has been used
    expect(JSON.stringify(model)).not.toContain(API_KEY);
    expect(inspect(model, { depth: 20, showHidden: true, getters: true })).not.toContain(API_KEY);
  });
});

describe("OpenAICompatibleModel.capabilities", () => {
  it("finds every feature on a full-featured server, once", async () => {
    const { server, model } = await setup();
    const caps = await model.capabilities();
    expect(caps).toMatchObject({
      jsonSchema: true,
      logprobs: true,
      multipleSamples: true,
      seed: true,
      grammar: false,
      score: false,
    });
    // Not llama.cpp (no GET /props): no scoring over HTTP.
    expect(caps.notes).toEqual([expect.stringMatching(/^score: .*llama-server.*GET \/props: HTTP 404/)]);
    const probes = chatBodies(server);
    for (const body of probes) expect(body.max_tokens).toBeLessThanOrEqual(64);
    expect(await model.capabilities()).toBe(caps);
    expect(chatBodies(server)).toHaveLength(probes.length);
    // The n probe is shared with generate: n > 1 now needs no probe of its own.
    await model.generate(ask("q", { n: 2 }));
    expect(chatBodies(server)).toHaveLength(probes.length + 1);
  });

  it("shares one probe among concurrent callers", async () => {
    const { server, model } = await setup();
    const [a, b] = await Promise.all([model.capabilities(), model.capabilities()]);
    expect(a).toBe(b);
    expect(chatBodies(server)).toHaveLength(5); // json_schema, logprobs, n=2, seed twice
  });

  it.each([
    [{ jsonSchema: false }, "jsonSchema", /json_schema rejected: HTTP 400/],
    [{ logprobs: false }, "logprobs", /logprobs rejected: HTTP 400/],
    [{ n: false }, "multipleSamples", /n=2 rejected: HTTP 400/],
    [{ seed: false }, "seed", /seed ignored/],
  ] as const)("finds a missing feature %o and says why", async (supports, capability, note) => {
    const { model } = await setup({ supports });
    const caps = await model.capabilities();
    expect(caps[capability]).toBe(false);
    expect(caps.notes?.some((n) => note.test(n))).toBe(true);
    for (const other of ["jsonSchema", "logprobs", "multipleSamples", "seed"] as const) {
      if (other !== capability) expect(caps[other]).toBe(true);
    }
  });

  it("notices n silently ignored and json_schema accepted but not honoured", async () => {
    const { model } = await setup({
      supports: { n: false },
      nUnsupported: "single",
      respond: (body) => (body.response_format ? "Sure! Here is JSON: ok" : "word"),
    });
    const caps = await model.capabilities();
    expect(caps.multipleSamples).toBe(false);
    expect(caps.jsonSchema).toBe(false);
    expect(caps.notes).toContain("n=2 returned 1 choice(s)");
    expect(caps.notes).toContain("json_schema accepted but the answer is not a JSON object");
  });

  it("skips probing what the options already say, and lets them override", async () => {
    const { server, model } = await setup(
      { supports: { jsonSchema: false } },
      { capabilities: { jsonSchema: true, logprobs: false, multipleSamples: true, seed: true } },
    );
    const caps = await model.capabilities();
    expect(caps).toMatchObject({ jsonSchema: true, logprobs: false, multipleSamples: true, seed: true });
    expect(chatBodies(server)).toHaveLength(0);
  });

  it.each([
    ["auth", { kind: "status", status: 401 }],
    ["not_found", { kind: "status", status: 404 }],
    ["connection", { kind: "reset" }],
  ] as const)(
    "rejects with %s when the endpoint is unusable, and probes again next time",
    async (category, fault) => {
      const { server, model } = await setup();
      // One fatal answer among the concurrent probe requests is enough to fail the whole probe.
      server.enqueueFault(fault);
      await failure(model.capabilities(), category);
      const caps = await model.capabilities();
      expect(caps.jsonSchema).toBe(true);
    },
  );

  it("takes a 5xx that names the feature as unsupported (llama.cpp's old n > 1 answer), not as a failure", async () => {
    const { model } = await setup({ supports: { n: false }, nUnsupported: "error500" });
    const caps = await model.capabilities();
    expect(caps.multipleSamples).toBe(false);
    expect(caps.notes).toContain("n=2 rejected: HTTP 500: Only one completion choice is allowed");
    expect(caps).toMatchObject({ jsonSchema: true, logprobs: true, seed: true });
    // and n > 1 is then emulated with single requests
    const result = await model.generate(ask("q", { n: 3, seed: 1 }));
    expect(result.choices).toHaveLength(3);
  });

  it("names the probe request in a failure that does not name the feature, keeping category and retry-after", async () => {
    const { server, model } = await setup();
    server.enqueueFault({
      kind: "status",
      status: 503,
      headers: { "retry-after": "7" },
      body: { error: { message: "loading model", type: "unavailable_error", code: 503 } },
    });
    const error = await failure(model.capabilities(), "server");
    expect(error.message).toMatch(
      /: the capability probe's (json_schema|logprobs|n=2|seed) request failed: HTTP 503: loading model$/,
    );
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(7000);
    expect(error.status).toBe(503);
    expect((await model.capabilities()).seed).toBe(true);
  });

  it("lets a caller abort its wait without breaking the shared probe", async () => {
    const { server, model } = await setup();
    server.setLatency(200);
    const controller = new AbortController();
    const first = model.capabilities({ signal: controller.signal });
    const second = model.capabilities();
    controller.abort();
    await failure(first, "aborted");
    expect((await second).seed).toBe(true);
  });

  it("close is idempotent and cancels a probe nobody else awaits", async () => {
    const { server, model } = await setup();
    server.enqueueFault({ kind: "hang", times: 5 });
    const probe = model.capabilities();
    while (server.requests.length < 5) await new Promise((r) => setTimeout(r, 5));
    await model.close();
    await model.close();
    await failure(probe, "aborted");
  });
});
