/**
 * The self-training loop (spec §1.3; issue 6): for each iteration,
 *
 *   evaluate   π_it on API-Bank (iteration 0 is the base model)
 *   rollout    K trajectories per instruction with π_it in the rollout environment (the replay simulator, or
 *              an LLM simulating the calls it has no record of: `executor`)
 *   critic     the rule prefilter, then the critic (exact twin, an LLM with a rubric, prefilter only, or none);
 *              the exact twin's verdict is recorded beside it as the ground truth for precision / recall
 *   dataset    keep ≥ threshold, ≤ k per instruction; S ← S ∪ S_it; export S in the three formats
 *   train      π_{it+1} ← trainer(base, S)   (from π₀ by default; `from: "previous"` continues from π_it on S_it)
 *
 * and a last evaluation of π_I. Every stage is journaled in the run store before the next starts; `resumeTrainLoop`
 * skips finished stages and the rollouts already recorded, so an interrupted run continues where it stopped.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { sha256File } from "../bench/files.ts";
import { UserError } from "../core/errors.ts";
import { redactUrlCredentials } from "../core/redact.ts";
import { Rng } from "../core/rng.ts";
import { parseCall } from "../envs/apibank/call.ts";
import { loadApiBank } from "../envs/apibank/data.ts";
import { llmPredictor } from "../envs/apibank/evaluate.ts";
import type { Level } from "../envs/apibank/executor.ts";
import { levelPoints } from "../envs/apibank/points.ts";
import { scoreLevel } from "../envs/apibank/score.ts";
import type { Scoring } from "../envs/apibank/scoring.ts";
import { type CreateModelOptions, createModel } from "../llm/create.ts";
import type { LlmTotals, UsageMeter } from "../llm/middleware/usage.ts";
import type { LanguageModel } from "../llm/types.ts";
import {
  type CriticVerdict,
  callKey,
  criticAgreement,
  exactTwinCritic,
  llmCritic,
  prefilter,
} from "./critics.ts";
import { createAgentModel } from "./embedded/provider.ts";
import { chatMessages, exportRecords, toJsonl } from "./export.ts";
import { goldTrajectory } from "./gold.ts";
import { type GoldChain, type Instruction, loadInstructions, type TrainingSet } from "./instructions.ts";
import { llmPolicy, rolloutMany } from "./rollout.ts";
import { selectTrajectories } from "./select.ts";
import { ReplaySimulator, type RolloutEnvironment } from "./simulator.ts";
import { LlmSimulator, SIMULATOR_ERROR } from "./simulator-llm.ts";
import type { TrainStore, VerdictRow } from "./store.ts";
import type { Trainer } from "./trainers/types.ts";
import { agentSteps, type Trajectory } from "./trajectory.ts";

export interface TrainLoopConfig {
  /** π₀'s model spec. */
  readonly model: string;
  /** `exact`, `prefilter`, `none`, or the critic LLM's model spec. */
  readonly critic: string;
  /** `embedded`, `openai` or `command:…` (as the user wrote it). */
  readonly trainer: string;
  /** Rollout environment: `replay` (recorded results only), or the model spec of an LLM that simulates the rest. */
  readonly executor: string;
  readonly iterations: number;
  /** K: rollouts per instruction. */
  readonly samples: number;
  /** M: instructions used (0 = all). */
  readonly instructions: number;
  readonly threshold: number;
  readonly perInstruction: number;
  readonly temperature: number;
  readonly maxSteps: number;
  readonly evalLevels: readonly Level[];
  /** Only the first N points of each level (null = all). */
  readonly evalLimit: number | null;
  /** How the evaluation scores: `eval apibank`'s `--scoring` (runs made before it existed: corrected). */
  readonly scoring?: Scoring;
  /** `eval apibank`'s recorded-search switch (runs made before it existed: BM25 only, false). */
  readonly recordedSearch?: boolean;
  /**
   * Training requests held out for choices made while developing (`validationSplit`): never rolled out for
   * training, scored every iteration. Absent or 0: none.
   */
  readonly validation?: number;
  readonly from: "base" | "previous";
  readonly seed: number;
  readonly concurrency: number;
  readonly dataDir: string;
  /** Per-attempt timeout of every served model's calls in ms (`--llm-timeout`); absent: 60 s. */
  readonly llmTimeoutMs?: number;
}

