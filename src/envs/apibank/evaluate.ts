/**
 * The evaluator: judge an answer to a test point as API-Bank does, and run a predictor over a level.
 *
 * A call point is judged in the order of API-Bank's own evaluator, each failure landing in one category of the
 * paper's error taxonomy:
 *   no_api_call        no `[ApiName(...)]` and nothing call-like in the answer
 *   false_format       a call-like answer that does not tokenize (unbalanced, not key=value, unterminated, …)
 *   api_hallucination  an API other than the gold one (the detail says whether it exists at this level)
 *   invalid_parameters an unknown parameter name, or a value the parameter's type rejects
 *   missing_parameters a required parameter left out
 *   exception          the call ran and raised
 *   failed_retrieval   ToolSearcher found another API than the gold keywords find, or none
 *   wrong_result       the call ran without error, but the API's correctness rule says no
 *
 * The reference a prediction is compared with is, by default, the gold call *executed by this executor* in the
 * same state (`reference: "executed"`): the gold call then scores 100% by construction of the check, not of the
 * executor, and a prediction is right exactly when it is equivalent to the gold call under the API's rule.
 * `reference: "recorded"` compares with the result recorded in the data instead, as API-Bank does; the two
 * differ only where this executor's databases differ from the ones the data was recorded with (reported).
 * The state is rebuilt for every check from fresh databases; with `state: "dialogue"` (default) the calls made
 * earlier in the same dialogue are replayed first, which is how the recorded results were produced.
 */
import { isLlmError } from "../../llm/errors.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { parseCall } from "./call.ts";
import type { ApiResult } from "./data.ts";
import type { ApiBankWorld, ApiSystem, Level } from "./executor.ts";
import { type CallPoint, type Point, pointPrompt, type ResponsePoint } from "./points.ts";
import { rougeL } from "./rouge.ts";
import { foundApiName } from "./toolsearcher.ts";
import type { Json } from "./values.ts";

export const ERROR_CATEGORIES = [
  "no_api_call",
  "false_format",
  "api_hallucination",
  "invalid_parameters",
  "missing_parameters",
  "exception",
  "failed_retrieval",
  "wrong_result",
] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** API-Bank's failure buckets (`evaluator_by_json.py`) for each category, for comparison with its logs. */
export const OFFICIAL_BUCKET: Readonly<Record<ErrorCategory, string>> = {
  no_api_call: "NO_API_CALL",
  false_format: "FAILED_PARSE_API_CALL",
  api_hallucination: "API_NAME_MISMATCH",
  invalid_parameters: "INVALID_INPUT_PARAMETER",
  missing_parameters: "MISS_INPUT_ARGUMENT",
  exception: "HAS_EXCEPTION",
  failed_retrieval: "OUTPUT_MISMATCH",
  wrong_result: "OUTPUT_MISMATCH / INPUT_MISMATCH",
};

export interface CallVerdict {
  readonly correct: boolean;
  readonly category?: ErrorCategory;
  readonly detail: string;
  readonly call?: { readonly name: string; readonly args: Readonly<Record<string, string>> };
  readonly result?: ApiResult;
  readonly reference?: ApiResult;
}

export interface ResponseVerdict {
  readonly rougeL: number;
  /** The text scored (after stripping speaker prefixes). */
  readonly hypothesis: string;
}

export interface JudgeOptions {
  readonly state?: "dialogue" | "fresh";
  readonly reference?: "executed" | "recorded";
  /** Seeds the random values APIs generate (tokens, ids); the same seed gives the same verdicts. */
  readonly seed?: number;
}

/** The text a response point scores: level 3 drops every `User:`/`AI:`, levels 1–2 a leading `AI:`. */
export function responseText(level: Level, answer: string): string {
  if (level === 3) return answer.replaceAll("User:", "").replaceAll("AI:", "").trim();
  return answer.trim().replace(/^AI:\s*/, "");
}

export class Judge {
  readonly world: ApiBankWorld;
  readonly state: "dialogue" | "fresh";
  readonly reference: "executed" | "recorded";
  readonly seed: number;

  constructor(world: ApiBankWorld, options: JudgeOptions = {}) {
    this.world = world;
    this.state = options.state ?? "dialogue";
    this.reference = options.reference ?? "executed";
    this.seed = options.seed ?? 0;
  }

  /** A fresh system for a point, with the dialogue's earlier calls replayed (level 3's APIs keep no state). */
  async systemFor(point: CallPoint, label: string): Promise<ApiSystem> {
    const system = this.world.system(`${this.seed}:${label}:${point.key}`);
    if (this.state === "dialogue" && point.level !== 3) {
      for (const call of point.prefix) await system.execute(call.name, call.args, call.recorded);
    }
    return system;
  }

  /** The result a correct call must match under the gold API's rule. */
  async referenceFor(point: CallPoint): Promise<ApiResult> {
    if (this.reference === "recorded") return point.gold.recorded;
    const system = await this.systemFor(point, "reference");
    const run = await system.execute(point.gold.name, point.gold.args, point.gold.recorded);
    if (!run.ok) throw new Error(`the gold call of ${point.key} is rejected by the executor: ${run.message}`);
    return run.result;
  }

