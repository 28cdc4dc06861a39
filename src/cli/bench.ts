import { resolve } from "node:path";
import { type RunOutcome, resumeRun, startRun } from "../bench/run.ts";
import type { RunEvents } from "../bench/runner.ts";
import { UserError } from "../core/errors.ts";
import { Emitter } from "../core/events.ts";
import { loadPriceTable, UsageMeter } from "../llm/middleware/usage.ts";
import type { Output } from "./output.ts";
import { parseOptions } from "./params.ts";
import { formatLlmLine, showProgress, wantsLiveBar } from "./progress.ts";
import { reportCommand } from "./report.ts";

/** `1,2,3`, `1-20` or a mix such as `1-5,9`: distinct seeds in the order given. */
export function parseSeeds(text: string): number[] {
  const seeds: number[] = [];
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m?.[1])
      throw new UserError(`bad --seeds "${text}": use a list like 1,2,3 or a range like 1-20`, {
        category: "bad_option",
      });
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from || to - from > 1_000_000)
      throw new UserError(`bad seed range "${part.trim()}"`, { category: "bad_option" });
    for (let s = from; s <= to; s++) if (!seeds.includes(s)) seeds.push(s);
  }
  return seeds;
}

export interface BenchFlags {
  agent: string;
  model?: string;
  split?: string;
  episodes?: number;
  seeds: string;
  concurrency: number;
  llmConcurrency?: number;
  maxSteps?: number;
  budgetUsd?: number;
  /** Seconds (`--llm-timeout`). */
  llmTimeout?: number;
  prices?: string;
  cacheFile?: string;
  cache: boolean;
  cacheOnly: boolean;
  data: string;
  out?: string;
  opt: string[];
}

/** The report of a finished run; a failure to render it does not undo the run, so it is reported, not thrown. */
async function writeRunReport(dir: string, output: Output): Promise<void> {
  try {
    await reportCommand(dir, [], { out: () => {}, err: output.err });
  } catch (error) {
    output.err(
      `could not write the report: ${error instanceof Error ? error.message : String(error)} (retry with: bayesact report ${dir})`,
    );
  }
  output.out(`report: ${dir}/report.html`);
}

/** Run with progress on stderr and a clean stop on Ctrl-C; returns the process exit code. */
async function withProgress(
  output: Output,
  run: (ctx: { signal: AbortSignal; events: Emitter<RunEvents>; meter: UsageMeter }) => Promise<RunOutcome>,
  meter: UsageMeter,
): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => {
    output.err("stopping: finishing the current steps and saving (press Ctrl-C again to quit at once)");
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  };
  process.once("SIGINT", onSigint);
  const events = new Emitter<RunEvents>();
  const stopProgress = showProgress(events, meter, output, { live: wantsLiveBar() });
  let outcome: RunOutcome;
  try {
    outcome = await run({ signal: controller.signal, events, meter });
  } finally {
    stopProgress();
    process.off("SIGINT", onSigint);
  }
  if (outcome.status !== "complete") {
    const why = outcome.status === "budget" ? `budget reached (${outcome.reason})` : "interrupted";
    output.err(`${why}; finished episodes are saved. Continue with: bayesact resume ${outcome.dir}`);
    return outcome.status === "interrupted" ? 130 : 3;
  }
  const s = outcome.summary;
  if (s) {
    output.out(
      `${s.env} / ${s.agent} / ${s.model}${
        Object.keys(s.options).length > 0
          ? ` (${Object.entries(s.options)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(", ")})`
          : ""
      }: success ${(100 * s.success_rate).toFixed(1)}% ` +
        `(95% CI ${(100 * s.success_ci95.low).toFixed(1)}-${(100 * s.success_ci95.high).toFixed(1)}%) over ${s.episodes} episodes, ` +
        `mean return ${s.mean_return}, mean steps ${s.mean_steps}`,
    );
    output.out(`${formatLlmLine(s.llm)}; wall ${s.wall_s} s`);
  }
  await writeRunReport(outcome.dir, output);
  output.out(`run folder: ${outcome.dir}`);
  return 0;
}

export async function benchCommand(envName: string, flags: BenchFlags, output: Output): Promise<number> {
  if (flags.cacheOnly && !flags.cache)
    throw new UserError("--cache-only and --no-cache contradict each other", { category: "bad_option" });
  const prices = flags.prices ? loadPriceTable(flags.prices) : {};
  const meter = new UsageMeter(prices);
  return withProgress(
    output,
    (ctx) =>
      startRun(
        {
          env: envName,
          agent: flags.agent,
          ...(flags.model !== undefined ? { model: flags.model } : {}),
          ...(flags.split !== undefined ? { split: flags.split } : {}),
          ...(flags.episodes !== undefined ? { episodes: flags.episodes } : {}),
          seeds: parseSeeds(flags.seeds),
          concurrency: flags.concurrency,
          ...(flags.llmConcurrency !== undefined ? { llmConcurrency: flags.llmConcurrency } : {}),
          ...(flags.maxSteps !== undefined ? { maxSteps: flags.maxSteps } : {}),
          ...(flags.budgetUsd !== undefined ? { budgetUsd: flags.budgetUsd } : {}),
          ...(flags.llmTimeout !== undefined ? { llmTimeoutMs: flags.llmTimeout * 1000 } : {}),
          prices,
          cache: {
            path: resolve(flags.cacheFile ?? ".bayesact/llm-cache.sqlite"),
            mode: !flags.cache ? "off" : flags.cacheOnly ? "cache-only" : "read-write",
          },
          dataDir: flags.data,
          ...(flags.out !== undefined ? { out: flags.out } : {}),
          options: parseOptions(flags.opt),
        },
        ctx,
      ),
    meter,
  );
}

export async function resumeCommand(
  dir: string,
  output: Output,
  models: readonly string[] = [],
): Promise<number> {
  return withProgress(output, (ctx) => resumeRun(dir, { ...ctx, models }), new UsageMeter());
}
