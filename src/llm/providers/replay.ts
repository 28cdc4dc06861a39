/**
 * Cassettes: record the calls of a real model once, replay them offline forever.
 *
 * A cassette is a JSONL file, one line per event:
 *
 *   {"v":1,"type":"call","key":…,"request":<canonical request>,"n":…,"result":<GenerateResult>}
 *   {"v":1,"type":"capabilities","model":…,"capabilities":…}
 *   {"v":1,"type":"score","key":…,"model":…,"prefix":…,"continuation":…,"result":<ScoreResult>}
 *
 * A call's key is the SHA-256 of its canonical request (which holds the model id and the first sample index)
 * together with `n`, i.e. of the whole sample range. Lines are appended one write at a time; a process that
 * dies mid-write leaves at most one torn last line, which loading skips (counted in `tornLines`) and the next
 * recorder cuts off before appending.
 *
 * A replayed result is the recorded one verbatim, usage and latency included, so a replayed run reports the same
 * token counts and costs as the run that recorded it (and re-recording a replay gives a byte-identical cassette).
 * Keys cover whole sample ranges, so replay needs the same split into calls as the recording: a cache in front
 * of the recorder that held some samples then must hold them now too.
 */
import {
  appendFileSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
} from "node:fs";
import { basename, dirname } from "node:path";
import { BayesactError } from "../../core/errors.ts";
import {
  canonicalJson,
  canonicalRequest,
  hashCanonical,
  type JsonValue,
  lastMessageExcerpt,
} from "../canonical.ts";
import { LlmError } from "../errors.ts";
import type { Capabilities, GenerateRequest, GenerateResult, LanguageModel, ScoreResult } from "../types.ts";

export const CASSETTE_VERSION = 1;

export interface CallLine {
  readonly v: 1;
  readonly type: "call";
  readonly key: string;
  readonly request: JsonValue;
  readonly n: number;
  readonly result: GenerateResult;
}

export interface CapabilitiesLine {
  readonly v: 1;
  readonly type: "capabilities";
  readonly model: string;
  readonly capabilities: Capabilities;
}

/** One `score(prefix, continuation)` call (exact log-likelihood scoring, e.g. BlocksWorld's scored priors). */
export interface ScoreLine {
  readonly v: 1;
  readonly type: "score";
  readonly key: string;
  readonly model: string;
  readonly prefix: string;
  readonly continuation: string;
  readonly result: ScoreResult;
}

export type CassetteLine = CallLine | CapabilitiesLine | ScoreLine;

/** The identity of a `score` call to `modelId`. */
export function scoreIdentity(modelId: string, prefix: string, continuation: string): string {
  return hashCanonical({ score: { model: modelId, prefix, continuation } });
}

/** The identity of a whole call (all its samples) to `modelId`. */
export function callIdentity(
  modelId: string,
  request: GenerateRequest,
): { key: string; request: JsonValue; n: number } {
  const canonical = canonicalRequest(modelId, request, request.sampleIndex ?? 0);
  const n = request.n ?? 1;
  return { key: hashCanonical({ request: canonical, n }), request: canonical, n };
}

export interface RecorderOptions {
  /** Cassette to append to (created with its folder if missing). */
  path: string;
}

/** Passes every call through to `inner` and appends each successful one to a cassette. */
export class RecordingModel implements LanguageModel {
  readonly id: string;
  readonly provider: string;
  readonly endpoint: string;
  readonly path: string;
  declare readonly score?: (
    prefix: string,
    continuation: string,
    options?: { signal?: AbortSignal },
  ) => Promise<ScoreResult>;
  private readonly inner: LanguageModel;
  private prepared = false;
  private capabilitiesRecorded = false;

