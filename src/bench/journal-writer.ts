import { Worker } from "node:worker_threads";
import type { JournalBatch } from "./journal-sql.ts";

/**
 * Main-thread side of the journal writer. Batches written in the same turn of the event loop are sent together at
 * its end, as one message and one transaction; each `write` resolves when its transaction has committed. Batches are
 * committed in the order written.
 */
export class JournalWriter {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly inflight = new Set<Promise<void>>();
  private queue: JournalBatch[] = [];
  private queued: Promise<void> | undefined;
  private seq = 0;
  private failure: Error | undefined;
  private closed = false;

  constructor(dbPath: string) {
    // Sources run as .ts (Node strips types, also in workers); the published package runs the compiled .js.
    const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
    this.worker = new Worker(new URL(`./journal-worker.${ext}`, import.meta.url), {
      workerData: { path: dbPath },
    });
    this.worker.on("message", (m: { seq: number; error?: string }) => {
      const p = this.pending.get(m.seq);
      this.pending.delete(m.seq);
      if (m.error !== undefined) p?.reject(new Error(`journal write failed: ${m.error}`));
      else p?.resolve();
    });
    this.worker.on("error", (error) => this.fail(error));
    this.worker.on("exit", (code) => {
      if (!this.closed) this.fail(new Error(`journal writer thread exited with code ${code}`));
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  write(batch: JournalBatch): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    this.queue.push(batch);
    if (!this.queued) {
      const sent = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          const batches = this.queue;
          this.queue = [];
          this.queued = undefined;
          if (this.failure) {
            reject(this.failure);
            return;
          }
          const seq = this.seq++;
          this.pending.set(seq, { resolve, reject });
          this.worker.postMessage({ seq, batches });
        });
      });
      this.queued = sent;
      this.inflight.add(sent);
      const forget = () => this.inflight.delete(sent);
      sent.then(forget, forget);
    }
    return this.queued;
  }

  /** Wait for every written batch to settle, then stop the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.closed = true;
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.worker.postMessage({ close: true });
    await exited;
  }
}
