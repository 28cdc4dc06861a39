/**
 * The agent's action language: `API-Request: [ApiName(key='value', key2=[...], …)]`, read with a tokenizer.
 *
 * Where the call is (compatible with API-Bank's `\[(\w+)\((.*)\)\]`): the leftmost `[Name(` on a line that also
 * holds a `)]`; the arguments run to the last `)]` on that line. Arguments are `key = value` pairs separated by
 * commas, where a value is
 *   - a quoted string, `'…'` or `"…"`, with backslash escapes. A quote of the opening kind closes the string only
 *     when what follows is the end of the arguments or `, next_key =`; any other quote is text. This reads the
 *     data's own `attendees='['John Smith', 'Jane Doe']'` and `content='Don't be late'` as they were meant, where
 *     API-Bank's regular expression stops at the first quote of either kind;
 *   - a bracketed literal, `[…]` or `{…}` (kept as text; the schema type decides how to read it);
 *   - a bare word or number, up to the next top-level comma.
 * Python literals inside values (lists, dicts, strings, numbers, True/False/None) are read by `parsePyLiteral`, a
 * real recursive-descent parser: model output is never evaluated.
 */
import { type Json, pyRepr } from "./values.ts";

export interface CallArgument {
  readonly key: string;
  /** The value as text: the unescaped content of a quoted string, or the raw text of a bare value. */
  readonly text: string;
  readonly quoted: boolean;
}

export interface ParsedCall {
  readonly name: string;
  readonly args: readonly CallArgument[];
  /** The whole matched `[Name(...)]` text. */
  readonly source: string;
}

/** Why a text holds no usable call: nothing call-like at all, or a call that breaks the syntax. */
export type CallParseError =
  | { readonly category: "no_api_call"; readonly message: string }
  | { readonly category: "false_format"; readonly message: string };

export type CallParse = { ok: true; call: ParsedCall } | ({ ok: false } & CallParseError);

const NAME = /[A-Za-z_]\w*/y;