  constructor(inner: LanguageModel, options: RecorderOptions) {
    this.inner = inner;
    this.id = inner.id;
    this.provider = inner.provider;
    this.endpoint = inner.endpoint;
    this.path = options.path;
    const score = inner.score;
    if (score) {
      this.score = async (prefix, continuation, o) => {
        const result = await score.call(inner, prefix, continuation, o);
        const key = scoreIdentity(this.id, prefix, continuation);
        this.append({ v: 1, type: "score", key, model: this.id, prefix, continuation, result });
        return result;
      };
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const result = await this.inner.generate(request);
    const identity = callIdentity(this.id, request);
    this.append({ v: 1, type: "call", key: identity.key, request: identity.request, n: identity.n, result });
    return result;
  }

  async capabilities(options?: { signal?: AbortSignal }): Promise<Capabilities> {
    const capabilities = await this.inner.capabilities(options);
    if (!this.capabilitiesRecorded) {
      this.capabilitiesRecorded = true;
      this.append({ v: 1, type: "capabilities", model: this.id, capabilities });
    }
    return capabilities;
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private append(line: CassetteLine): void {
    if (!this.prepared) {
      mkdirSync(dirname(this.path), { recursive: true });
      cutTornTail(this.path);
      this.prepared = true;
    }
    // One write of one whole line: concurrent calls in this process cannot interleave (synchronous), and a
    // crash can tear only this line, which loading tolerates.
    appendFileSync(this.path, `${JSON.stringify(line)}\n`);
  }
}

export function withRecorder(model: LanguageModel, options: RecorderOptions): RecordingModel {
  return new RecordingModel(model, options);
}

/** If the file ends mid-line (a recorder died while writing), cut that fragment so new lines start clean. */
function cutTornTail(path: string): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return; // no file yet
  }
  if (size === 0) return;
  const fd = openSync(path, "r");
  let last: number;
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, size - 1);
    last = byte[0] ?? 0x0a;
  } finally {
    closeSync(fd);
  }
  if (last === 0x0a) return;
  const content = readFileSync(path);
  truncateSync(path, content.lastIndexOf(0x0a) + 1);
}

export interface ReplayOptions {
  path: string;
  /**
   * Model id to answer as (default: the id the cassette was recorded with, so cache keys match; for a cassette
   * holding several models, the first one).
   */
  modelId?: string;
}

interface Recorded {
  readonly request: JsonValue;
  readonly n: number;
  readonly results: GenerateResult[];
}

/**
 * Answers from a cassette. The k-th identical request gets the k-th recording of it; once those are used up the
 * last one is repeated, so replaying more often than recorded stays deterministic instead of failing.
 */
export class ReplayModel implements LanguageModel {
  readonly id: string;
  readonly provider = "replay";
  readonly endpoint: string;
  readonly path: string;
  /** Lines skipped because the cassette ended mid-line (0 or 1). */
  readonly tornLines: number;
  private readonly recorded = new Map<string, Recorded>();
  private readonly used = new Map<string, number>();
  private readonly recordedCapabilities = new Map<string, Capabilities>();
  private readonly recordedScores = new Map<string, ScoreResult>();
  declare readonly score?: (
    prefix: string,
    continuation: string,
    options?: { signal?: AbortSignal },
  ) => Promise<ScoreResult>;

