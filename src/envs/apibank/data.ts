/**
 * API-Bank's files (`api-bank/` under the data folder; spec §2.2–2.3), read in place and validated with zod.
 * Every file read is listed in `ApiBankData.files` so runs can hash it into their manifest.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../../core/errors.ts";
import type { Json, JsonObject } from "./values.ts";

const JsonValue = z.json().transform((v) => v as Json);
const JsonRecord = z.record(z.string(), z.json()).transform((v) => v as JsonObject);

/** An executed API call as API-Bank records it (`api_name` is absent from a few APIs' results). */
export const ApiResultSchema = z.object({
  api_name: z.string().optional(),
  input: JsonValue,
  output: JsonValue,
  exception: z.string().nullable(),
});
export type ApiResult = z.infer<typeof ApiResultSchema>;

const TextTurn = z.object({ role: z.enum(["User", "AI"]), text: z.string() });
const ApiTurn = z.object({
  role: z.literal("API"),
  api_name: z.string().min(1),
  param_dict: JsonRecord,
  result: ApiResultSchema,
});
export const TurnSchema = z.discriminatedUnion("role", [TextTurn, ApiTurn]);
export type Turn = z.infer<typeof TurnSchema>;
export type ApiTurn = z.infer<typeof ApiTurn>;

export interface Dialogue {
  /** File name, e.g. `AddAgenda-level-1-1.jsonl` (what the test records' `file` refers to). */
  readonly file: string;
  readonly turns: readonly Turn[];
}

const TestRecord = z.object({
  file: z.string(),
  id: z.number().int().min(0),
  instruction: z.string(),
  input: z.string(),
  expected_output: z.string(),
});
export type TestRecord = z.infer<typeof TestRecord>;

const ParamSchema = z.object({ type: z.string(), description: z.string() });
/** An API description as the test instructions list it, one JSON object per line. */
export const ApiSchemaSchema = z.object({
  name: z.string().min(1),
  description: z.string(),
  input_parameters: z.record(z.string(), ParamSchema),
  // Some lv3 search results describe no outputs at all (MedicalRecordSharing): none, not an unreadable schema.
  output_parameters: z.record(z.string(), ParamSchema).default({}),
});
export type ApiSchema = z.infer<typeof ApiSchemaSchema>;

const Level3Sample = z.object({
  requirement: z.string(),
  response: z.string(),
  apis: z.array(z.object({ api_name: z.string().min(1), input: JsonRecord, output: ApiResultSchema })),
});
export type Level3Sample = z.infer<typeof Level3Sample>;

const Level3Step = z.object({
  instruction: z.string(),
  input: z.string(),
  output: z.string(),
  sample_id: z.number().int().min(0),
  api_id: z.number().int().min(0),
});
export type Level3Step = z.infer<typeof Level3Step>;

const Exceptions = z.record(z.string(), z.array(z.string()));

export const DATABASE_NAMES = [
  "Account",
  "Agenda",
  "Alarm",
  "Appointments",
  "Bank",
  "HealthData",
  "History",
  "Hotel",
  "ImageCaptioning",
  "Meeting",
  "QuestionAnswering",
  "Reminder",
  "Scenes",
  "SearchEngine",
  "SpeechRecognition",
  "Stock",
  "Symptom",
  "TimeSwitch",
  "Wiki",
] as const;
export type DatabaseName = (typeof DATABASE_NAMES)[number];
export type Databases = Readonly<Record<DatabaseName, Json>>;

export interface ApiBankData {
  readonly root: string;
  /** Level-1 (given descriptions) and level-2 (ToolSearcher) dialogues, by file name order. */
  readonly dialogues: { readonly 1: readonly Dialogue[]; readonly 2: readonly Dialogue[] };
  readonly tests: {
    readonly 1: { readonly api: readonly TestRecord[]; readonly response: readonly TestRecord[] };
    readonly 2: { readonly api: readonly TestRecord[]; readonly response: readonly TestRecord[] };
  };
  readonly level3: {
    readonly samples: readonly Level3Sample[];
    readonly steps: readonly Level3Step[];
    readonly stepsIcl: readonly Level3Step[];
    readonly responses: readonly Level3Step[];
  };
  readonly databases: Databases;
  /** `data/exceptions.json`: API name → message templates. */
  readonly exceptions: Readonly<Record<string, readonly string[]>>;
  /** Every file read, for the manifest's hashes. */
  readonly files: readonly string[];
}

