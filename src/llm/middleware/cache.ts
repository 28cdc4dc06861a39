/**
 * Content-addressed cache of model samples in SQLite.
 *
 * One row per *sample*: the key is `requestKey(modelId, request, sampleIndex)`, so a request for samples
 * sampleIndex … sampleIndex + n − 1 is n lookups, and only the missing ones reach the model. Keying by sample
 * index even at temperature 0 is deliberate: a tree search that asks again for "sample 3 of this prompt" must get
 * exactly what it got before (exact replay of the search), and a provider may not be deterministic at
 * temperature 0 anyway (batching, GPU non-determinism), so "same prompt ⇒ same answer" cannot be assumed.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { BayesactError } from "../../core/errors.ts";
import { canonicalJson, canonicalRequest, lastMessageExcerpt, requestKey } from "../canonical.ts";
import { isZeroAttempts, LlmError, sumAttempts, sumUsage, ZERO_USAGE } from "../errors.ts";
import type {
  Attempts,
  Choice,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
  StructuredMode,
  Usage,
} from "../types.ts";
import { wrapGenerate } from "./wrap.ts";

const FORMAT = "bayesact-llm-cache";
const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
INSERT OR IGNORE INTO meta (key, value) VALUES ('format', '${FORMAT}'), ('version', '${SCHEMA_VERSION}');
CREATE TABLE IF NOT EXISTS entries (
  key TEXT PRIMARY KEY,
  model_id TEXT NOT NULL,
  sample_index INTEGER NOT NULL,
  request TEXT NOT NULL,
  choice TEXT NOT NULL,
  served_model TEXT NOT NULL,
  structured_mode TEXT,
  input_tokens REAL NOT NULL,
  output_tokens REAL NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
`;

/** One cached sample. */
export interface CacheEntry {
  readonly key: string;
  readonly modelId: string;
  readonly sampleIndex: number;
  /** Canonical JSON of the request without the sample index (for inspection; the key is what matters). */
  readonly request: string;
  readonly choice: Choice;
  /** The model name the provider reported when the sample was produced. */
  readonly servedModel: string;
  readonly structuredMode?: StructuredMode;
  /** This sample's share of the usage of the call that produced it (usage / number of samples in the call). */
  readonly usageShare: Usage;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

export interface CacheStats {
  /** Rows in the cache file (all processes). */
  readonly entries: number;
  /** Samples served without an inner call, since this `LlmCache` was opened. */
  readonly hits: number;
  /** Samples the inner model had to produce (or that were missing in cache-only mode). */
  readonly misses: number;
}

export interface LlmCacheOptions {
  /** Clock for `createdAt` (default `Date.now`). */
  now?: () => number;
}

/** A SQLite file (or `":memory:"`) of cached samples. Several processes may share a file (WAL, busy timeout). */
export class LlmCache {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly now: () => number;
  private hits = 0;
  private misses = 0;
  private closed = false;
  private readonly getStatement;
  private readonly putStatement;