export interface TrainLoopContext {
  readonly store: TrainStore;
  readonly dir: string;
  readonly trainer: Trainer;
  readonly signal?: AbortSignal;
  readonly log?: (line: string) => void;
  /** Model construction (tests inject servers or mocks); default `createAgentModel`. */
  readonly openModel?: (spec: string) => LanguageModel;
  /** Counts the calls of the models the loop opens itself (policy, simulator, critic): retries, timeouts, tokens. */
  readonly meter?: UsageMeter;
}

export const STAGES = ["evaluate", "validate", "rollout", "critic", "dataset", "train"] as const;
export type Stage = (typeof STAGES)[number];

export interface IterationSummary {
  readonly iteration: number;
  readonly model: string;
  /** Level → the evaluation's headline numbers (the full summary is in the store and `iterations/`). */
  readonly evaluation: Readonly<Record<string, EvalHeadline>>;
  /** π_it on the held-out training requests (`--validation`): absent when there are none. */
  readonly validation?: ValidationStats;
  /** Absent for the last iteration (it is only evaluated). */
  readonly rollouts?: RolloutStats;
  readonly critic?: CriticStats;
  readonly dataset?: DatasetStats;
  readonly train?: { readonly model: string; readonly details: unknown };
}

export interface EvalHeadline {
  readonly points: number;
  readonly call_correct: number;
  readonly call_accuracy: number;
  readonly rouge_l: number;
  readonly errors: Readonly<Record<string, number>>;
}

/**
 * π_it on the validation requests, two ways. `solved`: greedy rollouts the exact twin accepts (the whole request).
 * `callsCorrect`: the level-1 protocol on training material — at each call of the request's first gold chain, the
 * gold dialogue so far is given and one greedy turn asked for; it is correct when it makes the same call as the
 * gold one (the exact twin's rule: same API and normalised arguments, ToolSearcher by the API it finds). The call
 * metric has ~3× the points and a finer grain, so it is the one choices are read from.
 */
export interface ValidationStats {
  readonly requests: number;
  readonly solved: number;
  readonly accuracy: number;
  /** Absent in runs recorded before the call metric existed. */
  readonly calls?: number;
  readonly callsCorrect?: number;
  readonly callAccuracy?: number;
}

export interface RolloutStats {
  readonly trajectories: number;
  readonly instructions: number;
  readonly policyCalls: number;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly meanSteps: number;
  readonly stops: Readonly<Record<string, number>>;
  /** API results a language model simulated (`executor` an LLM), and how many of them were unusable answers. */
  readonly simulatedResults: number;
  readonly simulatorErrors: number;
}

export interface CriticStats {
  readonly judged: number;
  readonly prefilterPassed: number;
  readonly prefilterReasons: Readonly<Record<string, number>>;
  readonly accepted: number;
  /** Trajectories the exact twin accepts (the ground truth). */
  readonly truthAccepted: number;
  readonly kept: number;
  readonly keptInstructions: number;
  readonly acceptanceRate: number;
  readonly unparseable: number;
  readonly agreement: ReturnType<typeof criticAgreement>;
  readonly prefilterAgreement: ReturnType<typeof criticAgreement>;
}

export interface DatasetStats {
  /** Trajectories in S (cumulative unless `from: "previous"`). */
  readonly trajectories: number;
  readonly instructions: number;
  /** API-Bank samples (agent turns) in S. */
  readonly samples: number;
  readonly files: Readonly<
    Record<"openai" | "trl" | "apibank", { readonly path: string; readonly sha256: string }>
  >;
}

export interface TrainLoopSummary {
  readonly kind: "train";
  readonly benchmark: "apibank";
  readonly config: TrainLoopConfig;
  readonly instructions: { readonly used: number; readonly available: number; readonly refused: number };
  readonly iterations: readonly IterationSummary[];
  /** The served models' calls over the whole run, resumes included (set by the CLI from the run store). */
  readonly llm?: LlmTotals;
}

/** The instructions a run uses: those with a gold chain (the ground truth), the first M by id (a hash order). */
/**
 * Teacher-forced calls on the validation requests (`ValidationStats.callsCorrect`): for call t of each request's
 * first gold chain, the gold dialogue before it is replayed into a fresh session (so the environment holds what it
 * would), the model answers once greedily, and its call, executed there, must match gold call t.
 */
