/**
 * What the two run databases share — the bench journal (`bench/store.ts`) and the self-training journal
 * (`train/store.ts`): the file name, the connection settings, and how a run folder is created and reopened (a
 * `meta` table naming the writing application and its schema version, checked read-only before anything writes).
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { UserError } from "../core/errors.ts";

export const RUN_DB = "run.sqlite";

/** Connection settings shared by the run stores and the journal writer thread. */
export function configureRunDb(db: DatabaseSync): void {
  db.exec("PRAGMA journal_mode = WAL");
  // WAL + NORMAL: a commit survives a process crash (kill -9); a power cut may lose the last commits but never
  // corrupts the file, and a lost "done" mark only means that episode reruns on resume.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 10000");
}

/** One transaction; rolled back when `body` throws. */
export function transaction(db: DatabaseSync, body: () => void): void {
  db.exec("BEGIN IMMEDIATE");
  try {
    body();
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}

/** A kind of run database: what `meta` must say and how a mismatch is reported. */
export interface RunDbKind {
  /** `meta.app`. */
  readonly app: string;
  readonly schemaVersion: number;
  /** The `CREATE TABLE` statements, `meta (key, value)` among them. */
  readonly schema: string;
  /** For messages: "bayesact run", "self-training run". */
  readonly noun: string;
  /** For messages: who writes this kind ("bayesact", "bayesact train"). */
  readonly writer: string;
  /**
   * Older schema versions this bayesact still opens: version → the SQL that brings it to the next version. A file
   * opened for writing is migrated in place; one opened for reading is left as it is (its reader fills defaults).
   */
  readonly migrations?: Readonly<Record<number, string>>;
}

function invalid(dir: string, kind: RunDbKind, why: string): UserError {
  return new UserError(`${join(dir, RUN_DB)} is not a usable ${kind.noun}: ${why}`, { category: "bad_run" });
}

/** Start a run database in `dir` (created if needed) with these `meta` rows. Refuses a folder that holds a run. */
export function createRunDb(
  dir: string,
  kind: RunDbKind,
  meta: Readonly<Record<string, string>>,
): DatabaseSync {
  const path = join(dir, RUN_DB);
  if (existsSync(path)) {
    throw new UserError(
      `${dir} already holds a run; continue it with: bayesact resume ${dir} (or choose another --out)`,
      { category: "run_exists" },
    );
  }
  mkdirSync(dir, { recursive: true });
  const db = new DatabaseSync(path);
  configureRunDb(db);
  transaction(db, () => {
    db.exec(kind.schema);
    const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
    put.run("app", kind.app);
    put.run("schema_version", String(kind.schemaVersion));
    for (const [key, value] of Object.entries(meta)) put.run(key, value);
  });
  return db;
}

/** Can `version` be brought to `kind.schemaVersion` by its migrations? */
function migratable(kind: RunDbKind, version: number): boolean {
  if (!Number.isInteger(version) || version < 1 || version > kind.schemaVersion) return false;
  for (let v = version; v < kind.schemaVersion; v++) if (kind.migrations?.[v] === undefined) return false;
  return true;
}

/**
 * Open the run database in `dir`. The file is checked read-only first — `meta`, and whatever `probe` reads — so a
 * foreign or damaged file is reported in one line and left exactly as it was. An older schema version that
 * `kind.migrations` covers is accepted: with `migrate`, it is brought to the current version in one transaction;
 * without, it is opened as it is and `schemaVersion` says which it is.
 */
export function openRunDb(
  dir: string,
  kind: RunDbKind,
  probe: (db: DatabaseSync) => void = () => {},
  options: { migrate?: boolean } = {},
): { db: DatabaseSync; meta: ReadonlyMap<string, string>; schemaVersion: number } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`no run folder at ${dir}`, { category: "bad_run" });
  }
  const path = join(dir, RUN_DB);
  if (!existsSync(path)) throw invalid(dir, kind, "the file is missing");
  let meta: Map<string, string>;
  try {
    const check = new DatabaseSync(path, { readOnly: true });
    try {
      const rows = check.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[];
      meta = new Map(rows.map((r) => [r.key, r.value]));
      if (meta.get("app") !== kind.app) throw invalid(dir, kind, `it was not written by ${kind.writer}`);
      const found = meta.get("schema_version");
      if (found !== String(kind.schemaVersion) && !migratable(kind, Number(found))) {
        throw invalid(
          dir,
          kind,
          `schema version ${meta.get("schema_version")} (this bayesact reads ${kind.schemaVersion})`,
        );
      }
      probe(check);
    } finally {
      check.close();
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw invalid(
      dir,
      kind,
      (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "unreadable",
    );
  }
  const db = new DatabaseSync(path);
  configureRunDb(db);
  let schemaVersion = Number(meta.get("schema_version"));
  if (options.migrate && schemaVersion < kind.schemaVersion) {
    try {
      transaction(db, () => {
        for (let v = schemaVersion; v < kind.schemaVersion; v++) db.exec(kind.migrations?.[v] ?? "");
        db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(kind.schemaVersion));
      });
    } catch (error) {
      db.close();
      throw invalid(
        dir,
        kind,
        `migrating schema version ${schemaVersion}: ${(error instanceof Error ? error.message : String(error)).split("\n")[0]}`,
      );
    }
    schemaVersion = kind.schemaVersion;
  }
  return { db, meta, schemaVersion };
}
