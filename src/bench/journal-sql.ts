import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { EpisodeRecord, LlmCallRecord, StepRecord, TreeRecord } from "./types.ts";

/**
 * An episode's buffered rows and, on its last write, its result (marking it done). Leftovers of an earlier,
 * interrupted attempt need no deleting here: `RunStore.resetUnfinished` clears them before a run (re)starts.
 */
export interface JournalBatch {
  readonly episode: {
    readonly id: string;
    readonly index: number;
    readonly instance: string;
    readonly seed: number;
  };
  readonly steps: readonly StepRecord[];
  readonly calls: readonly LlmCallRecord[];
  readonly trees: readonly TreeRecord[];
  /** Present on the last write: the episode's result, marking it done in the same transaction. */
  readonly finish?: EpisodeRecord;
}

/** Prepared statements for writing batches on one connection (the journal writer thread's). */
export class BatchWriter {
  private readonly db: DatabaseSync;
  private readonly insertRunning: StatementSync;
  private readonly insertDone: StatementSync;
  private readonly insertStep: StatementSync;
  private readonly insertCall: StatementSync;
  private readonly insertTree: StatementSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.insertRunning = db.prepare(
      "INSERT OR IGNORE INTO episodes (id, idx, instance, seed, status) VALUES (?, ?, ?, ?, 'running')",
    );
    this.insertDone = db.prepare(
      `INSERT OR REPLACE INTO episodes (id, idx, instance, seed, status, success, total_return, steps, end_reason,
        llm_calls, input_tokens, output_tokens, cost_usd, cache_hits, wall_ms, curves, retries, retry_wait_ms, timeouts)
        VALUES (?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertStep = db.prepare(
      `INSERT INTO steps (episode_id, t, observation, action, reward, feedback, done, next_observation, info)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCall = db.prepare(
      `INSERT INTO llm_calls (episode_id, seq, t, request_hash, model, messages, responses, input_tokens, output_tokens,
        latency_ms, cost_usd, cache_hits, samples, ok, error_category, retries, retry_wait_ms, timeouts)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertTree = db.prepare("INSERT INTO trees (episode_id, t, chosen, nodes) VALUES (?, ?, ?, ?)");
  }

  /** Apply batches in one transaction: all of them are committed, or none. */
  apply(batches: readonly JournalBatch[]): void {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const batch of batches) this.write(batch);
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  private write(batch: JournalBatch): void {
    const e = batch.episode;
    if (!batch.finish) this.insertRunning.run(e.id, e.index, e.instance, e.seed);
    for (const s of batch.steps) {
      const info = s.info === undefined ? null : JSON.stringify(s.info);
      this.insertStep.run(
        s.episodeId,
        s.t,
        s.observation,
        s.action,
        s.reward,
        s.feedback,
        s.done ? 1 : 0,
        s.nextObservation,
        info,
      );
    }
    for (const c of batch.calls) {
      this.insertCall.run(
        c.episodeId,
        c.seq,
        c.t,
        c.requestHash,
        c.model,
        JSON.stringify(c.messages),
        JSON.stringify(c.responses),
        c.inputTokens,
        c.outputTokens,
        c.latencyMs,
        c.costUsd,
        c.cacheHits,
        c.samples,
        c.ok ? 1 : 0,
        c.errorCategory ?? null,
        c.retries,
        c.retryWaitMs,
        c.timeouts,
      );
    }
    // One row per tree, its nodes as a JSON array (query them with json_each): ten times fewer rows than a
    // row per node, which matters on the exact twins where a tree is built every few microseconds.
    for (const tree of batch.trees) {
      this.insertTree.run(tree.episodeId, tree.t, tree.chosen, JSON.stringify(tree.nodes));
    }
    const r = batch.finish;
    if (r) {
      this.insertDone.run(
        r.id,
        r.index,
        r.instance,
        r.seed,
        r.success ? 1 : 0,
        r.totalReturn,
        r.steps,
        r.end,
        r.llmCalls,
        r.inputTokens,
        r.outputTokens,
        r.costUsd,
        r.cacheHits,
        r.wallMs,
        r.curves === undefined ? null : JSON.stringify(r.curves),
        r.retries,
        r.retryWaitMs,
        r.timeouts,
      );
    }
  }
}