  async judgeCall(point: CallPoint, answer: string): Promise<CallVerdict> {
    const parsed = parseCall(answer);
    if (!parsed.ok) return { correct: false, category: parsed.category, detail: parsed.message };
    const { name } = parsed.call;
    const args: Record<string, string> = {};
    for (const a of parsed.call.args) args[a.key] = a.text;
    const call = { name, args };
    if (name !== point.gold.name) {
      const known = this.world.apis.has(name) ? "an API of this level" : "no such API";
      return {
        correct: false,
        category: "api_hallucination",
        detail: `${name} (${known}) instead of ${point.gold.name}`,
        call,
      };
    }
    const system = await this.systemFor(point, "prediction");
    const run = await system.execute(name, args as Record<string, Json>);
    if (!run.ok) return { correct: false, category: run.category, detail: run.message, call };
    const reference = await this.referenceFor(point);
    const result = run.result;
    if (this.world.correct(name, result, reference))
      return { correct: true, detail: "correct", call, result, reference };
    if (name === "ToolSearcher") {
      const detail = `found ${foundApiName(result.output) ?? "nothing"}, the gold keywords find ${foundApiName(reference.output) ?? "nothing"}`;
      return { correct: false, category: "failed_retrieval", detail, call, result, reference };
    }
    if (result.exception !== null)
      return { correct: false, category: "exception", detail: result.exception, call, result, reference };
    return {
      correct: false,
      category: "wrong_result",
      detail: "the API's correctness rule rejects the result",
      call,
      result,
      reference,
    };
  }

  judgeResponse(point: ResponsePoint, answer: string): ResponseVerdict {
    const hypothesis = responseText(point.level, answer);
    const f = hypothesis === "" ? 0 : rougeL(point.expected, hypothesis).f;
    // API-Bank's level-1/2 evaluator rounds each score to 4 decimals (`round(score, 4)`); level 3 does not.
    return { rougeL: point.level === 3 ? f : Math.round(f * 1e4) / 1e4, hypothesis };
  }
}

// ---- predictors ------------------------------------------------------------------------------------------------

export interface Prediction {
  readonly text: string;
  /** A per-point model failure (e.g. the prompt does not fit the context): scored as an empty answer. */
  readonly error?: string;
  readonly inputTokens?: number;
  readonly outputTokens?: number;
}

export interface Predictor {
  /** `exact`, or the model spec. */
  readonly id: string;
  predict(point: Point, signal?: AbortSignal): Promise<Prediction>;
}

/** The exact twin: it answers every point with the gold answer of the test data. */
export const exactPredictor: Predictor = {
  id: "exact",
  predict: async (point) => ({ text: point.expected }),
};

export interface LlmPredictorOptions {
  readonly maxTokens?: number;
  readonly temperature?: number;
}

/** A language model answering the point's prompt (greedy, at most 256 new tokens by default). */
export function llmPredictor(model: LanguageModel, options: LlmPredictorOptions = {}): Predictor {
  return {
    id: model.id,
    async predict(point, signal) {
      try {
        const result = await model.generate({
          messages: [{ role: "user", content: pointPrompt(point) }],
          temperature: options.temperature ?? 0,
          maxTokens: options.maxTokens ?? 256,
          ...(signal ? { signal } : {}),
        });
        return {
          text: result.choices[0]?.text ?? "",
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
        };
      } catch (error) {
        // Setup problems (unreachable server, bad key, budget, a cassette without this call) stop the run;
        // a failure of this one point (prompt too long for the context, …) is this point's empty answer.
        if (!isLlmError(error) || error.userFacing || error.retryable || error.category === "aborted")
          throw error;
        return { text: "", error: `${error.category}: ${error.message.split("\n")[0] ?? ""}` };
      }
    },
  };
}

// ---- a level's evaluation ----------------------------------------------------------------------------------------

export interface PointRecord {
  readonly index: number;
  readonly level: Level;
  readonly kind: "call" | "response";
  readonly key: string;
  readonly ref: Point["ref"];
  readonly prompt: string;
  readonly answer: string;
  readonly expected: string;
  readonly internet: boolean;
  readonly goldApi?: string;
  readonly llmError?: string;
  readonly call?: CallVerdict;
  readonly response?: ResponseVerdict;
}

export interface EvaluationOptions extends JudgeOptions {
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Judge `predictor` on `points`, `concurrency` points at a time; records come back in point order. */
export async function evaluatePoints(
  judge: Judge,
  points: readonly Point[],
  predictor: Predictor,
  options: EvaluationOptions = {},
): Promise<PointRecord[]> {
  const records: PointRecord[] = new Array(points.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < points.length) {
      options.signal?.throwIfAborted();
      const index = next++;
      const point = points[index];
      if (!point) continue;
      const prediction = await predictor.predict(point, options.signal);
      const base = {
        index,
        level: point.level,
        kind: point.kind,
        key: point.key,
        ref: point.ref,
        prompt: pointPrompt(point),
        answer: prediction.text,
        expected: point.expected,
        ...(prediction.error ? { llmError: prediction.error } : {}),
      };
      records[index] =
        point.kind === "call"
          ? {
              ...base,
              internet: point.internet,
              goldApi: point.gold.name,
              call: await judge.judgeCall(point, prediction.text),
            }
          : { ...base, internet: false, response: judge.judgeResponse(point, prediction.text) };
      options.onProgress?.(++done, points.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, points.length)) }, worker),
  );
  return records;
}

