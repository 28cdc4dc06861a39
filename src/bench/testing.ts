/** Test helpers for run folders: a `run.sqlite` as bayesact wrote it before schema version 2. */
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { RUN_DB } from "./store-db.ts";

/** The `CREATE` statements of schema version 1, verbatim (no attempt columns). */
export const RUN_SCHEMA_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE episodes (
  id TEXT PRIMARY KEY, idx INTEGER NOT NULL, instance TEXT NOT NULL, seed INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done')),
  success INTEGER, total_return REAL, steps INTEGER, end_reason TEXT,
  llm_calls INTEGER, input_tokens INTEGER, output_tokens INTEGER, cost_usd REAL, cache_hits INTEGER, wall_ms REAL,
  curves TEXT
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
  PRIMARY KEY (episode_id, seq)
);
-- nodes: JSON array of {id, parent, action, state, value, visits, reward?} (SearchNode), one row per tree.
CREATE TABLE trees (
  episode_id TEXT NOT NULL, t INTEGER NOT NULL, chosen INTEGER, nodes TEXT NOT NULL,
  PRIMARY KEY (episode_id, t)
);
`;

const EPISODE_V1 =
  "id, idx, instance, seed, status, success, total_return, steps, end_reason, llm_calls, input_tokens, output_tokens, cost_usd, cache_hits, wall_ms, curves";
const CALL_V1 =
  "episode_id, seq, t, request_hash, model, messages, responses, input_tokens, output_tokens, latency_ms, cost_usd, cache_hits, samples, ok, error_category";

/**
 * Rewrite the (closed) run database in `dir` as schema version 1 would have stored it: the old tables, the same
 * rows without the attempt columns, `schema_version` 1.
 */
export function downgradeToSchemaV1(dir: string): void {
  const path = join(dir, RUN_DB);
  const current = `${path}.current`;
  renameSync(path, current);
  const db = new DatabaseSync(path);
  try {
    db.exec("PRAGMA journal_mode = WAL"); // as bayesact always opened it
    db.exec(RUN_SCHEMA_V1);
    db.prepare("ATTACH DATABASE ? AS cur").run(current);
    db.exec(`
INSERT INTO meta SELECT key, CASE key WHEN 'schema_version' THEN '1' ELSE value END FROM cur.meta;
INSERT INTO episodes SELECT ${EPISODE_V1} FROM cur.episodes;
INSERT INTO steps SELECT * FROM cur.steps;
INSERT INTO llm_calls SELECT ${CALL_V1} FROM cur.llm_calls;
INSERT INTO trees SELECT * FROM cur.trees;
DETACH DATABASE cur;`);
  } finally {
    db.close();
  }
  rmSync(current);
}

/** `meta.schema_version` and whether `llm_calls` has a `retries` column, read without changing anything. */
export function schemaOf(dir: string): { version: string | undefined; attemptColumns: boolean } {
  const db = new DatabaseSync(join(dir, RUN_DB), { readOnly: true });
  try {
    const row = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | { value: string }
      | undefined;
    const columns = db.prepare("PRAGMA table_info(llm_calls)").all() as { name: string }[];
    return { version: row?.value, attemptColumns: columns.some((c) => c.name === "retries") };
  } finally {
    db.close();
  }
}
