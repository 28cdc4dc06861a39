/**
 * Training instructions for self-training (spec §1.3): the user requests of API-Bank's level-3 *training* data
 * (`training-data/lv3-train.json`, §2.3), each with the API descriptions the agent is shown and, where the data has
 * one, the gold call chain recorded in a final-reply step (what the replay simulator and the exact-twin critic use).
 *
 * Leakage rule (§1.3): `lv1-lv2-samples/` and `test-data/` are the test set. Nothing is read from them except to
 * build a `TestTextGuard`: the hash of every text in them (every string, and every line of it with a `User:` /
 * `AI:` prefix removed), after normalisation. An instruction whose normalised request hashes into that set is
 * refused and reported, so no test dialogue can become a rollout, a critic example or an SFT sample even if a
 * future training file contains one.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors.ts";
import { parseCall, parsePyLiteral } from "../envs/apibank/call.ts";
import { type ApiSchema, apiBankRoot } from "../envs/apibank/data.ts";
import type { Json } from "../envs/apibank/values.ts";

/** One step of a gold chain: the request as `API-Request: [Name(…)]` and the recorded output. */
export interface GoldCall {
  readonly name: string;
  readonly request: string;
  readonly output: Json;
}

export interface GoldChain {
  readonly calls: readonly GoldCall[];
  /** The recorded final reply, without the `AI:` prefix. */
  readonly reply: string;
}

export interface Instruction {
  /** First 16 hex digits of the SHA-256 of the normalised request: stable across runs and file orders. */
  readonly id: string;
  /** The user's request, with the data's `TIME: …` suffix removed. */
  readonly request: string;
  /** The `TIME: …` suffix of the first record that had one (fills the prompt's `{{time}}`). */
  readonly time: string | undefined;
  /** The API descriptions shown to the agent (ToolSearcher; the rest it finds by searching). */
  readonly docs: readonly ApiSchema[];
  /** Distinct gold chains recorded for this request (empty when the data has no final-reply step for it). */
  readonly golds: readonly GoldChain[];
}

export interface RefusedInstruction {
  readonly request: string;
  readonly hash: string;
  readonly reason: "test_text";
}

export interface TrainingSet {
  readonly instructions: readonly Instruction[];
  /** Requests the leakage guard refused (the instruction never enters the set). */
  readonly refused: readonly RefusedInstruction[];
  /** Gold-chain lines that had to be repaired (a call without brackets), for the log. */
  readonly repairs: readonly string[];
  /** Gold chains left out because a call in them is unreadable (e.g. two calls in one bracket), for the log. */
  readonly dropped: readonly string[];
  /** The data's two instruction templates (API step and reply step), with `{{time}}` unfilled. */
  readonly templates: { readonly api: string; readonly response: string };
  /** Files read, for the run manifest's hashes. */
  readonly files: readonly string[];
}

/** NFKC, `TIME: …` suffix removed, lower case, whitespace collapsed: two spellings of one request hash alike. */
export function normaliseText(text: string): string {
  return splitTime(text.normalize("NFKC")).text.toLowerCase().replace(/\s+/g, " ").trim();
}

export function textHash(text: string): string {
  return createHash("sha256").update(normaliseText(text)).digest("hex");
}

function splitTime(text: string): { text: string; time: string | undefined } {
  const m = /^([\s\S]*?)\s*TIME:\s*(.+?)\s*$/.exec(text);
  return m ? { text: m[1] ?? "", time: m[2] } : { text, time: undefined };
}

/** The set of hashes of every test text; `has` answers whether a text (after normalisation) is one of them. */
export class TestTextGuard {
  private readonly hashes: ReadonlySet<string>;
  /** Test files hashed. */
  readonly files: readonly string[];

  constructor(hashes: ReadonlySet<string>, files: readonly string[]) {
    this.hashes = hashes;
    this.files = files;
  }

  get size(): number {
    return this.hashes.size;
  }

  has(text: string): boolean {
    return this.hashes.has(textHash(text));
  }

  /** Hash a set of texts (for tests and for guards over other test sets). */
  static fromTexts(texts: Iterable<string>): TestTextGuard {
    const hashes = new Set<string>();
    for (const t of texts) addText(hashes, t);
    return new TestTextGuard(hashes, []);
  }
}

