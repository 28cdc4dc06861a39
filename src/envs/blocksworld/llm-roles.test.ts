import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { LlmError } from "../../llm/errors.ts";
import { writeTinyLlamaGguf } from "../../llm/llamacpp/tiny-model.ts";
import { LlamaCppModel } from "../../llm/providers/llamacpp.ts";
import { MockLanguageModel } from "../../llm/testing/mock.ts";
import type { GenerateRequest, GenerateResult, LanguageModel, ScoreResult } from "../../llm/types.ts";
import { loadStepSplit } from "./data.ts";
import { groundAction } from "./domain.ts";
import type { BlocksWorldState } from "./env.ts";
import { createExactRoles, goalReward } from "./exact.ts";
import { createLlmRoles, softmax, solvedExamples } from "./llm-roles.ts";
import { parseActionText, parseStateText, renderAction, renderState } from "./nl.ts";
import { choicePrompt, priorContinuation, priorPrompt } from "./prompts.ts";
import { applyOperator, makeState, satisfiesGoal, stateKey } from "./state.ts";
import { requireData } from "./testing/data.ts";

const data = loadStepSplit(requireData(), "step_4");
const { vocabulary, domain } = data;
const exact = createExactRoles(domain, { rank: "none" });
// instance-1: red, blue, yellow clear; blue on orange. Goal: orange on blue.
const inst = data.instance("instance-1");
const start: BlocksWorldState = {
  objects: inst.task.grounding.objects,
  goal: inst.task.goal,
  atoms: inst.task.init,
};
const objects = inst.task.grounding.objects.map((o) => o.name);
const unstack = groundAction("unstack", ["b", "c"]);
const ctx = { rng: new Rng(1) };
const promptOf = (r: GenerateRequest) => r.messages.at(-1)?.content ?? "";

/** Answers prediction prompts with the true next state in words (a perfectly pretrained model). */
function trueState(prompt: string): string {
  const lines = prompt.split("\n");
  const stateLine = lines.find((l) => l.startsWith("I have that,")) ?? "";
  const actionLine = (lines.find((l) => l.startsWith("Action: ")) ?? "").slice("Action: ".length);
  const atoms = parseStateText(stateLine, { vocabulary, objects });
  const action = parseActionText(actionLine, { vocabulary, objects });
  if (!atoms.ok || !action.ok) return "I cannot tell.";
  const op = inst.task.grounding.operator(action.value);
  const r = op ? applyOperator(makeState(atoms.value), op) : undefined;
  return renderState(vocabulary, r?.ok ? r.state : makeState(atoms.value));
}

describe("the prior's prompt", () => {
  it("shows solved examples with optimal plans, then the problem, ending where the next plan line starts", () => {
    const examples = solvedExamples(domain, vocabulary, 4);
    expect(examples).toHaveLength(4);
    for (const e of examples) {
      // Each plan is legal and reaches its goal.
      let atoms = e.init;
      for (const a of e.plan) {
        const g = inst.task.grounding.operator(a);
        const r = g ? applyOperator(atoms, g) : undefined;
        expect(r?.ok, a.text).toBe(true);
        if (r?.ok) atoms = r.state;
      }
      expect(satisfiesGoal(atoms, e.goal)).toBe(true);
    }
    expect(examples.map((e) => e.plan.length)).toEqual([4, 4, 4, 4]);
    const prompt = priorPrompt(vocabulary, examples.slice(0, 2), start);
    expect(prompt.startsWith(vocabulary.domainIntro.trim())).toBe(true);
    expect(prompt.split("End of plan.")).toHaveLength(3);
    expect(prompt).toContain(
      "Unstack the blue block from on top of the red block\nPut down the blue block\n",
    );
    expect(
      prompt.endsWith(
        `${renderState(vocabulary, start.atoms)}\nMy goal is to have that the orange block is on top of the blue block.\nPlan:\n`,
      ),
    ).toBe(true);
    expect(priorContinuation(vocabulary, unstack)).toBe(
      "Unstack the blue block from on top of the orange block\n",
    );
    expect(priorPrompt(vocabulary, [], start)).not.toContain("End of plan.");
    expect(choicePrompt(vocabulary, start, [unstack])).toContain(
      "- Unstack the blue block from on top of the orange block",
    );
  });

  it("softmax is shift-invariant and survives very negative log-likelihoods", () => {
    expect(softmax([-1000, -1001])).toEqual(softmax([0, -1]));
    expect(softmax([0, 0, 0, 0]).every((p) => p === 0.25)).toBe(true);
  });
});

