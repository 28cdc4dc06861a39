/**
 * API-Bank's official reading of a call, bug for bug (DAMO-ConvAI `api-bank`, commit 483554e): how
 * `evaluator.py` finds the call (`get_api_call`), how `api_call_extraction.parse_api_call` splits it into
 * parameters, and how `tool_manager.api_call` converts each value to its declared type. Python's `re` and `str`
 * semantics are kept where they differ from JavaScript's: `\w` is Unicode, `.` stops only at `\n`, and `isdigit`
 * accepts every Unicode digit (while `int()` accepts only the decimal ones).
 *
 * Every departure of the project's own reading from these functions is a named rule in `scoring.ts`.
 */
import type { ParamType } from "./api.ts";
import type { Json } from "./values.ts";

/** Python's `\w` for `str` patterns: letters, digits and numbers of every script, and `_`. */
const W = "[\\p{L}\\p{N}_]";
/** Python's `\s` for `str` patterns (Unicode whitespace and the four information separators). */
const S = "[\\s\\x1c-\\x1f\\x85]";
/** Python's `.` without DOTALL: anything but a newline (JavaScript's `.` also stops at \r, U+2028, U+2029). */
const DOT = "[^\\n]";

/** `\[(\w+)\((.*)\)\]`, searched: the first `[Name(` whose line holds a later `)]`, to that line's last `)]`. */
const CALL = new RegExp(`\\[(${W}+)\\((${DOT}*)\\)\\]`, "u");

/**
 * `(\w+)\s*=\s*['"](.+?)['"]|(\w+)\s*=\s*(\[.*\])|(\w+)\s*=\s*(\w+)`: a quoted value runs to the first quote of
 * either kind, a bracketed one to the last `]`, a bare one is a single word.
 */
const PARAM = new RegExp(
  `(${W}+)${S}*=${S}*['"](${DOT}+?)['"]|(${W}+)${S}*=${S}*(\\[${DOT}*\\])|(${W}+)${S}*=${S}*(${W}+)`,
  "gu",
);

/** `get_api_call`: the matched `[Name(...)]` text, or undefined when the answer holds none. */
export function officialCallText(answer: string): string | undefined {
  return CALL.exec(answer)?.[0];
}

export interface OfficialCall {
  readonly name: string;
  /** `param_dict` in Python's insertion order: a repeated key keeps its first place and its last value. */
  readonly params: ReadonlyMap<string, string>;
}

/** `parse_api_call` of a text `get_api_call` matched (it always matches again). */
export function officialParse(callText: string): OfficialCall | undefined {
  const m = CALL.exec(callText);
  if (!m) return undefined;
  const params = new Map<string, string>();
  for (const p of (m[2] ?? "").matchAll(PARAM)) {
    if (p[1] !== undefined) params.set(p[1], p[2] ?? "");
    else if (p[3] !== undefined) params.set(p[3], p[4] ?? "");
    else if (p[5] !== undefined) params.set(p[5], p[6] ?? "");
  }
  return { name: m[1] ?? "", params };
}

// ---- Python's digits ---------------------------------------------------------------------------------------------

/**
 * Characters whose Unicode Numeric_Type is Digit but not Decimal: `str.isdigit()` accepts them, `int()` rejects
 * them (superscripts and subscripts, circled and parenthesised digits, dingbats, and a few scripts' digits).
 */
const DIGIT_NOT_DECIMAL: readonly (readonly [number, number])[] = [
  [0x00b2, 0x00b3],
  [0x00b9, 0x00b9],
  [0x1369, 0x1371],
  [0x19da, 0x19da],
  [0x2070, 0x2070],
  [0x2074, 0x2079],
  [0x2080, 0x2089],
  [0x2460, 0x2468],
  [0x2474, 0x247c],
  [0x2488, 0x2490],
  [0x24ea, 0x24ea],
  [0x24f5, 0x24fd],
  [0x24ff, 0x24ff],
  [0x2776, 0x277e],
  [0x2780, 0x2788],
  [0x278a, 0x2792],
  [0x10a40, 0x10a43],
  [0x10e60, 0x10e68],
  [0x11052, 0x1105a],
  [0x1f100, 0x1f10a],
];

const DECIMAL = /^\p{Nd}$/u;

function isDecimalChar(ch: string): boolean {
  return DECIMAL.test(ch);
}

function isDigitChar(ch: string): boolean {
  if (isDecimalChar(ch)) return true;
  const cp = ch.codePointAt(0) ?? 0;
  return DIGIT_NOT_DECIMAL.some(([lo, hi]) => cp >= lo && cp <= hi);
}

/** `str.isdigit()`: non-empty, every character a digit of any script. */
export function pyIsDigit(text: string): boolean {
  const chars = [...text];
  return chars.length > 0 && chars.every(isDigitChar);
}

/** The value of a decimal digit: its place in its run of decimal digits (every run starts at a zero). */
function decimalValue(ch: string): number {
  let cp = ch.codePointAt(0) ?? 0;
  let offset = 0;
  while (isDecimalChar(String.fromCodePoint(cp - 1))) {
    cp--;
    offset++;
  }
  return offset % 10;
}

/** The ASCII form of a string of decimal digits (and dots), or undefined when a character is no decimal digit. */
function asciiDigits(text: string): string | undefined {
  let out = "";
  for (const ch of text) {
    if (ch === ".") out += ".";
    else if (isDecimalChar(ch)) out += String(decimalValue(ch));
    else return undefined;
  }
  return out;
}

export type Conversion =
  | { ok: true; value: Json }
  | { ok: false; error: "assertion" | "value"; message: string };

/**
 * `tool_manager.api_call`'s conversion of one value: int `isdigit()` then `int()`, float
 * `replace('.', '', 1).isdigit()` then `float()`, lists kept as the raw text, bool `== 'True'`. `assertion`
 * failures are its asserts; `value` failures the exceptions `int()` and `float()` raise. Both end the check as
 * a wrong call.
 */
export function officialConvert(type: ParamType, value: string): Conversion {
  switch (type) {
    case "str":
      return { ok: true, value };
    case "int": {
      if (!pyIsDigit(value))
        return { ok: false, error: "assertion", message: `invalid parameter type. parameter: ${value}` };
      const ascii = asciiDigits(value);
      if (ascii === undefined)
        return { ok: false, error: "value", message: `invalid literal for int() with base 10: '${value}'` };
      return { ok: true, value: Number(ascii) };
    }
    case "float": {
      if (!pyIsDigit(value.replace(".", ""))) {
        return { ok: false, error: "assertion", message: "invalid parameter type." };
      }
      const ascii = asciiDigits(value);
      if (ascii === undefined)
        return { ok: false, error: "value", message: `could not convert string to float: '${value}'` };
      return { ok: true, value: Number(ascii) };
    }
    case "bool":
      return { ok: true, value: value === "True" };
    case "list":
    case "list(str)":
      // Its `json.loads` line is commented out at 483554e: the API receives the text itself.
      return { ok: true, value };
  }
}
