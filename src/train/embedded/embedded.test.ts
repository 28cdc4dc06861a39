import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseCall } from "../../envs/apibank/call.ts";
import { loadApiBank } from "../../envs/apibank/data.ts";
import { levelPoints, pointPrompt } from "../../envs/apibank/points.ts";
import { chatMessages } from "../export.ts";
import { goldTrajectory } from "../gold.ts";
import { loadInstructions } from "../instructions.ts";
import { requireApiBankData } from "../testing/data.ts";
import { dateCandidates } from "./dates.ts";
import { argDecision, paramClass } from "./features.ts";
import {
  BASE_WEIGHTS,
  datasetExamples,
  decode,
  parseWeightsFile,
  sft,
  turnExamples,
  weightsFile,
} from "./model.ts";
import { readPrompt } from "./prompt.ts";
import { createAgentModel, EmbeddedModel } from "./provider.ts";

const DATA = requireApiBankData();
const set = loadInstructions(DATA);
const withGold = set.instructions.filter((i) => i.golds.length > 0);
const tmp = mkdtempSync(join(tmpdir(), "bayesact-embedded-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("reading prompts", () => {
  it("a rollout's chat messages: docs, the request, calls with results, the search's APIs, the time", () => {
    const instruction = withGold.find((i) => (i.golds[0]?.calls.length ?? 0) >= 2 && i.time !== undefined);
    if (!instruction?.golds[0]) throw new Error("no fixture instruction");
    const t = goldTrajectory(instruction, instruction.golds[0]);
    const messages = chatMessages(instruction, t, false).slice(0, -1);
    const ctx = readPrompt(messages);
    expect(ctx.want).toBe("any");
    expect(ctx.time).toBe(instruction.time);
    expect(ctx.turns[0]).toEqual({ kind: "user", text: instruction.request });
    const calls = ctx.turns.filter((x) => x.kind === "call");
    expect(calls.map((c) => c.name)).toEqual(instruction.golds[0].calls.map((c) => c.name));
    expect(ctx.apis[0]?.name).toBe("ToolSearcher");
    expect(ctx.apis.length).toBeGreaterThan(1);
  });

  it("an API-Bank test point: listed APIs, User/AI lines, a call with its result, the marker", () => {
    const data = loadApiBank(DATA);
    const point = levelPoints(data, 1).find((p) => p.kind === "call" && p.input.includes("->{'token'"));
    if (!point) throw new Error("no point with a token result");
    const ctx = readPrompt([{ role: "user", content: pointPrompt(point) }]);
    expect(ctx.want).toBe("call");
    expect(ctx.year).toBe(2023);
    expect(ctx.apis.every((a) => ctx.listed.has(a.name))).toBe(true);
    const call = ctx.turns.find((x) => x.kind === "call");
    expect(call?.kind === "call" && typeof call.output === "object").toBe(true);
    expect(ctx.turns.some((x) => x.kind === "user")).toBe(true);
  });

  it("unreadable descriptions and results are skipped, not fatal", () => {
    const ctx = readPrompt([
      { role: "system", content: 'API descriptions:\n{not json\n{"name": 3}' },
      { role: "user", content: "hello" },
      { role: "assistant", content: "API-Request: [Foo(a='1')]" },
      { role: "user", content: "->{{{" },
    ]);
    expect(ctx.apis).toEqual([]);
    expect(ctx.turns.at(-1)).toMatchObject({ kind: "call", name: "Foo", exception: null });
  });
});

