/**
 * Escaping for the report. Everything a model, an environment or a data file produced is untrusted: it reaches
 * the page only through these functions (HTML text and attributes) or through `jsonForScript` (the data block).
 */
import { createHash } from "node:crypto";

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escape text for HTML element content and for quoted attribute values alike. */
export function escapeHtml(text: string): string {
  // NUL is a parse error in HTML: write its replacement character instead of leaving it to the parser.
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c).replaceAll("\u0000", "\uFFFD");
}

/** Tagged template: interpolated values are HTML-escaped unless they are `Html` (already safe markup). */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** Mark a string as trusted markup. Only for markup this module's callers built from escaped parts. */
export function raw(markup: string): Html {
  return new Html(markup);
}

type Interpolated = string | number | boolean | null | undefined | Html | readonly Interpolated[];

function interpolate(value: Interpolated): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map((v: Interpolated) => interpolate(v)).join("");
  if (value === null || value === undefined || value === false) return "";
  return escapeHtml(String(value));
}

/** `html\`<td>${untrusted}</td>\`` escapes `untrusted`; nested `html` results and arrays of them pass through. */
export function html(strings: TemplateStringsArray, ...values: readonly Interpolated[]): Html {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) {
    out += interpolate(values[i]) + (strings[i + 1] ?? "");
  }
  return new Html(out);
}

const SCRIPT_ESCAPES: Readonly<Record<string, string>> = {
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/**
 * JSON for the content of a `<script type="application/json">` element. `<` is never written literally, so no
 * string can form `</script` or `<!--`; `>` and `&` are escaped too, and U+2028/U+2029 so the text is also valid
 * JavaScript. `JSON.parse` of the element's text gives the value back unchanged.
 */
export function jsonForScript(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError("jsonForScript: value is not serialisable to JSON");
  return json.replace(/[<>&\u2028\u2029]/g, (c) => SCRIPT_ESCAPES[c] ?? c);
}

/** The CSP source expression (`'sha256-…'`) that allows exactly the inline script with this text. */
export function cspHash(scriptText: string): string {
  return `'sha256-${createHash("sha256").update(scriptText, "utf8").digest("base64")}'`;
}
