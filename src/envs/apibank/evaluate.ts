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
 * How a call is read, run and checked is the scoring's (`scoring.ts`): official scoring (the default) is API-Bank's
 * evaluator bug for bug — its regular expressions (`official.ts`), fresh databases, the recorded result as the
 * reference, its checks' KeyErrors. Corrected scoring adds named rules; with `executed-reference` the reference is
 * the gold call executed here in the same state, so the gold scores 100% by construction of the check, and with
 * `dialogue-state` the dialogue's earlier calls are replayed first, as the recorded results were produced.
 */
import { isLlmError } from "../../llm/errors.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { sameOutcome } from "./api.ts";
import { parseCall } from "./call.ts";
import type { ApiResult } from "./data.ts";
import { type ApiBankWorld, type ApiSystem, coerce, type Level, type ValueReading } from "./executor.ts";
import { officialCallText, officialConvert, officialParse } from "./official.ts";
import { type CallPoint, type Point, pointPrompt, type ResponsePoint } from "./points.ts";
import { rougeL } from "./rouge.ts";
import { rulesLabel, type Scoring, type ScoringRule, scoringRules } from "./scoring.ts";
import { foundApiName } from "./toolsearcher.ts";
import { isObject, type Json } from "./values.ts";

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
  /** `official` (default): API-Bank's evaluator bug for bug; `corrected`: the project's reading (`scoring.ts`). */
  readonly scoring?: Scoring;
  /** An explicit rule set (official plus these rules), overriding `scoring`: the attribution of departures. */
  readonly rules?: Iterable<ScoringRule>;
  /** Seeds the random values APIs generate (tokens, ids); the same seed gives the same verdicts. */
  readonly seed?: number;
}

/** The text a response point scores: level 3 drops every `User:`/`AI:`, levels 1–2 a leading `AI:`. */
export function responseText(level: Level, answer: string): string {
  if (level === 3) return answer.replaceAll("User:", "").replaceAll("AI:", "").trim();
  return answer.trim().replace(/^AI:\s*/, "");
}

/** The APIs whose official check pops `meeting_topic` from both records (rule `intact-gold`). */
const POPS_MEETING_TOPIC: ReadonlySet<string> = new Set(["AddMeeting", "QueryMeeting", "ModifyMeeting"]);

/**
 * How a rule set reads values: `tool_manager.api_call`'s names and conversions, except where `device-id`,
 * `ascii-digits` or `python-lists` put the project's `coerce` in their place.
 */
function readingFor(rules: ReadonlySet<ScoringRule>): ValueReading {
  return {
    aliases: rules.has("device-id"),
    convert(type, value) {
      const project = () => coerce(type, value);
      if (typeof value !== "string") return project();
      if (type === "int" || type === "float") {
        if (rules.has("ascii-digits")) return project();
      } else if (type === "list" || type === "list(str)") {
        if (rules.has("python-lists")) return project();
      }
      const c = officialConvert(type, value);
      return c.ok ? c : { ok: false, message: c.message };
    },
  };
}

/**
 * Scores call and response points. A Judge is one pass over the points: with official scoring a check may
 * change the gold record it reads (as API-Bank's do), and a later point sharing that record sees the change,
 * so judge the points of a dialogue in order (`evaluatePoints` does) and use a new Judge for every pass.
 */
export class Judge {
  readonly world: ApiBankWorld;
  readonly rules: ReadonlySet<ScoringRule>;
  readonly seed: number;
  private readonly reading: ValueReading;
  /** This pass's copies of the recorded gold results, by the data's record (shared by points of one turn). */
  private readonly ledger = new Map<ApiResult, ApiResult>();

  constructor(world: ApiBankWorld, options: JudgeOptions = {}) {
    this.world = world;
    this.rules = new Set(options.rules ?? scoringRules(options.scoring ?? "official"));
    this.seed = options.seed ?? 0;
    this.reading = readingFor(this.rules);
  }

  /** `official`, `corrected`, or the rule set's name. */
  get scoring(): string {
    return rulesLabel(this.rules);
  }

  get state(): "dialogue" | "fresh" {
    return this.rules.has("dialogue-state") ? "dialogue" : "fresh";
  }

  get reference(): "executed" | "recorded" {
    return this.rules.has("executed-reference") ? "executed" : "recorded";
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
    if (this.reference === "recorded") {
      const shared = point.gold.recorded;
      let copy = this.ledger.get(shared);
      if (!copy) {
        copy = structuredClone(shared);
        this.ledger.set(shared, copy);
      }
      return copy;
    }
    const system = await this.systemFor(point, "reference");
    const run = await system.execute(point.gold.name, point.gold.args, point.gold.recorded);
    if (!run.ok) throw new Error(`the gold call of ${point.key} is rejected by the executor: ${run.message}`);
    return run.result;
  }

