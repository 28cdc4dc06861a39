/**
 * What an API-Bank API is here: parameters with types and defaults, an implementation over the databases, the
 * shape of its result, and its own correctness rule (spec §2.6). The implementations live in `apis-*.ts`.
 */
import type { Rng } from "../../core/rng.ts";
import type { ApiResult, DatabaseName } from "./data.ts";
import { isObject, type Json, pyEqual, strftime, strptime } from "./values.ts";

export type ParamType = "str" | "int" | "float" | "bool" | "list" | "list(str)";

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** Parameters with a default in the Python signature may be left out; their default goes into `input`. */
  readonly optional?: boolean;
  /** Another accepted name (the data's calls and its descriptions disagree for the smart-switch APIs). */
  readonly alias?: string;
}

/** An exception raised by an API: its message becomes the result's `exception`, as `str(e)` did. */
export class ApiError extends Error {}

/** The outside services some APIs need: retrieval, and the recorded answers of the two internet APIs. */
export interface ApiServices {
  toolSearch(keywords: string): Promise<Json>;
  dictionary(keyword: string): Json | undefined;
  translate(src: string, tgtLang: string, srcLang: string | undefined): Json | undefined;
}

/** What an implementation sees: this check's own databases and per-API state, and a seeded generator. */
export interface ApiContext {
  readonly db: Record<DatabaseName, Json>;
  /** Per-API instance state (ForgotPassword's pending verification), keyed by API name. */
  readonly state: Map<string, Json>;
  readonly rng: Rng;
  /** The recorded result when a dialogue's own earlier call is replayed: generated values are taken from it. */
  readonly recorded: ApiResult | undefined;
  readonly services: ApiServices;
}

export interface ApiDefinition {
  readonly name: string;
  readonly params: readonly ParamSpec[];
  /**
   * How `input` is built: `signature` lists every declared parameter (defaults included), `given` only the
   * parameters passed (`**kwargs` APIs), `none` is `None` (GetToday).
   */
  readonly inputStyle: "signature" | "given" | "none";
  /** Some APIs' results carry no `api_name` (their Python `call` omitted it). */
  readonly withApiName: boolean;
  /** Called a web service in the original (Dictionary, Translate): answered offline from recorded results. */
  readonly internet?: boolean;
  run(ctx: ApiContext, input: Readonly<Record<string, Json>>): Json | Promise<Json>;
  /** The API's own notion of a correct call: (predicted result, reference result). */
  correct(response: ApiResult, reference: ApiResult): boolean;
}

// ---- helpers shared by the implementations -------------------------------------------------------------------

export function str(input: Readonly<Record<string, Json>>, key: string): string {
  const v = input[key];
  return typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
}

export function field(value: Json | undefined, key: string): Json | undefined {
  return isObject(value) ? value[key] : undefined;
}

export function inputOf(result: ApiResult): Readonly<Record<string, Json>> {
  return isObject(result.input) ? result.input : {};
}

/** `check_token`: the user owning a token in the Account database, or "The token is invalid.". */
export function checkToken(ctx: ApiContext, token: string): string {
  const accounts = ctx.db.Account;
  if (isObject(accounts)) {
    for (const [user, record] of Object.entries(accounts)) if (field(record, "token") === token) return user;
  }
  throw new ApiError("The token is invalid.");
}

/** `datetime.strptime(value, format)` whose failure is the API's exception (as in the Python code). */
export function requireTime(value: string, format = "%Y-%m-%d %H:%M:%S"): void {
  const r = strptime(value, format);
  if (!r.ok) throw new ApiError(r.message);
}

/** The shared `format_check` of several APIs: strip, zero-fill a short year, reparse and reformat. */
export function formatCheck(
  value: string,
  format: string,
): { ok: true; value: string } | { ok: false; message: string } {
  let text = value.trim();
  const split = text.split("-");
  if (split.length === 3 && (split[0] ?? "").length !== 4) {
    split[0] = (split[0] ?? "").padStart(4, "0");
    text = split.join("-");
  }
  const r = strptime(text, format);
  return r.ok ? { ok: true, value: strftime(r.value, format) } : r;
}

/** Python compares two exception objects by identity, so a failed format check never equals another. */
export function sameCheck(a: ReturnType<typeof formatCheck>, b: ReturnType<typeof formatCheck>): boolean {
  return a.ok && b.ok && a.value === b.value;
}

/** Word-set Jaccard > 0.5 on `split(" ")` (the fuzzy-text rule); `lower` for the reminder APIs. */
export function fuzzyMatch(a: string, b: string, lower = false): boolean {
  const x = new Set((lower ? a.toLowerCase() : a).split(" "));
  const y = new Set((lower ? b.toLowerCase() : b).split(" "));
  let inter = 0;
  for (const w of x) if (y.has(w)) inter++;
  return inter / (x.size + y.size - inter) > 0.5;
}

/** output and exception equal (the tail of almost every rule). */
export function sameOutcome(response: ApiResult, reference: ApiResult): boolean {
  return pyEqual(response.output, reference.output) && response.exception === reference.exception;
}

/** The "exact" family: input, output and exception all equal. */
export function exactRule(response: ApiResult, reference: ApiResult): boolean {
  return pyEqual(response.input, reference.input) && sameOutcome(response, reference);
}

/** A shallow copy of an input without some keys. */
export function without(input: Readonly<Record<string, Json>>, ...keys: string[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(input)) if (!keys.includes(k)) out[k] = v;
  return out;
}

/** The next id of a keyed table: `max(int(key)) + 1` (0 for an empty table), as the meeting/reminder APIs do. */
export function nextIntKey(table: Record<string, Json>): string {
  const keys = Object.keys(table).map(Number).filter(Number.isFinite);
  return String(keys.length === 0 ? 0 : Math.max(...keys) + 1);
}

export function table(ctx: ApiContext, name: DatabaseName): Record<string, Json> {
  const t = ctx.db[name];
  if (!isObject(t)) throw new Error(`database ${name} is not a keyed table`);
  return t;
}
