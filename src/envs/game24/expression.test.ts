import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { evaluateExpression, MAX_DEPTH, MAX_EXPRESSION_LENGTH, parseExpression, show } from "./expression.ts";
import { format } from "./rational.ts";

function value(text: string): string {
  const e = evaluateExpression(text);
  if (!e.ok) throw new Error(`${text}: ${e.category} ${e.message}`);
  return format(e.value.value);
}

function category(text: string): string {
  const e = evaluateExpression(text);
  return e.ok ? "ok" : e.category;
}

describe("expression parser", () => {
  it("follows precedence, left associativity and parentheses", () => {
    expect(value("2 + 3 * 4")).toBe("14");
    expect(value("(2 + 3) * 4")).toBe("20");
    expect(value("8 / 4 / 2")).toBe("1");
    expect(value("8 - 3 - 2")).toBe("3");
    expect(value("8 - (3 - 2)")).toBe("7");
    expect(value("((((24))))")).toBe("24");
    expect(value("1 + 2 * 3 - 4 / 8")).toBe("13/2");
  });

  it("reads unicode and ASCII operator spellings and free spacing", () => {
    expect(value("(10 − 4) × (5 − 1)")).toBe("24");
    expect(value("(10 – 4)·(5 – 1)")).toBe("24");
    expect(value("13 ÷ 2")).toBe("13/2");
    expect(value("4 x 6")).toBe("24");
    expect(value("4X6")).toBe("24");
    expect(value("4*6")).toBe("24");
    expect(value("  4\t*  6 ")).toBe("24");
    expect(value("2.5 * 4 + .5")).toBe("21/2");
  });

  it("evaluates exactly and reports the literals used", () => {
    const e = evaluateExpression("8 / (3 - 8 / 3)");
    expect(e.ok).toBe(true);
    if (!e.ok) return;
    expect(format(e.value.value)).toBe("24");
    expect(e.value.literals.map(format)).toEqual(["8", "3", "8", "3"]);
  });

  it("names every failure", () => {
    const cases: [string, string][] = [
      ["", "empty_expression"],
      ["   ", "empty_expression"],
      ["4 + a", "unexpected_token"],
      ["4 5", "unexpected_token"],
      ["()", "unexpected_token"],
      ["4 * * 6", "unexpected_token"],
      ["(4 + 5 6)", "unexpected_token"],
      ["4 +", "unexpected_end"],
      ["(4 + 5", "unbalanced_parentheses"],
      ["4 + 5)", "unbalanced_parentheses"],
      ["-4 + 28", "unary_minus"],
      ["4 * -6", "unary_minus"],
      ["4 / (2 - 2)", "division_by_zero"],
      [`${"1+".repeat(MAX_EXPRESSION_LENGTH)}1`, "too_long"],
      [`${"(".repeat(MAX_DEPTH + 1)}1${")".repeat(MAX_DEPTH + 1)}`, "too_deep"],
      ["2 ** 3", "unexpected_token"],
      ["4 + 4\u200b", "unexpected_token"],
    ];
    for (const [text, expected] of cases)
      expect(category(text), JSON.stringify(text.slice(0, 30))).toBe(expected);
  });

  it("survives hostile input without deep recursion", () => {
    expect(category("(".repeat(100_000))).toBe("too_long");
    expect(category(`${"(".repeat(400)}1${")".repeat(400)}`)).toBe("too_deep");
    expect(value(`${"(".repeat(MAX_DEPTH)}24${")".repeat(MAX_DEPTH)}`)).toBe("24");
    // A long flat chain is parsed iteratively and its tree evaluates within the length cap.
    expect(value(Array(400).fill("1").join("+"))).toBe("400");
    expect(category("9".repeat(100))).toBe("too_long");
  });

  it("prints trees that parse back to the same tree", () => {
    const rng = new Rng(11);
    const ops = ["+", "-", "*", "/"];
    const gen = (depth: number): string => {
      if (depth === 0 || rng.float() < 0.3) return String(1 + rng.int(13));
      return `(${gen(depth - 1)} ${rng.pick(ops)} ${gen(depth - 1)})`;
    };
    for (let i = 0; i < 300; i++) {
      const text = gen(4);
      const a = parseExpression(text);
      expect(a.ok).toBe(true);
      if (!a.ok) continue;
      const printed = show(a.value);
      const b = parseExpression(printed);
      expect(b.ok && b.value, printed).toEqual(a.value);
      expect(category(printed)).toBe(category(text));
    }
    const tree = parseExpression("(10 - 4) * (5 - 1)");
    expect(tree.ok && show(tree.value)).toBe("(10 - 4) * (5 - 1)");
    const sub = parseExpression("8 - (3 - 2) - 1");
    expect(sub.ok && show(sub.value)).toBe("8 - (3 - 2) - 1");
  });
});