export async function validationCalls(
  model: LanguageModel,
  instructions: readonly Instruction[],
  environment: RolloutEnvironment,
  concurrency: number,
  signal?: AbortSignal,
): Promise<{ calls: number; correct: number }> {
  const jobs = instructions.flatMap((instruction) =>
    (instruction.golds[0]?.calls ?? []).map((_, t) => ({ instruction, t })),
  );
  let next = 0;
  let correct = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (!job) break;
      signal?.throwIfAborted();
      const { instruction, t } = job;
      const chain = instruction.golds[0] as GoldChain;
      const session = environment.start(instruction, 0);
      const prefix = goldTrajectory(instruction, { ...chain, calls: chain.calls.slice(0, t) });
      for (const call of chain.calls.slice(0, t)) {
        const parsed = parseCall(call.request);
        if (parsed.ok) await session.execute(parsed.call);
      }
      // The gold trajectory of the first t calls, without its closing reply: the dialogue before call t.
      const before = { ...prefix, turns: prefix.turns.slice(0, -1) };
      const result = await model.generate({
        messages: chatMessages(instruction, before, false).map((m) => ({ role: m.role, content: m.content })),
        n: 1,
        temperature: 0,
        ...(signal === undefined ? {} : { signal }),
      });
      const parsed = parseCall(result.choices[0]?.text ?? "");
      const gold = chain.calls[t];
      if (!parsed.ok || gold === undefined) continue;
      const outcome = await session.execute(parsed.call);
      const key = callKey(`API-Request: ${parsed.call.source}`, outcome.output);
      if (outcome.exception === null && key !== undefined && key === callKey(gold.request, gold.output))
        correct++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, jobs.length)) }, worker));
  return { calls: jobs.length, correct };
}

/**
 * The validation split: `n` training requests chosen by a hash of their ids, the same for every seed and every
 * `--instructions`, so choices compared on it are compared on the same requests. Never the test dialogues.
 */
export function validationSplit(
  instructions: readonly Instruction[],
  n: number,
): { train: Instruction[]; validation: Instruction[] } {
  if (n <= 0) return { train: [...instructions], validation: [] };
  const rank = (i: Instruction) => createHash("sha256").update(`validation:${i.id}`).digest("hex");
  const held = new Set(
    [...instructions]
      .sort((a, b) => (rank(a) < rank(b) ? -1 : 1))
      .slice(0, n)
      .map((i) => i.id),
  );
  return {
    train: instructions.filter((i) => !held.has(i.id)),
    validation: instructions.filter((i) => held.has(i.id)),
  };
}

export function chooseInstructions(set: TrainingSet, m: number): Instruction[] {
  const withGold = set.instructions.filter((i) => i.golds.length > 0).sort((a, b) => (a.id < b.id ? -1 : 1));
  return m > 0 ? withGold.slice(0, m) : withGold;
}

const count = (items: readonly string[]) => {
  const out: Record<string, number> = {};
  for (const k of items) out[k] = (out[k] ?? 0) + 1;
  return out;
};

function itDir(dir: string, it: number): string {
  const d = join(dir, "iterations", `it${it}`);
  mkdirSync(d, { recursive: true });
  return d;
}

function simulatedCounts(trajectories: readonly Trajectory[]) {
  let simulatedResults = 0;
  let simulatorErrors = 0;
  for (const t of trajectories) {
    for (const turn of t.turns) {
      if (turn.role !== "api" || turn.simulated !== true) continue;
      simulatedResults++;
      if (turn.exception?.startsWith(SIMULATOR_ERROR) === true) simulatorErrors++;
    }
  }
  return { simulatedResults, simulatorErrors };
}