  constructor(path: string, options: LlmCacheOptions = {}) {
    this.path = path;
    this.now = options.now ?? Date.now;
    this.db = openCacheDatabase(path);
    this.getStatement = this.db.prepare(
      "SELECT key, model_id, sample_index, request, choice, served_model, structured_mode, input_tokens, output_tokens, created_at FROM entries WHERE key = ?",
    );
    this.putStatement = this.db.prepare(
      "INSERT OR IGNORE INTO entries (key, model_id, sample_index, request, choice, served_model, structured_mode, input_tokens, output_tokens, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
  }

  get(key: string): CacheEntry | undefined {
    const row = this.getStatement.get(key);
    return row === undefined ? undefined : this.rowToEntry(row);
  }

  /**
   * Store an entry unless the key is already present, and return what the cache now holds. First writer wins:
   * if another process stored the same sample meanwhile, everyone sees that one from now on.
   */
  put(entry: Omit<CacheEntry, "createdAt">): CacheEntry {
    const createdAt = this.now();
    const result = this.putStatement.run(
      entry.key,
      entry.modelId,
      entry.sampleIndex,
      entry.request,
      JSON.stringify(entry.choice),
      entry.servedModel,
      entry.structuredMode ?? null,
      entry.usageShare.inputTokens,
      entry.usageShare.outputTokens,
      createdAt,
    );
    if (Number(result.changes) > 0) return { ...entry, createdAt };
    return this.get(entry.key) ?? { ...entry, createdAt };
  }

  /** @internal Counted by `withCache` once a call has settled, so `hits` matches the sum of `cacheHits`. */
  recordLookups(hits: number, misses: number): void {
    this.hits += hits;
    this.misses += misses;
  }

  stats(): CacheStats {
    const row = this.db.prepare("SELECT COUNT(*) AS n FROM entries").get();
    return { entries: Number(row?.n ?? 0), hits: this.hits, misses: this.misses };
  }

  /** Idempotent. Closing does not affect other `LlmCache` objects on the same file. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private rowToEntry(row: Record<string, unknown>): CacheEntry {
    const choice = parseChoice(row.choice);
    if (choice === undefined || typeof row.key !== "string") {
      throw new BayesactError("cache_invalid", `cache file ${this.path} holds a malformed entry`, {
        userFacing: true,
      });
    }
    const mode = row.structured_mode;
    return {
      key: row.key,
      modelId: String(row.model_id),
      sampleIndex: Number(row.sample_index),
      request: String(row.request),
      choice,
      servedModel: String(row.served_model),
      ...(mode === "native" || mode === "grammar" || mode === "prompt" ? { structuredMode: mode } : {}),
      usageShare: { inputTokens: Number(row.input_tokens), outputTokens: Number(row.output_tokens) },
      createdAt: Number(row.created_at),
    };
  }
}

function openCacheDatabase(path: string): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path, { timeout: 5000 });
    // Reading the schema is the first thing that fails on a file that is not SQLite at all.
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    if (tables.length === 0) {
      db.exec("BEGIN IMMEDIATE");
      try {
        db.exec(SCHEMA);
        db.exec("COMMIT");
      } catch (error) {
        db.exec("ROLLBACK");
        throw error;
      }
    }
    const problem = schemaProblem(db);
    if (problem !== undefined) throw new BayesactError("cache_invalid", problem, { userFacing: true });
    db.exec("PRAGMA journal_mode = WAL");
    // In WAL mode NORMAL never corrupts the file; a power cut can only lose the last few entries, which a cache
    // recomputes. FULL would fsync on every stored sample.
    db.exec("PRAGMA synchronous = NORMAL");
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof BayesactError) {
      throw new BayesactError("cache_invalid", `cache file ${path} ${error.message}`, {
        cause: error,
        userFacing: true,
      });
    }
    const reason = (error instanceof Error ? error.message : String(error)).split("\n")[0];
    throw new BayesactError("cache_invalid", `cache file ${path} cannot be opened: ${reason}`, {
      cause: error,
      userFacing: true,
    });
  }
}

function schemaProblem(db: DatabaseSync): string | undefined {
  const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  if (hasMeta === undefined) return "is an SQLite file but not a bayesact LLM cache (no meta table)";
  const rows = db.prepare("SELECT key, value FROM meta").all();
  const meta = new Map(rows.map((r) => [String(r.key), String(r.value)]));
  if (meta.get("format") !== FORMAT) return "is an SQLite file but not a bayesact LLM cache";
  const version = Number(meta.get("version"));
  if (version !== SCHEMA_VERSION) {
    return `has cache schema version ${meta.get("version") ?? "?"}; this bayesact reads version ${SCHEMA_VERSION}`;
  }
  return undefined;
}

function parseChoice(text: unknown): Choice | undefined {
  if (typeof text !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const c = value as Record<string, unknown>;
  if (typeof c.index !== "number" || typeof c.text !== "string" || typeof c.finishReason !== "string") {
    return undefined;
  }
  return value as Choice;
}

export type CacheMode = "read-write" | "cache-only" | "off";

export interface CacheOptions {
  cache: LlmCache;
  /** `read-write` (default) looks up and stores; `cache-only` never calls the model; `off` passes through. */
  mode?: CacheMode;
}

/** One sample as served to a caller. */
interface Served {
  readonly choice: Choice;
  readonly servedModel: string;
  readonly structuredMode: StructuredMode | undefined;
}

/**
 * Samples being produced right now, per cache and key: a second identical request waits for them instead of
 * paying for them again. Shared by every `withCache` over the same `LlmCache`.
 */
const inFlightByCache = new WeakMap<LlmCache, Map<string, Promise<Served>>>();

/**
 * Cache samples of `model` in `cache`. The result's `cacheHits` counts the samples served without an inner call
 * (from the file, or from an identical request already in flight); `usage` and `attempts` are what the inner
 * calls of *this* request billed and went through, summed (none for a full hit; a request that waited for another's
 * call counts its samples as hits, and that call's retries stay with its owner, so nothing is counted twice).
 * Failed calls are never stored.
 */
export function withCache(model: LanguageModel, options: CacheOptions): LanguageModel {
  const mode = options.mode ?? "read-write";
  if (mode === "off") return wrapGenerate(model, (request) => model.generate(request));
  const cache = options.cache;
  let inFlight = inFlightByCache.get(cache);
  if (inFlight === undefined) {
    inFlight = new Map();
    inFlightByCache.set(cache, inFlight);
  }
  const flying = inFlight;

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    const started = performance.now();
    const n = request.n ?? 1;
    const first = request.sampleIndex ?? 0;
    if (!Number.isInteger(n) || n < 1) {
      throw new LlmError("bad_request", `n must be a positive integer, got ${n}`);
    }
    if (!Number.isInteger(first) || first < 0) {
      throw new LlmError("bad_request", `sampleIndex must be a non-negative integer, got ${first}`);
    }
    if (request.signal?.aborted) throw new LlmError("aborted", "the call was aborted");

    const keys = Array.from({ length: n }, (_, i) => requestKey(model.id, request, first + i));
    const slots: (Served | undefined)[] = new Array(n).fill(undefined);
    let usage: Usage = ZERO_USAGE;
    let attempts: Attempts | undefined;
    let hits = 0;
    let produced = 0;
    let pending = keys.map((_, pos) => pos);

    // Loops only when a sample we waited for failed because *another* caller aborted: then we ask ourselves.
    while (pending.length > 0) {
      const waits: { pos: number; promise: Promise<Served> }[] = [];
      const missing: number[] = [];
      for (const pos of pending) {
        const key = keyAt(keys, pos);
        const entry = cache.get(key);
        if (entry !== undefined) {
          slots[pos] = fromEntry(entry);
          hits++;
          continue;
        }
        const promise = flying.get(key);
        if (promise !== undefined) waits.push({ pos, promise });
        else missing.push(pos);
      }
      if (mode === "cache-only" && missing.length > 0) {
        cache.recordLookups(0, missing.length);
        const indexes = missing.map((pos) => first + pos).join(", ");
        throw new LlmError(
          "cache_miss",
          `cache-only mode: no cached sample ${indexes} for model ${model.id} (last message: "${lastMessageExcerpt(request)}")`,
        );
      }

      const runs = contiguousRuns(missing).map((run) => startRun(request, first, keys, run));
      const waited = waits.map((w) => raceAbort(w.promise, request.signal));
      const [runOutcomes, waitOutcomes] = await Promise.all([
        Promise.allSettled(runs),
        Promise.allSettled(waited),
      ]);

      let failure: unknown;
      const retry: number[] = [];
      runOutcomes.forEach((outcome) => {
        if (outcome.status === "rejected") {
          if (failure === undefined) failure = outcome.reason;
          else if (outcome.reason instanceof LlmError) {
            // A second failed run's billed tokens and attempts are this request's too.
            usage = sumUsage(usage, outcome.reason.usage ?? ZERO_USAGE);
            attempts = sumAttempts(attempts, outcome.reason.attempts);
          }
          return;
        }
        const { start } = outcome.value;
        outcome.value.served.forEach((served, offset) => {
          slots[start + offset] = served;
        });
        usage = sumUsage(usage, outcome.value.usage);
        if (outcome.value.attempts !== undefined) attempts = sumAttempts(attempts, outcome.value.attempts);
        produced += outcome.value.served.length;
      });
      waitOutcomes.forEach((outcome, w) => {
        const wait = waits[w];
        if (wait === undefined) return;
        if (outcome.status === "fulfilled") {
          slots[wait.pos] = outcome.value;
          hits++;
        } else if (isAbort(outcome.reason) && !request.signal?.aborted) {
          // The caller that owned the shared call gave up; that is no reason for us to fail.
          const key = keyAt(keys, wait.pos);
          if (flying.get(key) === wait.promise) flying.delete(key);
          retry.push(wait.pos);
        } else {
          failure ??= asWaiter(outcome.reason);
        }
      });
      if (failure !== undefined) {
        // What the other inner calls of this request billed and went through is not lost with the failure.
        throw failure instanceof LlmError ? failure.plusUsage(usage).plusAttempts(attempts) : failure;
      }
      pending = retry;
    }

    const served = slots.filter((s): s is Served => s !== undefined);
    if (served.length !== n) throw new LlmError("malformed_response", "cache: a sample went missing");
    cache.recordLookups(hits, produced);
    const head = served[0];
    return {
      model: head?.servedModel ?? model.id,
      choices: served.map((s) => s.choice),
      usage,
      latencyMs: performance.now() - started,
      ...(head?.structuredMode !== undefined ? { structuredMode: head.structuredMode } : {}),
      cacheHits: hits,
      ...(attempts !== undefined && !isZeroAttempts(attempts) ? { attempts } : {}),
    };
  }

