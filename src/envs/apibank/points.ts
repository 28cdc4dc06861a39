/**
 * Test points (spec §2.4). Levels 1–2: each record of the test files (`file`, `id`) is joined with the point
 * rebuilt from its dialogue as API-Bank's `Sample.from_chat_history` builds it: for every API turn at position i,
 * sample 2k is (history[:i] → turn i) and sample 2k+1 is (history[:i+1] → turn i+1). The record gives the
 * prompt; the dialogue gives the gold call with its recorded result and the calls made before it. Level 3: each
 * batch step is joined with its gold chain in `level-3.json`.
 */
import { UserError } from "../../core/errors.ts";
import type { ApiBankData, ApiResult, ApiTurn, Dialogue, Level3Step, TestRecord, Turn } from "./data.ts";
import type { Level } from "./executor.ts";
import type { Json, JsonObject } from "./values.ts";

/** A call as the dialogue or the gold chain recorded it. */
export interface GoldCall {
  readonly name: string;
  /** The arguments as recorded (strings as the call gave them; level 3 may hold numbers). */
  readonly args: Readonly<Record<string, Json>>;
  readonly recorded: ApiResult;
}

interface PointBase {
  readonly level: Level;
  /** `file#id` (levels 1–2), `sample#step` or `sample` (level 3): unique within a level and kind. */
  readonly key: string;
  readonly instruction: string;
  readonly input: string;
  /** The gold answer: `API-Request: [...]` for call points, the reply text for response points. */
  readonly expected: string;
  /** Where the point comes from, as the official prediction files name it. */
  readonly ref:
    | { readonly file: string; readonly id: number }
    | { readonly sample_id: number; readonly api_id: number };
}

export interface CallPoint extends PointBase {
  readonly kind: "call";
  readonly gold: GoldCall;
  /** The calls made earlier in the same dialogue (or gold chain), replayed to rebuild the state. */
  readonly prefix: readonly GoldCall[];
  /** The gold API called a web service in the original (Dictionary, Translate). */
  readonly internet: boolean;
}

export interface ResponsePoint extends PointBase {
  readonly kind: "response";
}

export type Point = CallPoint | ResponsePoint;

export const INTERNET_APIS: ReadonlySet<string> = new Set(["Dictionary", "Translate"]);

function goldOf(turn: ApiTurn): GoldCall {
  return { name: turn.api_name, args: turn.param_dict, recorded: turn.result };
}

/** API-Bank's samples of one dialogue: (end of history, ground-truth turn or undefined), by sample id. */
export function dialogueSamples(turns: readonly Turn[]): { end: number; truth: Turn | undefined }[] {
  const samples: { end: number; truth: Turn | undefined }[] = [];
  turns.forEach((t, i) => {
    if (t.role !== "API") return;
    samples.push({ end: i, truth: t });
    samples.push({ end: i + 1, truth: turns[i + 1] });
  });
  return samples;
}

function bad(why: string): UserError {
  return new UserError(`API-Bank test data: ${why}`, { category: "bad_data" });
}

function joinRecord(level: 1 | 2, record: TestRecord, dialogues: ReadonlyMap<string, Dialogue>): Point {
  const dialogue = dialogues.get(record.file);
  if (!dialogue) throw bad(`level-${level} record ${record.file}#${record.id} names no dialogue file`);
  const sample = dialogueSamples(dialogue.turns)[record.id];
  const truth = sample?.truth;
  if (!sample || !truth)
    throw bad(`level-${level} record ${record.file}#${record.id} has no sample in its dialogue`);
  const base = {
    level,
    key: `${record.file}#${record.id}`,
    instruction: record.instruction,
    input: record.input,
    expected: record.expected_output,
    ref: { file: record.file, id: record.id },
  };
  if (truth.role === "API") {
    const prefix = dialogue.turns
      .slice(0, sample.end)
      .filter((t): t is ApiTurn => t.role === "API")
      .map(goldOf);
    return {
      ...base,
      kind: "call",
      gold: goldOf(truth),
      prefix,
      internet: INTERNET_APIS.has(truth.api_name),
    };
  }
  if (truth.role === "AI") return { ...base, kind: "response" };
  throw bad(`level-${level} record ${record.file}#${record.id} is a user turn`);
}

/** Every test point of a level, in file order: call points first, then response points. */
export function levelPoints(data: ApiBankData, level: Level, options: { icl?: boolean } = {}): Point[] {
  if (level === 3) return level3Points(data, options.icl ?? false);
  const dialogues = new Map(data.dialogues[level].map((d) => [d.file, d]));
  const calls = data.tests[level].api.map((r) => joinRecord(level, r, dialogues));
  const responses = data.tests[level].response.map((r) => joinRecord(level, r, dialogues));
  for (const p of calls)
    if (p.kind !== "call") throw bad(`${p.key} is in the API file but is not an API turn`);
  for (const p of responses)
    if (p.kind !== "response") throw bad(`${p.key} is in the response file but is not an AI turn`);
  return [...calls, ...responses];
}

function level3Points(data: ApiBankData, icl: boolean): Point[] {
  const samples = data.level3.samples;
  const step = (s: Level3Step): CallPoint => {
    const chain = samples[s.sample_id]?.apis;
    const gold = chain?.[s.api_id];
    if (!chain || !gold) throw bad(`level-3 step ${s.sample_id}#${s.api_id} has no gold call`);
    const call = (g: (typeof chain)[number]): GoldCall => ({
      name: g.api_name,
      args: g.input as JsonObject,
      recorded: g.output,
    });
    return {
      level: 3,
      kind: "call",
      key: `${s.sample_id}#${s.api_id}`,
      instruction: s.instruction,
      input: s.input,
      expected: s.output,
      ref: { sample_id: s.sample_id, api_id: s.api_id },
      gold: call(gold),
      prefix: chain.slice(0, s.api_id).map(call),
      internet: false,
    };
  };
  const calls = (icl ? data.level3.stepsIcl : data.level3.steps).map(step);
  const responses: ResponsePoint[] = data.level3.responses.map((s) => ({
    level: 3,
    kind: "response",
    key: `${s.sample_id}`,
    instruction: s.instruction,
    input: s.input,
    expected: s.output,
    ref: { sample_id: s.sample_id, api_id: s.api_id },
  }));
  return [...calls, ...responses];
}

/** The prompt of a point: instruction and input as one user message (spec §2.9). */
export function pointPrompt(point: Point): string {
  return `${point.instruction.trim()}\n${point.input.trim()}`;
}
