import { type CoreEvents, runEpisode } from "../core/episode.ts";
import { BayesactError } from "../core/errors.ts";
import { Emitter } from "../core/events.ts";
import { isLlmError, type LlmError } from "../llm/errors.ts";
import type { PriceTable } from "../llm/middleware/usage.ts";
import type { LanguageModel } from "../llm/types.ts";
import { emptyLlmTally, withJournal } from "./journal.ts";
import type { AgentEntry, EnvEntry, EpisodeStep } from "./registry.ts";
import type { RunStore } from "./store.ts";
import { summarize } from "./summary.ts";
import type { EpisodeRecord, RunConfig, Summary } from "./types.ts";

/** Commits that may be queued for the writer thread before episodes wait for it. */
const MAX_WRITES_IN_FLIGHT = 64;

export interface GridEntry {
  readonly id: string;
  readonly index: number;
  readonly instance: string;
  readonly seed: number;
}

/** The grid in its fixed order: instance-major, then seed. Ids are stable across resumes. */
export function grid(config: Pick<RunConfig, "instances" | "seeds">): GridEntry[] {
  const out: GridEntry[] = [];
  for (const instance of config.instances) {
    for (const seed of config.seeds)
      out.push({ id: `${instance}#${seed}`, index: out.length, instance, seed });
  }
  return out;
}

export type RunStatus = "complete" | "interrupted" | "budget";

export interface RunEvents {
  [key: string]: unknown;
  "run.start": { total: number; alreadyDone: number; successesSoFar: number };
  "episode.done": { record: EpisodeRecord; done: number; total: number; successes: number };
  "run.end": { status: RunStatus; done: number; total: number; reason?: string };
}

export interface ExecuteOptions {
  readonly store: RunStore;
  readonly config: RunConfig;
  readonly env: EnvEntry;
  readonly agent: AgentEntry;
  /** The run's shared model stack (cache, budget and limits are shared by all episodes); none on the exact twins. */
  readonly model?: LanguageModel;
  readonly prices?: PriceTable;
  readonly signal?: AbortSignal;
  readonly events?: Emitter<RunEvents>;
  /** Write steps, calls and trees to the store (default true; the store benchmark turns it off). */
  readonly journal?: boolean;
  /** Flush a long episode's buffered rows after this many rows or this many ms (defaults 1000 rows, 2000 ms). */
  readonly flushRows?: number;
  readonly flushMs?: number;
}

export interface ExecuteResult {
  readonly status: RunStatus;
  /** Present when the grid is complete. */
  readonly summary?: Summary;
  readonly reason?: string;
}

/**
 * Run every grid entry not yet done, `config.concurrency` episodes at a time. Each episode gets a fresh environment
 * and agent and its own seed, so the result of an episode does not depend on scheduling, and a resumed run equals an
 * uninterrupted one on the exact twins.
 *
 * Stops: an abort (Ctrl-C) lets running episodes end after their current step; they stay unfinished and rerun on
 * resume. `budget_exceeded` stops the run the same way. Model errors about the setup (unreachable server, bad key)
 * stop the run and are rethrown. Any other failure of the agent (e.g. a model answer that stays invalid after the
 * repair round) ends that episode as a failure with `end: "error:<category>"`: it is the agent's result.
 */
