/**
 * Reading a Game-of-24 plan (RAFA spec §3.1): step lines `a op b = c (left: n1 n2 …)` and a final
 * `Answer: <expression> = 24`.
 *
 * Lenient but never guessing:
 * - blank lines, and lines without any digit that are not an answer line (`Steps:`, code fences, "Here is my
 *   plan:"), are commentary and skipped; any other line must be a step or an answer line;
 * - a leading bullet (`- `, `* `, `• `, `1. `, `1) `) or `Step 1:` is dropped;
 * - spaces are free, operators may be spelled `*`, `×`, `x`, `÷`, `−` (see expression.ts), the "left" list may be
 *   separated by spaces or commas, and text after `(left: …)` or after `= 24` is ignored;
 * - numbers are integers, exact decimals or fractions `7/3`; a negative number carries its sign attached (`-4`).
 * An operand written as a fraction (`8/3`) has no spaces around its slash and is in lowest terms; the operation's
 * own slash is then told apart by position, and a line that still reads two ways (`8/3/2`) is `ambiguous_step`.
 */
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import {
  type EvaluatedExpression,
  evaluateExpression,
  type SpacedToken,
  show,
  tokenize,
} from "./expression.ts";
import { equals, format, type Op, parseRational, type Rational, rational } from "./rational.ts";

/** A parsed step line: the operation as written and the "left" list as stated (not yet checked). */
export interface Step {
  readonly a: Rational;
  readonly op: Op;
  readonly b: Rational;
  readonly result: Rational;
  readonly left: readonly Rational[];
}

export interface AnswerLine extends EvaluatedExpression {
  /** The expression text as written (before `=`). */
  readonly text: string;
}

export type PlanLine =
  | { readonly kind: "step"; readonly text: string; readonly step: Step }
  | { readonly kind: "answer"; readonly text: string; readonly answer: AnswerLine };

/** Categories of unreadable lines (besides the expression parser's, which answer lines report as they are). */
export type PlanParseCategory =
  | "unrecognized_line"
  | "bad_step"
  | "ambiguous_step"
  | "missing_left"
  | "bad_number"
  | "bad_answer_claim"
  | "too_long";

/** Longest plan line we read (real lines are under 60 characters). */
export const MAX_LINE_LENGTH = 500;

const PREFIX = /^\s*(?:(?:[-*•]|\d{1,2}[.)])\s+|step\s*\d{1,2}\s*[:.)]\s*)/i;
const ANSWER = /^(?:\*\*)?\s*(?:final\s+)?answer\b\s*(?:\*\*)?\s*[:：]?\s*(?:\*\*)?\s*/i;
const DIGIT = /\d/;

/** One step line in canonical form, as the exact elite writes it: `10 - 4 = 6 (left: 5 6 6)`. */
export function formatStep(step: Step): string {
  return `${formatOperation(step)} (left: ${step.left.map(format).join(" ")})`;
}

/** `a op b = c` in canonical form. */
export function formatOperation(step: Omit<Step, "left">): string {
  return `${format(step.a)} ${step.op} ${format(step.b)} = ${format(step.result)}`;
}

/** Whether a line (prefix dropped) is meant as the answer line. */
export function isAnswerLine(line: string): boolean {
  return ANSWER.test(line);
}

/** The plan's candidate lines (prefixes dropped, commentary skipped), in order. */
export function planLines(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(PREFIX, "").trim();
    if (line.length === 0) continue;
    if (!DIGIT.test(line) && !ANSWER.test(line)) continue;
    out.push(line);
  }
  return out;
}

/** Parse one candidate line (as returned by `planLines`). */
export function parsePlanLine(line: string): ParseResult<PlanLine> {
  const text = line.replace(PREFIX, "").trim();
  if (text.length > MAX_LINE_LENGTH)
    return fail("too_long", `line longer than ${MAX_LINE_LENGTH} characters`);
  const answer = ANSWER.exec(text);
  if (answer) {
    const parsed = parseAnswer(text.slice(answer[0].length));
    return parsed.ok ? ok({ kind: "answer", text, answer: parsed.value }) : parsed;
  }
  if (text.includes("=")) {
    const parsed = parseStep(text);
    return parsed.ok ? ok({ kind: "step", text, step: parsed.value }) : parsed;
  }
  return fail("unrecognized_line", "neither a step `a op b = c (left: …)` nor an `Answer: … = 24` line");
}