function addText(hashes: Set<string>, text: string): void {
  const add = (t: string) => {
    if (normaliseText(t) !== "") hashes.add(textHash(t));
  };
  add(text);
  for (const line of text.split(/\r?\n/)) add(line.replace(/^\s*(User|AI)\s*:\s*/, ""));
}

function addStrings(hashes: Set<string>, value: unknown): void {
  if (typeof value === "string") addText(hashes, value);
  else if (Array.isArray(value)) for (const v of value) addStrings(hashes, v);
  else if (value !== null && typeof value === "object")
    for (const v of Object.values(value)) addStrings(hashes, v);
}

function missing(path: string): UserError {
  return new UserError(
    `API-Bank data not found: ${path} (pass the data directory that holds api-bank/, e.g. --data ../shared/data)`,
    { category: "missing_data" },
  );
}

function listFiles(dir: string, ext: string): string[] {
  if (!existsSync(dir)) throw missing(dir);
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path, ext));
    else if (name.endsWith(ext)) out.push(path);
  }
  return out;
}

function parseJsonText(path: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not JSON (${e instanceof Error ? e.message : String(e)})`, {
      category: "bad_data",
    });
  }
}

/** Hash every text of the test set: `test-data/*.json` and `lv1-lv2-samples/**∕*.jsonl`. */
export function buildTestGuard(dataDir: string): TestTextGuard {
  const root = apiBankRoot(dataDir);
  const hashes = new Set<string>();
  const files = [
    ...listFiles(join(root, "test-data"), ".json"),
    ...listFiles(join(root, "lv1-lv2-samples"), ".jsonl"),
  ];
  for (const path of files) {
    const text = readFileSync(path, "utf8");
    if (path.endsWith(".jsonl")) {
      for (const line of text.split(/\r?\n/))
        if (line.trim() !== "") addStrings(hashes, parseJsonText(path, line));
    } else addStrings(hashes, parseJsonText(path, text));
  }
  return new TestTextGuard(hashes, files);
}

const TrainRecord = z.object({ instruction: z.string(), input: z.string(), output: z.string() });
export type TrainRecord = z.infer<typeof TrainRecord>;

const Param = z.object({ type: z.string(), description: z.string() });
/** The ToolSearcher description at the top of every lv3 input, in the training data's key style. */
const DocLine = z.object({
  apiCode: z.string().min(1),
  description: z.string(),
  parameters: z.record(z.string(), Param),
  response: z.record(z.string(), Param),
});

function docSchema(line: string, where: string): ApiSchema {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UserError(`${where}: the first input line is not an API description`, { category: "bad_data" });
  }
  const d = DocLine.safeParse(value);
  if (!d.success)
    throw new UserError(`${where}: bad API description: ${d.error.message}`, { category: "bad_data" });
  return {
    name: d.data.apiCode,
    description: d.data.description,
    input_parameters: d.data.parameters,
    output_parameters: d.data.response,
  };
}

/** A gold line `API-Request: [Name(…)]->result`; repairs `API-Request: Name(…)->result` (two in the data). */
function goldCall(line: string, repairs: string[]): GoldCall | undefined {
  let request: string;
  let resultText: string;
  const at = line.indexOf(")]->");
  if (at >= 0) {
    request = line.slice(0, at + 2);
    resultText = line.slice(at + 4);
  } else {
    const m = /^API-Request:\s*(\w+\(.*?\))->(.*)$/.exec(line);
    if (!m) return undefined;
    request = `API-Request: [${m[1] ?? ""}]`;
    resultText = m[2] ?? "";
    repairs.push(`${line.slice(0, 80)} → ${request}`);
  }
  const parsed = parseCall(request);
  if (!parsed.ok) return undefined;
  let output = parsePyLiteral(resultText);
  if (!output.ok && parsed.call.name === "ToolSearcher") {
    const repaired = repairDescription(resultText);
    const again = parsePyLiteral(repaired);
    if (again.ok) {
      output = again;
      repairs.push(`${resultText.slice(0, 80)} → a readable API description`);
    }
  }
  return { name: parsed.call.name, request, output: output.ok ? output.value : resultText };
}