export async function runTrainLoop(
  config: TrainLoopConfig,
  ctx: TrainLoopContext,
): Promise<TrainLoopSummary> {
  const { store, dir, signal } = ctx;
  const log = ctx.log ?? (() => {});
  const modelOptions = {
    ...(ctx.meter !== undefined ? { meter: ctx.meter } : {}),
    ...(config.llmTimeoutMs !== undefined ? { timeoutMs: config.llmTimeoutMs } : {}),
  };
  const open = ctx.openModel ?? ((spec: string) => createAgentModel(spec, modelOptions));
  const set = loadInstructions(config.dataDir);
  const split = validationSplit(chooseInstructions(set, 0), config.validation ?? 0);
  const instructions = config.instructions > 0 ? split.train.slice(0, config.instructions) : split.train;
  if (split.validation.length > 0 && instructions.length === 0)
    throw new UserError("--validation leaves no training request", { category: "bad_option" });
  if (instructions.length === 0)
    throw new UserError("no training instruction has a gold chain", { category: "bad_data" });
  const byId = new Map(instructions.map((i) => [i.id, i]));
  const replay = new ReplaySimulator(set.instructions);
  const data = config.evalLevels.length > 0 ? loadApiBank(config.dataDir) : undefined;
  // The journal keeps the base spec without URL credentials; iteration 0 connects with `config.model` itself.
  if (store.model(0) === undefined) store.putModel(0, redactUrlCredentials(config.model), { base: true });

  const stage = async <T>(it: number, name: Stage, run: () => Promise<T>): Promise<T> => {
    const done = store.stage(it, name);
    if (done !== undefined) return done as T;
    signal?.throwIfAborted();
    const started = performance.now();
    const result = await run();
    store.finishStage(it, name, result, performance.now() - started);
    return result;
  };

  const iterations: IterationSummary[] = [];
  for (let it = 0; it <= config.iterations; it++) {
    const spec = it === 0 ? config.model : store.model(it)?.spec;
    if (spec === undefined) throw new Error(`iteration ${it} has no model`);
    const evaluation = await stage(it, "evaluate", async () => {
      const out: Record<string, EvalHeadline> = {};
      if (!data) return out;
      const model = open(spec);
      try {
        for (const level of config.evalLevels) {
          let points = levelPoints(data, level);
          if (config.evalLimit !== null) points = points.slice(0, config.evalLimit);
          const { records, summary } = await scoreLevel(data, level, points, llmPredictor(model), {
            scoring: config.scoring ?? "corrected",
            recordedSearch: config.recordedSearch ?? false,
            seed: config.seed,
            model: spec,
            concurrency: config.concurrency,
            ...(signal === undefined ? {} : { signal }),
          });
          writeFileSync(
            join(itDir(dir, it), `eval-level-${level}.jsonl`),
            records
              .map(
                (r) => `${JSON.stringify({ ...r.ref, pred: r.answer, correct: r.call?.correct ?? null })}\n`,
              )
              .join(""),
          );
          store.putEvaluation(it, level, summary);
          out[String(level)] = {
            points: summary.points,
            call_correct: summary.call_correct,
            call_accuracy: summary.call_accuracy,
            rouge_l: summary.rouge_l,
            errors: summary.errors,
          };
          log(
            `iteration ${it}: level ${level} API calls ${summary.call_correct}/${summary.points} (${(100 * summary.call_accuracy).toFixed(2)}%)`,
          );
        }
      } finally {
        await model.close?.();
      }
      return out;
    });
    const validation = await stage(it, "validate", async (): Promise<ValidationStats | null> => {
      if (split.validation.length === 0) return null;
      const model = open(spec);
      let solved = 0;
      try {
        const results = await rolloutMany(llmPolicy(model, { temperature: 0 }), split.validation, 1, replay, {
          rng: new Rng(`validate:${config.seed}:it${it}`),
          maxSteps: config.maxSteps,
          concurrency: config.concurrency,
          ...(signal === undefined ? {} : { signal }),
        });
        for (const [i, r] of results.entries()) {
          const instruction = split.validation[i];
          if (instruction && exactTwinCritic(instruction, r.trajectory).score >= config.threshold) solved++;
        }
        const forced = await validationCalls(model, split.validation, replay, config.concurrency, signal);
        const n = split.validation.length;
        log(
          `iteration ${it}: validation ${solved}/${n} held-out training requests solved, ${forced.correct}/${forced.calls} calls`,
        );
        return {
          requests: n,
          solved,
          accuracy: solved / n,
          calls: forced.calls,
          callsCorrect: forced.correct,
          callAccuracy: forced.calls === 0 ? 0 : forced.correct / forced.calls,
        };
      } finally {
        await model.close?.();
      }
    });
    const withValidation = validation === null ? {} : { validation };
    if (it === config.iterations) {
      iterations.push({ iteration: it, model: spec, evaluation, ...withValidation });
      break;
    }

    const rollouts = await stage(it, "rollout", async (): Promise<RolloutStats> => {
      const model = open(spec);
      const simulator = config.executor === "replay" ? undefined : open(config.executor);
      const environment =
        simulator === undefined
          ? replay
          : new LlmSimulator(replay, simulator, signal === undefined ? {} : { signal });
      try {
        const done = new Set(store.trajectories(it).map((r) => `${r.instruction}#${r.sample}`));
        const total = instructions.length * config.samples;
        if (done.size > 0)
          log(`iteration ${it}: ${done.size} rollouts already recorded, ${total - done.size} to go`);
        let finished = done.size;
        let lastLog = performance.now();
        await rolloutMany(
          llmPolicy(model, { temperature: config.temperature }),
          instructions,
          config.samples,
          environment,
          {
            rng: new Rng(`train:${config.seed}:it${it}`),
            maxSteps: config.maxSteps,
            concurrency: config.concurrency,
            ...(signal === undefined ? {} : { signal }),
            skip: (instruction, sample) => done.has(`${instruction.id}#${sample}`),
            onResult: (r, instruction) => {
              store.putTrajectory({
                iteration: it,
                instruction: instruction.id,
                sample: r.sampleIndex,
                stop: r.stop,
                policyCalls: r.policyCalls,
                inputTokens: r.usage.inputTokens,
                outputTokens: r.usage.outputTokens,
                trajectory: r.trajectory,
              });
              finished++;
              if (performance.now() - lastLog > 5000) {
                lastLog = performance.now();
                log(`iteration ${it}: ${finished}/${total} rollouts`);
              }
            },
          },
        );
      } finally {
        await model.close?.();
        await simulator?.close?.();
      }
      const rows = store.trajectories(it);
      const stats: RolloutStats = {
        trajectories: rows.length,
        instructions: new Set(rows.map((r) => r.instruction)).size,
        policyCalls: rows.reduce((s, r) => s + r.policyCalls, 0),
        inputTokens: rows.reduce((s, r) => s + r.inputTokens, 0),
        outputTokens: rows.reduce((s, r) => s + r.outputTokens, 0),
        meanSteps:
          rows.length === 0 ? 0 : rows.reduce((s, r) => s + agentSteps(r.trajectory), 0) / rows.length,
        stops: count(rows.map((r) => r.stop)),
        ...simulatedCounts(rows.map((r) => r.trajectory)),
      };
      const simulated =
        config.executor === "replay"
          ? ""
          : `, ${stats.simulatedResults} API results simulated (${stats.simulatorErrors} unusable)`;
      log(`iteration ${it}: ${stats.trajectories} rollouts, ${stats.policyCalls} policy calls${simulated}`);
      return stats;
    });

    const critic = await stage(it, "critic", async (): Promise<CriticStats> => {
      const rows = store.trajectories(it);
      const judge = criticJudge(config.critic, signal, modelOptions);
      const verdicts: (Omit<VerdictRow, "kept"> & { trajectory: Trajectory })[] = [];
      try {
        for (const r of rows) {
          signal?.throwIfAborted();
          const instruction = byId.get(r.instruction);
          if (!instruction) continue;
          const pf = prefilter(instruction, r.trajectory);
          const truth = exactTwinCritic(instruction, r.trajectory).score;
          let verdict: CriticVerdict;
          if (config.critic === "none") verdict = { score: 10, reason: "no filter" };
          else if (!pf.ok) verdict = { score: 0, reason: `prefilter: ${pf.message}` };
          else verdict = await judge.judge(instruction, r.trajectory);
          verdicts.push({
            iteration: it,
            instruction: r.instruction,
            sample: r.sample,
            prefilterOk: pf.ok,
            prefilterReason: pf.ok ? null : pf.reason,
            score: verdict.score,
            reason: verdict.reason,
            error: verdict.error ?? null,
            truth,
            trajectory: r.trajectory,
          });
        }
      } finally {
        await judge.close();
      }
      const kept = new Set(
        selectTrajectories(verdicts, {
          threshold: config.threshold,
          perInstruction: config.perInstruction,
        }).map((v) => `${v.instruction}#${v.sample}`),
      );
      store.putVerdicts(
        it,
        verdicts.map(({ trajectory: _t, ...v }) => ({
          ...v,
          kept: kept.has(`${v.instruction}#${v.sample}`),
        })),
      );
      const accepted = verdicts.filter((v) => v.score >= config.threshold);
      const stats: CriticStats = {
        judged: verdicts.length,
        prefilterPassed: verdicts.filter((v) => v.prefilterOk).length,
        prefilterReasons: count(
          verdicts.flatMap((v) => (v.prefilterReason === null ? [] : [v.prefilterReason])),
        ),
        accepted: accepted.length,
        truthAccepted: verdicts.filter((v) => v.truth >= config.threshold).length,
        kept: kept.size,
        keptInstructions: new Set([...kept].map((k) => k.split("#")[0])).size,
        acceptanceRate: verdicts.length === 0 ? 0 : accepted.length / verdicts.length,
        unparseable: verdicts.filter((v) => v.error === "unparseable_verdict").length,
        agreement: criticAgreement(
          verdicts.map((v) => ({
            accepted: v.score >= config.threshold,
            reference: v.truth >= config.threshold,
          })),
        ),
        prefilterAgreement: criticAgreement(
          verdicts.map((v) => ({ accepted: v.prefilterOk, reference: v.truth >= config.threshold })),
        ),
      };
      log(
        `iteration ${it}: prefilter passed ${stats.prefilterPassed}/${stats.judged}, critic accepted ${stats.accepted}, kept ${stats.kept} (${stats.keptInstructions} instructions)`,
      );
      return stats;
    });

    const dataset = await stage(it, "dataset", async (): Promise<DatasetStats> => {
      // S ← S ∪ S_it (from base), or S_it alone when continuing from π_it.
      const first = config.from === "base" ? 0 : it;
      const kept = new Map<string, Trajectory>();
      for (let j = first; j <= it; j++) {
        const trajectories = new Map(
          store.trajectories(j).map((r) => [`${r.instruction}#${r.sample}`, r.trajectory]),
        );
        for (const v of store.verdicts(j)) {
          const t = trajectories.get(`${v.instruction}#${v.sample}`);
          if (v.kept && t) kept.set(JSON.stringify(t), t);
        }
      }
      const list = [...kept.values()];
      const d = itDir(dir, it);
      const files = {} as Record<"openai" | "trl" | "apibank", { path: string; sha256: string }>;
      let samples = 0;
      for (const format of ["openai", "trl", "apibank"] as const) {
        const records = exportRecords(format, set, list);
        if (format === "apibank") samples = records.length;
        const path = join(d, `dataset.${format}.jsonl`);
        writeFileSync(path, toJsonl(records));
        files[format] = { path, sha256: sha256File(path) };
      }
      return {
        trajectories: list.length,
        instructions: new Set(list.map((t) => t.instructionId)).size,
        samples,
        files,
      };
    });

    const train = await stage(it, "train", async () => {
      const baseModel = config.from === "base" ? config.model : spec;
      const outputDir = join(itDir(dir, it), "train");
      mkdirSync(outputDir, { recursive: true });
      log(
        `iteration ${it}: training on ${dataset.trajectories} trajectories (${dataset.samples} agent turns) with ${ctx.trainer.spec}`,
      );
      const outcome = await ctx.trainer.train({
        iteration: it,
        dataset: {
          openai: resolve(dataset.files.openai.path),
          trl: resolve(dataset.files.trl.path),
          apibank: resolve(dataset.files.apibank.path),
          trajectories: dataset.trajectories,
          samples: dataset.samples,
        },
        baseModel,
        outputDir: resolve(outputDir),
        ...(signal === undefined ? {} : { signal }),
        log,
      });
      store.putModel(it + 1, outcome.model, outcome.details);
      return { model: outcome.model, details: outcome.details };
    });
    iterations.push({
      iteration: it,
      model: redactUrlCredentials(spec),
      evaluation,
      ...withValidation,
      rollouts,
      critic,
      dataset,
      train,
    });
  }
  return {
    kind: "train",
    benchmark: "apibank",
    // summary.json and the report show the specs without URL credentials.
    config: {
      ...config,
      model: redactUrlCredentials(config.model),
      critic: redactUrlCredentials(config.critic),
      executor: redactUrlCredentials(config.executor),
    },
    instructions: {
      used: instructions.length,
      available: set.instructions.length,
      refused: set.refused.length,
    },
    iterations,
  };
}

/** The configured critic after the prefilter: the exact twin, an LLM with the rubric, or the prefilter alone. */
function criticJudge(
  critic: string,
  signal: AbortSignal | undefined,
  options: CreateModelOptions,
): { judge: (i: Instruction, t: Trajectory) => Promise<CriticVerdict>; close: () => Promise<void> } {
  if (critic === "exact") return { judge: async (i, t) => exactTwinCritic(i, t), close: async () => {} };
  if (critic === "prefilter" || critic === "none") {
    return { judge: async () => ({ score: 10, reason: "passed the prefilter" }), close: async () => {} };
  }
  const model = createModel(critic, options);
  const judge = llmCritic(model, signal === undefined ? {} : { signal });
  return { judge, close: async () => model.close?.() };
}
