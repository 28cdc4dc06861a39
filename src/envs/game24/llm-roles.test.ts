import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import type { Experience } from "../../core/roles.ts";
import { LlmError } from "../../llm/errors.ts";
import { MockLanguageModel, type MockReply } from "../../llm/testing/mock.ts";
import type { GenerateRequest } from "../../llm/types.ts";
import { Game24Env } from "./env.ts";
import { completionPlan } from "./exact.ts";
import { predictLine } from "./imperfect.ts";
import { type LlmRoleStats, llmLearner, llmRoles, NEUTRAL_VALUE, newLlmRoleStats } from "./llm-roles.ts";
import { VALUE_WEIGHTS } from "./prompts.ts";
import { rational } from "./rational.ts";
import { type Game24State, initialState } from "./rules.ts";

const ctx = { rng: new Rng(1) };
const state = (...ns: number[]): Game24State => ({
  puzzle: [],
  steps: [],
  remaining: ns.map((n) => rational(n)),
});
const lastUser = (r: GenerateRequest) => r.messages.at(-1)?.content ?? "";

function mock(
  respond: (request: GenerateRequest, index: number, call: number) => MockReply,
  jsonSchema = false,
): MockLanguageModel {
  return new MockLanguageModel({ id: "mock:g24", capabilities: { jsonSchema }, respond });
}

function roles(model: MockLanguageModel, extra: { elite?: "lines" | "choose" } = {}) {
  const stats: LlmRoleStats = newLlmRoleStats();
  return { stats, roles: llmRoles({ model, stats, ...extra }) };
}

describe("the LLM critic", () => {
  it("asks for n samples in ONE request and weighs each label; unlabelled samples are dropped", async () => {
    const labels = ["Trying 2 * 12.\nsure", "hmm\nLikely.", "I cannot decide"];
    const model = mock((_r, index) => labels[index] ?? "");
    const { stats, roles: r } = roles(model);
    const values = await r.critic.values?.(state(2, 3, 4), 3, ctx);
    expect(values).toEqual([VALUE_WEIGHTS.sure, VALUE_WEIGHTS.likely]);
    expect(model.calls).toHaveLength(1);
    expect(model.calls[0]?.request.n).toBe(3);
    expect(model.calls[0]?.request.temperature).toBe(0.3);
    expect(lastUser(model.calls[0]?.request ?? { messages: [] })).toContain("Numbers: 2 3 4");
    expect(stats).toMatchObject({ criticQuestions: 1, criticSamples: 3, droppedSamples: 1, failures: {} });
    // The same question again in this search is not asked again; a single number is arithmetic.
    await r.critic.values?.(state(4, 3, 2), 3, ctx);
    expect(await r.critic.value(state(24), ctx)).toBe(VALUE_WEIGHTS.sure);
    expect(await r.critic.value(state(23), ctx)).toBe(VALUE_WEIGHTS.impossible);
    expect(model.calls).toHaveLength(1);
  });

  it("uses a JSON schema with the label as an enum when the model supports structured output", async () => {
    const model = mock(() => '{"label": "impossible"}', true);
    const { roles: r } = roles(model);
    expect(await r.critic.values?.(state(1, 1, 1), 2, ctx)).toEqual([0.001, 0.001]);
    const format = model.calls[0]?.request.responseFormat;
    expect(format?.schema).toMatchObject({
      properties: { label: { enum: ["sure", "likely", "impossible"] } },
    });
    expect(lastUser(model.calls[0]?.request ?? { messages: [] })).toContain('{"label": ...}');
  });

  it("repairs an unusable answer once; then a named failure and a neutral value, never an exception", async () => {
    const fixed = mock((r) => (lastUser(r).startsWith("End with one last line") ? "impossible" : "no idea"));
    const a = roles(fixed);
    expect(await a.roles.critic.values?.(state(5, 5, 5), 3, ctx)).toEqual([VALUE_WEIGHTS.impossible]);
    expect(fixed.calls.map((c) => c.request.n)).toEqual([3, 1]);
    expect(a.stats).toMatchObject({ repairs: 1, droppedSamples: 3, failures: {} });

    const hopeless = mock(() => '{"label": "maybe"}', true);
    const b = roles(hopeless);
    expect(await b.roles.critic.value(state(5, 5, 5), ctx)).toBe(NEUTRAL_VALUE);
    expect(b.stats.failures).toEqual({ critic_label_missing: 1 });
  });

  it("lets failures of the call itself propagate", async () => {
    const { roles: r } = roles(mock(() => new LlmError("auth", "bad key")));
    await expect(r.critic.value(state(1, 2, 3), ctx)).rejects.toMatchObject({ category: "auth" });
  });
});