  /** The call in an answer: the project's tokenizer (rule `call-syntax`) or API-Bank's regular expressions. */
  private readCall(
    answer: string,
  ): { ok: true; name: string; args: Record<string, string> } | { ok: false; verdict: CallVerdict } {
    if (this.rules.has("call-syntax")) {
      const parsed = parseCall(answer);
      if (!parsed.ok)
        return { ok: false, verdict: { correct: false, category: parsed.category, detail: parsed.message } };
      const args: Record<string, string> = {};
      for (const a of parsed.call.args) args[a.key] = a.text;
      return { ok: true, name: parsed.call.name, args };
    }
    const text = officialCallText(answer);
    const call = text === undefined ? undefined : officialParse(text);
    if (!call) {
      return {
        ok: false,
        verdict: { correct: false, category: "no_api_call", detail: "no [ApiName(...)] in the answer" },
      };
    }
    return { ok: true, name: call.name, args: Object.fromEntries(call.params) };
  }

  /**
   * The gold API's check. Official: AddMeeting, QueryMeeting and ModifyMeeting pop `meeting_topic` from the
   * gold record (a second check of the same record raises KeyError), DeleteMeeting reads a `time` it has not.
   */
  private check(
    name: string,
    result: ApiResult,
    reference: ApiResult,
  ): { correct: boolean; keyError?: string } {
    if (name === "DeleteMeeting" && !this.rules.has("delete-meeting-start-time")) {
      if (reference.output === "success" && result.output === "success")
        return { correct: false, keyError: "time" };
      return { correct: sameOutcome(result, reference) };
    }
    if (POPS_MEETING_TOPIC.has(name) && !this.rules.has("intact-gold")) {
      const gold = isObject(reference.input) ? reference.input : undefined;
      if (!gold || !("meeting_topic" in gold)) return { correct: false, keyError: "meeting_topic" };
      const correct = this.world.correct(name, result, reference);
      delete gold.meeting_topic;
      return { correct };
    }
    return { correct: this.world.correct(name, result, reference) };
  }

  async judgeCall(point: CallPoint, answer: string): Promise<CallVerdict> {
    const read = this.readCall(answer);
    if (!read.ok) return read.verdict;
    const { name, args } = read;
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
    const run = await system.execute(name, args as Record<string, Json>, undefined, this.reading);
    if (!run.ok) return { correct: false, category: run.category, detail: run.message, call };
    const reference = await this.referenceFor(point);
    const result = run.result;
    const checked = this.check(name, result, reference);
    if (checked.keyError !== undefined) {
      const detail = `the official check raises KeyError: '${checked.keyError}'`;
      return { correct: false, category: "wrong_result", detail, call, result, reference };
    }
    if (checked.correct) return { correct: true, detail: "correct", call, result, reference };
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

export interface EvaluationOptions {
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number) => void;
}

/** Judging order: a dialogue's points by sample id (a check may change a gold record a later point shares). */
function judgingOrder(points: readonly Point[]): number[] {
  const order = points.map((_, i) => i);
  const key = (p: Point) =>
    "file" in p.ref ? [p.ref.file, p.ref.id] : [`~${p.ref.sample_id}`, p.ref.api_id];
  return order.sort((a, b) => {
    const [fa = "", ia = 0] = key(points[a] as Point);
    const [fb = "", ib = 0] = key(points[b] as Point);
    return fa < fb ? -1 : fa > fb ? 1 : Number(ia) - Number(ib) || a - b;
  });
}

/**
 * Answer `points` with `predictor`, `concurrency` points at a time, then judge them one by one in dialogue
 * order; records come back in point order.
 */
export async function evaluatePoints(
  judge: Judge,
  points: readonly Point[],
  predictor: Predictor,
  options: EvaluationOptions = {},
): Promise<PointRecord[]> {
  const predictions: Prediction[] = new Array(points.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < points.length) {
      options.signal?.throwIfAborted();
      const index = next++;
      const point = points[index];
      if (!point) continue;
      predictions[index] = await predictor.predict(point, options.signal);
      options.onProgress?.(++done, points.length);
    }
  };
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 1, points.length)) }, worker),
  );
  const records: PointRecord[] = new Array(points.length);
  for (const index of judgingOrder(points)) {
    const point = points[index];
    const prediction = predictions[index];
    if (!point || !prediction) continue;
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
  }
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
  /** `official`, `corrected` or `official+rule+…`; the state and reference those rules imply. */
  readonly settings: {
    readonly scoring: string;
    readonly state: string;
    readonly reference: string;
    readonly icl: boolean;
  };
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
    settings: {
      scoring: settings.scoring,
      state: settings.state,
      reference: settings.reference,
      icl: settings.icl,
    },
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
    /** `official`, `corrected` or `official+rule+…`. */
    readonly scoring: string;
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