describe("the LLM world model", () => {
  it("reads the predicted state from words and asks each question once", async () => {
    const model = new MockLanguageModel({ respond: (r) => trueState(promptOf(r)) });
    const roles = createLlmRoles({ model, domain, vocabulary, prior: "uniform" });
    const p = await roles.model.predict(start, unstack, ctx);
    const truth = await exact.model.predict(start, unstack, ctx);
    expect(stateKey(p.state.atoms)).toBe(stateKey(truth.state.atoms));
    expect(p).toMatchObject({ reward: 0, done: false });
    await roles.model.predict(start, unstack, ctx);
    expect(model.calls).toHaveLength(1);
    expect(promptOf(model.calls[0]?.request as GenerateRequest)).toContain(
      "Action: Unstack the blue block from on top of the orange block.",
    );
    expect(model.calls[0]?.request.temperature).toBe(0);
    expect(roles.counts).toMatchObject({ predictCalls: 1, fallbacks: {} });
  });

  it("answers that do not parse are named failures: the simulator answers and they are counted", async () => {
    const answers = [
      "The blue block floats away.",
      "",
      "I have that, the white block is clear and the hand is empty.",
      "I have that, the purple block is clear.",
    ];
    const model = new MockLanguageModel({ respond: (_r, _i, call) => answers[call] ?? "" });
    const roles = createLlmRoles({ model, domain, vocabulary, prior: "uniform" });
    const actions = [
      unstack,
      groundAction("pick-up", ["a"]),
      groundAction("pick-up", ["d"]),
      groundAction("pick-up", ["b"]),
    ];
    for (const a of actions) {
      const p = await roles.model.predict(start, a, ctx);
      expect(p).toEqual(await exact.model.predict(start, a, ctx));
    }
    expect(roles.counts.fallbacks).toEqual({
      unknown_fact: 1,
      empty_state: 1,
      object_not_in_problem: 1,
      unknown_object: 1,
    });
  });

  it("an answer cut at the token limit is a failure too, and errors that are not answers propagate", async () => {
    const cut: LanguageModel = {
      id: "cut",
      provider: "mock",
      endpoint: "mock://cut",
      capabilities: async () => new MockLanguageModel().capabilities(),
      generate: async (): Promise<GenerateResult> => ({
        model: "cut",
        choices: [{ index: 0, text: "I have that, the red block is clear, the", finishReason: "length" }],
        usage: { inputTokens: 1, outputTokens: 1 },
        latencyMs: 0,
      }),
    };
    const roles = createLlmRoles({ model: cut, domain, vocabulary, prior: "uniform", maxTokens: 16 });
    await roles.model.predict(start, unstack, ctx);
    expect(roles.counts.fallbacks).toEqual({ state_truncated: 1 });

    let calls = 0;
    const down = new MockLanguageModel({
      respond: () => (calls++ === 0 ? new LlmError("auth", "bad key") : trueState("")),
    });
    const failing = createLlmRoles({ model: down, domain, vocabulary, prior: "uniform" });
    await expect(failing.model.predict(start, unstack, ctx)).rejects.toMatchObject({ category: "auth" });
    // A failed call is not an answer: the question is asked again.
    await failing.model.predict(start, unstack, ctx);
    expect(down.calls).toHaveLength(2);
  });

  it("the critic is RAP's goal reward r₁ of the state", async () => {
    const roles = createLlmRoles({ model: new MockLanguageModel(), domain, vocabulary, prior: "uniform" });
    expect(await roles.critic.value(start, ctx)).toBe(goalReward(start.atoms, start.goal));
    expect(await roles.critic.value({ ...start, atoms: makeState([...start.atoms, "(on c b)"]) }, ctx)).toBe(
      100,
    );
  });
});

