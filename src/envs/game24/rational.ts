/**
 * Exact rational arithmetic for the Game of 24 (RAFA spec §3.1, "[our design] exact rational arithmetic").
 *
 * The official code compares floats with tolerance 1e-10; exact rationals make `8 / (3 − 8/3) = 24` true without
 * a tolerance and make every intermediate number exactly what a step line says it is.
 *
 * Decimals: a decimal literal is the exact rational it spells (`2.5` = 5/2). A rounded decimal such as `2.333`
 * therefore never equals 7/3, and a step `7 / 3 = 2.333` is miscalculated. We do not accept decimals within 1e-10:
 * the number a step line carries forward is the number it writes, so a tolerance would let a rounding error ride
 * into the next line and into the final answer, which is checked exactly. The feedback tells the model to write
 * fractions like `7/3` instead.
 */
import { fail, ok, type ParseResult } from "../../core/errors.ts";

/** A normalised rational: `den > 0`, gcd(|num|, den) = 1, the sign lives in `num`, zero is 0/1. */
export interface Rational {
  readonly num: bigint;
  readonly den: bigint;
}

export type Op = "+" | "-" | "*" | "/";
export const OPS: readonly Op[] = ["+", "-", "*", "/"];

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

/** Build a normalised rational; `den` must not be zero (callers that can see zero use `div` or `parseRational`). */
export function rational(num: bigint | number, den: bigint | number = 1n): Rational {
  let n = BigInt(num);
  let d = BigInt(den);
  if (d === 0n) throw new RangeError("rational: zero denominator");
  if (d < 0n) {
    n = -n;
    d = -d;
  }
  const g = gcd(n, d);
  return g === 1n ? { num: n, den: d } : { num: n / g, den: d / g };
}

export const ZERO = rational(0);
export const TWENTY_FOUR = rational(24);

export function add(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function sub(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

/** a ÷ b, or the named failure `division_by_zero` (model text can divide by zero; that is not a bug). */
export function div(a: Rational, b: Rational): ParseResult<Rational> {
  if (b.num === 0n) return fail("division_by_zero", `${format(a)} / 0 divides by zero`);
  return ok(rational(a.num * b.den, a.den * b.num));
}

export function apply(op: Op, a: Rational, b: Rational): ParseResult<Rational> {
  switch (op) {
    case "+":
      return ok(add(a, b));
    case "-":
      return ok(sub(a, b));
    case "*":
      return ok(mul(a, b));
    case "/":
      return div(a, b);
  }
}

/** −1, 0 or 1 as a <, =, > b. */
export function compare(a: Rational, b: Rational): -1 | 0 | 1 {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function equals(a: Rational, b: Rational): boolean {
  // Normalised forms are unique, so equality is componentwise.
  return a.num === b.num && a.den === b.den;
}

export function isInteger(a: Rational): boolean {
  return a.den === 1n;
}

/** Nearest float, for display and statistics only — never for judging. */
export function toNumber(a: Rational): number {
  return Number(a.num) / Number(a.den);
}

/** Integers as integers (`-7`), others as fractions in lowest terms (`7/3`, `-7/3`). */
export function format(a: Rational): string {
  return a.den === 1n ? a.num.toString() : `${a.num}/${a.den}`;
}

/** A canonical key (same as `format`), used for multiset keys and memo tables. */
export const key = format;

/** Longest numeric literal we read: real answers are a few characters; this bounds bigint work on hostile text. */
export const MAX_LITERAL_LENGTH = 64;

const INTEGER = /^\d+$/;
const DECIMAL = /^(\d*)\.(\d+)$/;

/** Parse an unsigned integer or decimal literal (`12`, `2.5`, `.5`) exactly. */
export function parseUnsignedDecimal(text: string): ParseResult<Rational> {
  if (text.length > MAX_LITERAL_LENGTH)
    return fail("too_long", `number literal longer than ${MAX_LITERAL_LENGTH}`);
  if (INTEGER.test(text)) return ok(rational(BigInt(text)));
  const m = DECIMAL.exec(text);
  if (!m) return fail("bad_number", `"${text}" is not a number`);
  const whole = m[1] ?? "";
  const frac = m[2] ?? "";
  return ok(rational(BigInt(`${whole}${frac}`), 10n ** BigInt(frac.length)));
}

/**
 * Parse a number as models write it: optional sign (`-`, `+` or the minus sign `−`), then an integer, a decimal,
 * or a fraction of two integers (`7/3`, `-8/3`). Surrounding spaces are allowed; nothing else is.
 */
export function parseRational(text: string): ParseResult<Rational> {
  let t = text.trim();
  if (t.length === 0) return fail("bad_number", "empty number");
  if (t.length > MAX_LITERAL_LENGTH * 2 + 2)
    return fail("too_long", `number literal longer than ${MAX_LITERAL_LENGTH}`);
  let negative = false;
  const sign = t[0];
  if (sign === "-" || sign === "−" || sign === "+") {
    negative = sign !== "+";
    t = t.slice(1);
  }
  const slash = t.indexOf("/");
  let value: Rational;
  if (slash >= 0) {
    const p = t.slice(0, slash);
    const q = t.slice(slash + 1);
    if (!INTEGER.test(p) || !INTEGER.test(q))
      return fail("bad_number", `"${text.trim()}" is not a number or a fraction of integers`);
    const n = parseUnsignedDecimal(p);
    const d = parseUnsignedDecimal(q);
    if (!n.ok) return n;
    if (!d.ok) return d;
    const quotient = div(n.value, d.value);
    if (!quotient.ok) return fail("division_by_zero", `"${text.trim()}" has a zero denominator`);
    value = quotient.value;
  } else {
    const r = parseUnsignedDecimal(t);
    if (!r.ok) return r.category === "too_long" ? r : fail("bad_number", `"${text.trim()}" is not a number`);
    value = r.value;
  }
  return ok(negative ? rational(-value.num, value.den) : value);
}

/** Sort ascending (a new array). */
export function sorted(values: readonly Rational[]): Rational[] {
  return values.slice().sort(compare);
}

/** Canonical key of a multiset: the sorted keys joined by spaces. */
export function multisetKey(values: readonly Rational[]): string {
  return sorted(values).map(key).join(" ");
}

export function sameMultiset(a: readonly Rational[], b: readonly Rational[]): boolean {
  return a.length === b.length && multisetKey(a) === multisetKey(b);
}

/** `from` minus the multiset `items`, or undefined when some item is missing (counting repeats). */
export function removeAll(from: readonly Rational[], items: readonly Rational[]): Rational[] | undefined {
  const rest = from.slice();
  for (const item of items) {
    const i = rest.findIndex((x) => equals(x, item));
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  return rest;
}

/** Numbers as a prompt shows them: ascending, space-separated (`1 5 8/3`). */
export function formatNumbers(values: readonly Rational[]): string {
  return sorted(values).map(format).join(" ");
}
