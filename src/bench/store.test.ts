import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { userError } from "../core/testing.ts";
import { RUN_DB, RunStore } from "./store.ts";
import { downgradeToSchemaV1, RUN_SCHEMA_V1, schemaOf } from "./testing.ts";
import type { EpisodeRecord, LlmCallRecord } from "./types.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-store-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function done(id: string, index: number, extra: Partial<EpisodeRecord> = {}): EpisodeRecord {
  return {
    id,
    index,
    instance: id.split("#")[0] ?? id,
    seed: Number(id.split("#")[1]),
    status: "done",
    success: true,
    totalReturn: 1,
    steps: 1,
    end: "done",
    llmCalls: 1,
    inputTokens: 10,
    outputTokens: 2,
    costUsd: 0.001,
    cacheHits: 0,
    retries: 0,
    retryWaitMs: 0,
    timeouts: 0,
    wallMs: 3,
    ...extra,
  };
}

describe("RunStore", () => {
  it("round-trips episodes, steps, LLM calls and trees", async () => {
    const store = RunStore.create(dir, "run-1");
    store.startEpisode({ id: "a#1", index: 0, instance: "a", seed: 1 });
    store.journalStep({
      episodeId: "a#1",
      t: 0,
      observation: "s0",
      action: "go",
      reward: 1,
      feedback: "ok",
      done: true,
      nextObservation: "s1",
      info: { k: 1 },
    });
    store.journalCall({
      episodeId: "a#1",
      t: 0,
      seq: 0,
      requestHash: "h",
      model: "m",
      messages: [{ role: "user", content: "<script>" }],
      responses: ["go"],
      inputTokens: 10,
      outputTokens: 2,
      latencyMs: 5,
      costUsd: 0.001,
      cacheHits: 0,
      samples: 1,
      retries: 2,
      retryWaitMs: 750.5,
      timeouts: 1,
      ok: true,
    });
    store.journalTree({
      episodeId: "a#1",
      t: 0,
      chosen: 1,
      nodes: [
        { id: 0, parent: null, action: null, state: "s0", value: 1, visits: 2 },
        { id: 1, parent: 0, action: "go", state: "s1", value: 1, visits: 1, reward: 1 },
      ],
    });
    const attempts = { retries: 2, retryWaitMs: 750.5, timeouts: 1 };
    await store.finishEpisode(done("a#1", 0, attempts));
    await store.close();

    const again = RunStore.open(dir);
    expect(again.runId).toBe("run-1");
    expect(again.episodes()).toEqual([done("a#1", 0, attempts)]);
    expect(again.steps("a#1")).toEqual([
      {
        episodeId: "a#1",
        t: 0,
        observation: "s0",
        action: "go",
        reward: 1,
        feedback: "ok",
        done: true,
        nextObservation: "s1",
        info: { k: 1 },
      },
    ]);
    expect(again.llmCalls("a#1")[0]?.messages[0]?.content).toBe("<script>");
    expect(again.llmCalls("a#1")[0]).toMatchObject({ retries: 2, retryWaitMs: 750.5, timeouts: 1 });
    expect(again.trees("a#1")).toEqual([
      {
        episodeId: "a#1",
        t: 0,
        chosen: 1,
        nodes: [
          { id: 0, parent: null, action: null, state: "s0", value: 1, visits: 2 },
          { id: 1, parent: 0, action: "go", state: "s1", value: 1, visits: 1, reward: 1 },
        ],
      },
    ]);
    await again.close();
  });

  it("an unfinished episode leaves no finished trace and is cleared on resume", async () => {
    const store = RunStore.create(dir, "run-1");
    store.startEpisode({ id: "a#1", index: 0, instance: "a", seed: 1 });
    store.journalStep({
      episodeId: "a#1",
      t: 0,
      observation: "s",
      action: "x",
      reward: 0,
      feedback: "",
      done: false,
      nextObservation: "s",
    });
    await store.flush("a#1"); // a long episode flushed part of its rows, then the process died
    store.startEpisode({ id: "a#2", index: 1, instance: "a", seed: 2 });
    await store.finishEpisode(done("a#2", 1));
    await store.close();

    const again = RunStore.open(dir);
    expect([...again.doneIds()]).toEqual(["a#2"]);
    expect(again.resetUnfinished()).toBe(1);
    expect(again.steps("a#1")).toEqual([]);
    expect(again.episodes().map((e) => e.id)).toEqual(["a#2"]);
    await again.close();
  });

  it("a schema-1 run is read with zeros and left as it is, and migrated in place when opened for writing", async () => {
    // A run.sqlite as bayesact wrote it before the attempt columns: the old CREATE statements, one finished episode.
    const old = new DatabaseSync(join(dir, RUN_DB));
    old.exec("PRAGMA journal_mode = WAL"); // as bayesact always opened it
    old.exec(RUN_SCHEMA_V1);
    old.exec(`
INSERT INTO meta VALUES ('app', 'bayesact-run'), ('schema_version', '1'), ('run_id', 'old-run'), ('wall_ms', '5');
INSERT INTO episodes VALUES ('a#1', 0, 'a', 1, 'done', 1, 1, 1, 'done', 1, 10, 2, 0.001, 0, 3, NULL);
INSERT INTO llm_calls VALUES ('a#1', 0, 0, 'h', 'm', '[]', '["go"]', 10, 2, 5, 0.001, 0, 1, 1, NULL);`);
    old.close();

    const reading = RunStore.open(dir);
    expect(reading.runId).toBe("old-run");
    expect(reading.episodes()).toEqual([done("a#1", 0)]);
    expect(reading.llmCalls("a#1")[0]).toMatchObject({
      responses: ["go"],
      retries: 0,
      retryWaitMs: 0,
      timeouts: 0,
    });
    await reading.close();
    expect(schemaOf(dir)).toEqual({ version: "1", attemptColumns: false });

    const writing = RunStore.open(dir, { forWriting: true });
    expect(schemaOf(dir)).toEqual({ version: "2", attemptColumns: true });
    expect(writing.episodes()).toEqual([done("a#1", 0)]);
    writing.startEpisode({ id: "a#2", index: 1, instance: "a", seed: 2 });
    const call: LlmCallRecord = {
      episodeId: "a#2",
      t: 0,
      seq: 0,
      requestHash: "h",
      model: "m",
      messages: [],
      responses: ["go"],
      inputTokens: 1,
      outputTokens: 1,
      latencyMs: 1,
      costUsd: 0,
      cacheHits: 0,
      samples: 1,
      retries: 1,
      retryWaitMs: 250,
      timeouts: 1,
      ok: true,
    };
    writing.journalCall(call);
    await writing.finishEpisode(done("a#2", 1, { retries: 1, retryWaitMs: 250, timeouts: 1 }));
    await writing.close();

    const again = RunStore.open(dir);
    expect(again.episodes().map((e) => [e.id, e.retries, e.retryWaitMs, e.timeouts])).toEqual([
      ["a#1", 0, 0, 0],
      ["a#2", 1, 250, 1],
    ]);
    expect(again.llmCalls("a#2")).toEqual([call]);
    await again.close();
  });

  it("a run rewritten as schema 1 reads its episodes with zero attempts (they were not recorded then)", async () => {
    const store = RunStore.create(dir, "run-1");
    store.startEpisode({ id: "a#1", index: 0, instance: "a", seed: 1 });
    await store.finishEpisode(done("a#1", 0, { retries: 2, retryWaitMs: 1, timeouts: 1 }));
    await store.close();
    downgradeToSchemaV1(dir);
    expect(schemaOf(dir)).toEqual({ version: "1", attemptColumns: false });
    const reading = RunStore.open(dir);
    // The attempts were not recorded by schema 1: they read as 0.
    expect(reading.episodes()).toEqual([done("a#1", 0)]);
    await reading.close();
  });

  it("a schema version this bayesact cannot migrate is still refused, the file untouched", () => {
    const newer = new DatabaseSync(join(dir, RUN_DB));
    newer.exec(RUN_SCHEMA_V1);
    newer.exec("INSERT INTO meta VALUES ('app', 'bayesact-run'), ('schema_version', '9'), ('run_id', 'x')");
    newer.close();
    const bytes = readFileSync(join(dir, RUN_DB));
    expect(userError(() => RunStore.open(dir, { forWriting: true })).message).toMatch(
      /schema version 9 \(this bayesact reads 2\)/,
    );
    expect(readFileSync(join(dir, RUN_DB)).equals(bytes)).toBe(true);
  });

  it("refuses to create a run over an existing one", async () => {
    await RunStore.create(dir, "run-1").close();
    const before = readFileSync(join(dir, RUN_DB));
    expect(userError(() => RunStore.create(dir, "run-2")).message).toMatch(/already holds a run/);
    expect(readFileSync(join(dir, RUN_DB)).equals(before)).toBe(true);
  });

  it("a missing folder, a foreign SQLite file and a garbage file are one-line user errors, left untouched", () => {
    expect(userError(() => RunStore.open(join(dir, "nope"))).message).toMatch(/no run folder/);

    const foreign = new DatabaseSync(join(dir, RUN_DB));
    foreign.exec("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');");
    foreign.close();
    const foreignBytes = readFileSync(join(dir, RUN_DB));
    const e1 = userError(() => RunStore.open(dir));
    expect(e1.message).toMatch(/not a usable bayesact run/);
    expect(e1.message).not.toContain("\n");
    expect(readFileSync(join(dir, RUN_DB)).equals(foreignBytes)).toBe(true);

    writeFileSync(join(dir, RUN_DB), "this is not a database at all, just text ".repeat(200));
    const garbage = readFileSync(join(dir, RUN_DB));
    const e2 = userError(() => RunStore.open(dir));
    expect(e2.message).toMatch(/not a usable bayesact run/);
    expect(e2.message).not.toContain("\n");
    expect(readFileSync(join(dir, RUN_DB)).equals(garbage)).toBe(true);
  });
});