/** Round to 12 significant digits so that summing in another order cannot change summary.json's bytes. */
function tidy(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

const ratio = (k: number, n: number) => (n === 0 ? 0 : tidy(k / n));

export interface ApiBankSummary {
  readonly benchmark: "apibank";
  readonly level: Level;
  readonly model: string;
  /** Call (API) points judged. */
  readonly points: number;
  readonly call_correct: number;
  readonly call_accuracy: number;
  readonly response_points: number;
  /** Mean ROUGE-L F over the response points. */
  readonly rouge_l: number;
  /** Failed call points by category (every category present, zeros included). */
  readonly errors: Readonly<Record<ErrorCategory, number>>;
  /** Call points whose gold API did not call the internet (Dictionary, Translate), and how they scored. */
  readonly offline: { readonly points: number; readonly correct: number; readonly call_accuracy: number };
  readonly internet: { readonly points: number; readonly correct: number; readonly apis: readonly string[] };
  readonly toolsearcher: { readonly retriever: string; readonly points: number; readonly correct: number };
  /** Level 3: a sample counts when every one of its steps is right (50 − samples with a wrong step). */
  readonly samples?: { readonly total: number; readonly correct: number; readonly accuracy: number };
  readonly llm_errors: number;
  readonly settings: { readonly state: string; readonly reference: string; readonly icl: boolean };
}

export function summarizeEvaluation(
  level: Level,
  model: string,
  records: readonly PointRecord[],
  settings: ApiBankSummary["settings"] & { readonly retriever: string; readonly level3Samples?: number },
): ApiBankSummary {
  const calls = records.filter((r) => r.call);
  const responses = records.filter((r) => r.response);
  const errors = Object.fromEntries(ERROR_CATEGORIES.map((c) => [c, 0])) as Record<ErrorCategory, number>;
  for (const r of calls) if (r.call?.category) errors[r.call.category]++;
  const correct = calls.filter((r) => r.call?.correct).length;
  const offline = calls.filter((r) => !r.internet);
  const internet = calls.filter((r) => r.internet);
  const tools = calls.filter((r) => r.goldApi === "ToolSearcher");
  const rouge = responses.reduce((s, r) => s + (r.response?.rougeL ?? 0), 0);
  let samples: ApiBankSummary["samples"];
  if (level === 3) {
    const total = settings.level3Samples ?? 50;
    const failed = new Set(
      calls.filter((r) => !r.call?.correct).map((r) => ("sample_id" in r.ref ? r.ref.sample_id : -1)),
    );
    samples = { total, correct: total - failed.size, accuracy: ratio(total - failed.size, total) };
  }
  return {
    benchmark: "apibank",
    level,
    model,
    points: calls.length,
    call_correct: correct,
    call_accuracy: ratio(correct, calls.length),
    response_points: responses.length,
    rouge_l: ratio(rouge, responses.length),
    errors,
    offline: {
      points: offline.length,
      correct: offline.filter((r) => r.call?.correct).length,
      call_accuracy: ratio(offline.filter((r) => r.call?.correct).length, offline.length),
    },
    internet: {
      points: internet.length,
      correct: internet.filter((r) => r.call?.correct).length,
      apis: [...new Set(internet.map((r) => r.goldApi ?? ""))].sort(),
    },
    toolsearcher: {
      retriever: settings.retriever,
      points: tools.length,
      correct: tools.filter((r) => r.call?.correct).length,
    },
    ...(samples ? { samples } : {}),
    llm_errors: records.filter((r) => r.llmError).length,
    settings: { state: settings.state, reference: settings.reference, icl: settings.icl },
  };
}

/** `manifest.json` of an evaluation run folder. */
export interface EvalManifest {
  readonly runId: string;
  readonly createdAt: string;
  readonly bayesact: string;
  readonly node: string;
  readonly platform: string;
  readonly gitCommit: string | null;
  readonly config: {
    readonly benchmark: "apibank";
    readonly level: Level;
    readonly model: string;
    readonly dataDir: string;
    readonly state: "dialogue" | "fresh";
    readonly reference: "executed" | "recorded";
    readonly retriever: string;
    readonly icl: boolean;
    readonly limit: number | null;
    readonly concurrency: number;
    readonly maxTokens: number;
    readonly seed: number;
  };
  /** sha256 of every data file read, by path. */
  readonly dataFiles: Readonly<Record<string, string>>;
  /** Probed capabilities of the model (empty for the exact twin). */
  readonly models: Readonly<Record<string, unknown>>;
}