export async function executeRun(options: ExecuteOptions): Promise<ExecuteResult> {
  const { store, config, env, agent } = options;
  const journal = options.journal ?? true;
  const flushRows = options.flushRows ?? 1000;
  const flushMs = options.flushMs ?? 2000;
  const started = performance.now();
  const entries = grid(config);
  const where = {
    dataDir: config.dataDir,
    split: config.split,
    agent: config.agent,
    options: config.options,
  };
  const kit = env.kit(where);
  store.resetUnfinished();
  const done = store.doneIds();
  const pending = entries.filter((e) => !done.has(e.id));
  let successes = store.episodes().filter((e) => e.success).length;
  let doneCount = done.size;
  options.events?.emit("run.start", {
    total: entries.length,
    alreadyDone: done.size,
    successesSoFar: successes,
  });

  const stop = new AbortController();
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let stopReason: { status: RunStatus; reason?: string } | undefined;
  let fatal: unknown;
  // Commits in flight: an episode is finished when its commit resolves, not when its last step ran.
  const writes = new Set<Promise<void>>();
  const track = (write: Promise<void>, onCommitted?: () => void) => {
    const p = write.then(
      () => onCommitted?.(),
      (error: unknown) => {
        fatal ??= error;
        stop.abort();
      },
    );
    writes.add(p);
    void p.finally(() => writes.delete(p));
  };

  async function runOne(entry: GridEntry): Promise<void> {
    const tally = emptyLlmTally();
    let t = 0;
    let lastFlush = performance.now();
    store.startEpisode(entry);
    const events = new Emitter<CoreEvents>();
    const maybeFlush = () => {
      if (store.pending(entry.id) >= flushRows || performance.now() - lastFlush >= flushMs) {
        track(store.flush(entry.id));
        lastFlush = performance.now();
      }
    };
    const steps: EpisodeStep[] = [];
    events.on("step", ({ step }) => {
      steps.push(step);
      t = step.t + 1;
      if (!journal) return;
      store.journalStep({
        episodeId: entry.id,
        t: step.t,
        observation: kit.describe(step.observation),
        action: step.actionText,
        reward: step.reward,
        feedback: step.feedback,
        done: step.done,
        nextObservation: kit.describe(step.nextObservation),
        ...(step.info ? { info: step.info } : {}),
      });
      maybeFlush();
    });
    if (journal) {
      events.on("planner.tree", (tree) => {
        store.journalTree({ episodeId: entry.id, t: tree.t, nodes: tree.nodes, chosen: tree.chosen });
      });
    }
    const model = options.model
      ? withJournal(options.model, {
          episodeId: entry.id,
          step: () => t,
          prices: options.prices ?? {},
          tally,
          record: (call) => {
            if (journal) store.journalCall(call);
          },
        })
      : undefined;
    const episodeStarted = performance.now();
    let success = false;
    let end: string;
    try {
      const trajectory = await runEpisode(
        env.create(entry.instance, model ? { ...where, model } : where),
        agent.create(kit, model, config.options),
        {
          seed: entry.seed,
          maxSteps: config.maxSteps,
          episodeId: entry.id,
          signal: stop.signal,
          events,
        },
      );
      if (trajectory.end === "aborted") {
        store.abandonEpisode(entry.id);
        return;
      }
      success = trajectory.success;
      end = trajectory.end;
    } catch (error) {
      if (stop.signal.aborted || (isLlmError(error) && error.category === "aborted")) {
        store.abandonEpisode(entry.id);
        return;
      }
      // A mistake in the setup (a user-facing error: an option the agent rejects, data that cannot be read) is
      // not the agent's result: it stops the run, which stays resumable.
      const setupError = error instanceof BayesactError && error.userFacing && !isLlmError(error);
      if (setupError || (isLlmError(error) && stopsTheRun(error))) {
        store.abandonEpisode(entry.id);
        if (isLlmError(error) && error.category === "budget_exceeded") {
          stopReason ??= { status: "budget", reason: error.message };
        } else fatal ??= error;
        stop.abort();
        return;
      }
      const category =
        error instanceof Error && "category" in error
          ? String((error as { category: unknown }).category)
          : "agent";
      end = `error:${category}`;
    }
    const record: EpisodeRecord = {
      ...entry,
      status: "done",
      success,
      totalReturn: steps.reduce((s, x) => s + x.reward, 0),
      steps: steps.length,
      end,
      llmCalls: tally.calls,
      inputTokens: tally.inputTokens,
      outputTokens: tally.outputTokens,
      costUsd: tally.costUsd,
      cacheHits: tally.cacheHits,
      retries: tally.retries,
      retryWaitMs: tally.retryWaitMs,
      timeouts: tally.timeouts,
      wallMs: performance.now() - episodeStarted,
      ...(env.curves ? { curves: env.curves(steps, success) } : {}),
    };
    track(store.finishEpisode(record), () => {
      doneCount += 1;
      if (success) successes += 1;
      options.events?.emit("episode.done", { record, done: doneCount, total: entries.length, successes });
    });
  }

  let next = 0;
  const workers = Array.from(
    { length: Math.max(1, Math.min(config.concurrency, pending.length)) },
    async () => {
      while (!stop.signal.aborted && next < pending.length) {
        const entry = pending[next++];
        if (entry) await runOne(entry);
        // Backpressure: the writer thread must keep up, or buffered batches would grow without bound.
        while (writes.size > MAX_WRITES_IN_FLIGHT) await Promise.race(writes);
        // Episodes on the exact twins await only settled promises; without a turn of the event loop, commit
        // acknowledgements and Ctrl-C would not be seen until the whole run had finished.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
  );
  try {
    await Promise.all(workers);
    while (writes.size > 0) await Promise.all([...writes]);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    store.addWallMs(performance.now() - started);
  }
  if (fatal) throw fatal;
  if (!stopReason && options.signal?.aborted) stopReason = { status: "interrupted" };
  if (stopReason) {
    options.events?.emit("run.end", { ...stopReason, done: doneCount, total: entries.length });
    return stopReason;
  }
  const summary = summarize(config, store.episodes(), store.wallMs());
  options.events?.emit("run.end", { status: "complete", done: doneCount, total: entries.length });
  return { status: "complete", summary };
}

/** Failures about the setup or the budget, not about the agent: they stop the whole run. */
function stopsTheRun(error: LlmError): boolean {
  return (
    error.category === "budget_exceeded" ||
    error.retryable ||
    error.userFacing ||
    error.category === "bad_request" ||
    error.category === "context_length" ||
    error.category === "unsupported"
  );
}