describe("candidates", () => {
  it("dates are rewritten as the APIs take them, with the time that follows", () => {
    expect(dateCandidates("March 5th, 2023 10:00 AM.", 2023).map((c) => c.text)).toContain(
      "2023-03-05 10:00:00",
    );
    expect(dateCandidates("the 21th of September at 3 pm", 2023).map((c) => c.text)).toContain(
      "2023-09-21 15:00:00",
    );
    expect(dateCandidates("on 2022-05-06 at 2 PM?", 2023).map((c) => c.text)).toContain(
      "2022-05-06 14:00:00",
    );
    expect(dateCandidates("from March 5th to March 12th", 2024).map((c) => c.text)).toEqual([
      "2024-03-05",
      "2024-03-05 00:00:00",
      "2024-03-12",
      "2024-03-12 00:00:00",
    ]);
    expect(dateCandidates("February 30th", 2023)).toHaveLength(2); // not validated beyond 1–31: harmless
    expect(dateCandidates("no date here", 2023)).toEqual([]);
  });

  it("parameter kinds and the value options of a parameter", () => {
    expect(paramClass({ name: "start_time", type: "str", description: "" })).toBe("time");
    expect(paramClass({ name: "username", type: "str", description: "" })).toBe("name");
    expect(paramClass({ name: "appointment_id", type: "str", description: "" })).toBe("id");
    const ctx = readPrompt([
      {
        role: "system",
        content:
          'API descriptions:\n{"name": "Add", "description": "d", "input_parameters": {"username": {"type": "str", "description": "u"}}, "output_parameters": {}}',
      },
      { role: "user", content: "My username is user3, thanks" },
    ]);
    const d = argDecision(ctx, { name: "username", type: "str", description: "u" }, new Set());
    const values = d.options.map((o) => o.value);
    expect(values).toContain("user3");
    expect(values).toContain(null);
    const user3 = d.options.find((o) => o.value === "user3");
    expect(user3?.features).toContain("arg:ctx_name");
  });

  it("a span that runs into the next value is marked, and so is the word that tells two parameters apart", () => {
    const ctx = readPrompt([
      { role: "system", content: "API descriptions:\n" },
      {
        role: "user",
        content: "My username is user1 and my old password is pass1 and the new password is pass2",
      },
    ]);
    const inputs = [
      { name: "username", type: "str", description: "" },
      { name: "old_password", type: "str", description: "" },
      { name: "new_password", type: "str", description: "" },
    ];
    const [username, oldPassword] = inputs;
    if (!username || !oldPassword) throw new Error("unreachable");
    const forUser = argDecision(ctx, username, new Set(), inputs);
    const features = (d: typeof forUser, value: string) => d.options.find((o) => o.value === value)?.features;
    expect(features(forUser, "user1")).not.toContain("arg:inner=and");
    expect(features(forUser, "user1 and my old password")).toEqual(
      expect.arrayContaining(["arg:inner=and", "arg:inner=my", "arg:contains_other_param"]),
    );
    const forOld = argDecision(ctx, oldPassword, new Set(), inputs);
    // "old" names only old_password; "password" names both, so it tells nothing apart.
    expect(features(forOld, "pass1")).toContain("arg:ctx_distinct");
    expect(features(forOld, "pass2")).not.toContain("arg:ctx_distinct");
    expect(features(forOld, "pass2")).toContain("arg:ctx_name");
  });
});

