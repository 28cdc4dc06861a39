import type { DatabaseSync } from "node:sqlite";
import { createRunDb, openRunDb, type RunDbKind, transaction } from "../bench/store-db.ts";
import type { LlmTotals } from "../llm/middleware/usage.ts";
import type { Trajectory } from "./trajectory.ts";

const APP = "bayesact-train";
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE stages (
  iteration INTEGER NOT NULL, stage TEXT NOT NULL, result TEXT NOT NULL, wall_ms REAL NOT NULL,
  PRIMARY KEY (iteration, stage)
);
CREATE TABLE trajectories (
  iteration INTEGER NOT NULL, instruction TEXT NOT NULL, sample INTEGER NOT NULL, stop TEXT NOT NULL,
  policy_calls INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL, trajectory TEXT NOT NULL,
  PRIMARY KEY (iteration, instruction, sample)
);
CREATE TABLE verdicts (
  iteration INTEGER NOT NULL, instruction TEXT NOT NULL, sample INTEGER NOT NULL,
  prefilter_ok INTEGER NOT NULL, prefilter_reason TEXT, score REAL NOT NULL, reason TEXT NOT NULL, error TEXT,
  truth REAL NOT NULL, kept INTEGER NOT NULL,
  PRIMARY KEY (iteration, instruction, sample)
);
CREATE TABLE models (iteration INTEGER PRIMARY KEY, spec TEXT NOT NULL, details TEXT NOT NULL);
CREATE TABLE evaluations (iteration INTEGER NOT NULL, level INTEGER NOT NULL, summary TEXT NOT NULL, PRIMARY KEY (iteration, level));
`;

export interface TrajectoryRow {
  readonly iteration: number;
  readonly instruction: string;
  readonly sample: number;
  readonly stop: string;
  readonly policyCalls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly trajectory: Trajectory;
}

export interface VerdictRow {
  readonly iteration: number;
  readonly instruction: string;
  readonly sample: number;
  readonly prefilterOk: boolean;
  readonly prefilterReason: string | null;
  /** The configured critic's score (0 when the prefilter rejected or the critic could not judge). */
  readonly score: number;
  readonly reason: string;
  readonly error: string | null;
  /** The exact twin's score: the ground truth the critic's precision and recall are measured against. */
  readonly truth: number;
  readonly kept: boolean;
}

const KIND: RunDbKind = {
  app: APP,
  schemaVersion: SCHEMA_VERSION,
  schema: SCHEMA,
  noun: "self-training run",
  writer: "bayesact train",
};

export class TrainStore {
  readonly dir: string;
  private readonly db: DatabaseSync;

  private constructor(dir: string, db: DatabaseSync) {
    this.dir = dir;
    this.db = db;
  }

  /** Start a new run in `dir` (created if needed). Refuses a folder that already holds a run. */
  static create(dir: string, runId: string): TrainStore {
    return new TrainStore(dir, createRunDb(dir, KIND, { run_id: runId }));
  }

  /** Open an existing run, checked read-only first (a foreign or damaged file is reported and left as it was). */
  static open(dir: string): TrainStore {
    return new TrainStore(
      dir,
      openRunDb(dir, KIND, (check) => check.prepare("SELECT count(*) FROM stages").get()).db,
    );
  }

  stage(iteration: number, stage: string): unknown {
    const row = this.db
      .prepare("SELECT result FROM stages WHERE iteration = ? AND stage = ?")
      .get(iteration, stage) as { result: string } | undefined;
    return row === undefined ? undefined : JSON.parse(row.result);
  }

  finishStage(iteration: number, stage: string, result: unknown, wallMs: number): void {
    this.db
      .prepare("INSERT OR REPLACE INTO stages (iteration, stage, result, wall_ms) VALUES (?, ?, ?, ?)")
      .run(iteration, stage, JSON.stringify(result), wallMs);
  }

  stages(): { iteration: number; stage: string; result: unknown; wallMs: number }[] {
    return (
      this.db
        .prepare("SELECT iteration, stage, result, wall_ms FROM stages ORDER BY iteration, rowid")
        .all() as {
        iteration: number;
        stage: string;
        result: string;
        wall_ms: number;
      }[]
    ).map((r) => ({
      iteration: r.iteration,
      stage: r.stage,
      result: JSON.parse(r.result),
      wallMs: r.wall_ms,
    }));
  }

  putTrajectory(r: TrajectoryRow): void {
    this.db
      .prepare(
        "INSERT OR REPLACE INTO trajectories (iteration, instruction, sample, stop, policy_calls, input_tokens, output_tokens, trajectory) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      )
      .run(
        r.iteration,
        r.instruction,
        r.sample,
        r.stop,
        r.policyCalls,
        r.inputTokens,
        r.outputTokens,
        JSON.stringify(r.trajectory),
      );
  }

  trajectories(iteration: number): TrajectoryRow[] {
    const rows = this.db
      .prepare("SELECT * FROM trajectories WHERE iteration = ? ORDER BY instruction, sample")
      .all(iteration) as Record<string, unknown>[];
    return rows.map((r) => ({
      iteration: Number(r.iteration),
      instruction: String(r.instruction),
      sample: Number(r.sample),
      stop: String(r.stop),
      policyCalls: Number(r.policy_calls),
      inputTokens: Number(r.input_tokens),
      outputTokens: Number(r.output_tokens),
      trajectory: JSON.parse(String(r.trajectory)) as Trajectory,
    }));
  }

  /** Replace one iteration's verdicts in one transaction (a critic stage redone replaces them all). */
  putVerdicts(iteration: number, rows: readonly VerdictRow[]): void {
    this.db.exec("BEGIN");
    try {
      this.db.prepare("DELETE FROM verdicts WHERE iteration = ?").run(iteration);
      const put = this.db.prepare(
        "INSERT INTO verdicts (iteration, instruction, sample, prefilter_ok, prefilter_reason, score, reason, error, truth, kept) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      for (const v of rows) {
        put.run(
          v.iteration,
          v.instruction,
          v.sample,
          v.prefilterOk ? 1 : 0,
          v.prefilterReason,
          v.score,
          v.reason,
          v.error,
          v.truth,
          v.kept ? 1 : 0,
        );
      }
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  verdicts(iteration: number): VerdictRow[] {
    const rows = this.db
      .prepare("SELECT * FROM verdicts WHERE iteration = ? ORDER BY instruction, sample")
      .all(iteration) as Record<string, unknown>[];
    return rows.map((r) => ({
      iteration: Number(r.iteration),
      instruction: String(r.instruction),
      sample: Number(r.sample),
      prefilterOk: r.prefilter_ok === 1,
      prefilterReason: r.prefilter_reason === null ? null : String(r.prefilter_reason),
      score: Number(r.score),
      reason: String(r.reason),
      error: r.error === null ? null : String(r.error),
      truth: Number(r.truth),
      kept: r.kept === 1,
    }));
  }

  putModel(iteration: number, spec: string, details: unknown): void {
    this.db
      .prepare("INSERT OR REPLACE INTO models (iteration, spec, details) VALUES (?, ?, ?)")
      .run(iteration, spec, JSON.stringify(details));
  }

  model(iteration: number): { spec: string; details: unknown } | undefined {
    const row = this.db.prepare("SELECT spec, details FROM models WHERE iteration = ?").get(iteration) as
      | { spec: string; details: string }
      | undefined;
    return row === undefined ? undefined : { spec: row.spec, details: JSON.parse(row.details) };
  }

  putEvaluation(iteration: number, level: number, summary: unknown): void {
    this.db
      .prepare("INSERT OR REPLACE INTO evaluations (iteration, level, summary) VALUES (?, ?, ?)")
      .run(iteration, level, JSON.stringify(summary));
  }

  evaluations(): { iteration: number; level: number; summary: unknown }[] {
    return (
      this.db
        .prepare("SELECT iteration, level, summary FROM evaluations ORDER BY iteration, level")
        .all() as {
        iteration: number;
        level: number;
        summary: string;
      }[]
    ).map((r) => ({ iteration: r.iteration, level: r.level, summary: JSON.parse(r.summary) }));
  }

  /**
   * Add one process's LLM totals to the run's. Kept in `meta` (no schema change) and summed over every process, so
   * a resumed run's summary counts the calls, retries and timeouts of all of them.
   */
  addLlmTotals(add: LlmTotals): void {
    transaction(this.db, () => {
      const sum = { ...this.llmTotals() };
      for (const key of Object.keys(sum) as (keyof LlmTotals)[]) sum[key] += add[key];
      this.db
        .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('llm_totals', ?)")
        .run(JSON.stringify(sum));
    });
  }

  llmTotals(): { -readonly [K in keyof LlmTotals]: number } {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = 'llm_totals'").get() as
      | { value: string }
      | undefined;
    const stored = (row === undefined ? {} : JSON.parse(row.value)) as Partial<Record<string, unknown>>;
    const out = {
      calls: 0,
      failed_calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost_usd: 0,
      cache_hits: 0,
      retries: 0,
      retry_wait_ms: 0,
      timeouts: 0,
    };
    for (const key of Object.keys(out) as (keyof LlmTotals)[]) {
      const v = stored[key];
      if (typeof v === "number" && Number.isFinite(v)) out[key] = v;
    }
    return out;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
