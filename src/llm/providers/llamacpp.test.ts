import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { LlmError } from "../errors.ts";
import { type TinyModel, writeTinyLlamaGguf } from "../llamacpp/tiny-model.ts";
import type { ChatMessage, GenerateRequest } from "../types.ts";
import { grammarSchema, LlamaCppModel } from "./llamacpp.ts";

let dir: string;
let tiny: TinyModel;
let lm: LlamaCppModel;

// One thread: the test machines are small and shared, and a tiny model gains nothing from more.
const BASE = { contextSize: 512, threads: 1 } as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bayesact-llamacpp-"));
  tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 1 });
  lm = new LlamaCppModel({ modelPath: tiny.path, ...BASE });
});

afterAll(async () => {
  await lm?.close();
  await rm(dir, { recursive: true, force: true });
});

const MESSAGES: ChatMessage[] = [
  { role: "system", content: "You move on a grid." },
  { role: "user", content: "Which way?" },
];
/** The documented fallback template, written out by hand. */
const PROMPT = "### System:\nYou move on a grid.\n\n### User:\nWhich way?\n\n### Assistant:\n";
/** BOS + one token per UTF-8 byte: the tiny model's byte vocabulary. */
const PROMPT_TOKENS = 1 + Buffer.byteLength(PROMPT);

// `confidence` is an enum rather than `{ type: "integer" }`: node-llama-cpp's integer rule allows an exponent of
// up to 16 digits, so a grammar-valid integer such as 286E328686 parses to Infinity and fails validation.
const ACTION_SCHEMA = {
  type: "object",
  properties: {
    action: { type: "string", enum: ["left", "right", "up"] },
    confidence: { enum: [1, 2, 3, 4, 5] },
  },
  required: ["action", "confidence"],
} as const;
const Action = z.object({
  action: z.enum(["left", "right", "up"]),
  confidence: z.number().int().min(1).max(5),
});

function gen(extra: Partial<GenerateRequest> = {}): GenerateRequest {
  return { messages: MESSAGES, seed: 11, maxTokens: 12, ...extra };
}

async function caught(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof LlmError) return error;
    throw error;
  }
  throw new Error("expected the call to fail");
}

