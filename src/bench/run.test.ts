import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Emitter } from "../core/events.ts";
import { type OpenAIServer, startOpenAIServer } from "../llm/testing/openai-server.ts";
import { resumeRun, startRun } from "./run.ts";
import type { RunEvents } from "./runner.ts";
import { RunStore } from "./store.ts";

let dir: string;
let server: OpenAIServer;
const KEY = "sk-planted-3f9c2a71e5b84d06a1c7";
const DATA = resolve("../shared/data");

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-run-"));
  // Answers the direct agent's prompt with the first legal cell, and insists on the planted key.
  server = await startOpenAIServer({
    apiKey: KEY,
    respond: (body) => {
      const prompt = body.messages.at(-1)?.content ?? "";
      const legal = /Legal actions: ([0-9, ]+)/.exec(prompt)?.[1]?.split(", ")[0] ?? "5";
      return JSON.stringify({ action: legal });
    },
  });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const base = {
  env: "tictactoe",
  agent: "lookahead",
  seeds: Array.from({ length: 30 }, (_, i) => i + 1),
  concurrency: 3,
  dataDir: "../shared/data",
};

function withoutTimings(summaryPath: string): unknown {
  const s = JSON.parse(readFileSync(summaryPath, "utf8")) as Record<string, unknown>;
  delete s.wall_s;
  return s;
}

describe("runs on the exact twins", () => {
  it("an interrupted run, resumed, gives the same summary as an uninterrupted one", async () => {
    // Big enough that the abort lands mid-run although episodes take well under a millisecond.
    const grid = { ...base, seeds: Array.from({ length: 500 }, (_, i) => i + 1) };
    const whole = await startRun({ ...grid, out: join(dir, "whole") });
    expect(whole.status).toBe("complete");
    expect(whole.summary?.episodes).toBe(1000);

    const controller = new AbortController();
    const events = new Emitter<RunEvents>();
    events.on("episode.done", (e) => {
      if (e.done === 17) controller.abort();
    });
    const first = await startRun({ ...grid, out: join(dir, "split") }, { signal: controller.signal, events });
    expect(first.status).toBe("interrupted");
    const partial = RunStore.open(join(dir, "split"));
    const finished = partial.doneIds().size;
    await partial.close();
    expect(finished).toBeGreaterThanOrEqual(17);
    expect(finished).toBeLessThan(1000);

    const resumed = await resumeRun(join(dir, "split"));
    expect(resumed.status).toBe("complete");
    expect(withoutTimings(join(dir, "split", "summary.json"))).toEqual(
      withoutTimings(join(dir, "whole", "summary.json")),
    );
    // Nothing ran twice: every step row belongs to a finished episode and the counts add up.
    const store = RunStore.open(join(dir, "split"));
    const episodes = store.episodes();
    expect(episodes).toHaveLength(1000);
    expect(episodes.reduce((s, e) => s + store.steps(e.id).length, 0)).toBe(
      episodes.reduce((s, e) => s + e.steps, 0),
    );
    await store.close();
  });

  it("the same config and seeds give byte-identical summaries apart from wall time", async () => {
    const a = await startRun({ ...base, out: join(dir, "det-a"), concurrency: 1 });
    const b = await startRun({ ...base, out: join(dir, "det-b"), concurrency: 7 });
    expect(a.summary && { ...a.summary, wall_s: 0 }).toEqual(b.summary && { ...b.summary, wall_s: 0 });
    const text = (d: string) =>
      readFileSync(join(dir, d, "summary.json"), "utf8").replace(/"wall_s": [0-9.e-]+/, "");
    expect(text("det-a")).toBe(text("det-b"));
  });
});

