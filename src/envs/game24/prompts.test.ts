import { describe, expect, it } from "vitest";
import { goldPlan } from "./exact.ts";
import { parsePlanLine } from "./plan.ts";
import {
  answerPrompt,
  answerValuePrompt,
  choosePrompt,
  EXAMPLE_NUMBERS,
  EXAMPLE_PROPOSALS,
  learnedPrompt,
  parseProposals,
  parseValueLabel,
  proposePrompt,
  readPrompt,
  statePrompt,
  TASK,
  valueChoicePrompt,
  valuePrompt,
} from "./prompts.ts";
import { formatNumbers, rational } from "./rational.ts";
import { type Game24State, initialState, judgePlan, judgeStep } from "./rules.ts";

function committed(puzzle: number[], lines: number): Game24State {
  const plan = goldPlan(puzzle) ?? "";
  const judged = judgePlan(initialState(puzzle), plan.split("\n").slice(0, lines).join("\n"), 1);
  return { puzzle: puzzle.map((n) => rational(n)), steps: judged.steps, remaining: judged.remaining };
}

describe("prompts", () => {
  it("the propose example holds only valid, correctly calculated moves", () => {
    const start = initialState(EXAMPLE_NUMBERS);
    for (const line of EXAMPLE_PROPOSALS) {
      const p = parsePlanLine(line);
      expect(p.ok && p.value.kind, line).toBe("step");
      if (!p.ok || p.value.kind !== "step") continue;
      expect(["correct", "unreachable"], line).toContain(
        judgeStep(start.remaining, p.value.step, "x").verdict,
      );
    }
  });

  it("are functions of the state", () => {
    const start = initialState([4, 5, 6, 10]);
    expect(TASK).toContain("Answer:");
    expect(proposePrompt(start, 8)).toMatch(
      /up to 8 different possible next steps[\s\S]*Numbers: 4 5 6 10\nPossible next steps:$/,
    );
    const mid = committed([4, 5, 6, 10], 1);
    expect(mid.remaining).toHaveLength(3);
    expect(proposePrompt(mid)).toContain(`Numbers: ${formatNumbers(mid.remaining)}\nPossible next steps:`);
    expect(valuePrompt(mid)).toMatch(/^Numbers: \d+ \d+ \d+\n/);
    expect(valuePrompt(mid)).toContain("sure");
    const end = committed([4, 5, 6, 10], 3);
    expect(end.remaining).toHaveLength(1);
    const answer = answerPrompt(end);
    expect(answer).toContain("Original numbers: 4 5 6 10");
    expect(answer.match(/\(left: /g)).toHaveLength(3);
    expect(answer).toMatch(/Answer: <expression> = 24$/);
    expect(answerValuePrompt(end, "Answer: (10 - 4) * 5 - 6 = 24")).toContain(
      "Proposed answer: Answer: (10 - 4)",
    );
    expect(statePrompt(start)).toBe("Numbers: 4 5 6 10\nNumbers left: 4 5 6 10");
    expect(statePrompt(mid)).toContain("Steps taken so far:");
  });

  it("value labels: the last line must hold exactly one label", () => {
    expect(parseValueLabel("10 + 14 = 24\nsure")).toEqual({ ok: true, value: "sure" });
    expect(parseValueLabel("hmm\n\n  Likely.  \n")).toEqual({ ok: true, value: "likely" });
    expect(parseValueLabel("Impossible")).toEqual({ ok: true, value: "impossible" });
    for (const bad of ["", "sure\nI cannot tell", "sure or impossible", "unsure", "\n \n"]) {
      const p = parseValueLabel(bad);
      expect(p.ok, bad).toBe(false);
      if (!p.ok) expect(p.category).toBe("critic_label_missing");
    }
  });

  it("proposals: readable step lines kept in order without repeats, the rest dropped with a category", () => {
    const reply = [
      "Possible next steps:",
      "4 + 5 = 9 (left: 6 9 10)",
      "10 - 4 = 6",
      "4 + 5 = 9 (left: 6 9 10)",
      "1. 10 * 6 = 60 (left: 4 5 60)",
      "Answer: (10 - 4) * 5 - 6 = 24",
      "5 + 5 + 5 = 15 (left: 15)",
    ].join("\n");
    const p = parseProposals(reply);
    expect(p.lines).toEqual(["4 + 5 = 9 (left: 6 9 10)", "10 * 6 = 60 (left: 4 5 60)"]);
    expect(p.dropped.map((d) => d.category)).toEqual(["missing_left", "not_a_step", "bad_step"]);
    expect(parseProposals(reply, 1).lines).toHaveLength(1);
  });
});

describe("prompts read back (for test servers that answer like a model)", () => {
  it("every question prompt reads back to its question, also behind the learned reflections", () => {
    const mid = committed([4, 5, 6, 10], 1);
    const end = committed([4, 5, 6, 10], 3);
    const left = formatNumbers(mid.remaining);
    const learned = learnedPrompt(
      [{ text: "4 + 5 = 9 (left: 6 9 10)", label: "impossible" }],
      [{ text: "6 9 10", label: "impossible" }],
    );
    const behind = (prompt: string) => `${learned}\n\n${prompt}`;
    expect(readPrompt(behind(proposePrompt(mid, 7)))).toEqual({
      ok: true,
      value: { kind: "propose", numbers: left, count: 7 },
    });
    expect(readPrompt(behind(valuePrompt(mid)))).toEqual({
      ok: true,
      value: { kind: "value", numbers: left, structured: false },
    });
    expect(readPrompt(valueChoicePrompt(mid))).toEqual({
      ok: true,
      value: { kind: "value", numbers: left, structured: true },
    });
    const legal = ["6 + 5 = 11 (left: 6 11)", "6 * 5 = 30 (left: 6 30)"];
    expect(readPrompt(choosePrompt(mid, legal, 2))).toEqual({
      ok: true,
      value: { kind: "choose", numbers: left, legal, count: 2 },
    });
    const answer = readPrompt(answerPrompt(end));
    expect(answer.ok && answer.value.kind === "answer" && answer.value.steps).toHaveLength(3);
    expect(answer.ok && answer.value.kind === "answer" && answer.value.puzzle).toBe("4 5 6 10");
    expect(readPrompt("Say hi.")).toMatchObject({ ok: false, category: "unknown_prompt" });
  });

  it("reflections list what the feedback showed, and nothing when nothing was learned", () => {
    expect(learnedPrompt([], [])).toBe("");
    const text = learnedPrompt(
      [{ text: "10 - 4 = 6 (left: 5 6 6)", label: "sure" }],
      [{ text: "5 6 6", label: "sure" }],
    );
    expect(text).toContain("10 - 4 = 6 (left: 5 6 6): sure");
    expect(text).toContain("5 6 6: sure");
    expect(text).not.toMatch(/Numbers: /); // never mistaken for the question
  });
});
