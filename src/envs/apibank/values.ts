/**
 * Python-flavoured values. API-Bank's APIs are Python: their inputs and results are JSON-like values compared
 * with Python's `==`, rendered into prompts with `str()` (Python repr), and their dates checked with
 * `datetime.strptime`. This module reproduces exactly those three behaviours for the values the data holds.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Python `==` on JSON values: numbers by value (so `6 == 6.0`), dicts without key order, lists in order. */
export function pyEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEqual(x, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && pyEqual(a[k], b[k]));
  }
  return a === b;
}

/** A deep copy (databases are copied fresh for every check, so no call can leak into the next). */
export function cloneJson<T extends Json>(value: T): T {
  return structuredClone(value);
}

/** Python's `repr` of a string: single quotes unless the text holds a single quote and no double quote. */
export function pyStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/**
 * Python's `str()` of a value as the original prompts show API results (`->{...}`). JSON cannot tell `6.0` from
 * `6`, so integral floats render as integers; that is the one known difference from Python's text.
 */
export function pyRepr(value: Json, top = true): string {
  if (value === null) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") return pyNumber(value);
  if (typeof value === "string") return top ? value : pyStringRepr(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyRepr(v, false)).join(", ")}]`;
  return `{${Object.entries(value)
    .map(([k, v]) => `${pyStringRepr(k)}: ${pyRepr(v, false)}`)
    .join(", ")}}`;
}

function pyNumber(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  const abs = Math.abs(n);
  // Python's float repr switches to an exponent below 1e-4 and from 1e16 on, with at least two digits (1e-05).
  if (abs >= 1e16 || (abs < 1e-4 && n !== 0)) return n.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  return String(n);
}

/** A broken-down time, as `datetime.strptime` returns it. */
export interface DateTimeParts {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

/** The directives API-Bank's APIs use, with the regular expressions CPython's `_strptime` compiles for them. */
const DIRECTIVES: Readonly<Record<string, string>> = {
  Y: "(\\d\\d\\d\\d)",
  m: "(1[0-2]|0[1-9]|[1-9])",
  d: "(3[01]|[12]\\d|0[1-9]|[1-9]| [1-9])",
  H: "(2[0-3]|[0-1]\\d|\\d)",
  M: "([0-5]\\d|\\d)",
  S: "(6[0-1]|[0-5]\\d|\\d)",
};

const compiled = new Map<string, { regex: RegExp; fields: string[] }>();

function compileFormat(format: string): { regex: RegExp; fields: string[] } {
  const cached = compiled.get(format);
  if (cached) return cached;
  let source = "^";
  const fields: string[] = [];
  for (let i = 0; i < format.length; i++) {
    const ch = format.charAt(i);
    if (ch === "%") {
      const directive = format.charAt(++i);
      const pattern = DIRECTIVES[directive];
      if (pattern === undefined) throw new Error(`unsupported strptime directive %${directive}`);
      source += pattern;
      fields.push(directive);
    } else if (/\s/.test(ch)) source += "\\s+";
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  const entry = { regex: new RegExp(source, "i"), fields };
  compiled.set(format, entry);
  return entry;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** `datetime.strptime(text, format)`, with Python's error messages (they become API exceptions verbatim). */
export function strptime(
  text: string,
  format: string,
): { ok: true; value: DateTimeParts } | { ok: false; message: string } {
  const { regex, fields } = compileFormat(format);
  const found = regex.exec(text);
  if (!found) {
    return {
      ok: false,
      message: `time data ${pyStringRepr(text)} does not match format ${pyStringRepr(format)}`,
    };
  }
  if (found[0].length !== text.length) {
    return { ok: false, message: `unconverted data remains: ${text.slice(found[0].length)}` };
  }
  const parts = { year: 1900, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  fields.forEach((field, i) => {
    const value = Number((found[i + 1] ?? "0").trim());
    if (field === "Y") parts.year = value;
    else if (field === "m") parts.month = value;
    else if (field === "d") parts.day = value;
    else if (field === "H") parts.hour = value;
    else if (field === "M") parts.minute = value;
    else if (field === "S") parts.second = value;
  });
  if (parts.second > 59) parts.second = 59; // CPython clamps leap seconds the same way
  if (parts.day > daysInMonth(parts.year, parts.month)) {
    return { ok: false, message: "day is out of range for month" };
  }
  return { ok: true, value: parts };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `strftime` for the directives above. */
export function strftime(parts: DateTimeParts, format: string): string {
  return format.replace(/%([YmdHMS])/g, (_, d: string) => {
    if (d === "Y") return pad(parts.year, 4);
    if (d === "m") return pad(parts.month);
    if (d === "d") return pad(parts.day);
    if (d === "H") return pad(parts.hour);
    if (d === "M") return pad(parts.minute);
    return pad(parts.second);
  });
}

/** Comparable key of a broken-down time. */
export function timeKey(p: DateTimeParts): number {
  return ((((p.year * 13 + p.month) * 32 + p.day) * 24 + p.hour) * 60 + p.minute) * 60 + p.second;
}
