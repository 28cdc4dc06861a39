import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ArmSpec, runArm } from "../bench/theory/par-loop.ts";
import { probeTrapExperiment, probeTrapParams } from "../bench/theory/probe-trap.ts";
import { Rng } from "../core/rng.ts";
import { createProbeTrap } from "../envs/theory/probe-trap.ts";
import { LlmError } from "../llm/errors.ts";
import { writeTinyLlamaGguf } from "../llm/llamacpp/tiny-model.ts";
import { LlamaCppModel } from "../llm/providers/llamacpp.ts";
import { ReplayModel, withRecorder } from "../llm/providers/replay.ts";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import type { GenerateRequest, LanguageModel } from "../llm/types.ts";
import { LlmPlanner, plannerMessages } from "./llm-planner.ts";
import { EpsilonGreedyPlanner } from "./planners.ts";

const trap = createProbeTrap({ K: 2, p: 0.7 });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-llm-planner-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** An LLM arm on the trap (the loop runs asynchronous arms on its promise-aware driver). */
function llmArm(model: LanguageModel, extra: { contextEpisodes?: number; epsilon?: number } = {}): ArmSpec {
  return {
    name: "llm",
    asynchronous: true,
    concurrency: 2,
    create: ({ rng }) => {
      const llm = new LlmPlanner({
        model,
        env: trap,
        rng: rng.stream("llm"),
        ...(extra.contextEpisodes === undefined ? {} : { contextEpisodes: extra.contextEpisodes }),
      });
      if (extra.epsilon === undefined) return llm;
      return new EpsilonGreedyPlanner(llm, trap, rng.stream("eps"), {
        schedule: { kind: "constant", epsilon: extra.epsilon },
        explore: "probe",
      });
    },
  };
}

/** A deterministic in-process "LLM" answering with a subgoal picked from the request seed. */
function seededModel(): MockLanguageModel {
  return new MockLanguageModel({
    id: "mock:planner",
    capabilities: { jsonSchema: true },
    respond: (request: GenerateRequest) =>
      JSON.stringify({ subgoal: trap.subgoals[(request.seed ?? 0) % trap.subgoals.length] }),
  });
}

describe("the Planner prompt", () => {
  const env = trap;
  const step = (o: number, g: number) => ({
    observation: env.observations[o] ?? "",
    subgoal: env.subgoals[g] ?? "",
  });

  it("holds the task, G, past episodes as (o, g) lines with outcomes, the partial episode and one instruction", () => {
    const messages = plannerMessages({
      env,
      memory: [
        { index: 4, steps: [step(0, 2)], outcome: "The probe says: door 2." },
        { index: 5, steps: [step(0, 1)], outcome: "Nothing happened." },
      ],
      total: 5,
      current: [],
      observation: env.observations[0] ?? "",
      episode: 6,
      seesReward: false,
    });
    expect(messages.map((m) => m.role)).toEqual(["system", "user"]);
    const text = messages[1]?.content ?? "";
    expect(text).toContain(`Task: ${env.task}`);
    expect(text).toContain("Rewards are not shown to you.");
    for (const g of env.subgoals) expect(text).toContain(`- ${g}\n`);
    expect(text).toContain("Past episodes (the last 2 of 5, oldest first):");
    expect(text).toContain(
      "Episode 4:\n  1. observation: You stand before the doors. | subgoal: consult the probe\n  outcome: The probe says: door 2.",
    );
    expect(text).toContain(
      "Current episode 6, step 1 of 1:\n  1. observation: You stand before the doors. | subgoal: ?",
    );
    expect(text).toMatch(/Choose ONE subgoal for step 1 from the list\. Answer with JSON: \{"subgoal": /);
    expect(text).not.toContain("reward:");
  });

  it("shows rewards only in the control setting", () => {
    const text =
      plannerMessages({
        env,
        memory: [{ index: 1, steps: [step(0, 0)], outcome: "Nothing happened.", reward: 0 }],
        total: 1,
        current: [],
        observation: env.observations[0] ?? "",
        episode: 2,
        seesReward: true,
      })[1]?.content ?? "";
    expect(text).toContain("outcome: Nothing happened. | reward: 0");
    expect(text).toContain("Each past episode shows its reward");
  });

  it("windows the memory to contextEpisodes as the planner runs", async () => {
    const model = seededModel();
    await runArm(trap, llmArm(model, { contextEpisodes: 2 }), { horizon: 5, seeds: 1, rng: new Rng(1) });
    expect(model.calls).toHaveLength(5);
    const last = model.calls.at(-1)?.request.messages[1]?.content ?? "";
    expect(last).toContain("Past episodes (the last 2 of 4, oldest first):");
    expect(last).toContain("Episode 3:");
    expect(last).not.toContain("Episode 2:");
    expect(model.calls[0]?.request.messages[1]?.content).toContain("Past episodes: none yet.");
  });
});

describe("LlmPlanner failures", () => {
  it("answers a schema violation (after the repair round) with a uniform subgoal and counts it", async () => {
    const model = new MockLanguageModel({ respond: () => "I would open the second door." });
    const run = await runArm(trap, llmArm(model), { horizon: 4, seeds: 3, rng: new Rng(2) });
    expect(run.stats).toEqual({
      calls: 12,
      failures: 12,
      repaired: 0,
      inputTokens: expect.any(Number),
      outputTokens: expect.any(Number),
    });
    // First answer plus one repair round per call.
    expect(model.calls).toHaveLength(24);
    expect(run.regret.finals().every((r) => r >= 0 && r <= 4)).toBe(true);
  });

  it("counts an answer fixed by the repair round as repaired, not failed", async () => {
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: (request) =>
        request.messages.some((m) => m.content.startsWith("Your answer is not valid"))
          ? '{"subgoal": "open door 1"}'
          : '{"subgoal": "open door 9"}',
    });
    const run = await runArm(trap, llmArm(model), { horizon: 3, seeds: 2, rng: new Rng(3) });
    expect(run.stats?.failures).toBe(0);
    expect(run.stats?.repaired).toBe(6);
    expect(run.stats?.calls).toBe(6);
  });

  it("lets failures that are not the model's answer propagate", async () => {
    const model = new MockLanguageModel({ respond: () => new LlmError("auth", "bad key") });
    await expect(
      runArm(trap, llmArm(model), { horizon: 2, seeds: 1, rng: new Rng(4) }),
    ).rejects.toMatchObject({
      category: "auth",
    });
  });
});

