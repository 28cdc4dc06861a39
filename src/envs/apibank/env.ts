/**
 * The agent protocol as an environment: the agent sees the API descriptions and the dialogue so far, and answers
 * either `API-Request: [ApiName(key='value', …)]`, which the environment executes and appends to the dialogue as
 * `API-Request: [...]->result`, or a reply to the user, which ends the episode. An instance is one call point of
 * the test data (the dialogue up to a gold API call); the episode succeeds when the agent's first action is a
 * call the evaluator judges correct, and every later call runs against the same, changed state.
 */
import type { Env, StepResult } from "../../core/env.ts";
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import { type ParsedCall, parseCall } from "./call.ts";
import type { CallVerdict, Judge } from "./evaluate.ts";
import { responseText } from "./evaluate.ts";
import type { ApiSystem } from "./executor.ts";
import type { CallPoint } from "./points.ts";
import { type Json, pyRepr } from "./values.ts";

export type ApiBankAction =
  | { readonly kind: "call"; readonly call: ParsedCall }
  | { readonly kind: "reply"; readonly text: string };

export interface ApiBankObservation {
  /** The whole prompt: instructions with API descriptions, the dialogue, and what to generate next. */
  readonly text: string;
  /** The dialogue lines (`User: …`, `AI: …`, `API-Request: [...]->result`). */
  readonly transcript: readonly string[];
}

const NEXT = "Generate API Request or AI Response:";

/** How a result appears in the dialogue: Python's `str()` of the output, as the test inputs show it. */
export function renderResult(api: string, output: Json, exception: string | null): string {
  if (exception !== null) return `Exception: ${exception}`;
  // Calculator returns Python floats, which print with ".0"; JSON numbers cannot say so.
  if (api === "Calculator" && typeof output === "number" && Number.isInteger(output)) return `${output}.0`;
  return pyRepr(output);
}

export interface ApiBankEnvOptions {
  /** Calls allowed before the episode is cut (default 8). */
  readonly maxCalls?: number;
}

export class ApiBankEnv implements Env<ApiBankObservation, ApiBankAction> {
  readonly name = "apibank";
  private readonly judge: Judge;
  private readonly point: CallPoint;
  private readonly maxCalls: number;
  private system: ApiSystem | undefined;
  private transcript: string[] = [];
  private calls = 0;
  private firstVerdict: CallVerdict | undefined;
  private ended = false;

  constructor(judge: Judge, point: CallPoint, options: ApiBankEnvOptions = {}) {
    this.judge = judge;
    this.point = point;
    this.maxCalls = options.maxCalls ?? 8;
  }

  get terminal(): boolean {
    return this.ended;
  }

  async reset(seed: number): Promise<ApiBankObservation> {
    this.system = await this.judge.systemFor(this.point, `episode:${seed}`);
    // The test input ends with the marker line "Generate API Request:"; the dialogue is everything before it.
    this.transcript = this.point.input
      .split("\n")
      .filter((line) => line.trim() !== "" && !/^Generate (API Request|AI Response):/.test(line.trim()));
    this.calls = 0;
    this.firstVerdict = undefined;
    this.ended = false;
    return this.observation();
  }

  private observation(): ApiBankObservation {
    const text = `${this.point.instruction.trim()}\n${this.transcript.join("\n")}\n${NEXT}`;
    return { text, transcript: [...this.transcript] };
  }

  async step(action: ApiBankAction): Promise<StepResult<ApiBankObservation>> {
    if (this.ended || !this.system) throw new Error("step() after the episode ended, or before reset()");
    const first = this.calls === 0 && this.firstVerdict === undefined;
    if (action.kind === "reply") {
      this.transcript.push(`AI: ${action.text}`);
      this.ended = true;
      if (first)
        this.firstVerdict = { correct: false, category: "no_api_call", detail: "replied without a call" };
      return this.finish(0, "the agent answered the user");
    }
    const text = this.formatAction(action);
    if (first) this.firstVerdict = await this.judge.judgeCall(this.point, text);
    this.calls++;
    const args: Record<string, Json> = {};
    for (const a of action.call.args) args[a.key] = a.text;
    const run = await this.system.execute(action.call.name, args);
    const shown = run.ok
      ? renderResult(action.call.name, run.result.output, run.result.exception)
      : `Exception: ${run.message}`;
    this.transcript.push(`${text}->${shown}`);
    const reward = first && this.firstVerdict?.correct ? 1 : 0;
    if (this.calls >= this.maxCalls) {
      this.ended = true;
      const end = this.finish(reward, shown);
      return { ...end, info: { ...end.info, stopped: `after ${this.calls} calls` } };
    }
    return { observation: this.observation(), reward, done: false, feedback: shown, info: this.info() };
  }

  private finish(reward: number, feedback: string): StepResult<ApiBankObservation> {
    return {
      observation: this.observation(),
      reward,
      done: true,
      success: this.firstVerdict?.correct === true,
      feedback,
      info: this.info(),
    };
  }

  private info(): Record<string, unknown> {
    const v = this.firstVerdict;
    return v ? { first_call_correct: v.correct, category: v.category ?? null, detail: v.detail } : {};
  }

  legalActions(): undefined {
    return undefined;
  }

  render(): string {
    return this.observation().text;
  }

  formatAction(action: ApiBankAction): string {
    return action.kind === "call" ? `API-Request: ${action.call.source}` : `AI: ${action.text}`;
  }

  /** A call, or a reply when the text holds nothing call-like; a garbled call is a `false_format` error. */
  parseAction(text: string): ParseResult<ApiBankAction> {
    const parsed = parseCall(text);
    if (parsed.ok) return ok({ kind: "call", call: parsed.call });
    if (parsed.category === "no_api_call") return ok({ kind: "reply", text: responseText(1, text) });
    return fail(parsed.category, parsed.message);
  }
}