describe("the LLM elite", () => {
  it("reads step lines from the reply, counts unreadable and miscalculated ones", async () => {
    const model = mock(() =>
      [
        "Here are some possible next steps:",
        "1. 4 + 5 = 9 (left: 6 9 10)",
        "2. 10 - 4 = 6",
        "3. 6 * 10 = 61 (left: 4 5 61)",
        "4. 10 - 6 = 4 (left: 4 4 5)",
      ].join("\n"),
    );
    const { stats, roles: r } = roles(model);
    const lines = await r.elite.propose(initialState([4, 5, 6, 10]), 10, ctx);
    expect(lines).toEqual([
      "4 + 5 = 9 (left: 6 9 10)",
      "6 * 10 = 61 (left: 4 5 61)",
      "10 - 6 = 4 (left: 4 4 5)",
    ]);
    expect(lastUser(model.calls[0]?.request ?? { messages: [] })).toMatch(/List up to 10 different/);
    expect(model.calls[0]?.request.temperature).toBe(0.7);
    expect(stats).toMatchObject({ eliteQuestions: 1, droppedLines: 1, invalidProposals: 1, repairs: 0 });
    // The exact model knows the miscalculated line ends the attempt.
    expect(predictLine(initialState([4, 5, 6, 10]), lines[1] ?? "").done).toBe(true);
  });

  it("repairs a reply without step lines once, then reports elite_format_error and proposes nothing", async () => {
    const model = mock(() => "I would multiply things until 24 appears.");
    const { stats, roles: r } = roles(model);
    expect(await r.elite.propose(initialState([4, 5, 6, 10]), 10, ctx)).toEqual([]);
    expect(model.calls).toHaveLength(2);
    expect(lastUser(model.calls[1]?.request ?? { messages: [] })).toContain("write only step lines");
    expect(stats.failures).toEqual({ elite_format_error: 1 });
  });

  it("in choose mode picks among the valid moves under a schema; a bad answer is a schema_violation", async () => {
    const good = mock(() => '{"steps": ["10 - 4 = 6 (left: 5 6 6)", "10 - 4 = 6 (left: 5 6 6)"]}', true);
    const a = roles(good, { elite: "choose" });
    expect(await a.roles.elite.propose(initialState([4, 5, 6, 10]), 3, ctx)).toEqual([
      "10 - 4 = 6 (left: 5 6 6)",
    ]);
    const schema = good.calls[0]?.request.responseFormat?.schema as {
      properties: { steps: { items: { enum: string[] }; maxItems: number } };
    };
    expect(schema.properties.steps.maxItems).toBe(3);
    expect(schema.properties.steps.items.enum).toContain("5 + 4 = 9 (left: 6 9 10)");

    const bad = mock(() => '{"steps": ["4 + 4 = 8 (left: 5 6 8 10)"]}', true);
    const b = roles(bad, { elite: "choose" });
    expect(await b.roles.elite.propose(initialState([4, 5, 6, 10]), 3, ctx)).toEqual([]);
    expect(b.stats.failures).toEqual({ schema_violation: 1 });
  });

  it("asks for the answer line when 24 is left", async () => {
    const puzzle = [4, 5, 6, 10];
    let s = initialState(puzzle);
    for (const line of (completionPlan(s) ?? "").split("\n").slice(0, -1)) s = predictLine(s, line).state;
    const model = mock(() => "Substituting back:\nAnswer: (10 - 4) * (6 - 5) * 4 = 24");
    const { roles: r } = roles(model);
    expect(await r.elite.propose(s, 10, ctx)).toEqual(["Answer: (10 - 4) * (6 - 5) * 4 = 24"]);
    expect(lastUser(model.calls[0]?.request ?? { messages: [] })).toContain("Original numbers: 4 5 6 10");
    expect(await r.elite.propose(state(23), 10, ctx)).toEqual([]);
    expect(model.calls).toHaveLength(1);
  });
});

describe("the LLM learner", () => {
  it("writes reflections into the prompts and answers settled number sets from memory", async () => {
    const env = new Game24Env([4, 5, 6, 10]);
    const obs = await env.reset(0);
    const r = await env.step("4 + 5 = 9 (left: 6 9 10)");
    const memory: Experience<Game24State, string>[] = [
      {
        t: 0,
        state: obs.state,
        action: "4 + 5 = 9 (left: 6 9 10)",
        actionText: "4 + 5 = 9 (left: 6 9 10)",
        next: r.observation.state,
        reward: r.reward,
        done: r.done,
        feedback: r.feedback,
        ...(r.info ? { info: r.info } : {}),
      },
    ];
    const model = mock(() => "10 - 4 = 6 (left: 5 6 6)\nsure");
    const stats = newLlmRoleStats();
    const rafa = await llmLearner({ model, stats, remember: true }).learn(memory, ctx);
    expect(await rafa.critic.value(state(6, 9, 10), ctx)).toBe(VALUE_WEIGHTS.impossible);
    expect(model.calls).toHaveLength(0);
    const proposed = await rafa.elite.propose(obs.state, 10, ctx);
    expect(proposed).toEqual(["10 - 4 = 6 (left: 5 6 6)"]);
    const prompt = lastUser(model.calls[0]?.request ?? { messages: [] });
    expect(prompt).toContain("4 + 5 = 9 (left: 6 9 10): impossible");
    expect(prompt).toContain("6 9 10: impossible");
    // One known-bad line in this state: the model is asked for one more.
    expect(prompt).toContain("List up to 11 different");

    const tot = await llmLearner({ model, stats, remember: false }).learn(memory, ctx);
    await tot.elite.propose(obs.state, 10, ctx);
    expect(lastUser(model.calls[1]?.request ?? { messages: [] })).not.toContain("impossible");
  });
});
