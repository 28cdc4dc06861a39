import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEpisode } from "../../core/episode.ts";
import { UserError } from "../../core/errors.ts";
import { loadGame24 } from "../../envs/game24/data.ts";
import { Game24Env } from "../../envs/game24/env.ts";
import { llmRoles, newLlmRoleStats } from "../../envs/game24/llm-roles.ts";
import { createModel } from "../../llm/create.ts";
import { writeTinyLlamaGguf } from "../../llm/llamacpp/tiny-model.ts";
import { LlamaCppModel } from "../../llm/providers/llamacpp.ts";
import { ReplayModel, withRecorder } from "../../llm/providers/replay.ts";
import { MockLanguageModel } from "../../llm/testing/mock.ts";
import { startOpenAIServer } from "../../llm/testing/openai-server.ts";
import { hasSamples } from "../../reason/types.ts";
import { RunStore } from "../store.ts";
import type { Summary } from "../types.ts";
import {
  createGame24Agent,
  createGame24Env,
  type Game24Agent,
  game24EnvOptions,
  game24Rafa,
  runGame24,
  twinResponder,
} from "./game24.ts";

/** The shared data directory: `../shared/data` relative to the project root. */
const DATA = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

let dir: string;
beforeAll(() => {
  // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
  loadGame24(DATA);
  dir = mkdtempSync(join(tmpdir(), "bayesact-rafa-game24-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const withoutWall = (s: Summary | undefined) => s && { ...s, wall_s: 0 };

/** A deterministic in-process "LLM" answering the prompts as the imperfect twins would. */
function twinModel(jsonSchema = true): MockLanguageModel {
  const respond = twinResponder({ seed: "test" });
  return new MockLanguageModel({
    id: "mock:twin",
    capabilities: { jsonSchema, multipleSamples: true },
    respond: (request, index) =>
      respond(
        {
          messages: request.messages,
          structured: request.responseFormat !== undefined,
          ...(request.seed !== undefined ? { seed: request.seed } : {}),
        },
        index,
      ),
  });
}

describe("the Game-of-24 RAFA kit", () => {
  it("offers rafa, tot, reflexion and react; options are checked with one clear line", () => {
    const kit = game24Rafa({ dataDir: DATA, split: "test" });
    expect(kit.agents).toEqual(["rafa", "tot", "reflexion", "react"]);
    expect(() => kit.create("rap", { model: undefined, options: {} })).toThrow(/no "rap" agent/);
    const bad = (options: Record<string, unknown>, model?: MockLanguageModel) => {
      try {
        kit.create("rafa", { model, options });
      } catch (error) {
        expect(error).toBeInstanceOf(UserError);
        return error instanceof UserError ? `${error.category}: ${error.message}` : "";
      }
      return "accepted";
    };
    expect(bad({ rate: 2 })).toMatch(/^bad_option: game24 rafa: bad --opt rate: /);
    expect(bad({ breadht: 2 })).toMatch(/^bad_option: .*breadht/);
    expect(bad({ roles: "llm" })).toMatch(/roles=llm needs --model/);
    expect(bad({ roles: "imperfect" }, twinModel())).toMatch(/would not use --model mock:twin/);
    expect(bad({ roles: "imperfect", breadth: 2, act: "first", valueSamples: 3 })).toBe("accepted");
    expect(() => kit.create("tot", { model: undefined, options: { act: "first" } })).toThrow(/cannot finish/);
    expect(game24EnvOptions("tot")).toEqual({ feedback: false });
    expect(game24EnvOptions("rafa")).toEqual({ feedback: true });
    expect(game24EnvOptions("reflexion")).toBe("uncommitted-feedback");
  });

  it("Reflexion's environment gives the checker's sentences but commits nothing", async () => {
    const env = createGame24Env([4, 5, 6, 10], game24EnvOptions("reflexion"));
    await env.reset(0);
    const r = await env.step("10 - 4 = 6 (left: 5 6 6)\n5 + 6 = 11 (left: 6 11)");
    expect(r.feedback).toContain("Step 1 (10 - 4 = 6) is correct");
    expect(r.feedback).toContain("Step 2 is calculated right, but 6 11 cannot reach 24 any more.");
    expect(r.observation.state.steps).toEqual([]);
    expect(r.reward).toBe(1);
  });

  it("with a model the critic asks for all its samples in one request (reason/'s SampledCritic)", async () => {
    const model = twinModel();
    expect(hasSamples(llmRoles({ model, stats: newLlmRoleStats() }).critic)).toBe(true);
    const agent = createGame24Agent("rafa", { model, options: {} });
    await runEpisode(new Game24Env([4, 5, 6, 10]), agent, { seed: 1, maxSteps: 1 });
    const critic = model.calls.filter((c) => c.request.responseFormat?.name === "value");
    expect(critic.length).toBeGreaterThan(0);
    expect(critic.every((c) => c.request.n === 3)).toBe(true);
    expect(agent.stats.llm?.criticQuestions).toBe(critic.length);
  });
});

describe("offline runs on the twins", () => {
  it("exact twins: RAFA solves all 100 test puzzles, journaling its search trees", async () => {
    const out = join(dir, "exact-rafa");
    const summary = await runGame24({ agent: "rafa", dataDir: DATA, out, seeds: [1] });
    expect(summary.episodes).toBe(100);
    expect(summary.success_rate).toBe(1);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).success_rate).toBe(1);
    const store = RunStore.open(out);
    const first = store.episodes()[0];
    const trees = first ? store.trees(first.id) : [];
    await store.close();
    expect(trees.length).toBeGreaterThan(0);
    expect(trees[0]?.nodes[0]?.state).toContain("Numbers left:");
  });

  it("imperfect twins: RAFA above ToT above Reflexion; RAFA without memory loses its lead", async () => {
    const seeds = [1, 2];
    const imperfect = { roles: "imperfect" };
    const run = (agent: "rafa" | "tot" | "reflexion", name: string, options: Record<string, unknown>) =>
      runGame24({ agent, dataDir: DATA, out: join(dir, name), seeds, options });
    const rafa = await run("rafa", "imp-rafa", imperfect);
    const tot = await run("tot", "imp-tot", imperfect);
    const reflexion = await run("reflexion", "imp-reflexion", imperfect);
    const forgetful = await run("rafa", "imp-rafa-nomem", { ...imperfect, memory: false });
    for (const baseline of [tot, reflexion, forgetful]) {
      expect(rafa.success_ci95.low, baseline.agent).toBeGreaterThan(baseline.success_ci95.high);
    }
    // The paper's order at the default corruption: RAFA above ToT above Reflexion.
    expect(tot.success_ci95.low).toBeGreaterThan(reflexion.success_ci95.high);
  }, 300_000); // 800 episodes: generous on shared, loaded machines

  it("the same config and seeds give the same summary at any concurrency", async () => {
    const run = (name: string, concurrency: number) =>
      runGame24({
        agent: "rafa",
        dataDir: DATA,
        out: join(dir, name),
        seeds: [1, 2],
        episodes: 30,
        options: { roles: "imperfect" },
        concurrency,
      });
    const one = await run("det-1", 1);
    const six = await run("det-6", 6);
    expect(one.episodes).toBe(60);
    expect(withoutWall(six)).toEqual(withoutWall(one));
  });
});

describe("RAFA with a language model, end to end", () => {
  it("records against an in-process model, replays offline to the same results, journals every call", async () => {
    const cassette = join(dir, "rafa.jsonl");
    const model = twinModel();
    const recorder = withRecorder(model, { path: cassette });
    const options = { episodes: 4, seeds: [1], dataDir: DATA, agent: "rafa" as const, maxSteps: 6 };
    const recorded = await runGame24({ ...options, out: join(dir, "llm-record"), model: recorder });
    const calls = model.calls.length;
    expect(calls).toBeGreaterThan(0);
    expect(recorded.llm.calls).toBe(calls);

    const replayed = await runGame24({
      ...options,
      out: join(dir, "llm-replay"),
      model: new ReplayModel({ path: cassette }),
    });
    expect(model.calls).toHaveLength(calls); // nothing reached the model the second time
    expect(withoutWall(replayed)).toEqual(withoutWall(recorded));

    const store = RunStore.open(join(dir, "llm-replay"));
    const journaled = store.episodes().flatMap((e) => store.llmCalls(e.id));
    await store.close();
    expect(journaled).toHaveLength(calls);
    expect(journaled.every((c) => c.ok)).toBe(true);
    expect(journaled.some((c) => c.samples === 3)).toBe(true);
    expect(journaled.some((c) => c.messages.at(-1)?.content.includes("Possible next steps:"))).toBe(true);
  });

  it("through the OpenAI client and the loopback server: n samples per request, JSON labels", async () => {
    const respond = twinResponder({ seed: "loopback" });
    const server = await startOpenAIServer({
      model: "twin",
      respond: (body, index) =>
        respond(
          {
            messages: body.messages,
            structured: body.response_format?.type === "json_schema",
            ...(body.seed !== undefined ? { seed: body.seed } : {}),
          },
          index,
        ),
    });
    const spec = `openai-compatible:${server.url}#twin`;
    const model = createModel(spec, { env: {} });
    try {
      const agents: Game24Agent[] = [];
      const summary = await runGame24({
        agent: "rafa",
        dataDir: DATA,
        out: join(dir, "llm-loopback"),
        seeds: [1],
        episodes: 3,
        model,
        modelSpec: spec,
        onAgent: (a) => agents.push(a),
      });
      expect(summary.llm.calls).toBeGreaterThan(0);
      const chats = server.requests
        .map((r) => r.body as { n?: number; response_format?: { type: string } } | undefined)
        .filter((b) => b !== undefined);
      const critic = chats.filter((b) => (b.n ?? 1) === 3);
      expect(critic.length).toBeGreaterThan(0);
      expect(critic.every((b) => b.response_format?.type === "json_schema")).toBe(true);
      expect(agents.every((a) => Object.keys(a.stats.llm?.failures ?? {}).length === 0)).toBe(true);
    } finally {
      await model.close?.();
      await server.close();
    }
  });

  it("on a real llama.cpp engine (generated tiny GGUF): valid actions through structured output", async () => {
    const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 1, contextLength: 2048 });
    // One thread: the test machines are small and shared, and a tiny model gains nothing from more.
    const lm = new LlamaCppModel({ modelPath: tiny.path, contextSize: 2048, threads: 1, maxParallel: 2 });
    try {
      const agents: Game24Agent[] = [];
      const out = join(dir, "llm-tiny");
      await runGame24({
        agent: "rafa",
        dataDir: DATA,
        out,
        seeds: [1],
        episodes: 1,
        maxSteps: 3,
        concurrency: 1,
        model: lm,
        options: { elite: "choose", proposals: 3, valueSamples: 2 },
        onAgent: (a) => agents.push(a),
      });
      const store = RunStore.open(out);
      const episode = store.episodes()[0];
      const steps = episode ? store.steps(episode.id) : [];
      const calls = episode ? store.llmCalls(episode.id) : [];
      await store.close();
      expect(steps).toHaveLength(3);
      // Random weights: no competence is expected, only lines the checker can read as legal, calculated moves.
      for (const step of steps) {
        const lines = (step.info?.lines ?? []) as { verdict: string }[];
        expect(["correct", "unreachable"], step.action).toContain(lines[0]?.verdict);
      }
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.some((c) => c.samples === 2)).toBe(true);
      const stats = agents[0]?.stats;
      expect(stats?.llm?.eliteQuestions).toBeGreaterThan(0);
      // Failures, if any, are named; the elite's structured answers were used for at least one decision.
      for (const category of Object.keys(stats?.llm?.failures ?? {}))
        expect(["schema_violation", "truncated", "answer_missing", "critic_label_missing"]).toContain(
          category,
        );
      expect(stats?.fallbacks ?? 0).toBeLessThan(stats?.decisions ?? 0);
    } finally {
      await lm.close();
    }
  });
});
