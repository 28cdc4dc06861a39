import { describe, expect, it } from "vitest";
import { z } from "zod";
import { LlmError } from "./errors.ts";
import { generateObject, parseJsonAnswer, toJsonSchema } from "./structured.ts";
import { MockLanguageModel } from "./testing/mock.ts";

const Move = z.strictObject({ action: z.enum(["left", "right"]), confidence: z.number().min(0).max(1) });

describe("generateObject", () => {
  it("prompt mode: schema in the system prompt, answer parsed and validated", async () => {
    const model = new MockLanguageModel({
      respond: () => '```json\n{"action":"left","confidence":0.9}\n```',
    });
    const result = await generateObject(model, {
      messages: [{ role: "user", content: "move?" }],
      schema: Move,
    });
    expect(result).toMatchObject({
      object: { action: "left", confidence: 0.9 },
      mode: "prompt",
      repaired: false,
    });
    const sent = model.calls[0]?.request;
    expect(sent?.responseFormat).toBeUndefined();
    expect(sent?.messages[0]?.role).toBe("system");
    expect(sent?.messages[0]?.content).toContain('"enum":["left","right"]');
  });

  it("native mode when the server supports json_schema", async () => {
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: () => '{"action":"right","confidence":0.5}',
    });
    const result = await generateObject(model, {
      messages: [{ role: "user", content: "m" }],
      schema: Move,
      name: "move",
    });
    expect(result.mode).toBe("native");
    expect(model.calls[0]?.request.responseFormat?.name).toBe("move");
    expect(model.calls[0]?.request.responseFormat?.schema).toEqual(toJsonSchema(Move));
  });

  it("grammar mode when only a grammar is available", async () => {
    const model = new MockLanguageModel({
      capabilities: { grammar: true },
      respond: () => '{"action":"right","confidence":0}',
    });
    const result = await generateObject(model, { messages: [{ role: "user", content: "m" }], schema: Move });
    expect(result.mode).toBe("grammar");
    expect(model.calls[0]?.request.responseFormat).toBeDefined();
  });

  it("one repair round fixes a schema-violating answer, with both calls' usage counted", async () => {
    const answers = ['{"action":"up","confidence":2}', '{"action":"left","confidence":1}'];
    const model = new MockLanguageModel({ respond: (_r, _i, call) => answers[call] ?? "" });
    const result = await generateObject(model, { messages: [{ role: "user", content: "m" }], schema: Move });
    expect(result.repaired).toBe(true);
    expect(result.object.action).toBe("left");
    expect(model.calls).toHaveLength(2);
    const repair = model.calls[1]?.request.messages ?? [];
    expect(repair.at(-2)).toEqual({ role: "assistant", content: answers[0] });
    expect(repair.at(-1)?.content).toContain("not valid");
    expect(result.usage.outputTokens).toBe(
      Math.ceil((answers[0]?.length ?? 0) / 4) + Math.ceil((answers[1]?.length ?? 0) / 4),
    );
  });

  it("a second violation is schema_violation with the raw text and usage", async () => {
    const model = new MockLanguageModel({ respond: () => "I think left." });
    const error = await generateObject(model, {
      messages: [{ role: "user", content: "m" }],
      schema: Move,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ category: "schema_violation", raw: "I think left.", retryable: false });
    expect((error as LlmError).usage?.outputTokens).toBe(2 * Math.ceil("I think left.".length / 4));
    expect(model.calls).toHaveLength(2);
  });

  it("truncated output fails at once as truncated", async () => {
    const model = new MockLanguageModel({ respond: () => '{"action":"le' });
    const truncating = {
      ...model,
      id: model.id,
      provider: model.provider,
      endpoint: model.endpoint,
      capabilities: () => model.capabilities(),
      generate: async (r: Parameters<typeof model.generate>[0]) => {
        const res = await model.generate(r);
        return { ...res, choices: res.choices.map((c) => ({ ...c, finishReason: "length" as const })) };
      },
    };
    await expect(
      generateObject(truncating, { messages: [{ role: "user", content: "m" }], schema: Move }),
    ).rejects.toMatchObject({ category: "truncated", raw: '{"action":"le' });
    expect(model.calls).toHaveLength(1);
  });
});

describe("parseJsonAnswer", () => {
  it("never throws on hostile input", () => {
    for (const text of ["", "{", "null", "[]", '{"__proto__":{"x":1}}', "```\n{}\n```", "\u0000"]) {
      const r = parseJsonAnswer(text, Move);
      expect(r.ok).toBe(false);
    }
  });
});
