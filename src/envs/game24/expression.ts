/**
 * Tokenizer and recursive-descent parser for arithmetic written by a model (the `Answer:` expression and the
 * left-hand side of step lines). Model output is untrusted: nothing here evaluates code, every failure is a named
 * category, and input length and parenthesis depth are bounded.
 *
 * Grammar (usual precedence, left-associative):
 *   expr   := term (("+" | "-") term)*
 *   term   := factor (("*" | "/") factor)*
 *   factor := NUMBER | "(" expr ")"
 * Operator spellings: `+`; `-`, `−` (minus sign), `–` (en dash); `*`, `×`, `x`, `X`, `·`, `⋅`; `/`, `÷`.
 * Numbers are unsigned integers or decimals (`12`, `2.5`, `.5`), read exactly.
 *
 * Unary minus is rejected (`unary_minus`): the game combines the given numbers with binary operations only, and
 * every expression with a unary minus over positive numbers has an equivalent without one, so allowing it would
 * only widen what "uses each number once" means.
 */
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import { apply, type Op, parseUnsignedDecimal, type Rational } from "./rational.ts";

/** Longest expression we read; real answers are under 40 characters. */
export const MAX_EXPRESSION_LENGTH = 1000;
/** Deepest parenthesis nesting we follow; bounds the parser's recursion on hostile input. */
export const MAX_DEPTH = 32;

/** Every category `parseExpression` / `evaluate` can report. */
export type ExpressionErrorCategory =
  | "empty_expression"
  | "unexpected_token"
  | "unexpected_end"
  | "unbalanced_parentheses"
  | "unary_minus"
  | "division_by_zero"
  | "too_long"
  | "too_deep";

export type Token =
  | { readonly kind: "number"; readonly value: Rational; readonly text: string; readonly start: number }
  | { readonly kind: "op"; readonly op: Op; readonly text: string; readonly start: number }
  | { readonly kind: "lparen" | "rparen"; readonly text: string; readonly start: number };

/** Tokens with whether whitespace preceded them (step lines read `8/3` and `8 / 3` differently). */
export type SpacedToken = Token & { readonly spaceBefore: boolean };

const OP_SPELLINGS: Readonly<Record<string, Op>> = {
  "+": "+",
  "-": "-",
  "−": "-",
  "–": "-",
  "*": "*",
  "×": "*",
  x: "*",
  X: "*",
  "·": "*",
  "⋅": "*",
  "/": "/",
  "÷": "/",
};

const NUMBER_AT = /\d+(?:\.\d+)?|\.\d+/y;
const SPACE = /\s/;

function errorAt<T>(category: ExpressionErrorCategory, message: string): ParseResult<T> {
  return fail(category, message);
}