/** The expression after `Answer:`; a claimed value after `=` must be 24 (trailing text after it is ignored). */
export function parseAnswer(body: string): ParseResult<AnswerLine> {
  const eq = body.indexOf("=");
  const exprText = (eq < 0 ? body : body.slice(0, eq)).trim();
  if (eq >= 0) {
    const claim = /^\s*([-+−]?(?:\d+(?:\.\d+)?|\.\d+)(?:\/\d+)?)/.exec(body.slice(eq + 1));
    const value = claim?.[1] === undefined ? undefined : parseRational(claim[1]);
    if (!value?.ok) return fail("bad_answer_claim", "the answer line must end with `= 24`");
    if (!equals(value.value, rational(24)))
      return fail("bad_answer_claim", `the answer line claims ${format(value.value)}, not 24`);
  }
  const evaluated = evaluateExpression(exprText);
  if (!evaluated.ok) return evaluated;
  return ok({ ...evaluated.value, text: exprText });
}

type OperandTokens = readonly SpacedToken[];

/** A single operand: a number, an attached sign, a lowest-terms fraction `p/q`, optionally in parentheses. */
function parseOperand(ts: OperandTokens): Rational | undefined {
  const first = ts[0];
  const last = ts[ts.length - 1];
  if (!first || !last) return undefined;
  if (ts.length >= 3 && first.kind === "lparen" && last.kind === "rparen")
    return parseOperand(ts.slice(1, -1));
  let negative = false;
  let rest = ts;
  const next = ts[1];
  if (first.kind === "op" && first.op === "-" && next && !next.spaceBefore) {
    negative = true;
    rest = ts.slice(1);
  }
  let value: Rational | undefined;
  const [p, slash, q] = rest;
  if (rest.length === 1 && p?.kind === "number") value = p.value;
  else if (
    rest.length === 3 &&
    p?.kind === "number" &&
    slash?.kind === "op" &&
    slash.op === "/" &&
    q?.kind === "number" &&
    !slash.spaceBefore &&
    !q.spaceBefore &&
    /^\d+$/.test(p.text) &&
    /^\d+$/.test(q.text)
  ) {
    const pn = BigInt(p.text);
    const qn = BigInt(q.text);
    const r = qn >= 2n ? rational(pn, qn) : undefined;
    if (r && r.den === qn) value = r; // lowest terms, so `4/2*3` is not read as 2 × 3
  }
  if (!value) return undefined;
  return negative ? rational(-value.num, value.den) : value;
}

/** All readings of `tokens` as `operand op operand`. */
function operationReadings(tokens: readonly SpacedToken[]): { a: Rational; op: Op; b: Rational }[] {
  const readings: { a: Rational; op: Op; b: Rational }[] = [];
  for (let i = 1; i < tokens.length - 1; i++) {
    const t = tokens[i];
    if (t?.kind !== "op") continue;
    const a = parseOperand(tokens.slice(0, i));
    const b = a && parseOperand(tokens.slice(i + 1));
    if (a && b) readings.push({ a, op: t.op, b });
  }
  const first = tokens[0];
  const last = tokens[tokens.length - 1];
  if (readings.length === 0 && first?.kind === "lparen" && last?.kind === "rparen")
    return operationReadings(tokens.slice(1, -1));
  return readings;
}

const LEFT = /\(?\s*left\s*:/i;

export function parseStep(text: string): ParseResult<Step> {
  const eq = text.indexOf("=");
  const lhs = text.slice(0, eq);
  const rhs = text.slice(eq + 1);
  const tokens = tokenize(lhs);
  if (!tokens.ok) return tokens;
  const readings = operationReadings(tokens.value);
  const reading = readings[0];
  if (!reading) return fail("bad_step", `"${lhs.trim()}" is not one operation \`a op b\` on two numbers`);
  if (readings.length > 1)
    return fail(
      "ambiguous_step",
      `"${lhs.trim()}" reads as more than one operation; put spaces around the operator, e.g. \`8/3 / 2\``,
    );

  const left = LEFT.exec(rhs);
  if (!left) return fail("missing_left", "the step has no `(left: …)` list of remaining numbers");
  const resultText = rhs
    .slice(0, left.index)
    .trim()
    .replace(/[,;.]$/, "");
  const result = parseRational(resultText);
  if (!result.ok)
    return fail(result.category === "too_long" ? "too_long" : "bad_number", `result: ${result.message}`);

  let listText = rhs.slice(left.index + left[0].length);
  if (left[0].startsWith("(")) {
    const close = listText.indexOf(")");
    if (close < 0) return fail("missing_left", "the `(left: …` list is not closed with `)`");
    listText = listText.slice(0, close);
  }
  const items: Rational[] = [];
  for (const item of listText.split(/[\s,]+/)) {
    if (item.length === 0) continue;
    const r = parseRational(item);
    if (!r.ok) return fail(r.category === "too_long" ? "too_long" : "bad_number", `left list: ${r.message}`);
    items.push(r.value);
  }
  return ok({ ...reading, result: result.value, left: items });
}

/** The canonical answer line for an expression tree. */
export function formatAnswerLine(expr: EvaluatedExpression["expr"]): string {
  return `Answer: ${show(expr)} = 24`;
}
