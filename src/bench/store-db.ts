import type { DatabaseSync } from "node:sqlite";

/** Connection settings shared by the run store and its journal writer thread. */
export function configureRunDb(db: DatabaseSync): void {
  db.exec("PRAGMA journal_mode = WAL");
  // WAL + NORMAL: a commit survives a process crash (kill -9); a power cut may lose the last commits but never
  // corrupts the file, and a lost "done" mark only means that episode reruns on resume.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 10000");
}
