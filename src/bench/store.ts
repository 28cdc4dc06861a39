import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import type { SearchNode } from "../core/episode.ts";
import type { JournalBatch } from "./journal-sql.ts";
import { JournalWriter } from "./journal-writer.ts";
import { createRunDb, openRunDb, RUN_DB, type RunDbKind, transaction } from "./store-db.ts";
import type { EpisodeRecord, LlmCallRecord, StepRecord, TreeRecord } from "./types.ts";

/**
 * `run.sqlite`: the journal of a run — episodes, steps, LLM calls and planner search trees.
 *
 * Durability model: an episode's rows are buffered and written in one transaction together with the row that marks
 * it done (and, for long episodes, flushed in between by `flush`, each flush one transaction). So a crash at any
 * moment leaves every finished episode complete, and at most some rows of unfinished ones; `resume` deletes those
 * and runs the unfinished episodes again from their beginning with their own seeds.
 *
 * Cost model: the writes run on a writer thread (`journal-writer.ts`) with its own connection, so SQLite and
 * serialisation use the second core while the agent keeps the first; on the exact twins, where a step takes
 * microseconds, writing on the main thread would double a run's time. Reads use the main connection.
 */
export { RUN_DB };

const APP = "bayesact-run";
/** 2 added the attempt columns (`retries`, `retry_wait_ms`, `timeouts`) to `llm_calls` and `episodes`. */
const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE episodes (
  id TEXT PRIMARY KEY, idx INTEGER NOT NULL, instance TEXT NOT NULL, seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done')),
  success INTEGER, total_return REAL, steps INTEGER, end_reason TEXT,
  llm_calls INTEGER, input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL, cache_hits INTEGER, wall_ms REAL,
  curves TEXT, retries INTEGER, retry_wait_ms REAL, timeouts INTEGER
);
CREATE TABLE steps (
  episode_id TEXT NOT NULL, t INTEGER NOT NULL, observation TEXT NOT NULL, action TEXT NOT NULL,
  reward REAL NOT NULL, feedback TEXT NOT NULL, done INTEGER NOT NULL, next_observation TEXT NOT NULL, info TEXT,
  PRIMARY KEY (episode_id, t)
);
CREATE TABLE llm_calls (
  episode_id TEXT NOT NULL, seq INTEGER NOT NULL, t INTEGER NOT NULL, request_hash TEXT NOT NULL, model TEXT NOT NULL,
  messages TEXT NOT NULL, responses TEXT NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  latency_ms REAL NOT NULL, cost_usd REAL NOT NULL, cache_hits INTEGER NOT NULL, samples INTEGER NOT NULL,
  ok INTEGER NOT NULL, error_category TEXT,
  retries INTEGER NOT NULL DEFAULT 0, retry_wait_ms REAL NOT NULL DEFAULT 0, timeouts INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (episode_id, seq)
);
-- nodes: JSON array of {id, parent, action, state, value, visits, reward?} (SearchNode), one row per tree.
CREATE TABLE trees (
  episode_id TEXT NOT NULL, t INTEGER NOT NULL, chosen INTEGER, nodes TEXT NOT NULL,
  PRIMARY KEY (episode_id, t)
);
`;

/**
 * Columns appended at the end, so a migrated file has the same tables as a new one. Rows journaled before have no
 * attempt counts: they read as 0 (the retries happened, but were not recorded).
 */
const MIGRATIONS: Readonly<Record<number, string>> = {
  1: `
