import cliProgress from "cli-progress";
import type { RunEvents } from "../bench/runner.ts";
import type { Summary } from "../bench/types.ts";
import type { Emitter } from "../core/events.ts";
import type { UsageMeter } from "../llm/middleware/usage.ts";
import type { Output } from "./output.ts";

export interface ProgressOptions {
  /** A live bar (true on a terminal) or a plain line every `intervalMs` (CI, pipes). */
  readonly live: boolean;
  readonly intervalMs?: number;
  readonly stream?: NodeJS.WriteStream;
}

/** Should progress be a live bar? Only on a terminal, and never under `CI=true`. */
export function wantsLiveBar(stream: NodeJS.WriteStream = process.stderr, env = process.env): boolean {
  return Boolean(stream.isTTY) && env.CI !== "true" && env.CI !== "1";
}

interface State {
  done: number;
  total: number;
  successes: number;
  startedAt: number;
  doneAtStart: number;
}

/** The LLM totals of a `summary.json` (bench, eval, train), as the final line a command prints. */
export function formatLlmLine(llm: Summary["llm"]): string {
  return (
    `LLM: ${llm.calls} calls, ${llm.input_tokens} input + ${llm.output_tokens} output tokens, $${llm.cost_usd}, ` +
    `${llm.cache_hits} cache hits, ${llm.retries ?? 0} retries (${((llm.retry_wait_ms ?? 0) / 1000).toFixed(1)} s waited), ` +
    `${llm.timeouts ?? 0} timeouts`
  );
}

function describe(state: State, meter: UsageMeter): string {
  const usage = meter.snapshot();
  const rate = state.done ? `${((100 * state.successes) / state.done).toFixed(1)}%` : "-";
  return `success ${rate} | LLM ${usage.calls} calls, ${(usage.inputTokens + usage.outputTokens).toLocaleString("en-US")} tokens, $${usage.costUsd.toFixed(4)}, ${usage.retries} retries, ${usage.timeouts} timeouts`;
}

function eta(state: State): string {
  const ranHere = state.done - state.doneAtStart;
  if (ranHere <= 0) return "?";
  const perEpisode = (performance.now() - state.startedAt) / ranHere;
  return `${Math.round((perEpisode * (state.total - state.done)) / 1000)} s`;
}

/**
 * Show a run's progress: episodes done / total, success so far, LLM calls, tokens, cost and ETA. Returns a function
 * that stops the display (call it once the run returns, whatever its outcome).
 */
export function showProgress(
  events: Emitter<RunEvents>,
  meter: UsageMeter,
  output: Output,
  options: ProgressOptions,
): () => void {
  const state: State = { done: 0, total: 0, successes: 0, startedAt: performance.now(), doneAtStart: 0 };
  const line = () =>
    `progress: ${state.done}/${state.total} episodes | ${describe(state, meter)} | elapsed ${Math.round((performance.now() - state.startedAt) / 1000)} s | ETA ${eta(state)}`;

  if (options.live) {
    const bar = new cliProgress.SingleBar(
      {
        format: "{bar} {value}/{total} episodes | {details} | ETA {eta2}",
        hideCursor: true,
        clearOnComplete: false,
        stream: options.stream ?? process.stderr,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    const payload = () => ({ details: describe(state, meter), eta2: eta(state) });
    const offStart = events.on("run.start", (e) => {
      Object.assign(state, {
        total: e.total,
        done: e.alreadyDone,
        doneAtStart: e.alreadyDone,
        successes: e.successesSoFar,
      });
      bar.start(e.total, e.alreadyDone, payload());
      started = true;
    });
    const offDone = events.on("episode.done", (e) => {
      Object.assign(state, { done: e.done, successes: e.successes });
      bar.update(e.done, payload());
    });
    const offCall = meter.events.on("llm.call", () => {
      if (started) bar.update(state.done, payload());
    });
    return () => {
      offStart();
      offDone();
      offCall();
      if (started) bar.stop();
    };
  }

  const interval = options.intervalMs ?? 5000;
  let timer: NodeJS.Timeout | undefined;
  const offStart = events.on("run.start", (e) => {
    Object.assign(state, {
      total: e.total,
      done: e.alreadyDone,
      doneAtStart: e.alreadyDone,
      successes: e.successesSoFar,
    });
    output.err(line());
    timer = setInterval(() => output.err(line()), interval);
    timer.unref();
  });
  const offDone = events.on("episode.done", (e) => {
    Object.assign(state, { done: e.done, successes: e.successes });
  });
  return () => {
    offStart();
    offDone();
    if (timer) clearInterval(timer);
    if (state.total > 0) output.err(line());
  };
}
