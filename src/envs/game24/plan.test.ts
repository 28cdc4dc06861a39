import { describe, expect, it } from "vitest";
import { formatStep, parsePlanLine, planLines, type Step } from "./plan.ts";
import { format } from "./rational.ts";

function step(text: string): string {
  const p = parsePlanLine(text);
  if (!p.ok) throw new Error(`${text}: ${p.category} ${p.message}`);
  if (p.value.kind !== "step") throw new Error(`${text}: not a step`);
  return show(p.value.step);
}

function show(s: Step): string {
  return `${format(s.a)} ${s.op} ${format(s.b)} = ${format(s.result)} [${s.left.map(format).join(" ")}]`;
}

function category(text: string): string {
  const p = parsePlanLine(text);
  return p.ok ? "ok" : p.category;
}

describe("step lines", () => {
  it("reads the canonical form and lenient variants", () => {
    expect(step("10 - 4 = 6 (left: 5 6 6)")).toBe("10 - 4 = 6 [5 6 6]");
    expect(step("10-4=6 (left: 5 6 6)")).toBe("10 - 4 = 6 [5 6 6]");
    expect(step("  4 × 6 = 24   (Left: 24)  good step!")).toBe("4 * 6 = 24 [24]");
    expect(step("4 x 6 = 24 (left: 24)")).toBe("4 * 6 = 24 [24]");
    expect(step("12 ÷ 3 = 4 (left: 1, 4, 4)")).toBe("12 / 3 = 4 [1 4 4]");
    expect(step("4 + 8 = 12, left: 6 8 12")).toBe("4 + 8 = 12 [6 8 12]");
    expect(step("2.5 * 4 = 10 (left: 10 7)")).toBe("5/2 * 4 = 10 [10 7]");
  });

  it("tells fraction operands from the operation's slash, and refuses to guess", () => {
    expect(step("8 / 3 = 8/3 (left: 3 8 8/3)")).toBe("8 / 3 = 8/3 [3 8 8/3]");
    expect(step("8/3 = 8/3 (left: 3 8 8/3)")).toBe("8 / 3 = 8/3 [3 8 8/3]");
    expect(step("3 - 8/3 = 1/3 (left: 8 1/3)")).toBe("3 - 8/3 = 1/3 [8 1/3]");
    expect(step("8 / 1/3 = 24 (left: 24)")).toBe("8 / 1/3 = 24 [24]");
    expect(step("8/3 / 2 = 4/3 (left: 4/3)")).toBe("8/3 / 2 = 4/3 [4/3]");
    expect(step("(8/3) * 9 = 24 (left: 24)")).toBe("8/3 * 9 = 24 [24]");
    expect(step("(10 - 4) = 6 (left: 5 6 6)")).toBe("10 - 4 = 6 [5 6 6]");
    expect(step("3 - -4 = 7 (left: 7)")).toBe("3 - -4 = 7 [7]");
    expect(step("-3 * -8 = 24 (left: 24)")).toBe("-3 * -8 = 24 [24]");
    expect(category("8/3/2 = 4/3 (left: 4/3)")).toBe("ambiguous_step");
    expect(category("4/2*3 = 6 (left: 6)")).toBe("bad_step"); // 4/2 is not in lowest terms
    expect(category("4 + 5 + 6 = 15 (left: 15 10)")).toBe("bad_step");
    expect(category("4 = 4 (left: 4 5 6 10)")).toBe("bad_step");
  });

  it("names every unreadable step", () => {
    const cases: [string, string][] = [
      ["4 + 8 = 12", "missing_left"],
      ["4 + 8 = 12 (left: 6 8 12", "missing_left"],
      ["4 + 8 = twelve (left: 6 8 12)", "bad_number"],
      ["4 + 8 = (left: 6 8 12)", "bad_number"],
      ["4 + 8 = 12 (left: 6 eight 12)", "bad_number"],
      ["4 + 8 = 12 (left: 6 8/0 12)", "bad_number"],
      ["4 + y = 12 (left: 6 8 12)", "unexpected_token"],
      ["I add 4 and 8 to get 12", "unrecognized_line"],
      ["4 + 8 -> 12 (left: 6 8 12)", "unrecognized_line"],
      [`4 + 8 = 12 (left: ${"1 ".repeat(400)})`, "too_long"],
      [`4 + 8 = ${"1".repeat(100)} (left: 6 8 12)`, "too_long"],
    ];
    for (const [text, expected] of cases) expect(category(text), text.slice(0, 40)).toBe(expected);
  });

  it("prints canonical step lines that parse back", () => {
    const line = "3 - 8/3 = 1/3 (left: 1/3 8)";
    const p = parsePlanLine(line);
    expect(p.ok && p.value.kind === "step" && formatStep(p.value.step)).toBe(line);
  });
});

describe("answer lines", () => {
  it("reads the expression and checks the claim", () => {
    const p = parsePlanLine("Answer: (10 − 4) × (5 − 1) = 24.");
    expect(p.ok && p.value.kind).toBe("answer");
    if (p.ok && p.value.kind === "answer") {
      expect(format(p.value.answer.value)).toBe("24");
      expect(p.value.answer.literals.map(format)).toEqual(["10", "4", "5", "1"]);
      expect(p.value.answer.text).toBe("(10 − 4) × (5 − 1)");
    }
    for (const ok of [
      "answer: 4 * 6",
      "**Answer:** 4 * 6 = 24",
      "Final answer: 4*6 = 24 (checked)",
      "Step 4: Answer: 4 * 6 = 24",
    ])
      expect(category(ok), ok).toBe("ok");
  });

  it("names every unreadable answer", () => {
    const cases: [string, string][] = [
      ["Answer: 4 * 6 = 25", "bad_answer_claim"],
      ["Answer: 4 * 6 = twenty-four", "bad_answer_claim"],
      ["Answer:", "empty_expression"],
      ["Answer: (4 + 8) * (6 - 4", "unbalanced_parentheses"],
      ["Answer: 4 * 6)", "unbalanced_parentheses"],
      ["Answer: 4 * 6 +", "unexpected_end"],
      ["Answer: 4 * six = 24", "unexpected_token"],
      ["Answer: -4 + 28 = 24", "unary_minus"],
      ["Answer: 24 / (5 - 5) = 24", "division_by_zero"],
      [`Answer: ${"(".repeat(40)}24${")".repeat(40)} = 24`, "too_deep"],
      [`Answer: ${"1 + ".repeat(200)}1 = 24`, "too_long"],
    ];
    for (const [text, expected] of cases) expect(category(text), text.slice(0, 40)).toBe(expected);
  });
});

describe("plan text", () => {
  it("skips commentary, bullets and step labels but keeps every line with numbers", () => {
    const text = [
      "Here is my plan:",
      "```",
      "Step 1: 10 - 4 = 6 (left: 5 6 6)",
      "- 6 - 5 = 1 (left: 1 6)",
      "",
      "2) 6 / 1 = 6 (left: 6)",
      "Step 4:",
      "I think this works for 24",
      "Answer: oops",
      "```",
    ].join("\n");
    expect(planLines(text)).toEqual([
      "10 - 4 = 6 (left: 5 6 6)",
      "6 - 5 = 1 (left: 1 6)",
      "6 / 1 = 6 (left: 6)",
      "I think this works for 24",
      "Answer: oops",
    ]);
    expect(planLines("\r\n  \n")).toEqual([]);
  });
});
