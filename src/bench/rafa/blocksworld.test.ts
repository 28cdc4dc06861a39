import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runEpisode } from "../../core/episode.ts";
import { UserError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { createImperfectRoles } from "../../envs/blocksworld/imperfect.ts";
import {
  applicableOperators,
  applyOperator,
  type BlocksWorldAction,
  BlocksWorldEnv,
  type BlocksWorldObservation,
  type BlocksWorldState,
  createExactRoles,
  ground,
  loadBlocksWorld,
  makeState,
  parseActionText,
  parseStateText,
  renderState,
  satisfiesGoal,
  stateKey,
} from "../../envs/blocksworld/index.ts";
import { requireData } from "../../envs/blocksworld/testing/data.ts";
import { createModel } from "../../llm/create.ts";
import { writeTinyLlamaGguf } from "../../llm/llamacpp/tiny-model.ts";
import { ReplayModel, withRecorder } from "../../llm/providers/replay.ts";
import { MockLanguageModel } from "../../llm/testing/mock.ts";
import type { GenerateRequest, LanguageModel } from "../../llm/types.ts";
import { agentEntry, type EnvEntry, envEntry } from "../registry.ts";
import { executeRun } from "../runner.ts";
import { RunStore } from "../store.ts";
import type { RunConfig } from "../types.ts";
import { type BlocksWorldAgent, blocksworldEnvOptions, blocksworldRafa } from "./blocksworld.ts";

const DATA = requireData();
const step4 = loadBlocksWorld(DATA, "step_4");
const step6 = loadBlocksWorld(DATA, "step_6");
const kit4 = blocksworldRafa({ dataDir: DATA, split: "step_4" });
const kit6 = blocksworldRafa({ dataDir: DATA, split: "step_6" });

function agent(kit: typeof kit4, name: string, options: Record<string, unknown> = {}, model?: LanguageModel) {
  return kit.create(name, { model, options }) as BlocksWorldAgent;
}

/** Success of `name` over instances × seeds (episodes run directly, without a run store). */
async function successes(
  data: typeof step4,
  kit: typeof kit4,
  name: string,
  options: Record<string, unknown>,
  seeds: readonly number[],
  pick: (id: string, seed: number) => boolean = () => true,
): Promise<{ solved: number; n: number }> {
  let solved = 0;
  let n = 0;
  for (const inst of data.instances)
    for (const seed of seeds) {
      if (!pick(inst.id, seed)) continue;
      const t = await runEpisode(new BlocksWorldEnv(inst, data.vocabulary), agent(kit, name, options), {
        seed,
        maxSteps: 400,
      });
      n++;
      if (t.success) solved++;
    }
  return { solved, n };
}

describe("options", () => {
  it("are checked: one clear line per mistake", () => {
    const create = (options: Record<string, unknown>, model?: LanguageModel) => () =>
      kit4.create("rafa", { model, options });
    expect(create({ rollout: 2 })).toThrow(/no option rollout \(known: roles, rate/);
    expect(create({ rate: 2 })).toThrow(/bad --opt rate/);
    expect(create({ roles: "llm" })).toThrow(/roles=llm needs --model/);
    expect(create({ roles: "exact" }, new MockLanguageModel())).toThrow(/roles=exact runs on the twins/);
    expect(create({ prior: "score" })).toThrow(/prior=score does not apply to roles=exact/);
    expect(create({ prior: "lookahead" }, new MockLanguageModel())).toThrow(/does not apply to roles=llm/);
    expect(() => kit4.create("tot", { model: undefined, options: {} })).toThrow(UserError);
    expect(kit4.agents).toEqual(["rafa", "rap"]);
    expect(blocksworldEnvOptions({ tries: 10 })).toEqual({ maxTries: 10 });
    expect(blocksworldEnvOptions({})).toEqual({});
  });

  it("tries must match the environment's", async () => {
    const inst = step4.instances[0];
    if (!inst) throw new Error("no instance");
    const env = new BlocksWorldEnv(inst, step4.vocabulary);
    await expect(
      runEpisode(env, agent(kit4, "rafa", { tries: 10 }), { seed: 1, maxSteps: 5 }),
    ).rejects.toThrow(/tries=10 but the environment runs 60 tries/);
    const short = new BlocksWorldEnv(inst, step4.vocabulary, { maxTries: 10 });
    const t = await runEpisode(short, agent(kit4, "rafa", { tries: 10 }), { seed: 1, maxSteps: 50 });
    expect(t.success).toBe(true);
  });
});

describe("RAFA and RAP on the exact twins", () => {
  it("RAFA solves step_4 57/57 and step_6 114/114 in the first try; so does RAP", async () => {
    for (const [data, kit, n] of [
      [step4, kit4, 57],
      [step6, kit6, 114],
    ] as const) {
      for (const name of ["rafa", "rap"]) {
        let first = 0;
        for (const inst of data.instances) {
          const t = await runEpisode(new BlocksWorldEnv(inst, data.vocabulary), agent(kit, name), {
            seed: 1,
            maxSteps: 400,
          });
          if (t.success && t.steps.length === inst.optimalLength) first++;
        }
        expect(first, `${name} on ${data.instances.length} instances`).toBe(n);
      }
    }
  });

  it("with uniform priors RAFA still solves step_4", async () => {
    const r = await successes(step4, kit4, "rafa", { prior: "uniform" }, [1]);
    expect(r).toEqual({ solved: 57, n: 57 });
  });
});

describe("RAFA against RAP with imperfect twins, at equal search budget", () => {
  const imperfect = { roles: "imperfect" };

  it("RAFA solves far more step_4 instances than RAP", async () => {
    const seeds = [1, 2, 3];
    const rafa = await successes(step4, kit4, "rafa", imperfect, seeds);
    const rap = await successes(step4, kit4, "rap", imperfect, seeds);
    expect(rafa.n).toBe(171);
    expect(rap.n).toBe(171);
    // Measured: RAFA 61.6% and RAP 22.8% over 10 seeds (issue-5 results); these seeds give similar rates.
    expect(rafa.solved / rafa.n).toBeGreaterThan(0.5);
    expect(rap.solved / rap.n).toBeLessThan(0.35);
    const skip = await successes(step4, kit4, "rafa", { ...imperfect, skipRefuted: true }, seeds);
    expect(skip.solved).toBe(171);
  });

  it("where some optimal plan is predicted right RAFA always succeeds; RAP is lured by phantom shortcuts", async () => {
    const exact = createExactRoles(step4.domain, { rank: "none" });
    const ctx = { rng: new Rng(0) };
    const clean = new Set<string>();
    for (const inst of step4.instances.slice(0, 30))
      for (const seed of [1, 2]) {
        // The corruption each agent faces on this episode seed (the learner draws it the same way).
        const roles = createImperfectRoles(step4.domain, exact, {
          rate: 0.3,
          seed: new Rng(seed).stream("agent").stream("corruption").nextUint32(),
        });
        const search = async (s: BlocksWorldState, d: number): Promise<boolean> => {
          if (satisfiesGoal(s.atoms, s.goal)) return true;
          if (d === 0) return false;
          for (const op of applicableOperators(inst.task.grounding.operators, s.atoms)) {
            const r = applyOperator(s.atoms, op);
            if (!r.ok || exact.distance({ ...s, atoms: r.state }) > d - 1) continue;
            const p = await roles.model.predict(s, op.action, ctx);
            if (stateKey(p.state.atoms) !== stateKey(r.state)) continue;
            if (await search({ ...s, atoms: r.state }, d - 1)) return true;
          }
          return false;
        };
        const s0 = { objects: inst.task.grounding.objects, goal: inst.task.goal, atoms: inst.task.init };
        if (await search(s0, inst.optimalLength)) clean.add(`${inst.id}#${seed}`);
      }
    expect(clean.size).toBeGreaterThan(5);
    const pick = (id: string, seed: number) => clean.has(`${id}#${seed}`);
    const rafa = await successes(step4, kit4, "rafa", imperfect, [1, 2], pick);
    const rap = await successes(step4, kit4, "rap", imperfect, [1, 2], pick);
    expect(rafa.solved).toBe(clean.size);
    expect(rap.solved).toBeLessThan(clean.size);
  });

  it("both have run the same rollouts whenever a try begins", async () => {
    const inst = step4.instance("instance-297");
    const trace = async (name: string, options: Record<string, unknown>) => {
      const a = agent(kit4, name, { ...imperfect, ...options });
      const byTry: number[] = [];
      const observed: typeof a = {
        ...a,
        name: a.name,
        counts: a.counts,
        act: async (o: BlocksWorldObservation, legal, ctx) => {
          const action = await a.act(o, legal, ctx);
          // RAFA has searched through the step it takes; RAP plans a whole try at its start.
          if (o.depth === 0) byTry.push(a.counts.rollouts);
          return action;
        },
        reset: (ctx) => a.reset(ctx),
        ...(a.observe ? { observe: (s, ctx) => a.observe?.(s, ctx) } : {}),
      };
      const t = await runEpisode(new BlocksWorldEnv(inst, step4.vocabulary), observed, {
        seed: 1,
        maxSteps: 400,
      });
      return { byTry, success: t.success, rollouts: a.counts.rollouts };
    };
    const rafa = await trace("rafa", { rollouts: 2 });
    const rap = await trace("rap", { rollouts: 2 * 4 * 60 });
    // At the start of try j RAFA has run 2 per step for the j − 1 tries before, plus this step's 2; RAP has run
    // everything it will run before acting in try j: 2 × 4 × j.
    rafa.byTry.forEach((r, j) => {
      expect(r).toBe(8 * j + 2);
    });
    rap.byTry.forEach((r, j) => {
      expect(r).toBe(8 * (j + 1));
    });
    expect(rap.success).toBe(false);
    expect(rap.rollouts).toBe(480);
    expect(rafa.success).toBe(true);
    expect(rafa.rollouts).toBeLessThan(480);
  });
});

/** A perfectly pretrained "LLM" for BlocksWorld prompts: true next states, and the choice closest to the goal. */
function oracleLlm(): MockLanguageModel {
  const vocabulary = step4.vocabulary;
  const exact = createExactRoles(step4.domain, { rank: "none" });
  const parse = (line: string) => parseStateText(line, { vocabulary });
  return new MockLanguageModel({
    id: "mock:oracle",
    capabilities: { jsonSchema: true },
    respond: (request: GenerateRequest) => {
      const lines = (request.messages.at(-1)?.content ?? "").split("\n");
      const atoms = parse(lines.find((l) => l.startsWith("I have that,")) ?? "");
      const goalLine = lines.find((l) => l.startsWith("My goal is"));
      const goal = goalLine ? parse(goalLine) : undefined;
      if (!atoms.ok) return "no state";
      const names = [
        ...new Set(atoms.value.flatMap((a) => a.replace(/[()]/g, "").split(" ").slice(1))),
      ].sort();
      const grounding = ground(
        step4.domain,
        names.map((name) => ({ name, type: "object" })),
      );
      const s: BlocksWorldState = {
        objects: grounding.objects,
        goal: goal?.ok ? makeState(goal.value) : [],
        atoms: makeState(atoms.value),
      };
      const after = (text: string): BlocksWorldState => {
        const a = parseActionText(text, { vocabulary });
        const op = a.ok ? grounding.operator(a.value) : undefined;
        const r = op ? applyOperator(s.atoms, op) : undefined;
        return r?.ok ? { ...s, atoms: r.state } : s;
      };
      const actionLine = lines.find((l) => l.startsWith("Action: "));
      if (actionLine) return renderState(vocabulary, after(actionLine.slice("Action: ".length)).atoms);
      const options = lines.filter((l) => l.startsWith("- ")).map((l) => l.slice(2));
      const best = [...options].sort((x, y) => exact.distance(after(x)) - exact.distance(after(y)))[0];
      return JSON.stringify({ action: best ?? "" });
    },
  });
}

/** The registry's BlocksWorld entry with this kit wired in (as the lead wires it), and optionally fewer tries. */
function entry(maxTries?: number): EnvEntry {
  const base = envEntry("blocksworld") as EnvEntry<BlocksWorldObservation, BlocksWorldAction>;
  const wired: EnvEntry<BlocksWorldObservation, BlocksWorldAction> = {
    ...base,
    create: (instance, where) => {
      if (maxTries === undefined) return base.create(instance, where);
      const data = loadBlocksWorld(where.dataDir, where.split);
      return new BlocksWorldEnv(data.instance(instance), data.vocabulary, { maxTries });
    },
    kit: (where) => ({ ...base.kit(where), rafa: blocksworldRafa(where) }),
  };
  return wired as unknown as EnvEntry;
}

function config(
  agentName: string,
  instances: string[],
  options: Record<string, unknown>,
  model = "exact",
): RunConfig {
  return {
    env: "blocksworld",
    agent: agentName,
    model,
    split: "step_4",
    instances,
    seeds: [1],
    concurrency: 1,
    maxSteps: 360,
    prices: {},
    cache: { path: "", mode: "off" },
    dataDir: DATA,
    options,
  };
}

describe("through the runner", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "bayesact-bw-rafa-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function run(
    name: string,
    agentName: string,
    instances: string[],
    options: Record<string, unknown>,
    model?: LanguageModel,
    maxTries?: number,
  ) {
    const store = RunStore.create(join(dir, name), name);
    const result = await executeRun({
      store,
      config: config(agentName, instances, options, model ? model.id : "exact"),
      env: entry(maxTries),
      agent: agentEntry(agentName),
      ...(model ? { model } : {}),
    });
    const id = `${instances[0]}#1`;
    const out = {
      summary: result.summary,
      steps: store.steps(id),
      calls: store.llmCalls(id),
      trees: store.trees(id),
    };
    await store.close();
    return out;
  }

  it("journals steps, bounded search trees and the solved-by-try curve", async () => {
    const { summary, steps, trees } = await run("imperfect", "rafa", ["instance-297"], {
      roles: "imperfect",
    });
    expect(summary?.success_rate).toBe(1);
    expect(trees).toHaveLength(steps.length);
    for (const tree of trees) {
      expect(tree.nodes.length).toBeLessThanOrEqual(8);
      expect(tree.nodes[0]?.state).toMatch(/^I have that, /);
      expect(tree.chosen).not.toBeNull();
    }
    const tries = Number(steps.at(-1)?.info?.try);
    expect(tries).toBeGreaterThan(1);
    expect(summary?.curves.solved_by_try?.slice(0, tries)).toEqual([...Array(tries - 1).fill(0), 1]);
    const rap = await run("rap", "rap", ["instance-297"], { roles: "imperfect" });
    expect(rap.summary?.success_rate).toBe(0);
    expect(rap.trees).toHaveLength(60);
  });

  it("an LLM run is journaled call by call and replays from its cassette without the model", async () => {
    const cassette = join(dir, "oracle.jsonl");
    const oracle = oracleLlm();
    const instances = ["instance-1", "instance-2"];
    const recorded = await run("record", "rafa", instances, {}, withRecorder(oracle, { path: cassette }), 3);
    expect(recorded.summary?.success_rate).toBe(1);
    expect(recorded.summary?.llm.calls).toBe(oracle.calls.length);
    expect(recorded.calls.length).toBeGreaterThan(0);
    const kinds = recorded.calls.map((c) =>
      c.messages.at(-1)?.content.includes("Action: ") ? "predict" : "choice",
    );
    expect(kinds).toContain("predict");
    expect(kinds).toContain("choice");
    expect(recorded.calls.every((c) => c.ok && c.responses.length === 1)).toBe(true);

    const replayed = await run("replay", "rafa", instances, {}, new ReplayModel({ path: cassette }), 3);
    expect(oracle.calls).toHaveLength(recorded.summary?.llm.calls ?? -1);
    expect(replayed.steps.map((s) => s.action)).toEqual(recorded.steps.map((s) => s.action));
    expect(replayed.calls.map((c) => c.responses)).toEqual(recorded.calls.map((c) => c.responses));
    expect({ ...replayed.summary, wall_s: 0 }).toEqual({
      ...recorded.summary,
      wall_s: 0,
      model: replayed.summary?.model,
    });
  });

  it("RAFA runs on a real llama.cpp engine (generated tiny GGUF): legal actions, generations journaled", async () => {
    const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 3, contextLength: 4096 });
    const model = createModel(`llamacpp:${tiny.path}?ctx=4096&threads=1&parallel=2`, { retry: false });
    try {
      // prior=auto scores the actions (llama.cpp has exact log-likelihoods); prior=choice asks under a grammar.
      for (const prior of ["auto", "choice"]) {
        const { summary, steps, calls } = await run(
          `tiny-${prior}`,
          "rafa",
          ["instance-1"],
          { maxTokens: 24, prior },
          model,
          1,
        );
        // Random weights: no competence is expected, only a finished episode of legal actions.
        expect(summary?.episodes).toBe(1);
        expect(steps).toHaveLength(4);
        expect(steps.every((s) => s.info?.inapplicable === undefined)).toBe(true);
        expect(summary?.llm.calls).toBe(calls.length);
        expect(calls.every((c) => c.ok)).toBe(true);
        const kinds = new Set(
          calls.map((c) =>
            c.messages[0]?.role === "score:prefix"
              ? "score"
              : c.messages.at(-1)?.content.includes("Describe every fact that holds after this action")
                ? "predict"
                : c.messages.at(-1)?.content.includes("These actions are possible now:")
                  ? "choice"
                  : "other",
          ),
        );
        // Scored priors (RAP's r₀ from log-likelihoods) are journaled like every other model call.
        expect([...kinds].sort()).toEqual(prior === "choice" ? ["choice", "predict"] : ["predict", "score"]);
      }
    } finally {
      await model.close?.();
    }
  });
});