  /** One inner call for the contiguous positions `run`; registers each sample as in flight until it settles. */
  function startRun(
    request: GenerateRequest,
    first: number,
    keys: readonly string[],
    run: readonly number[],
  ): Promise<{ start: number; served: Served[]; usage: Usage; attempts: Attempts | undefined }> {
    const start = run[0] ?? 0;
    const count = run.length;
    const call = (async () => {
      const result = await model.generate({ ...request, sampleIndex: first + start, n: count });
      const requestJson = canonicalJson(canonicalRequest(model.id, request));
      const share: Usage = {
        inputTokens: result.usage.inputTokens / count,
        outputTokens: result.usage.outputTokens / count,
      };
      const served: Served[] = [];
      for (let offset = 0; offset < count; offset++) {
        const index = first + start + offset;
        const choice = result.choices.find((c) => c.index === index);
        if (choice === undefined) {
          throw new LlmError(
            "malformed_response",
            `model ${model.id} returned no choice for sample ${index} (asked for ${count} from ${first + start})`,
          );
        }
        const stored = cache.put({
          key: keyAt(keys, start + offset),
          modelId: model.id,
          sampleIndex: index,
          request: requestJson,
          choice,
          servedModel: result.model,
          ...(result.structuredMode !== undefined ? { structuredMode: result.structuredMode } : {}),
          usageShare: share,
        });
        served.push(fromEntry(stored));
      }
      return { start, served, usage: result.usage, attempts: result.attempts };
    })();
    let perSample: Promise<Served>[] = [];
    // Registered before the per-sample promises exist, so it runs first: a failed call is gone from the map by
    // the time a waiter looks again.
    const cleanup = () => {
      for (let offset = 0; offset < count; offset++) {
        const key = keyAt(keys, start + offset);
        if (flying.get(key) === perSample[offset]) flying.delete(key);
      }
    };
    call.then(cleanup, cleanup);
    perSample = run.map((_, offset) =>
      call.then((r) => {
        const served = r.served[offset];
        if (served === undefined) throw new LlmError("malformed_response", "cache: a sample went missing");
        return served;
      }),
    );
    perSample.forEach((promise, offset) => {
      // Nobody may be waiting on it: the owner reads `call`, so a rejection here is expected and handled there.
      promise.catch(() => undefined);
      flying.set(keyAt(keys, start + offset), promise);
    });
    return call;
  }