/** The API-Bank folder under a data directory. */
export function apiBankRoot(dataDir: string): string {
  return join(dataDir, "api-bank");
}

function missing(path: string): UserError {
  return new UserError(
    `API-Bank data not found: ${path} (pass the data directory that holds api-bank/, e.g. --data ../shared/data)`,
    { category: "missing_data" },
  );
}

function readText(path: string): string {
  if (!existsSync(path)) throw missing(path);
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      category: "missing_data",
      cause: e,
    });
  }
}

function bad(path: string, why: string): UserError {
  return new UserError(`${path}: ${why}`, { category: "bad_data" });
}

function parseWith<T>(path: string, schema: z.ZodType<T>, value: unknown, where = ""): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw bad(path, `${where}${issue?.path.join(".") || "value"}: ${issue?.message ?? "invalid"}`);
}

function readJson<T>(path: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(readText(path));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw bad(path, `not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseWith(path, schema, value);
}

/** One dialogue file: one JSON turn per line (blank lines skipped; an empty file is an empty dialogue). */
export function parseDialogue(text: string, path: string): Turn[] {
  const turns: Turn[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw bad(path, `line ${i + 1}: not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    turns.push(parseWith(path, TurnSchema, value, `line ${i + 1}: `));
  });
  return turns;
}

function readDialogues(dir: string, files: string[]): Dialogue[] {
  if (!existsSync(dir)) throw missing(dir);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      files.push(path);
      return { file, turns: parseDialogue(readText(path), path) };
    });
}

/** Load and validate every API-Bank file the evaluator uses; a missing or malformed file is a one-line error. */
export function loadApiBank(dataDir: string): ApiBankData {
  const root = apiBankRoot(dataDir);
  if (!existsSync(root)) throw missing(root);
  const files: string[] = [];
  const json = <T>(rel: string, schema: z.ZodType<T>): T => {
    const path = join(root, rel);
    files.push(path);
    return readJson(path, schema);
  };
  const dialogues = {
    1: readDialogues(join(root, "lv1-lv2-samples", "level-1-given-desc"), files),
    2: readDialogues(join(root, "lv1-lv2-samples", "level-2-toolsearcher"), files),
  };
  const records = z.array(TestRecord);
  const tests = {
    1: {
      api: json("test-data/level-1-api.json", records),
      response: json("test-data/level-1-response.json", records),
    },
    2: {
      api: json("test-data/level-2-api.json", records),
      response: json("test-data/level-2-response.json", records),
    },
  };
  const steps = z.array(Level3Step);
  const level3 = {
    samples: json("test-data/level-3.json", z.array(Level3Sample)),
    steps: json("test-data/level-3-batch-inf.json", steps),
    stepsIcl: json("test-data/level-3-batch-inf-icl.json", steps),
    responses: json("test-data/level-3-batch-inf-response.json", steps),
  };
  const databases = {} as Record<DatabaseName, Json>;
  for (const name of DATABASE_NAMES) databases[name] = json(`init_database/${name}.json`, JsonValue);
  const exceptions = json("data/exceptions.json", Exceptions);
  return { root, dialogues, tests, level3, databases, exceptions, files };
}

/** The API descriptions listed in a test instruction after `API descriptions:`, one JSON object per line. */
export function instructionSchemas(instruction: string, where = "instruction"): ApiSchema[] {
  const at = instruction.indexOf("API descriptions:");
  if (at < 0) return [];
  const out: ApiSchema[] = [];
  for (const line of instruction.slice(at + "API descriptions:".length).split("\n")) {
    const text = line.trim();
    if (!text.startsWith("{")) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw bad(where, `an API description is not JSON: ${text.slice(0, 60)}`);
    }
    out.push(parseWith(where, ApiSchemaSchema, value));
  }
  return out;
}