  constructor(options: ReplayOptions) {
    this.path = options.path;
    this.endpoint = `replay:${options.path}`;
    const { lines, tornLines } = loadCassette(options.path);
    this.tornLines = tornLines;
    let firstModel: string | undefined;
    for (const line of lines) {
      if (line.type === "score") {
        firstModel ??= line.model;
        // Scoring is deterministic: the last recording of a key stands for all of them.
        this.recordedScores.set(line.key, line.result);
      } else if (line.type === "call") {
        const model = (line.request as { model?: unknown }).model;
        if (firstModel === undefined && typeof model === "string") firstModel = model;
        const entry = this.recorded.get(line.key);
        if (entry) entry.results.push(line.result);
        else this.recorded.set(line.key, { request: line.request, n: line.n, results: [line.result] });
      } else {
        firstModel ??= line.model;
        if (!this.recordedCapabilities.has(line.model)) {
          this.recordedCapabilities.set(line.model, line.capabilities);
        }
      }
    }
    this.id = options.modelId ?? firstModel ?? `replay:${options.path}`;
    if (this.recordedScores.size > 0) {
      this.score = async (prefix, continuation, o) => {
        if (o?.signal?.aborted) throw new LlmError("aborted", "the call was aborted");
        const result = this.recordedScores.get(scoreIdentity(this.id, prefix, continuation));
        if (result === undefined) {
          throw new LlmError(
            "replay_miss",
            `replay miss: ${basename(this.path)} has no recording of score() on ${this.id} for continuation ${excerpt(continuation, 0)} after ${excerpt(prefix, prefix.length)}`,
          );
        }
        return structuredClone(result);
      };
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (request.signal?.aborted) throw new LlmError("aborted", "the call was aborted");
    const identity = callIdentity(this.id, request);
    const entry = this.recorded.get(identity.key);
    if (entry === undefined) throw this.miss(request, identity.request, identity.n);
    const k = this.used.get(identity.key) ?? 0;
    this.used.set(identity.key, k + 1);
    const result = entry.results[Math.min(k, entry.results.length - 1)];
    if (result === undefined) throw this.miss(request, identity.request, identity.n);
    // A copy: a caller mutating its result must not change what the next replay returns.
    return structuredClone(result);
  }

  async capabilities(): Promise<Capabilities> {
    const own = this.recordedCapabilities.get(this.id);
    if (own) return own;
    const [any] = this.recordedCapabilities.values();
    if (any) return any;
    return {
      jsonSchema: false,
      grammar: false,
      logprobs: false,
      multipleSamples: false,
      seed: false,
      score: false,
      notes: [`no capabilities recorded in ${basename(this.path)}; assuming none`],
    };
  }

  async close(): Promise<void> {}

  private miss(request: GenerateRequest, canonical: JsonValue, n: number): LlmError {
    const head = `replay miss: ${basename(this.path)} has no recording of this call to ${this.id} (last message: "${lastMessageExcerpt(request)}")`;
    const wanted = asRecord({ ...asRecord(canonical), n });
    let best: { entry: Recorded; score: readonly number[] } | undefined;
    for (const entry of this.recorded.values()) {
      const score = distance(asRecord({ ...asRecord(entry.request), n: entry.n }), wanted);
      if (best === undefined || lexLess(score, best.score)) best = { entry, score };
    }
    if (best === undefined) return new LlmError("replay_miss", `${head}; the cassette has no recorded calls`);
    const nearest = asRecord({ ...asRecord(best.entry.request), n: best.entry.n });
    return new LlmError("replay_miss", [head, ...describeDifferences(nearest, wanted)].join("\n"));
  }
}

function asRecord(value: JsonValue | Record<string, unknown>): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

interface PlainMessage {
  role: string;
  content: string;
}

function messagesOf(request: Record<string, unknown>): PlainMessage[] {
  const messages = request.messages;
  if (!Array.isArray(messages)) return [];
  return messages.map((m: unknown) => {
    const r = asRecord(m as JsonValue);
    return { role: String(r.role ?? ""), content: String(r.content ?? "") };
  });
}

function differingFields(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null));
}

/**
 * How far a recorded request is from the wanted one, compared lexicographically: fields that differ, messages
 * that differ, then how much of the first differing message is not shared (common prefix + suffix).
 */
function distance(recorded: Record<string, unknown>, wanted: Record<string, unknown>): readonly number[] {
  const fields = differingFields(recorded, wanted);
  const a = messagesOf(recorded);
  const b = messagesOf(wanted);
  let differing = 0;
  let firstSimilarity = 1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && x.role === y.role && x.content === y.content) continue;
    if (differing === 0) firstSimilarity = x && y ? similarity(x.content, y.content) : 0;
    differing++;
  }
  return [fields.length, differing, 1 - firstSimilarity];
}

function lexLess(a: readonly number[], b: readonly number[]): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Share of the longer string covered by the common prefix and suffix (cheap, linear, good for edited prompts). */
function similarity(a: string, b: string): number {
  const longest = Math.max(a.length, b.length);
  if (longest === 0) return 1;
  const prefix = commonPrefix(a, b);
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    a[a.length - 1 - suffix] === b[b.length - 1 - suffix]
  ) {
    suffix++;
  }
  return (prefix + suffix) / longest;
}

