/**
 * The journal writer thread: owns one SQLite connection and applies each message's batches in one transaction,
 * acknowledging it (or reporting its error). SQLite and JSON work run on the second core while the agent keeps the
 * first.
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
port.on("message", (message: { seq: number; batches: JournalBatch[] } | { close: true }) => {
  if ("close" in message) {
    db.close();
    port.close();
    return;
  }
  try {
    writer.apply(message.batches);
    port.postMessage({ seq: message.seq });
  } catch (error) {
    port.postMessage({ seq: message.seq, error: error instanceof Error ? error.message : String(error) });
  }
});