describe("LlamaCppModel on a generated tiny GGUF", () => {
  it("identifies itself and reports its capabilities", async () => {
    expect(lm.id).toBe(`llamacpp:${tiny.path}`);
    expect(lm.provider).toBe("llamacpp");
    expect(lm.endpoint).toBe(tiny.path);
    expect(await lm.capabilities()).toEqual({
      jsonSchema: false,
      grammar: true,
      logprobs: true,
      multipleSamples: true,
      seed: true,
      score: true,
    });
  });

  it("describes the context, vocabulary and template llama.cpp loaded", async () => {
    const d = await lm.describe();
    expect(d).toMatchObject({
      path: tiny.path,
      sizeBytes: tiny.sizeBytes,
      architecture: "llama",
      name: "bayesact-tiny",
      context: { size: 512, sequences: 4, trained: 512 },
      vocabulary: {
        size: tiny.metadata.vocabularySize,
        type: "spm",
        tokenizer: "llama",
        bos: "<s>",
        eos: "</s>",
        addsBos: true,
      },
      chatTemplate: { present: false },
      threads: { used: 1, source: "option" },
      gpu: false,
    });
  });

  it("checks grammar and scoring with real calls", async () => {
    const { grammar, score } = await lm.check();
    expect(grammar.ok, grammar.detail).toBe(true);
    expect(grammar.detail).toMatch(/^\{"answer":"(yes|no)","sure":(true|false)\} parses and validates/);
    expect(score.ok, score.detail).toBe(true);
    const expected = await lm.score("The answer is", " yes");
    expect(score.detail).toContain(`= ${expected.logprob.toFixed(3)} over ${expected.tokens.length} tokens`);
    // A call that fails is a failed check, with the reason, not a throw.
    const aborted = await lm.check({ signal: AbortSignal.abort() });
    expect(aborted.grammar).toEqual({ ok: false, detail: "the call was aborted" });
    expect(aborted.score).toEqual({ ok: false, detail: "the call was aborted" });
  });

  it("renders the documented fallback template and counts prompt tokens exactly", async () => {
    expect(await lm.renderChat(MESSAGES)).toBe(PROMPT);
    const result = await lm.generate(gen({ maxTokens: 3 }));
    expect(result.usage.inputTokens).toBe(PROMPT_TOKENS);
  });

  it("answers under a JSON-schema grammar with objects that validate", async () => {
    const result = await lm.generate(
      gen({
        n: 3,
        maxTokens: 80,
        responseFormat: { type: "json_schema", name: "move", schema: ACTION_SCHEMA },
      }),
    );
    expect(result.structuredMode).toBe("grammar");
    expect(result.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    for (const choice of result.choices) {
      expect(choice.finishReason).toBe("stop");
      const parsed = Action.safeParse(JSON.parse(choice.text));
      expect(parsed.success, choice.text).toBe(true);
    }
  });

  it("turns zod unions (anyOf) into grammar alternatives, not null", async () => {
    const Shape = z.object({
      kind: z.union([z.literal("x"), z.enum(["y", "z"])]),
      tag: z.enum(["a"]).nullable(),
      items: z.array(z.union([z.literal(1), z.literal(2)])).max(2),
    });
    const schema = z.toJSONSchema(Shape, { target: "draft-2020-12" });
    expect(JSON.stringify(schema)).toContain('"anyOf"');
    const result = await lm.generate(
      gen({
        n: 3,
        maxTokens: 80,
        responseFormat: { type: "json_schema", name: "shape", schema },
      }),
    );
    for (const choice of result.choices) {
      expect(Shape.safeParse(JSON.parse(choice.text)).success, choice.text).toBe(true);
    }
    // Property names are data, not keywords: a property called anyOf keeps its name.
    expect(grammarSchema({ type: "object", properties: { anyOf: { anyOf: [{ type: "string" }] } } })).toEqual(
      {
        type: "object",
        properties: { anyOf: { oneOf: [{ type: "string" }] } },
      },
    );
  });

  it("returns a full next-token distribution that sums to 1", async () => {
    const dist = await lm.nextTokenDistribution(PROMPT);
    expect(dist).toHaveLength(tiny.metadata.vocabularySize);
    expect(new Set(dist.map((d) => d.id)).size).toBe(tiny.metadata.vocabularySize);
    const total = dist.reduce((s, d) => s + Math.exp(d.logprob), 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-3);
    for (let i = 1; i < dist.length; i++) {
      expect(dist[i - 1]?.logprob ?? Number.NaN).toBeGreaterThanOrEqual(dist[i]?.logprob ?? Number.NaN);
    }
  });

  it("scores a continuation exactly as the per-position distributions say", async () => {
    const prefix = "Go ";
    const continuation = "left";
    const scored = await lm.score(prefix, continuation);
    expect(scored.tokens.map((t) => t.token)).toEqual(["l", "e", "f", "t"]);
    let total = 0;
    for (const [i, token] of scored.tokens.entries()) {
      const dist = await lm.nextTokenDistribution(prefix + continuation.slice(0, i));
      const id = tiny.metadata.byteTokenOffset + (continuation.charCodeAt(i) as number);
      const expected = dist.find((d) => d.id === id)?.logprob ?? Number.NaN;
      expect(Math.abs(token.logprob - expected)).toBeLessThan(1e-4);
      total += token.logprob;
    }
    expect(scored.logprob).toBeCloseTo(total, 10);
    expect(scored.logprob).toBeLessThan(0);
    expect(await lm.score(prefix, "")).toEqual({ logprob: 0, tokens: [] });
  });

  it("gives generated tokens the log-probabilities that score gives them", async () => {
    // An enum-only schema: the answer is one of three quoted words, each byte a single token.
    const result = await lm.generate(
      gen({
        seed: 5,
        maxTokens: 20,
        responseFormat: {
          type: "json_schema",
          name: "dir",
          schema: { type: "string", enum: ["left", "right", "up"] },
        },
        logprobs: { top: 3 },
      }),
    );
    const choice = result.choices[0];
    expect(['"left"', '"right"', '"up"']).toContain(choice?.text);
    const logprobs = choice?.logprobs ?? [];
    expect(logprobs.map((t) => t.token).join("")).toBe(choice?.text);
    const scored = await lm.score(PROMPT, choice?.text ?? "");
    expect(scored.tokens).toHaveLength(logprobs.length);
    for (const [i, t] of scored.tokens.entries()) {
      expect(Math.abs(t.logprob - (logprobs[i]?.logprob ?? Number.NaN))).toBeLessThan(1e-4);
    }
    // Alternatives: the k most likely tokens of the raw distribution, most likely first.
    const dist = await lm.nextTokenDistribution(PROMPT);
    const top = logprobs[0]?.top ?? [];
    expect(top).toHaveLength(3);
    for (const [i, alt] of top.entries())
      expect(Math.abs(alt.logprob - (dist[i]?.logprob ?? Number.NaN))).toBeLessThan(1e-4);
    // The grammar left only `"` possible first; the raw distribution (not the masked one) still finds it unlikely.
    expect(logprobs[0]?.token).toBe('"');
    expect(logprobs[0]?.logprob ?? 0).toBeLessThan(-0.1);
  });

  it("samples greedily at temperature 0: the first token is the distribution's mode", async () => {
    const result = await lm.generate(gen({ temperature: 0, maxTokens: 1, logprobs: { top: 0 } }));
    const dist = await lm.nextTokenDistribution(PROMPT);
    const first = result.choices[0]?.logprobs?.[0];
    expect(first?.top).toBeUndefined();
    expect(Math.abs((first?.logprob ?? Number.NaN) - (dist[0]?.logprob ?? Number.NaN))).toBeLessThan(1e-4);
  });

  it("numbers parallel samples from sampleIndex and seeds sample k with seed + k", async () => {
    const batch = await lm.generate(gen({ n: 3, sampleIndex: 5 }));
    expect(batch.choices.map((c) => c.index)).toEqual([5, 6, 7]);
    const alone = await lm.generate(gen({ n: 1, sampleIndex: 6 }));
    expect(alone.choices[0]?.index).toBe(6);
    expect(alone.choices[0]?.text).toBe(batch.choices[1]?.text);
    // Different sample indexes draw differently (fixed seeds, so this is deterministic).
    expect(new Set(batch.choices.map((c) => c.text)).size).toBeGreaterThan(1);
  });

  it("repeats itself exactly under the same seed and counts output tokens exactly", async () => {
    const a = await lm.generate(gen({ n: 2, logprobs: { top: 0 } }));
    const b = await lm.generate(gen({ n: 2, logprobs: { top: 0 } }));
    expect(b.choices.map((c) => c.text)).toEqual(a.choices.map((c) => c.text));
    const c = await lm.generate(gen({ n: 2, seed: 12, logprobs: { top: 0 } }));
    expect(c.choices.map((x) => x.text)).not.toEqual(a.choices.map((x) => x.text));
    for (const result of [a, b, c]) {
      expect(result.usage.inputTokens).toBe(PROMPT_TOKENS);
      // No stop strings: one logprob per generated token.
      const generated = result.choices.reduce((s, ch) => s + (ch.logprobs?.length ?? Number.NaN), 0);
      expect(result.usage.outputTokens).toBe(generated);
      for (const ch of result.choices) {
        if (ch.finishReason === "length") expect(ch.logprobs).toHaveLength(12);
        else expect(ch.logprobs?.length ?? 0).toBeLessThan(12);
      }
    }
  });

  it("cuts the text at a stop string and still bills every generated token", async () => {
    const free = await lm.generate(gen({ maxTokens: 40 }));
    const text = free.choices[0]?.text ?? "";
    // A printable ASCII character that occurs after the start (each is exactly one token).
    const index = [...text].findIndex((ch, i) => i > 0 && /^[!-~]$/.test(ch));
    expect(index).toBeGreaterThan(0);
    const stop = [...text][index] ?? "";
    const cutAt = text.indexOf(stop);
    const stopped = await lm.generate(gen({ maxTokens: 40, stop: [stop], logprobs: { top: 0 } }));
    const choice = stopped.choices[0];
    expect(choice?.finishReason).toBe("stop");
    expect(choice?.text).toBe(text.slice(0, cutAt));
    expect(stopped.usage.outputTokens).toBe((choice?.logprobs?.length ?? Number.NaN) + 1);
  });

  it("finishes with length when maxTokens runs out", async () => {
    const result = await lm.generate(gen({ maxTokens: 4, n: 2 }));
    expect(result.choices.every((c) => c.finishReason === "length")).toBe(true);
    expect(result.usage.outputTokens).toBe(8);
    const none = await lm.generate(gen({ maxTokens: 0 }));
    expect(none.choices[0]).toMatchObject({ text: "", finishReason: "length" });
    expect(none.usage.outputTokens).toBe(0);
  });

  it("serves concurrent calls beyond its sequences, each as if alone", async () => {
    const requests = [gen({ n: 3, seed: 21 }), gen({ n: 3, seed: 22 }), gen({ n: 2, seed: 23 })];
    const together = await Promise.all(requests.map((r) => lm.generate(r)));
    for (const [i, r] of requests.entries()) {
      const alone = await lm.generate(r);
      expect(together[i]?.choices.map((c) => c.text)).toEqual(alone.choices.map((c) => c.text));
    }
  });

  it("reuses cached prefixes without leaking stale state", async () => {
    const a1 = await lm.nextTokenDistribution("abc");
    const b = await lm.nextTokenDistribution("abd");
    const a2 = await lm.nextTokenDistribution("abc");
    const fresh = new LlamaCppModel({ modelPath: tiny.path, ...BASE, maxParallel: 1 });
    try {
      const bFresh = await fresh.nextTokenDistribution("abd");
      const byId = (d: typeof b) => new Map(d.map((x) => [x.id, x.logprob]));
      const [mb, mf, ma1] = [byId(b), byId(bFresh), byId(a1)];
      for (const x of a2) expect(Math.abs(x.logprob - (ma1.get(x.id) ?? Number.NaN))).toBeLessThan(1e-4);
      for (const [id, lp] of mf) expect(Math.abs(lp - (mb.get(id) ?? Number.NaN))).toBeLessThan(1e-4);
      expect(Math.abs((mb.get(3) ?? 0) - (ma1.get(3) ?? 0))).toBeGreaterThan(1e-6);
    } finally {
      await fresh.close();
    }
  });

  it("aborts: before the call, while generating, and while waiting for a sequence", async () => {
    const before = new AbortController();
    before.abort();
    expect((await caught(lm.generate(gen({ signal: before.signal })))).category).toBe("aborted");

    const during = new AbortController();
    const long = lm.generate(gen({ maxTokens: 400, signal: during.signal }));
    setImmediate(() => during.abort());
    expect((await caught(long)).category).toBe("aborted");

    // Fill every sequence, then abort a call queued behind them: it fails at once, not when a sequence frees up.
    let busyDone = false;
    const busy = lm.generate(gen({ n: 4, maxTokens: 60 })).then((r) => {
      busyDone = true;
      return r;
    });
    const queued = new AbortController();
    const waiting = lm.generate(gen({ signal: queued.signal }));
    setImmediate(() => queued.abort());
    expect((await caught(waiting)).category).toBe("aborted");
    expect(busyDone).toBe(false);
    expect((await busy).choices).toHaveLength(4);

    // Nothing leaked: every sequence is usable again.
    expect((await lm.generate(gen({ n: 4, maxTokens: 2 }))).choices).toHaveLength(4);
  });

  it("refuses a prompt longer than the context", async () => {
    const error = await caught(lm.generate({ messages: [{ role: "user", content: "x".repeat(600) }] }));
    expect(error.category).toBe("context_length");
  });

  it("rejects malformed requests", async () => {
    expect((await caught(lm.generate(gen({ n: 0 })))).category).toBe("bad_request");
    expect((await caught(lm.generate(gen({ topP: 0 })))).category).toBe("bad_request");
    expect((await caught(lm.generate(gen({ temperature: -1 })))).category).toBe("bad_request");
  });

  it("uses the model's own chat template when it has one", async () => {
    const path = join(dir, "templated.gguf");
    await writeTinyLlamaGguf(path, {
      seed: 1,
      chatTemplate:
        "{% for message in messages %}{{ '<' + message['role'] + '>' + message['content'] + '</' + message['role'] + '>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<assistant>' }}{% endif %}",
    });
    const templated = new LlamaCppModel({ modelPath: path, ...BASE });
    try {
      expect((await templated.describe()).chatTemplate).toEqual({ present: true, wrapper: "JinjaTemplate" });
      const expected = "<system>You move on a grid.</system>\n<user>Which way?</user>\n<assistant>";
      expect(await templated.renderChat(MESSAGES)).toBe(expected);
      const result = await templated.generate(gen({ maxTokens: 5 }));
      // The template does not write BOS; the model wants one, so it is added.
      expect(result.usage.inputTokens).toBe(1 + Buffer.byteLength(expected));
      expect(result.choices[0]?.finishReason).toBe("length");
    } finally {
      await templated.close();
    }
  });
});

describe("LlamaCppModel threads", () => {
  // Each model gets its own context: measured with one generated token, so the thread splitter has run.
  async function threadsAfterOneToken(threads: number | undefined) {
    const m = new LlamaCppModel({
      modelPath: tiny.path,
      contextSize: 64,
      maxParallel: 1,
      ...(threads ? { threads } : {}),
    });
    try {
      await m.generate({ messages: [{ role: "user", content: "hi" }], maxTokens: 1, temperature: 0 });
      return (await m.describe()).threads;
    } finally {
      await m.close();
    }
  }

  it("defaults to llama.cpp's math cores, capped by the CPUs available to the process", async () => {
    const t = await threadsAfterOneToken(undefined);
    expect(t.source).toBe("default");
    expect(t.availableParallelism).toBe(os.availableParallelism());
    expect(t.cpuMathCores).toBeGreaterThanOrEqual(1);
    expect(t.used).toBe(Math.min(t.cpuMathCores, os.availableParallelism()));
  });

  it("uses exactly the threads asked for, beyond node-llama-cpp's own cap", async () => {
    expect((await threadsAfterOneToken(1)).used).toBe(1);
    // Above node-llama-cpp's default instance cap of max(4, math cores), which would clamp it.
    const many = (await lm.describe()).threads.cpuMathCores + 5;
    const t = await threadsAfterOneToken(many);
    expect(t).toMatchObject({ used: many, source: "option" });
  });
});

describe("LlamaCppModel errors and lifecycle", () => {
  it("names a missing model file not_found, in one line, when asked for capabilities", async () => {
    const path = join(dir, "nope.gguf");
    const missing = new LlamaCppModel({ modelPath: path, ...BASE });
    const error = await caught(missing.capabilities());
    expect(error.category).toBe("not_found");
    expect(error.userFacing).toBe(true);
    expect(error.message).toBe(`model file ${path}: no such file`);
    expect((await caught(missing.generate(gen()))).message).toBe(error.message);
    await missing.close();
  });

  it("refuses random bytes and a truncated GGUF before any call, naming the file", async () => {
    const garbage = join(dir, "garbage.gguf");
    await writeFile(garbage, randomBytes(100));
    const g = new LlamaCppModel({ modelPath: garbage, ...BASE });
    const notGguf = await caught(g.capabilities());
    expect(notGguf.category).toBe("bad_request");
    expect(notGguf.message).toBe(
      `model file ${garbage}: not a GGUF file (it does not start with "GGUF"; 100 bytes)`,
    );
    await g.close();

    const truncated = join(dir, "truncated.gguf");
    await writeFile(truncated, (await readFile(tiny.path)).subarray(0, 200_000));
    const t = new LlamaCppModel({ modelPath: truncated, ...BASE });
    const error = await caught(t.describe());
    expect(error.category).toBe("bad_request");
    expect(error.message).toMatch(
      new RegExp(`^model file ${truncated}: not a valid GGUF file \\(GGUF file is truncated`),
    );
    expect(error.message).not.toContain("\n");
    await t.close();
  });

  it("names a file that is not a model bad_request", async () => {
    const path = join(dir, "notes.gguf");
    await writeFile(path, "these are notes, not weights\n");
    const foreign = new LlamaCppModel({ modelPath: path, ...BASE });
    const error = await caught(foreign.score("a", "b"));
    expect(error.category).toBe("bad_request");
    expect(error.message).not.toContain("\n");
    await foreign.close();
  });

  it("closes idempotently and refuses calls afterwards", async () => {
    const m = new LlamaCppModel({ modelPath: tiny.path, ...BASE });
    expect((await m.generate(gen({ maxTokens: 2 }))).choices).toHaveLength(1);
    await Promise.all([m.close(), m.close()]);
    await m.close();
    expect((await caught(m.generate(gen()))).message).toMatch(/is closed/);
  });

  it("stops running calls when closed", async () => {
    const m = new LlamaCppModel({ modelPath: tiny.path, ...BASE });
    await m.generate(gen({ maxTokens: 1 }));
    const running = m.generate(gen({ maxTokens: 400 }));
    setImmediate(() => void m.close());
    expect((await caught(running)).category).toBe("aborted");
    await m.close();
  });
});
