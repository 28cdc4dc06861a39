/**
 * `bayesact eval apibank --model SPEC --level 1|2|3 [--out DIR] [--data DIR] …`: score a model (or `exact`, the
 * gold-replaying twin) on API-Bank's test points and write a run folder:
 *
 *   manifest.json     versions, settings, sha256 of every data file read, model capabilities
 *   summary.json      level, points, call_accuracy, rouge_l, errors by category, offline/internet split, …
 *   predictions.jsonl one line per point in the official scorers' format ({file, id, pred} / {sample_id, api_id, pred})
 *   journal.jsonl     one line per point: prompt, answer, expected answer and verdict
 *   report.html       the run beside API-Bank's published table
 *
 * The journal is JSONL rather than the bench run store: an evaluation is a list of independent points, not a grid
 * of episodes, and is cheap to rerun (it does not resume).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import {
  gitCommit,
  MANIFEST,
  REPORT,
  SUMMARY,
  sha256File,
  writeFileAtomic,
  writeJson,
} from "../bench/files.ts";
import { UserError } from "../core/errors.ts";
import { loadApiBank } from "../envs/apibank/data.ts";
import {
  type ApiBankSummary,
  type EvalManifest,
  exactPredictor,
  llmPredictor,
  type PointRecord,
  type Predictor,
} from "../envs/apibank/evaluate.ts";
import type { Level } from "../envs/apibank/executor.ts";
import { levelPoints } from "../envs/apibank/points.ts";
import { parseEmbeddingSpec } from "../envs/apibank/retriever.ts";
import { type ApiBankScoringOptions, scoreLevel, scoringLabel, scoringWorld } from "../envs/apibank/score.ts";
import { SCORING_RULE_IDS, SCORINGS } from "../envs/apibank/scoring.ts";
import { LlmCache } from "../llm/middleware/cache.ts";
import { llmTotals, UsageMeter } from "../llm/middleware/usage.ts";
import { parseModelSpec } from "../llm/spec.ts";
import type { LanguageModel } from "../llm/types.ts";
import { writeApiBankReport } from "../report/apibank.ts";
import { createAgentModel } from "../train/embedded/provider.ts";
import { VERSION } from "../version.ts";
import type { Output } from "./output.ts";
import { Int, LLM_TIMEOUT_FLAG, LLM_TIMEOUT_HELP, llmTimeoutArg, zodArg } from "./params.ts";
import { formatLlmLine } from "./progress.ts";

export interface EvalFlags {
  model: string;
  level: string;
  out?: string;
  data: string;
  limit?: number;
  concurrency: number;
  scoring: string;
  rules?: string;
  embeddings?: string;
  recordedSearch: boolean;
  icl: boolean;
  maxTokens: number;
  seed: number;
  cacheFile?: string;
  /** Seconds (`--llm-timeout`). */
  llmTimeout?: number;
}

export const BENCHMARKS = ["apibank"] as const;

const Choice = <T extends string>(flag: string, values: readonly T[], value: string): T => {
  const found = values.find((v) => v === value);
  if (found === undefined) {
    throw new UserError(`bad ${flag} "${value}" (expected one of: ${values.join(", ")})`, {
      category: "bad_option",
    });
  }
  return found;
};

/** The official prediction line of a point. */
function predictionLine(r: PointRecord): Record<string, unknown> {
  return { ...r.ref, pred: r.answer };
}

