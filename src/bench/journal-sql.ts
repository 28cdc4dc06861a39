import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { EpisodeRecord, LlmCallRecord, StepRecord, TreeRecord } from "./types.ts";

/** One atomic write of an episode's rows: started (first write), buffered rows, and maybe its completion. */
export interface JournalBatch {
  readonly episode: {
    readonly id: string;
    readonly index: number;
    readonly instance: string;
    readonly seed: number;
  };
  /** First write of this attempt: clear leftovers of an earlier attempt of the same episode. */
  readonly first: boolean;
  readonly steps: readonly StepRecord[];
  readonly calls: readonly LlmCallRecord[];
  readonly trees: readonly TreeRecord[];
  /** Present on the last write: the episode's result, marking it done in the same transaction. */
  readonly finish?: EpisodeRecord;
}

const TABLES = ["steps", "llm_calls", "trees", "tree_nodes"] as const;

/** Prepared statements for writing batches on one connection (the journal writer's). */
export class BatchWriter {
  private readonly db: DatabaseSync;
  private readonly deleteRows: StatementSync[];
  private readonly deleteEpisode: StatementSync;
  private readonly insertRunning: StatementSync;
  private readonly insertDone: StatementSync;
  private readonly insertStep: StatementSync;
  private readonly insertCall: StatementSync;
  private readonly insertTree: StatementSync;
  private readonly insertNode: StatementSync;

  constructor(db: DatabaseSync) {
    this.db = db;
    this.deleteRows = TABLES.map((t) => db.prepare(`DELETE FROM ${t} WHERE episode_id = ?`));
    this.deleteEpisode = db.prepare("DELETE FROM episodes WHERE id = ?");
    this.insertRunning = db.prepare(
      "INSERT OR IGNORE INTO episodes (id, idx, instance, seed, status) VALUES (?, ?, ?, ?, 'running')",
    );
    this.insertDone = db.prepare(
      `INSERT OR REPLACE INTO episodes (id, idx, instance, seed, status, success, total_return, steps, end_reason, llm_calls,
        input_tokens, output_tokens, cost_usd, cache_hits, wall_ms) VALUES (?, ?, ?, ?, 'done', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertStep = db.prepare(
      "INSERT INTO steps (episode_id, t, observation, action, reward, feedback, done, info) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.insertCall = db.prepare(
      `INSERT INTO llm_calls (episode_id, seq, t, request_hash, model, messages, responses, input_tokens, output_tokens,
        latency_ms, cost_usd, cache_hits, samples, ok, error_category) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertTree = db.prepare("INSERT INTO trees (episode_id, t, chosen) VALUES (?, ?, ?)");
    this.insertNode = db.prepare(
      "INSERT INTO tree_nodes (episode_id, t, node_id, parent, action, state, value, visits, reward) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
  }

  /** Apply one batch in one transaction. */
  apply(batch: JournalBatch): void {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const e = batch.episode;
      if (batch.first) {
        for (const del of this.deleteRows) del.run(e.id);
        this.deleteEpisode.run(e.id);
      }
      if (!batch.finish) this.insertRunning.run(e.id, e.index, e.instance, e.seed);
      for (const s of batch.steps) {
        this.insertStep.run(
          s.episodeId,
          s.t,
          s.observation,
          s.action,
          s.reward,
          s.feedback,
          s.done ? 1 : 0,
          s.info === undefined ? null : JSON.stringify(s.info),
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
        );
      }
      for (const tree of batch.trees) {
        this.insertTree.run(tree.episodeId, tree.t, tree.chosen);
        for (const n of tree.nodes) {
          this.insertNode.run(
            tree.episodeId,
            tree.t,
            n.id,
            n.parent,
            n.action,
            n.state,
            n.value,
            n.visits,
            n.reward ?? null,
          );
        }
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
        );
      }
      this.db.exec("COMMIT");
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }
}