describe("LLM arms through an experiment: record, then replay", () => {
  it("replays a recorded run to identical results without the model", async () => {
    const params = probeTrapParams.parse({
      Ks: [2],
      horizon: 40,
      horizons: [20, 40],
      sweepEpsilons: [0, 1],
      negativeControl: false,
      llmK: 3,
      llmHorizon: 30,
      llmSeeds: 3,
    });
    const cassette = join(dir, "planner.jsonl");
    const model = seededModel();
    const recorded = await probeTrapExperiment.run(params, {
      seeds: 4,
      baseSeed: 11,
      model: withRecorder(model, { path: cassette }),
      contextEpisodes: 3,
    });
    const llmArms = recorded.arms.filter((a) => a.name.startsWith("llm") || a.name.startsWith("eps-llm"));
    expect(llmArms.map((a) => a.name)).toEqual(["llm K=3 (T=30)", "eps-llm t^-1/2 K=3 (T=30)"]);
    const [plain, eps] = llmArms.map((a) => Number(a.info?.llm_calls));
    // The plain arm asks at every step (3 seeds × 30 episodes × H = 1); the ε arm only when it does not explore.
    expect(plain).toBe(90);
    expect(eps).toBeGreaterThan(0);
    expect(eps).toBeLessThan(90);
    expect(model.calls).toHaveLength((plain ?? 0) + (eps ?? 0));
    for (const arm of llmArms) expect(arm.info?.llm_failures).toBe(0);
    expect(recorded.checks.filter((c) => c.claim.includes("valid subgoal")).every((c) => c.pass)).toBe(true);
    expect(readFileSync(cassette, "utf8").trim().split("\n")).toHaveLength(model.calls.length + 1);

    const replay = new ReplayModel({ path: cassette });
    const replayed = await probeTrapExperiment.run(params, {
      seeds: 4,
      baseSeed: 11,
      model: replay,
      contextEpisodes: 3,
    });
    const strip = (r: typeof recorded) => r.arms.map(({ curve, name, info }) => ({ curve, name, info }));
    expect(strip(replayed)).toEqual(strip(recorded));
    // Nothing reached the model the second time.
    expect(model.calls).toHaveLength((plain ?? 0) + (eps ?? 0));
  });
});

describe("LLM planner on a real llama.cpp engine (generated tiny GGUF)", () => {
  let lm: LlamaCppModel;
  beforeAll(async () => {
    const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 1, contextLength: 2048 });
    // One thread: the test machines are small and shared, and a tiny model gains nothing from more.
    lm = new LlamaCppModel({ modelPath: tiny.path, contextSize: 2048, threads: 1, maxParallel: 2 });
  });
  afterAll(async () => {
    await lm?.close();
  });

  it("returns valid subgoals of G through grammar-constrained structured output", async () => {
    expect((await lm.capabilities()).grammar).toBe(true);
    const chosen: number[] = [];
    const formats: unknown[] = [];
    const observed: LanguageModel = {
      id: lm.id,
      provider: lm.provider,
      endpoint: lm.endpoint,
      capabilities: () => lm.capabilities(),
      generate: (request) => {
        formats.push(request.responseFormat?.schema);
        return lm.generate(request);
      },
    };
    const arm: ArmSpec = {
      name: "tiny",
      asynchronous: true,
      create: ({ rng }) => {
        const planner = new LlmPlanner({ model: observed, env: trap, rng, contextEpisodes: 1 });
        const act = planner.act.bind(planner);
        planner.act = async (trace) => {
          const g = await act(trace);
          chosen.push(g);
          return g;
        };
        return planner;
      },
    };
    const run = await runArm(trap, arm, { horizon: 3, seeds: 1, rng: new Rng(5) });
    // Random weights: no competence is expected, only answers that are members of G.
    expect(run.stats?.calls).toBe(3);
    expect(run.stats?.failures).toBe(0);
    expect(run.stats?.outputTokens).toBeGreaterThan(0);
    expect(chosen).toHaveLength(3);
    // Every call carried the schema (G as an enum), which llama.cpp enforces as a grammar.
    expect(formats).toHaveLength(3);
    for (const schema of formats) {
      expect(schema).toMatchObject({
        properties: { subgoal: { enum: trap.subgoals } },
        required: ["subgoal"],
      });
    }
    for (const g of chosen) expect(g >= 0 && g < trap.subgoals.length).toBe(true);
  });
});