describe("the learner", () => {
  const gold = withGold.slice(0, 60).flatMap((i) => i.golds.map((g) => goldTrajectory(i, g)));
  const records = gold.map((t) => {
    const instruction = set.instructions.find((i) => i.id === t.instructionId);
    if (!instruction) throw new Error("unknown instruction");
    return { messages: chatMessages(instruction, t, false) };
  });

  it("fitting lowers the loss and makes the training calls more likely than the base does", () => {
    const { examples, stats } = datasetExamples(records);
    expect(stats.turns).toBeGreaterThan(100);
    expect(examples.length).toBeGreaterThan(stats.turns);
    const base = new Map(Object.entries(BASE_WEIGHTS));
    const result = sft(base, examples, { epochs: 6 });
    expect(result.loss.at(-1)).toBeLessThan((result.loss[0] ?? 0) * 0.7);
    expect(result.averagedLoss).toBeLessThan((result.loss[0] ?? 0) * 0.7);
    // Greedy decoding reproduces more of the training calls after fitting.
    const exact = (w: ReadonlyMap<string, number>) =>
      records.reduce((n, r) => {
        const i = r.messages.findIndex(
          (m, j) => j > 1 && m.role === "assistant" && !m.content.includes("ToolSearcher"),
        );
        const target = r.messages[i];
        if (i < 0 || !target || !target.content.startsWith("API-Request")) return n;
        const out = decode(w, readPrompt(r.messages.slice(0, i)), { temperature: 0 });
        return n + (out === target.content ? 1 : 0);
      }, 0);
    expect(exact(result.weights)).toBeGreaterThan(exact(base));
  });

  it("average: on returns the mean of the epochs' weights, off the last epoch's", () => {
    const { examples } = datasetExamples(records.slice(0, 20));
    const base = new Map(Object.entries(BASE_WEIGHTS));
    const on = sft(base, examples, { epochs: 3, seed: 1 });
    const off = sft(base, examples, { epochs: 3, seed: 1, average: false });
    // The same path (same seed), read at two places: the losses per epoch agree, the returned weights do not.
    expect(off.loss).toEqual(on.loss);
    expect(off.averagedLoss).toBeCloseTo(off.loss.at(-1) ?? Number.NaN, 12);
    const moved = [...off.weights].filter(([f, w]) => Math.abs(w - (on.weights.get(f) ?? 0)) > 1e-9);
    expect(moved.length).toBeGreaterThan(0);
  });

  it("a decision whose target no option offers is counted unreachable, not trained on", () => {
    const stats = { turns: 0, decisions: 0, unreachable: 0, unknownApi: 0 };
    const messages = [
      {
        role: "system" as const,
        content:
          'API descriptions:\n{"name": "Add", "description": "d", "input_parameters": {"x": {"type": "str", "description": "x"}}, "output_parameters": {}}',
      },
      { role: "user" as const, content: "add something" },
    ];
    const examples = turnExamples(messages, "API-Request: [Add(x='never said')]", stats);
    expect(stats).toMatchObject({ turns: 1, unreachable: 1 });
    expect(examples.map((e) => e.decision.kind)).toEqual(["act", "api"]);
  });

  it("weights files round-trip; a foreign file is one clear error", () => {
    const path = join(tmp, "m.json");
    writeFileSync(path, JSON.stringify(weightsFile(new Map([["arg:omit", -2]]), { note: "x" })));
    const model = EmbeddedModel.open(`embedded:${path}`);
    expect(model.weights.get("arg:omit")).toBe(-2);
    writeFileSync(join(tmp, "bad.json"), '{"format": "other"}');
    expect(() => EmbeddedModel.open(`embedded:${join(tmp, "bad.json")}`)).toThrow(/not an embedded model/);
    expect(() => EmbeddedModel.open(`embedded:${join(tmp, "none.json")}`)).toThrow(/no embedded model/);
    expect(() => parseWeightsFile("{", "x")).toThrow(/not JSON/);
  });

  it("as a LanguageModel: calls parse, samples replay by (seed, index), temperature 0 is greedy", async () => {
    const model = createAgentModel("embedded:base");
    const instruction = withGold[0];
    if (!instruction) throw new Error("no instruction");
    const messages = chatMessages(
      instruction,
      { instructionId: instruction.id, turns: [{ role: "user", text: instruction.request }] },
      false,
    );
    const a = await model.generate({ messages, n: 4, seed: 7, temperature: 1 });
    const b = await model.generate({ messages, n: 4, seed: 7, temperature: 1 });
    expect(a.choices.map((c) => c.text)).toEqual(b.choices.map((c) => c.text));
    // Each sample is a well-formed call, or (the act decision is sampled too) a reply holding no call syntax.
    for (const c of a.choices) expect(parseCall(c.text).ok || !/API-Request|\[/.test(c.text)).toBe(true);
    expect(a.choices.some((c) => parseCall(c.text).ok)).toBe(true);
    const g1 = await model.generate({ messages, temperature: 0, seed: 1 });
    const g2 = await model.generate({ messages, temperature: 0, seed: 2 });
    expect(g1.choices[0]?.text).toBe(g2.choices[0]?.text);
  });
});