/** The most frequent reasons of the wrong calls (category and the verdict's text), at most `top`. */
export function failureReasons(records: readonly PointRecord[], top = 6): string[] {
  const counts = new Map<string, number>();
  for (const r of records) {
    if (!r.call || r.call.correct) continue;
    // Values differ from call to call; the reason is the text before them.
    const detail = r.call.detail.replace(/(parameter: ).*$/, "$1…").slice(0, 80);
    const key = `${r.call.category ?? "wrong"}: ${detail}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, top)
    .map(([k, n]) => `${n} × ${k}`);
}

function printSummary(s: ApiBankSummary, output: Output): void {
  const level3 = s.samples
    ? `, samples ${s.samples.correct}/${s.samples.total} (${(100 * s.samples.accuracy).toFixed(2)}%)`
    : "";
  output.out(
    `apibank level ${s.level} / ${s.model}: API calls ${s.call_correct}/${s.points} (${(100 * s.call_accuracy).toFixed(2)}%)${level3}, ROUGE-L ${s.rouge_l.toFixed(4)} over ${s.response_points} responses`,
  );
  if (s.internet.points > 0) {
    output.out(
      `  without internet-dependent points: ${s.offline.correct}/${s.offline.points} (${(100 * s.offline.call_accuracy).toFixed(2)}%); ${s.internet.apis.join(", ")}: ${s.internet.correct}/${s.internet.points}`,
    );
  }
  const errors = Object.entries(s.errors)
    .filter(([, n]) => n > 0)
    .map(([c, n]) => `${c} ${n}`);
  output.out(`  errors: ${errors.length > 0 ? errors.join(", ") : "none"}`);
}

/** Run the evaluation; returns the process exit code (errors a user can fix are thrown as `UserError`). */
export async function evalCommand(benchmark: string, flags: EvalFlags, output: Output): Promise<number> {
  Choice("benchmark", BENCHMARKS, benchmark);
  const level = Number(Choice("--level", ["1", "2", "3"], flags.level)) as Level;
  const scoring = Choice("--scoring", SCORINGS, flags.scoring);
  const rules =
    flags.rules === undefined
      ? undefined
      : flags.rules
          .split(",")
          .map((r) => r.trim())
          .filter((r) => r !== "")
          .map((r) => Choice("--rules", SCORING_RULE_IDS, r));
  if (rules && flags.scoring !== "official")
    throw new UserError("--rules adds to official scoring; leave --scoring at official", {
      category: "bad_option",
    });
  if (flags.icl && level !== 3)
    throw new UserError("--icl applies to level 3 only", { category: "bad_option" });
  const spec = parseModelSpec(flags.model);
  const embeddings = flags.embeddings === undefined ? undefined : parseEmbeddingSpec(flags.embeddings);
  const data = loadApiBank(flags.data);
  const scoringOptions: ApiBankScoringOptions = {
    scoring,
    ...(rules ? { rules } : {}),
    recordedSearch: flags.recordedSearch,
    ...(embeddings ? { embeddings } : {}),
    seed: flags.seed,
    icl: flags.icl,
  };
  const world = scoringWorld(data, level, scoringOptions);
  const label = scoringLabel(level, scoringOptions);
  let points = levelPoints(data, level, { icl: flags.icl });
  if (flags.limit !== undefined) points = points.slice(0, flags.limit);

  const runId = `apibank-l${level}-${new Date().toISOString().replace(/[:.]/g, "-")}-${randomBytes(2).toString("hex")}`;
  const dir = resolve(flags.out ?? join("runs", runId));
  if (existsSync(join(dir, MANIFEST))) {
    throw new UserError(`${dir} already holds a run; choose another --out`, { category: "run_exists" });
  }

  let model: LanguageModel | undefined;
  let cache: LlmCache | undefined;
  let predictor: Predictor = exactPredictor;
  const models: Record<string, unknown> = {};
  const meter = new UsageMeter();
  const controller = new AbortController();
  const onSigint = () => {
    output.err("stopping (press Ctrl-C again to quit at once)");
    controller.abort();
    process.once("SIGINT", () => process.exit(130));
  };
  process.once("SIGINT", onSigint);
  try {
    if (spec.kind !== "exact") {
      if (flags.cacheFile) {
        mkdirSync(dirname(resolve(flags.cacheFile)), { recursive: true });
        cache = new LlmCache(resolve(flags.cacheFile));
      }
      model = createAgentModel(spec, {
        meter,
        ...(cache ? { cache: { cache } } : {}),
        ...(flags.llmTimeout !== undefined ? { timeoutMs: flags.llmTimeout * 1000 } : {}),
      });
      // Probing first makes an unreachable server one clear line before anything is written.
      models[spec.spec] = await model.capabilities({ signal: controller.signal });
      predictor = llmPredictor(model, { maxTokens: flags.maxTokens });
    }
    mkdirSync(dir, { recursive: true });
    const dataFiles: Record<string, string> = {};
    for (const file of data.files) dataFiles[file] = sha256File(file);
    const manifest: EvalManifest = {
      runId,
      createdAt: new Date().toISOString(),
      bayesact: VERSION,
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      gitCommit: gitCommit(),
      config: {
        benchmark: "apibank",
        level,
        model: spec.spec,
        dataDir: resolve(flags.data),
        scoring: label,
        retriever: world.retriever.kind,
        icl: flags.icl,
        limit: flags.limit ?? null,
        concurrency: flags.concurrency,
        maxTokens: flags.maxTokens,
        seed: flags.seed,
      },
      dataFiles,
      models,
    };
    writeJson(join(dir, MANIFEST), manifest);

    let last = performance.now();
    const { records, summary } = await scoreLevel(data, level, points, predictor, {
      ...scoringOptions,
      model: spec.spec,
      concurrency: spec.kind === "exact" ? 1 : flags.concurrency,
      signal: controller.signal,
      onProgress: (done, total) => {
        const now = performance.now();
        if (now - last > 5000 || done === total) {
          last = now;
          output.err(`apibank level ${level}: ${done}/${total} points`);
        }
      },
    });
    writeFileAtomic(
      join(dir, "predictions.jsonl"),
      records.map((r) => `${JSON.stringify(predictionLine(r))}\n`).join(""),
    );
    writeFileAtomic(join(dir, "journal.jsonl"), records.map((r) => `${JSON.stringify(r)}\n`).join(""));
    // The meter's totals (retries and timeouts included) beside the scores; none on the exact twin.
    const llm = llmTotals(meter.snapshot());
    writeJson(join(dir, SUMMARY), { ...summary, llm });
    await writeApiBankReport(join(dir, REPORT), { manifest, summary, records });
    printSummary(summary, output);
    output.out(
      `  scoring: ${summary.settings.scoring}${level === 3 ? " (level 3 has no runnable official evaluator)" : ""}; rules: docs/apibank.md`,
    );
    for (const reason of failureReasons(records)) output.out(`  ${reason}`);
    // The embedded learner is no served model: it makes no calls the meter sees.
    if (model !== undefined && spec.kind !== "embedded") output.out(`  ${formatLlmLine(llm)}`);
    output.out(`report: ${join(dir, REPORT)}`);
    output.out(`run folder: ${dir}`);
    return 0;
  } catch (error) {
    if (controller.signal.aborted) {
      output.err("interrupted; an evaluation does not resume, rerun it");
      return 130;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSigint);
    await model?.close?.();
    cache?.close();
  }
}

const intArg = (min: number, max = Number.MAX_SAFE_INTEGER) => zodArg(Int.min(min).max(max));

/**
 * The `eval` command with its options, for `buildProgram` in main.ts:
 *   addEvalCommand(program, output, (code) => { exit.code = code; });
 */
export function addEvalCommand(program: Command, output: Output, setExit: (code: number) => void): Command {
  return program
    .command("eval")
    .description("score a model on a benchmark's test points (API-Bank): accuracy, ROUGE-L, error categories")
    .argument("<benchmark>", "benchmark: apibank")
    .requiredOption("--model <spec>", "model spec, or exact to replay the gold answers")
    .requiredOption("--level <n>", "API-Bank level: 1 (Call), 2 (Retrieve+Call), 3 (Plan+Retrieve+Call)")
    .option("--out <dir>", "run folder (default runs/<run id>)")
    .option("--data <dir>", "benchmark data folder", "../shared/data")
    .option("--limit <n>", "use only the first N points", intArg(1))
    .option("--concurrency <n>", "points answered at once (LLM)", intArg(1, 256), 4)
    .option(
      "--scoring <mode>",
      "official: API-Bank's evaluator bug for bug (published numbers); corrected: the project's reading (docs/apibank.md)",
      "official",
    )
    .option(
      "--rules <ids>",
      `official scoring plus these corrections, comma-separated: ${SCORING_RULE_IDS.join(", ")}`,
    )
    .option(
      "--embeddings <url#model>",
      "ToolSearcher through an OpenAI-compatible /v1/embeddings endpoint (default BM25)",
    )
    .option(
      "--no-recorded-search",
      "ToolSearcher: do not answer the data's recorded keywords with their recorded result",
    )
    .option("--icl", "level 3: the prompts with the one-shot planning example", false)
    .option("--max-tokens <n>", "new tokens per answer", intArg(1, 32_768), 256)
    .option("--seed <n>", "seed of the values APIs generate (tokens, ids)", intArg(0), 0)
    .option("--cache-file <file>", "LLM response cache (default: none)")
    .option(LLM_TIMEOUT_FLAG, LLM_TIMEOUT_HELP, llmTimeoutArg)
    .action(async (benchmark: string, flags: EvalFlags) => {
      setExit(await evalCommand(benchmark, flags, output));
    });
}