/**
 * Two slips of the data's ToolSearcher results that stop them reading as Python literals (34 result lines of
 * lv3-train.json): a bare type name (`'type': str`) and an apostrophe inside a word of a single-quoted description
 * (`the user's budget`). Repaired, the description a search returned is one the agent can be shown and the
 * prefilter can check calls against. Only results that do not parse are repaired.
 */
export function repairDescription(text: string): string {
  return text
    .replace(/('type':\s*)(str|int|float|bool|list|dict|datetime|date|tuple)\b(?!['"])/g, "$1'$2'")
    .replace(/(\w)'(\w)/g, "$1\\'$2");
}

function chainKey(chain: GoldChain): string {
  return JSON.stringify([chain.calls.map((c) => c.request), chain.reply]);
}

/**
 * Group lv3 training records by request (normalised, `TIME:` removed), refusing any request the guard knows.
 * Pure: `loadInstructions` reads the file and the guard, tests pass records directly.
 */
export function parseTrainingRecords(
  records: readonly TrainRecord[],
  guard: TestTextGuard,
  where = "lv3-train.json",
): Omit<TrainingSet, "files"> {
  const byId = new Map<
    string,
    { request: string; time: string | undefined; docs: ApiSchema[]; golds: Map<string, GoldChain> }
  >();
  const refused = new Map<string, RefusedInstruction>();
  const repairs: string[] = [];
  const dropped: string[] = [];
  let apiTemplate: string | undefined;
  let responseTemplate: string | undefined;
  records.forEach((record, i) => {
    const here = `${where}[${i}]`;
    const lines = record.input.split("\n");
    const userLine = lines.find((l) => l.startsWith("User:"));
    if (userLine === undefined) throw new UserError(`${here}: no User: line`, { category: "bad_data" });
    const { text, time } = splitTime(userLine.slice("User:".length).trim());
    const request = text.trim();
    const hash = textHash(request);
    // The two templates are task text shared by all records, so a refused record may still supply one.
    const isReply = record.output.startsWith("AI:");
    if (isReply) responseTemplate ??= record.instruction;
    else apiTemplate ??= record.instruction;
    if (guard.has(request)) {
      refused.set(hash, { request, hash, reason: "test_text" });
      return;
    }
    const id = hash.slice(0, 16);
    let entry = byId.get(id);
    if (!entry) {
      entry = { request, time, docs: [docSchema(lines[0] ?? "", here)], golds: new Map() };
      byId.set(id, entry);
    }
    entry.time ??= time;
    if (!isReply) return;
    const calls: GoldCall[] = [];
    for (const line of lines) {
      if (!line.startsWith("API-Request:")) continue;
      const call = goldCall(line, repairs);
      if (!call) {
        dropped.push(`${here}: unreadable gold call: ${line.slice(0, 80)}`);
        return;
      }
      calls.push(call);
    }
    const chain: GoldChain = { calls, reply: record.output.replace(/^AI:\s*/, "").trim() };
    entry.golds.set(chainKey(chain), chain);
  });
  if (apiTemplate === undefined || responseTemplate === undefined) {
    throw new UserError(`${where}: needs both API-request and reply records`, { category: "bad_data" });
  }
  const instructions: Instruction[] = [...byId].map(([id, e]) => ({
    id,
    request: e.request,
    time: e.time,
    docs: e.docs,
    golds: [...e.golds.values()],
  }));
  return {
    instructions,
    refused: [...refused.values()],
    repairs,
    dropped,
    templates: { api: apiTemplate, response: responseTemplate },
  };
}

/** Load the lv3 training instructions, refusing every request found in the test set (`buildTestGuard`). */
export function loadInstructions(
  dataDir: string,
  guard: TestTextGuard = buildTestGuard(dataDir),
): TrainingSet {
  const path = join(apiBankRoot(dataDir), "training-data", "lv3-train.json");
  if (!existsSync(path)) throw missing(path);
  const parsed = z.array(TrainRecord).safeParse(parseJsonText(path, readFileSync(path, "utf8")));
  if (!parsed.success) {
    throw new UserError(`${path}: ${parsed.error.issues[0]?.message ?? "invalid"}`, { category: "bad_data" });
  }
  return { ...parseTrainingRecords(parsed.data, guard, path), files: [path, ...guard.files] };
}