  return wrapGenerate(model, generate);
}

function fromEntry(entry: CacheEntry): Served {
  return { choice: entry.choice, servedModel: entry.servedModel, structuredMode: entry.structuredMode };
}

function keyAt(keys: readonly string[], pos: number): string {
  const key = keys[pos];
  if (key === undefined) throw new RangeError(`no key at position ${pos}`);
  return key;
}

/** Split ascending positions into maximal runs of consecutive numbers. */
function contiguousRuns(positions: readonly number[]): number[][] {
  const runs: number[][] = [];
  let current: number[] = [];
  for (const pos of positions) {
    const last = current.at(-1);
    if (last !== undefined && pos !== last + 1) {
      runs.push(current);
      current = [];
    }
    current.push(pos);
  }
  if (current.length > 0) runs.push(current);
  return runs;
}

/** Another request's failure as seen by one that waited for it: its tokens and attempts are the owner's to count. */
function asWaiter(error: unknown): unknown {
  if (!(error instanceof LlmError) || (error.usage === undefined && error.attempts === undefined))
    return error;
  return new LlmError(error.category, error.message, {
    cause: error,
    retryable: error.retryable,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(error.raw !== undefined ? { raw: error.raw } : {}),
  });
}

function isAbort(error: unknown): boolean {
  return error instanceof LlmError && error.category === "aborted";
}

/** Wait for `promise`, but give up with `aborted` as soon as our own `signal` fires. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new LlmError("aborted", "the call was aborted"));
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