/** Something that looks like an attempt at a call, though it is not `[Name(...)]` on one line. */
function looksLikeCall(text: string): boolean {
  return (
    /API-Request/i.test(text) || /\[\s*[A-Za-z_]\w*\s*\(/.test(text) || /\b[A-Z][A-Za-z0-9]+\(/.test(text)
  );
}

/** Locate and tokenize the first call in `text`. */
export function parseCall(text: string): CallParse {
  for (const line of text.split(/\r?\n/)) {
    const found = findCallInLine(line);
    if (!found) continue;
    const args = tokenizeArguments(found.args);
    if (!args.ok) {
      return { ok: false, category: "false_format", message: `${args.message} in ${found.source}` };
    }
    return { ok: true, call: { name: found.name, args: args.value, source: found.source } };
  }
  if (looksLikeCall(text)) {
    return { ok: false, category: "false_format", message: "no [ApiName(key='value', ...)] on one line" };
  }
  return { ok: false, category: "no_api_call", message: "the answer holds no API call" };
}

function findCallInLine(line: string): { name: string; args: string; source: string } | undefined {
  const end = line.lastIndexOf(")]");
  // The leftmost "[Name(" that starts before the last ")]" (any later one starts after it too).
  const m = /\[(\w+)\(/.exec(line);
  if (end < 0 || !m) return undefined;
  const argsStart = m.index + m[0].length;
  if (argsStart > end) return undefined;
  return { name: m[1] ?? "", args: line.slice(argsStart, end), source: line.slice(m.index, end + 2) };
}

type Result<T> = { ok: true; value: T } | { ok: false; message: string };

/** Tokenize `key = value, …` (the text between the parentheses). */
export function tokenizeArguments(src: string): Result<CallArgument[]> {
  const args: CallArgument[] = [];
  const seen = new Set<string>();
  let pos = skipSpace(src, 0);
  while (pos < src.length) {
    NAME.lastIndex = pos;
    const key = NAME.exec(src);
    if (!key) return { ok: false, message: `expected a parameter name at "${excerpt(src, pos)}"` };
    pos = skipSpace(src, pos + key[0].length);
    if (src[pos] !== "=") return { ok: false, message: `expected "=" after ${key[0]}` };
    pos = skipSpace(src, pos + 1);
    const value = readValue(src, pos);
    if (!value.ok) return value;
    if (seen.has(key[0])) return { ok: false, message: `parameter ${key[0]} given twice` };
    seen.add(key[0]);
    args.push({ key: key[0], text: value.value.text, quoted: value.value.quoted });
    pos = skipSpace(src, value.value.end);
    if (pos >= src.length) break;
    if (src[pos] !== ",") return { ok: false, message: `expected "," at "${excerpt(src, pos)}"` };
    pos = skipSpace(src, pos + 1);
  }
  return { ok: true, value: args };
}

function skipSpace(src: string, pos: number): number {
  let p = pos;
  while (p < src.length && /\s/.test(src.charAt(p))) p++;
  return p;
}

function excerpt(src: string, pos: number): string {
  return src.slice(pos, pos + 20);
}

/** Does a closing quote at `pos` end the value: followed by the end, or by `, key =` / a trailing comma? */
function closesValue(src: string, pos: number): boolean {
  let p = skipSpace(src, pos);
  if (p >= src.length) return true;
  if (src[p] !== ",") return false;
  p = skipSpace(src, p + 1);
  return p >= src.length || /^[A-Za-z_]\w*\s*=/.test(src.slice(p));
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  "'": "'",
  '"': '"',
};

function readValue(src: string, start: number): Result<{ text: string; quoted: boolean; end: number }> {
  const first = src.charAt(start);
  if (first === "'" || first === '"') {
    let text = "";
    for (let p = start + 1; p < src.length; p++) {
      const ch = src.charAt(p);
      if (ch === "\\" && p + 1 < src.length) {
        const next = src.charAt(p + 1);
        text += ESCAPES[next] ?? `\\${next}`;
        p++;
      } else if (ch === first && closesValue(src, p + 1)) {
        return { ok: true, value: { text, quoted: true, end: p + 1 } };
      } else text += ch;
    }
    return { ok: false, message: `unterminated string starting "${excerpt(src, start)}"` };
  }
  if (first === "[" || first === "{") {
    const end = scanBracketed(src, start);
    if (end < 0) return { ok: false, message: `unbalanced brackets in "${excerpt(src, start)}"` };
    return { ok: true, value: { text: src.slice(start, end), quoted: false, end } };
  }
  let p = start;
  while (p < src.length && src[p] !== ",") {
    if ("'\"[]{}()".includes(src.charAt(p))) {
      return { ok: false, message: `unexpected "${src.charAt(p)}" in a bare value` };
    }
    p++;
  }
  const text = src.slice(start, p).trim();
  if (text === "") return { ok: false, message: "missing value" };
  return { ok: true, value: { text, quoted: false, end: p } };
}

/** End (exclusive) of the bracketed literal at `start`, respecting quotes inside; -1 when unbalanced. */
function scanBracketed(src: string, start: number): number {
  const stack: string[] = [];
  for (let p = start; p < src.length; p++) {
    const ch = src.charAt(p);
    if (ch === "'" || ch === '"') {
      const close = skipString(src, p);
      if (close < 0) return -1;
      p = close;
    } else if (ch === "[" || ch === "{") stack.push(ch === "[" ? "]" : "}");
    else if (ch === "]" || ch === "}") {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return p + 1;
    }
  }
  return -1;
}

/** Index of the quote closing the string that opens at `start`, or -1. */
function skipString(src: string, start: number): number {
  const quote = src.charAt(start);
  for (let p = start + 1; p < src.length; p++) {
    const ch = src.charAt(p);
    if (ch === "\\") p++;
    else if (ch === quote) return p;
  }
  return -1;
}

/**
 * Parse a Python literal (what `ast.literal_eval` accepts for data: str, int, float, bool, None, list, tuple,
 * dict), also accepting JSON's true/false/null. Never evaluates anything.
 */
export function parsePyLiteral(text: string): Result<Json> {
  const parser = new LiteralParser(text);
  try {
    const value = parser.value();
    parser.space();
    if (!parser.done()) return { ok: false, message: `unexpected "${excerpt(text, parser.pos)}"` };
    return { ok: true, value };
  } catch (error) {
    if (error instanceof LiteralError) return { ok: false, message: error.message };
    throw error;
  }
}

class LiteralError extends Error {}

class LiteralParser {
  pos = 0;
  private readonly src: string;
  constructor(src: string) {
    this.src = src;
  }

  done(): boolean {
    return this.pos >= this.src.length;
  }

  space(): void {
    this.pos = skipSpace(this.src, this.pos);
  }

  private fail(what: string): never {
    throw new LiteralError(`${what} at "${excerpt(this.src, this.pos)}"`);
  }

  value(): Json {
    this.space();
    const ch = this.src.charAt(this.pos);
    if (ch === "[") return this.sequence("]");
    if (ch === "(") return this.sequence(")");
    if (ch === "{") return this.dict();
    if (ch === "'" || ch === '"') return this.string();
    const word = /^(?:True|False|None|true|false|null)\b/.exec(this.src.slice(this.pos));
    if (word) {
      this.pos += word[0].length;
      if (word[0] === "True" || word[0] === "true") return true;
      if (word[0] === "False" || word[0] === "false") return false;
      return null;
    }
    const num = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(this.src.slice(this.pos));
    if (num) {
      this.pos += num[0].length;
      return Number(num[0]);
    }
    return this.fail("expected a value");
  }

  private sequence(close: string): Json[] {
    this.pos++;
    const items: Json[] = [];
    for (;;) {
      this.space();
      if (this.src[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.space();
      if (this.src[this.pos] === ",") this.pos++;
      else if (this.src[this.pos] !== close) this.fail(`expected "," or "${close}"`);
    }
  }

  private dict(): { [key: string]: Json } {
    this.pos++;
    const out: { [key: string]: Json } = {};
    for (;;) {
      this.space();
      if (this.src[this.pos] === "}") {
        this.pos++;
        return out;
      }
      const key = this.value();
      if (typeof key !== "string" && typeof key !== "number")
        this.fail("dict keys must be strings or numbers");
      this.space();
      if (this.src[this.pos] !== ":") this.fail('expected ":"');
      this.pos++;
      out[String(key)] = this.value();
      this.space();
      if (this.src[this.pos] === ",") this.pos++;
      else if (this.src[this.pos] !== "}") this.fail('expected "," or "}"');
    }
  }

  private string(): string {
    const quote = this.src.charAt(this.pos);
    let out = "";
    for (let p = this.pos + 1; p < this.src.length; p++) {
      const ch = this.src.charAt(p);
      if (ch === "\\" && p + 1 < this.src.length) {
        const next = this.src.charAt(p + 1);
        out += ESCAPES[next] ?? `\\${next}`;
        p++;
      } else if (ch === quote) {
        this.pos = p + 1;
        return out;
      } else out += ch;
    }
    return this.fail("unterminated string");
  }
}

/** Quote a string value the way API-Bank's requests do (single quotes; escapes only where needed). */
function quote(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/\n/g, "\\n")}'`;
}

/** The canonical request text of a call, `API-Request: [Name(k='v', …)]` (string values quoted). */
export function formatCall(name: string, args: Readonly<Record<string, Json>>): string {
  const parts = Object.entries(args).map(([k, v]) => {
    const text = typeof v === "string" ? v : pyRepr(v, false);
    return `${k}=${quote(text)}`;
  });
  return `API-Request: [${name}(${parts.join(", ")})]`;
}