describe("the exact twins through the runner", () => {
  it("solve the Game of 24 test split: 100/100 in the minimum 4 steps", async () => {
    const out = join(dir, "game24");
    const outcome = await startRun({
      env: "game24",
      agent: "lookahead",
      seeds: [1],
      concurrency: 2,
      dataDir: DATA,
      out,
    });
    expect(outcome.summary?.episodes).toBe(100);
    expect(outcome.summary?.success_rate).toBe(1);
    expect(outcome.summary?.mean_steps).toBe(4);
    expect(Object.keys(outcome.manifest.dataFiles)).toEqual([join(DATA, "game24", "24.csv")]);
  });

  it("solve BlocksWorld step_4 57/57 and step_6 114/114 with plans of optimal length", async () => {
    for (const [split, n, length] of [
      ["step_4", 57, 4],
      ["step_6", 114, 6],
    ] as const) {
      const outcome = await startRun({
        env: "blocksworld",
        agent: "lookahead",
        split,
        seeds: [1],
        concurrency: 2,
        dataDir: DATA,
        out: join(dir, `bw-${split}`),
      });
      expect(outcome.summary?.episodes).toBe(n);
      expect(outcome.summary?.success_rate).toBe(1);
      expect(outcome.summary?.mean_steps).toBe(length);
    }
  });

  it("run any folder of PDDL problems of the domain (--split folder), lengths from the planner", async () => {
    const folder = join(dir, "pddl-folder");
    mkdirSync(folder);
    const src = join(DATA, "blocksworld");
    for (const f of ["generated_domain.pddl", "bw_config.yaml"]) copyFileSync(join(src, f), join(folder, f));
    for (const n of [1, 2, 3])
      copyFileSync(join(src, "generated_basic", `instance-${n}.pddl`), join(folder, `instance-${n}.pddl`));
    const outcome = await startRun({
      env: "blocksworld",
      agent: "lookahead",
      split: "folder",
      seeds: [1],
      concurrency: 1,
      dataDir: folder,
      out: join(dir, "bw-folder"),
    });
    expect(outcome.summary?.episodes).toBe(3);
    expect(outcome.summary?.success_rate).toBe(1);
    expect(Object.keys(outcome.manifest.dataFiles).length).toBeGreaterThanOrEqual(4);
  });

  it("journal search trees with the states as text", async () => {
    const out = join(dir, "trees");
    await startRun({ ...base, seeds: [1], out });
    const store = RunStore.open(out);
    const tree = store.trees("minimax#1")[0];
    await store.close();
    expect(tree?.nodes[0]?.state).toContain(" | ");
    expect(tree?.nodes[1]?.action).toMatch(/^[1-9]$/);
  });
});

describe("setup mistakes", () => {
  it("an agent rejecting its options stops the run instead of recording failed episodes", async () => {
    const { executeRun } = await import("./runner.ts");
    const { agentEntry, envEntry } = await import("./registry.ts");
    const { resolveConfig } = await import("./run.ts");
    const { UserError } = await import("../core/errors.ts");
    const config = resolveConfig({ ...base, seeds: [1, 2] });
    const store = RunStore.create(join(dir, "setup-error"), "x");
    const picky = {
      ...agentEntry("random"),
      create: () => {
        throw new UserError("unknown option --opt breadth=zero");
      },
    };
    await expect(executeRun({ store, config, env: envEntry("tictactoe"), agent: picky })).rejects.toThrow(
      /breadth=zero/,
    );
    expect(store.episodes()).toEqual([]);
    await store.close();
  });
});

describe("runs with a language model", () => {
  it("journal every call; the planted API key appears in no file the run writes", async () => {
    const env = { BAYESACT_API_KEY: KEY, OPENAI_API_KEY: KEY };
    const out = join(dir, "llm");
    const outcome = await startRun(
      {
        ...base,
        agent: "direct",
        model: `openai-compatible:${server.url}#fake`,
        seeds: [1, 2],
        cache: { path: join(dir, "cache.sqlite"), mode: "read-write" },
        out,
      },
      { env },
    );
    expect(outcome.status).toBe("complete");
    expect(outcome.summary?.llm.calls).toBeGreaterThan(0);
    expect(outcome.summary?.llm.input_tokens).toBeGreaterThan(0);
    expect(outcome.manifest.models[`openai-compatible:${server.url}#fake`]?.jsonSchema).toBe(true);
    const store = RunStore.open(out);
    const calls = store.llmCalls("minimax#1");
    await store.close();
    expect(calls.length).toBeGreaterThan(0);
    expect(calls[0]?.messages[0]?.content).toContain("Legal actions");
    expect(calls[0]?.responses[0]).toMatch(/"action"/);
    // The key was really used (the server rejects others), and is nowhere on disk.
    expect(server.requests.some((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
    for (const file of [...readdirSync(out).map((f) => join(out, f)), join(dir, "cache.sqlite")]) {
      if (statSync(file).isFile()) expect(readFileSync(file).includes(KEY), file).toBe(false);
    }
  });

  it("a budget cap stops the run cleanly and leaves it resumable", async () => {
    const out = join(dir, "budget");
    const env = { BAYESACT_API_KEY: KEY };
    const outcome = await startRun(
      {
        ...base,
        agent: "direct",
        model: `openai-compatible:${server.url}#priced`,
        seeds: [1, 2, 3, 4, 5],
        concurrency: 1,
        prices: { priced: { inputPerMTok: 1000, outputPerMTok: 1000 } },
        budgetUsd: 1,
        cache: { path: join(dir, "cache2.sqlite"), mode: "off" },
        out,
      },
      { env },
    );
    expect(outcome.status).toBe("budget");
    const store = RunStore.open(out);
    const spent = store.episodes().reduce((s, e) => s + e.costUsd, 0);
    await store.close();
    expect(spent).toBeLessThanOrEqual(1);
  });
});