ALTER TABLE episodes ADD COLUMN retries INTEGER;
ALTER TABLE episodes ADD COLUMN retry_wait_ms REAL;
ALTER TABLE episodes ADD COLUMN timeouts INTEGER;
ALTER TABLE llm_calls ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE llm_calls ADD COLUMN retry_wait_ms REAL NOT NULL DEFAULT 0;
ALTER TABLE llm_calls ADD COLUMN timeouts INTEGER NOT NULL DEFAULT 0;
`,
};

/** A foreign or damaged `run.sqlite` is the user's to fix: one line, nothing touched. */
const KIND: RunDbKind = {
  app: APP,
  schemaVersion: SCHEMA_VERSION,
  schema: SCHEMA,
  noun: "bayesact run",
  writer: "bayesact",
  migrations: MIGRATIONS,
};

interface Buffered {
  readonly episode: { id: string; index: number; instance: string; seed: number };
  steps: StepRecord[];
  calls: LlmCallRecord[];
  trees: TreeRecord[];
}

export class RunStore {
  readonly dir: string;
  readonly runId: string;
  /** The main connection: schema, meta and every read. Episode rows are written by the journal writer thread. */
  private readonly db: DatabaseSync;
  private readonly buffers = new Map<string, Buffered>();
  private writer: JournalWriter | undefined;
  private closed = false;
  /** Schema version of the file (older than current only when opened for reading). */
  private readonly schemaVersion: number;

  private constructor(dir: string, db: DatabaseSync, runId: string, schemaVersion = SCHEMA_VERSION) {
    this.dir = dir;
    this.db = db;
    this.runId = runId;
    this.schemaVersion = schemaVersion;
  }

  /** Start a new run in `dir` (created if needed). Refuses a folder that already holds a run. */
  static create(dir: string, runId: string): RunStore {
    const db = createRunDb(dir, KIND, { run_id: runId, wall_ms: "0" });
    return new RunStore(dir, db, runId);
  }

  /**
   * Open an existing run. The file is checked read-only first, so a foreign or damaged file is reported and left
   * exactly as it was. A run journaled by an older schema version is migrated in place when opened `forWriting`
   * (`resume`), and otherwise read as it is, its missing columns as 0 (`report` leaves the folder untouched).
   */
  static open(dir: string, options: { forWriting?: boolean } = {}): RunStore {
    const { db, meta, schemaVersion } = openRunDb(
      dir,
      KIND,
      (check) => check.prepare("SELECT count(*) FROM episodes").get(),
      { migrate: options.forWriting ?? false },
    );
    return new RunStore(dir, db, meta.get("run_id") ?? "", schemaVersion);
  }

  /** Ids of finished episodes. */
  doneIds(): Set<string> {
    const rows = this.db.prepare("SELECT id FROM episodes WHERE status = 'done'").all() as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Delete every unfinished episode and its rows, including rows flushed by an attempt that never marked its episode
   * (they rerun from scratch); returns how many unfinished episodes there were.
   */
  resetUnfinished(): number {
    let count = 0;
    transaction(this.db, () => {
      const row = this.db.prepare("SELECT count(*) AS n FROM episodes WHERE status = 'running'").get() as {
        n: number;
      };
      count = row.n;
      for (const table of ["steps", "llm_calls", "trees"]) {
        this.db
          .prepare(
            `DELETE FROM ${table} WHERE episode_id NOT IN (SELECT id FROM episodes WHERE status = 'done')`,
          )
          .run();
      }
      this.db.prepare("DELETE FROM episodes WHERE status = 'running'").run();
    });
    return count;
  }

  /** Begin buffering an episode's rows. Nothing is written until a flush or its completion. */
  startEpisode(e: { id: string; index: number; instance: string; seed: number }): void {
    this.buffers.set(e.id, { episode: { ...e }, steps: [], calls: [], trees: [] });
  }

  private buffer(episodeId: string): Buffered {
    const b = this.buffers.get(episodeId);
    if (!b) throw new Error(`RunStore: episode ${episodeId} was not started`);
    return b;
  }

  journalStep(step: StepRecord): void {
    this.buffer(step.episodeId).steps.push(step);
  }

  journalCall(call: LlmCallRecord): void {
    this.buffer(call.episodeId).calls.push(call);
  }

  journalTree(tree: TreeRecord): void {
    this.buffer(tree.episodeId).trees.push(tree);
  }

  /** Rows buffered for an episode (to decide when to flush a long one). */
  pending(episodeId: string): number {
    const b = this.buffers.get(episodeId);
    return b ? b.steps.length + b.calls.length + b.trees.length : 0;
  }

  private takeBatch(episodeId: string, finish?: EpisodeRecord): JournalBatch {
    const b = this.buffer(episodeId);
    const batch: JournalBatch = {
      episode: b.episode,
      steps: b.steps,
      calls: b.calls,
      trees: b.trees,
      ...(finish ? { finish } : {}),
    };
    b.steps = [];
    b.calls = [];
    b.trees = [];
    return batch;
  }

  private journalWriter(): JournalWriter {
    if (this.schemaVersion !== SCHEMA_VERSION) {
      throw new Error(
        `RunStore: ${this.dir} has schema version ${this.schemaVersion} and was opened for reading; open it forWriting`,
      );
    }
    this.writer ??= new JournalWriter(join(this.dir, RUN_DB));
    return this.writer;
  }

  /** Write a long episode's buffered rows now (one transaction; the episode stays unfinished). */
  flush(episodeId: string): Promise<void> {
    return this.journalWriter().write(this.takeBatch(episodeId));
  }

  /**
   * Write the rest of the episode and mark it done in one transaction. Resolves once committed: only then is the
   * episode finished (a crash before that reruns it on resume).
   */
  finishEpisode(record: EpisodeRecord): Promise<void> {
    const batch = this.takeBatch(record.id, record);
    this.buffers.delete(record.id);
    return this.journalWriter().write(batch);
  }

  /** Forget an episode's unwritten rows (it was interrupted; it reruns on resume). */
  abandonEpisode(episodeId: string): void {
    this.buffers.delete(episodeId);
  }

  /** Add to the run's accumulated wall time (kept across resumes). */
  addWallMs(ms: number): void {
    this.db
      .prepare("UPDATE meta SET value = CAST(CAST(value AS REAL) + ? AS TEXT) WHERE key = 'wall_ms'")
      .run(ms);
  }

  wallMs(): number {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'wall_ms'").get() as
      | { value: string }
      | undefined;
    return Number(row?.value ?? 0);
  }

  /** Finished episodes in grid order. */
  episodes(): EpisodeRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM episodes WHERE status = 'done' ORDER BY idx")
      .all() as unknown as EpisodeRow[];
    return rows.map((r) => ({
      id: r.id,
      index: r.idx,
      instance: r.instance,
      seed: r.seed,
      status: "done",
      success: r.success === 1,
      totalReturn: r.total_return,
      steps: r.steps,
      end: r.end_reason,
      llmCalls: r.llm_calls,
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      costUsd: r.cost_usd,
      cacheHits: r.cache_hits,
      retries: r.retries ?? 0,
      retryWaitMs: r.retry_wait_ms ?? 0,
      timeouts: r.timeouts ?? 0,
      wallMs: r.wall_ms,
      ...(r.curves === null ? {} : { curves: JSON.parse(r.curves) as Record<string, number[]> }),
    }));
  }

  steps(episodeId: string): StepRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM steps WHERE episode_id = ? ORDER BY t")
      .all(episodeId) as unknown as StepRow[];
    return rows.map((r) => ({
      episodeId: r.episode_id,
      t: r.t,
      observation: r.observation,
      action: r.action,
      reward: r.reward,
      feedback: r.feedback,
      done: r.done === 1,
      nextObservation: r.next_observation,
      ...(r.info === null ? {} : { info: JSON.parse(r.info) as Record<string, unknown> }),
    }));
  }

  llmCalls(episodeId: string): LlmCallRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM llm_calls WHERE episode_id = ? ORDER BY seq")
      .all(episodeId) as unknown as CallRow[];
    return rows.map((r) => ({
      episodeId: r.episode_id,
      t: r.t,
      seq: r.seq,
      requestHash: r.request_hash,
      model: r.model,
      messages: JSON.parse(r.messages) as LlmCallRecord["messages"],
      responses: JSON.parse(r.responses) as string[],
      inputTokens: r.input_tokens,
      outputTokens: r.output_tokens,
      latencyMs: r.latency_ms,
      costUsd: r.cost_usd,
      cacheHits: r.cache_hits,
      samples: r.samples,
      retries: r.retries ?? 0,
      retryWaitMs: r.retry_wait_ms ?? 0,
      timeouts: r.timeouts ?? 0,
      ok: r.ok === 1,
      ...(r.error_category === null ? {} : { errorCategory: r.error_category }),
    }));
  }

  trees(episodeId: string): TreeRecord[] {
    const rows = this.db
      .prepare("SELECT t, chosen, nodes FROM trees WHERE episode_id = ? ORDER BY t")
      .all(episodeId) as { t: number; chosen: number | null; nodes: string }[];
    return rows.map((r) => ({
      episodeId,
      t: r.t,
      chosen: r.chosen,
      nodes: JSON.parse(r.nodes) as SearchNode[],
    }));
  }

  /** Wait for pending writes, stop the writer thread, close the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writer?.close();
    this.db.close();
  }
}

interface EpisodeRow {
  id: string;
  idx: number;
  instance: string;
  seed: number;
  success: number;
  total_return: number;
  steps: number;
  end_reason: string;
  llm_calls: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
  cache_hits: number;
  wall_ms: number;
  curves: string | null;
  /** Absent in a schema-1 file opened for reading; null in one migrated from it. */
  retries?: number | null;
  retry_wait_ms?: number | null;
  timeouts?: number | null;
}
interface StepRow {
  episode_id: string;
  t: number;
  observation: string;
  action: string;
  reward: number;
  feedback: string;
  done: number;
  next_observation: string;
  info: string | null;
}
interface CallRow {
  episode_id: string;
  seq: number;
  t: number;
  request_hash: string;
  model: string;
  messages: string;
  responses: string;
  input_tokens: number;
  output_tokens: number;
  latency_ms: number;
  cost_usd: number;
  cache_hits: number;
  samples: number;
  ok: number;
  error_category: string | null;
  /** Absent in a schema-1 file opened for reading. */
  retries?: number;
  retry_wait_ms?: number;
  timeouts?: number;
}
