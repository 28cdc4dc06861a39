/**
 * The journal writer thread: owns one SQLite connection and applies batches posted by the run, each in one
 * transaction, acknowledging every batch (or reporting its error). Runs SQLite and JSON work on the second core
 * while the agent keeps the first.
 */
import { DatabaseSync } from "node:sqlite";
import { parentPort, workerData } from "node:worker_threads";
import { BatchWriter, type JournalBatch } from "./journal-sql.ts";
import { configureRunDb } from "./store-db.ts";

const port = parentPort;
if (!port) throw new Error("journal-worker must run in a worker thread");
const db = new DatabaseSync((workerData as { path: string }).path);
configureRunDb(db);
const writer = new BatchWriter(db);
port.on("message", (message: { seq: number; batch: JournalBatch } | { close: true }) => {
  if ("close" in message) {
    db.close();
    port.close();
    return;
  }
  try {
    writer.apply(message.batch);
    port.postMessage({ seq: message.seq });
  } catch (error) {
    port.postMessage({ seq: message.seq, error: error instanceof Error ? error.message : String(error) });
  }
});