export function tokenize(text: string): ParseResult<SpacedToken[]> {
  if (text.length > MAX_EXPRESSION_LENGTH)
    return errorAt("too_long", `expression longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const tokens: SpacedToken[] = [];
  let i = 0;
  let spaceBefore = false;
  while (i < text.length) {
    const ch = text[i] as string;
    if (SPACE.test(ch)) {
      spaceBefore = true;
      i++;
      continue;
    }
    NUMBER_AT.lastIndex = i;
    const m = NUMBER_AT.exec(text);
    if (m) {
      const value = parseUnsignedDecimal(m[0]);
      if (!value.ok) return fail(value.category, value.message);
      tokens.push({ kind: "number", value: value.value, text: m[0], start: i, spaceBefore });
      i += m[0].length;
    } else if (ch === "(" || ch === ")") {
      tokens.push({ kind: ch === "(" ? "lparen" : "rparen", text: ch, start: i, spaceBefore });
      i++;
    } else {
      const op = OP_SPELLINGS[ch];
      if (op === undefined) {
        // Show the code point, so invisible or look-alike characters are identifiable in feedback.
        const cp = ch.codePointAt(0) ?? 0;
        const shown = cp > 0x7e || cp < 0x21 ? `U+${cp.toString(16).toUpperCase().padStart(4, "0")}` : ch;
        return errorAt("unexpected_token", `unexpected character "${shown}" at position ${i + 1}`);
      }
      tokens.push({ kind: "op", op, text: ch, start: i, spaceBefore });
      i++;
    }
    spaceBefore = false;
  }
  return ok(tokens);
}

export type Expr =
  | { readonly kind: "num"; readonly value: Rational; readonly text: string }
  | { readonly kind: "bin"; readonly op: Op; readonly left: Expr; readonly right: Expr };

class ParseFailure {
  readonly category: ExpressionErrorCategory;
  readonly message: string;
  constructor(category: ExpressionErrorCategory, message: string) {
    this.category = category;
    this.message = message;
  }
}

/** Recursive descent over a token array; failures unwind as `ParseFailure` and become a `ParseResult`. */
class Parser {
  private pos = 0;
  private readonly tokens: readonly Token[];

  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }

  parseAll(): Expr {
    const e = this.expr(0);
    const extra = this.tokens[this.pos];
    if (extra) {
      if (extra.kind === "rparen")
        throw new ParseFailure(
          "unbalanced_parentheses",
          `")" at position ${extra.start + 1} has no matching "("`,
        );
      throw new ParseFailure(
        "unexpected_token",
        `unexpected "${extra.text}" at position ${extra.start + 1}; expected an operator`,
      );
    }
    return e;
  }

  private expr(depth: number): Expr {
    let left = this.term(depth);
    for (let t = this.tokens[this.pos]; t?.kind === "op" && (t.op === "+" || t.op === "-"); ) {
      this.pos++;
      left = { kind: "bin", op: t.op, left, right: this.term(depth) };
      t = this.tokens[this.pos];
    }
    return left;
  }

  private term(depth: number): Expr {
    let left = this.factor(depth);
    for (let t = this.tokens[this.pos]; t?.kind === "op" && (t.op === "*" || t.op === "/"); ) {
      this.pos++;
      left = { kind: "bin", op: t.op, left, right: this.factor(depth) };
      t = this.tokens[this.pos];
    }
    return left;
  }

  private factor(depth: number): Expr {
    const t = this.tokens[this.pos];
    if (!t) throw new ParseFailure("unexpected_end", "the expression ends where a number was expected");
    if (t.kind === "number") {
      this.pos++;
      return { kind: "num", value: t.value, text: t.text };
    }
    if (t.kind === "lparen") {
      if (depth >= MAX_DEPTH)
        throw new ParseFailure("too_deep", `parentheses nested deeper than ${MAX_DEPTH} levels`);
      const open = t;
      this.pos++;
      const inner = this.expr(depth + 1);
      const close = this.tokens[this.pos];
      if (!close)
        throw new ParseFailure("unbalanced_parentheses", `"(" at position ${open.start + 1} is never closed`);
      if (close.kind !== "rparen")
        throw new ParseFailure(
          "unexpected_token",
          `unexpected "${close.text}" at position ${close.start + 1}; expected an operator or ")"`,
        );
      this.pos++;
      return inner;
    }
    if (t.kind === "op" && t.op === "-")
      throw new ParseFailure(
        "unary_minus",
        `unary minus at position ${t.start + 1}: only binary operations on the numbers are allowed`,
      );
    throw new ParseFailure(
      "unexpected_token",
      `unexpected "${t.text}" at position ${t.start + 1}; expected a number or "("`,
    );
  }
}

/** Parse tokens into an expression tree. */
export function parseTokens(tokens: readonly Token[]): ParseResult<Expr> {
  if (tokens.length === 0) return errorAt("empty_expression", "no expression");
  try {
    return ok(new Parser(tokens).parseAll());
  } catch (e) {
    if (e instanceof ParseFailure) return fail(e.category, e.message);
    throw e;
  }
}

/** Parse text into an expression tree (not yet evaluated: division by zero is found by `evaluate`). */
export function parseExpression(text: string): ParseResult<Expr> {
  if (text.trim().length === 0) return errorAt("empty_expression", "no expression");
  const tokens = tokenize(text);
  if (!tokens.ok) return tokens;
  return parseTokens(tokens.value);
}

/** The exact value, or `division_by_zero`. Recursion depth is bounded by the input length cap. */
export function evaluate(e: Expr): ParseResult<Rational> {
  if (e.kind === "num") return ok(e.value);
  const l = evaluate(e.left);
  if (!l.ok) return l;
  const r = evaluate(e.right);
  if (!r.ok) return r;
  const v = apply(e.op, l.value, r.value);
  return v.ok ? v : fail("division_by_zero", `${show(e)} divides by zero`);
}

/** The number literals in left-to-right order (the multiset "numbers used"). */
export function literals(e: Expr): Rational[] {
  const out: Rational[] = [];
  const walk = (n: Expr): void => {
    if (n.kind === "num") out.push(n.value);
    else {
      walk(n.left);
      walk(n.right);
    }
  };
  walk(e);
  return out;
}

const PRECEDENCE: Readonly<Record<Op, number>> = { "+": 1, "-": 1, "*": 2, "/": 2 };

/**
 * Text of an expression with the parentheses its tree needs, numbers as written, e.g. `(10 - 4) * (5 - 1)`.
 * Parsing the text gives the same tree.
 */
export function show(e: Expr): string {
  if (e.kind === "num") return e.text;
  const p = PRECEDENCE[e.op];
  const wrap = (child: Expr, right: boolean): string => {
    const s = show(child);
    if (child.kind === "num") return s;
    const cp = PRECEDENCE[child.op];
    // Same-precedence right children keep their parentheses so the printed tree is the parsed tree.
    return cp < p || (right && cp === p) ? `(${s})` : s;
  };
  return `${wrap(e.left, false)} ${e.op} ${wrap(e.right, true)}`;
}

export interface EvaluatedExpression {
  readonly expr: Expr;
  readonly value: Rational;
  readonly literals: readonly Rational[];
}

/** Parse and evaluate exactly: the tree, its value and the multiset of literals used. */
export function evaluateExpression(text: string): ParseResult<EvaluatedExpression> {
  const parsed = parseExpression(text);
  if (!parsed.ok) return parsed;
  const value = evaluate(parsed.value);
  if (!value.ok) return value;
  return ok({ expr: parsed.value, value: value.value, literals: literals(parsed.value) });
}