describe("the LLM prior r₀", () => {
  it("scores each legal action's plan line and takes the softmax", async () => {
    const scored: string[] = [];
    const base = new MockLanguageModel();
    const scoring: LanguageModel = {
      id: "scoring",
      provider: "mock",
      endpoint: "mock://scoring",
      capabilities: async () => ({ ...(await base.capabilities()), score: true }),
      generate: (r) => base.generate(r),
      score: async (prefix: string, continuation: string): Promise<ScoreResult> => {
        expect(prefix.endsWith("Plan:\n")).toBe(true);
        scored.push(continuation);
        return { logprob: continuation.startsWith("Unstack") ? -1 : -3, tokens: [] };
      },
    };
    const roles = createLlmRoles({ model: scoring, domain, vocabulary });
    expect(roles.priorMode).toBe("score");
    const proposals = await roles.elite.proposeWithPriors(start, Number.POSITIVE_INFINITY, ctx);
    expect(proposals.map((p) => p.action.text)).toEqual(["(pick-up a)", "(pick-up d)", "(unstack b c)"]);
    const expected = softmax([-3, -3, -1]);
    proposals.forEach((p, i) => {
      expect(p.prior).toBeCloseTo(expected[i] ?? Number.NaN, 12);
    });
    expect(scored).toEqual(proposals.map((p) => priorContinuation(vocabulary, p.action)));
    expect(roles.counts.scoreCalls).toBe(3);
    // The elite's plain proposals are the legal actions, without calls.
    expect(await roles.elite.propose(start, 2, ctx)).toEqual(proposals.slice(0, 2).map((p) => p.action));
    expect(roles.counts.scoreCalls).toBe(3);
  });

  it("without scoring: one structured choice per state, half the mass on the chosen action", async () => {
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: () => JSON.stringify({ action: renderAction(vocabulary, unstack) }),
    });
    const roles = createLlmRoles({ model, domain, vocabulary });
    expect(roles.priorMode).toBe("choice");
    const proposals = await roles.elite.proposeWithPriors(start, Number.POSITIVE_INFINITY, ctx);
    expect(proposals.map((p) => p.prior)).toEqual([0.5 / 3, 0.5 / 3, 0.5 + 0.5 / 3]);
    const format = model.calls[0]?.request.responseFormat?.schema;
    expect(format).toMatchObject({
      properties: { action: { enum: proposals.map((p) => renderAction(vocabulary, p.action)) } },
    });
    expect(roles.counts).toMatchObject({ choiceCalls: 1, choiceFailures: 0 });
  });

  it("a choice that stays invalid after the repair round gives uniform priors and is counted", async () => {
    const model = new MockLanguageModel({ respond: () => '{"action": "Fly the red block to the moon"}' });
    const roles = createLlmRoles({ model, domain, vocabulary, prior: "choice" });
    const proposals = await roles.elite.proposeWithPriors(start, Number.POSITIVE_INFINITY, ctx);
    expect(proposals.map((p) => p.prior)).toEqual([1, 1, 1]);
    expect(roles.counts).toMatchObject({ choiceCalls: 1, choiceFailures: 1 });
    expect(model.calls).toHaveLength(2);
  });

  it("a score method whose capabilities say no (an OpenAI-compatible server that is not llama.cpp) means choice", async () => {
    const base = new MockLanguageModel({
      capabilities: { jsonSchema: true, score: false },
      respond: () => JSON.stringify({ action: renderAction(vocabulary, unstack) }),
    });
    let scoreCalls = 0;
    const model: LanguageModel = {
      id: base.id,
      provider: base.provider,
      endpoint: base.endpoint,
      capabilities: () => base.capabilities(),
      generate: (r) => base.generate(r),
      score: async () => {
        scoreCalls += 1;
        throw new LlmError("unsupported", "no scoring here");
      },
    };
    const auto = createLlmRoles({ model, domain, vocabulary });
    const proposals = await auto.elite.proposeWithPriors(start, Number.POSITIVE_INFINITY, ctx);
    expect(auto.priorMode).toBe("choice");
    expect(proposals.map((p) => p.prior)).toEqual([0.5 / 3, 0.5 / 3, 0.5 + 0.5 / 3]);
    expect(scoreCalls).toBe(0);
    const explicit = createLlmRoles({ model, domain, vocabulary, prior: "score" });
    await expect(explicit.elite.proposeWithPriors(start, Number.POSITIVE_INFINITY, ctx)).rejects.toThrow(
      /capabilities say no/,
    );
  });

  it("uniform priors ask nothing; scoring without support is refused", async () => {
    const model = new MockLanguageModel();
    const roles = createLlmRoles({ model, domain, vocabulary, prior: "uniform" });
    expect((await roles.elite.proposeWithPriors(start, 5, ctx)).map((p) => p.prior)).toEqual([1, 1, 1]);
    expect(model.calls).toHaveLength(0);
    expect(() => createLlmRoles({ model, domain, vocabulary, prior: "score" })).toThrow(/cannot score/);
  });
});

describe("LLM roles on a real llama.cpp engine (generated tiny GGUF)", () => {
  let dir: string;
  let lm: LlamaCppModel;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bayesact-bw-llm-"));
    const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 2, contextLength: 4096 });
    lm = new LlamaCppModel({ modelPath: tiny.path, contextSize: 4096, threads: 1, maxParallel: 2 });
  });
  afterAll(async () => {
    await lm?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("priors are the softmax of exact log-likelihoods; meaningless predictions fall back to the simulator", async () => {
    const roles = createLlmRoles({ model: lm, domain, vocabulary, maxTokens: 24 });
    expect(roles.priorMode).toBe("score");
    const proposals = await roles.elite.proposeWithPriors(start, Number.POSITIVE_INFINITY, ctx);
    const prefix = priorPrompt(vocabulary, solvedExamples(domain, vocabulary, 2), start);
    const logits = await Promise.all(
      proposals.map(async (p) => (await lm.score(prefix, priorContinuation(vocabulary, p.action))).logprob),
    );
    const expected = softmax(logits);
    proposals.forEach((p, i) => {
      expect(p.prior).toBeCloseTo(expected[i] ?? Number.NaN, 9);
    });
    expect(proposals.reduce((s, p) => s + p.prior, 0)).toBeCloseTo(1, 12);
    const p = await roles.model.predict(start, unstack, ctx);
    expect(p).toEqual(await exact.model.predict(start, unstack, ctx));
    expect(Object.values(roles.counts.fallbacks).reduce((s, n) => s + (n ?? 0), 0)).toBe(1);
  });
});