/** A few readable lines: which fields differ, their values, and for messages the first differing one. */
function describeDifferences(recorded: Record<string, unknown>, wanted: Record<string, unknown>): string[] {
  const fields = differingFields(recorded, wanted);
  const lines = [`  nearest recording differs in: ${fields.join(", ")}`];
  for (const field of fields) {
    if (field === "messages") {
      lines.push(describeMessages(messagesOf(recorded), messagesOf(wanted)));
    } else {
      lines.push(`  ${field}: recorded ${show(recorded[field])}, requested ${show(wanted[field])}`);
    }
  }
  return lines;
}

function describeMessages(a: readonly PlainMessage[], b: readonly PlainMessage[]): string {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) {
      return `  messages: recorded ${a.length}, requested ${b.length}; first unmatched [${i}]: ${
        x
          ? `recorded ${x.role} ${excerpt(x.content, 0)}`
          : `requested ${y?.role ?? ""} ${excerpt(y?.content ?? "", 0)}`
      }`;
    }
    if (x.role !== y.role || x.content !== y.content) {
      if (x.content === y.content)
        return `  messages[${i}]: recorded role ${x.role}, requested role ${y.role}`;
      const at = commonPrefix(x.content, y.content);
      return `  messages[${i}] (${y.role}): recorded ${excerpt(x.content, at)}, requested ${excerpt(y.content, at)}`;
    }
  }
  return "  messages: equal";
}

/** About 60 characters of `text` around position `at`, JSON-quoted so newlines stay visible on one line. */
function excerpt(text: string, at: number): string {
  const from = Math.max(0, at - 25);
  const to = Math.min(text.length, at + 35);
  return `${from > 0 ? "…" : ""}${JSON.stringify(text.slice(from, to))}${to < text.length ? "…" : ""}`;
}

function show(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = canonicalJson(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function loadCassette(path: string): { lines: CassetteLine[]; tornLines: number } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT")
      throw new LlmError("not_found", `replay cassette not found: ${path}`, { cause: error });
    const reason = error instanceof Error ? error.message : String(error);
    throw new LlmError("bad_request", `cannot read replay cassette ${path}: ${reason}`, { cause: error });
  }
  const raw = text.split("\n");
  // Text ending in "\n" leaves an empty last element; otherwise the last element is a line nobody finished.
  const unfinished = raw.pop() ?? "";
  const lines: CassetteLine[] = [];
  raw.forEach((line, i) => {
    if (line.trim() === "") return;
    const parsed = parseLine(line);
    if (typeof parsed === "string") {
      throw new BayesactError("cassette_invalid", `${path}:${i + 1}: ${parsed}`, { userFacing: true });
    }
    lines.push(parsed);
  });
  let tornLines = 0;
  if (unfinished.trim() !== "") {
    const parsed = parseLine(unfinished);
    if (typeof parsed === "string") tornLines = 1;
    else lines.push(parsed);
  }
  return { lines, tornLines };
}

/** A valid line, or why it is not one. */
function parseLine(text: string): CassetteLine | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const line = value as Record<string, unknown>;
  if (line.v !== CASSETTE_VERSION) {
    return `cassette format version ${String(line.v)}; this bayesact reads version ${CASSETTE_VERSION}`;
  }
  if (line.type === "call") {
    const result = line.result as Record<string, unknown> | null | undefined;
    const valid =
      typeof line.key === "string" &&
      typeof line.request === "object" &&
      line.request !== null &&
      typeof line.n === "number" &&
      typeof result === "object" &&
      result !== null &&
      Array.isArray(result.choices) &&
      typeof result.model === "string";
    return valid ? (line as unknown as CallLine) : "malformed call line";
  }
  if (line.type === "capabilities") {
    const valid =
      typeof line.model === "string" && typeof line.capabilities === "object" && line.capabilities !== null;
    return valid ? (line as unknown as CapabilitiesLine) : "malformed capabilities line";
  }
  if (line.type === "score") {
    const result = line.result as Record<string, unknown> | null | undefined;
    const valid =
      typeof line.key === "string" &&
      typeof line.model === "string" &&
      typeof line.prefix === "string" &&
      typeof line.continuation === "string" &&
      typeof result === "object" &&
      result !== null &&
      typeof result.logprob === "number" &&
      Array.isArray(result.tokens);
    return valid ? (line as unknown as ScoreLine) : "malformed score line";
  }
  return `unknown line type ${JSON.stringify(line.type)}`;
}
