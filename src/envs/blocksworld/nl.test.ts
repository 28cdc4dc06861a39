import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { loadStepSplit } from "./data.ts";
import { groundAction, makeTask } from "./domain.ts";
import {
  negatedPhrase,
  parseActionText,
  parseStateText,
  renderAction,
  renderGoal,
  renderPlan,
  renderState,
  vocabularyProblem,
} from "./nl.ts";
import { parseProblem } from "./pddl.ts";
import { makeState } from "./state.ts";
import { requireData } from "./testing/data.ts";

const DATA = requireData();
const { domain, vocabulary } = loadStepSplit(DATA, "step_4");
const task = (n: number) => {
  const file = join(DATA, "blocksworld", "generated_basic", `instance-${n}.pddl`);
  return makeTask(domain, parseProblem(readFileSync(file, "utf8"), file, domain), `instance-${n}`);
};
const scope4 = { vocabulary, objects: ["a", "b", "c", "d"] };

describe("NL rendering (checked by hand against the PDDL files)", () => {
  it("instance-0: sorted by predicate then arguments, ', ' and ' and ' before the last", () => {
    const t = task(0);
    expect(renderState(vocabulary, t.init)).toBe(
      "I have that, the blue block is clear, the hand is empty, the red block is on top of the orange block, " +
        "the blue block is on top of the red block, the orange block is on top of the yellow block and the " +
        "yellow block is on the table.",
    );
    expect(renderGoal(vocabulary, t.goal)).toBe(
      "My goal is to have that the blue block is on top of the orange block and the yellow block is on top of " +
        "the blue block.",
    );
  });

  it("instance-1 and a five-block instance; a single goal atom has no 'and'", () => {
    const t1 = task(1);
    expect(renderState(vocabulary, t1.init)).toBe(
      "I have that, the red block is clear, the blue block is clear, the yellow block is clear, the hand is " +
        "empty, the blue block is on top of the orange block, the red block is on the table, the orange block " +
        "is on the table and the yellow block is on the table.",
    );
    expect(renderGoal(vocabulary, t1.goal)).toBe(
      "My goal is to have that the orange block is on top of the blue block.",
    );
    const t445 = task(445);
    expect(renderState(vocabulary, t445.init)).toBe(
      "I have that, the orange block is clear, the yellow block is clear, the white block is clear, the hand is " +
        "empty, the yellow block is on top of the blue block, the white block is on top of the red block, the " +
        "red block is on the table, the blue block is on the table and the orange block is on the table.",
    );
  });

  it("a held block, plan lines capitalised, negations for feedback", () => {
    const holding = makeState([
      "(clear b)",
      "(clear d)",
      "(holding a)",
      "(on b c)",
      "(ontable c)",
      "(ontable d)",
    ]);
    expect(renderState(vocabulary, holding)).toBe(
      "I have that, the blue block is clear, the yellow block is clear, the hand is holding the red block, the " +
        "blue block is on top of the orange block, the orange block is on the table and the yellow block is on " +
        "the table.",
    );
    expect(
      renderPlan(vocabulary, [
        groundAction("unstack", ["b", "c"]),
        groundAction("put-down", ["b"]),
        groundAction("pick-up", ["c"]),
        groundAction("stack", ["c", "b"]),
      ]),
    ).toBe(
      "Unstack the blue block from on top of the orange block\nPut down the blue block\nPick up the orange block\n" +
        "Stack the orange block on top of the blue block",
    );
    expect(negatedPhrase(vocabulary, "(clear a)")).toBe("the red block is not clear");
    expect(negatedPhrase(vocabulary, "(handempty)")).toBe("the hand is not empty");
    expect(negatedPhrase(vocabulary, "(on a b)")).toBe("the red block is not on top of the blue block");
  });

  it("the vocabulary covers the domain; a missing template is named", () => {
    expect(vocabularyProblem(vocabulary, domain)).toBeUndefined();
    const { stack: _, ...actions } = vocabulary.actions;
    expect(vocabularyProblem({ ...vocabulary, actions }, domain)).toBe("no template for action stack");
    expect(
      vocabularyProblem({ ...vocabulary, actions: { ...vocabulary.actions, stack: "stack the {}" } }, domain),
    ).toBe('the template of stack has 1 "{}", the action takes 2');
  });
});

describe("action text → ground action", () => {
  const unstackBC = groundAction("unstack", ["b", "c"]);

  it("reads the PDDL form with colour names or letters, and the template form", () => {
    for (const text of [
      "(unstack blue orange)",
      "(unstack b c)",
      "(UNSTACK Blue Orange)",
      "  (unstack blue orange)  ",
      "unstack the blue block from on top of the orange block",
      "Unstack the blue block from on top of the orange block.",
      "1. Unstack the blue block from on top of the orange block",
      "Action: unstack blue from on top of orange",
      "[ACTION 2] I unstack the blue block from on top of the orange block.\nmore text",
    ]) {
      expect(parseActionText(text, scope4), text).toEqual({ ok: true, value: unstackBC });
    }
    expect(parseActionText("(pick-up red)", scope4)).toEqual({
      ok: true,
      value: groundAction("pick-up", ["a"]),
    });
    expect(parseActionText("(pickup a)", scope4)).toEqual({
      ok: true,
      value: groundAction("pick-up", ["a"]),
    });
    expect(parseActionText("Put down the yellow block", scope4)).toEqual({
      ok: true,
      value: groundAction("put-down", ["d"]),
    });
    expect(parseActionText("stack the red block on top of the blue block", scope4)).toEqual({
      ok: true,
      value: groundAction("stack", ["a", "b"]),
    });
  });

  it("round-trips every rendered action", () => {
    const t = task(445);
    for (const op of t.grounding.operators) {
      expect(parseActionText(renderAction(vocabulary, op.action), { vocabulary }).ok && op.action).toBe(
        op.action,
      );
      expect(parseActionText(op.action.text, { vocabulary })).toEqual({ ok: true, value: op.action });
    }
  });

  it("names each failure", () => {
    const category = (text: string) => {
      const r = parseActionText(text, scope4);
      return r.ok ? "ok" : r.category;
    };
    expect(category("")).toBe("empty_action");
    expect(category("  \n \n")).toBe("empty_action");
    expect(category("(fly red)")).toBe("unknown_action");
    expect(category("juggle the red block")).toBe("unknown_action");
    expect(category("pick up the red block and stack it on the blue block")).toBe("unknown_action");
    expect(category("(pick-up purple)")).toBe("unknown_object");
    expect(category("pick up the purple block")).toBe("unknown_object");
    expect(category("(pick-up white)")).toBe("object_not_in_problem");
    expect(category("(pick-up e)")).toBe("object_not_in_problem");
    expect(category("(stack red)")).toBe("wrong_arity");
    expect(category("(pick-up red blue)")).toBe("wrong_arity");
    // Without a problem's objects every named block of the vocabulary is accepted.
    expect(parseActionText("(pick-up white)", { vocabulary })).toEqual({
      ok: true,
      value: groundAction("pick-up", ["e"]),
    });
    const r = parseActionText("(pick-up purple)", scope4);
    expect(r.ok ? "" : r.message).toBe('"purple" in "(pick-up purple)" names no block');
  });
});

describe("state text → atoms", () => {
  it("round-trips rendered states and goals", () => {
    for (const n of [0, 1, 445]) {
      const t = task(n);
      const objects = t.grounding.objects.map((o) => o.name);
      const state = parseStateText(renderState(vocabulary, t.init), { vocabulary, objects });
      expect(state.ok && makeState(state.value)).toEqual(t.init);
      const goal = parseStateText(renderGoal(vocabulary, t.goal), { vocabulary, objects });
      expect(goal.ok && makeState(goal.value)).toEqual(t.goal);
    }
    const held = makeState(["(clear b)", "(holding a)", "(on b c)", "(ontable c)"]);
    const r = parseStateText(renderState(vocabulary, held), scope4);
    expect(r.ok && makeState(r.value)).toEqual(held);
  });

  it("names each failure", () => {
    const category = (text: string) => {
      const r = parseStateText(text, scope4);
      return r.ok ? "ok" : r.category;
    };
    expect(category("I have that, .")).toBe("empty_state");
    expect(category("I have that, the red block is clear and the red block is happy.")).toBe("unknown_fact");
    expect(category("I have that, the purple block is clear.")).toBe("unknown_object");
    expect(category("I have that, the white block is clear.")).toBe("object_not_in_problem");
    expect(category("the red block is clear, the hand is empty")).toBe("ok");
  });
});

describe("untrusted text", () => {
  it("random word soup never throws: each parse is a value or a named failure", () => {
    const rng = new Rng(9);
    const words = [
      "(",
      ")",
      "the",
      "red",
      "block",
      "blue",
      "pick",
      "up",
      "unstack",
      "stack",
      "from",
      "on",
      "top",
      "of",
      "and",
      ",",
      ".",
      "I",
      "have",
      "that",
      "hand",
      "is",
      "empty",
      "clear",
      "table",
      "Action:",
      "1.",
      "\n",
      "pick-up",
      "z",
      "a",
      "[PLAN]",
      "holding",
      "white",
    ];
    const categories = new Set<string>();
    for (let n = 0; n < 3000; n++) {
      const text = Array.from({ length: rng.int(12) }, () => rng.pick(words)).join(" ");
      for (const r of [parseActionText(text, scope4), parseStateText(text, scope4)]) {
        if (!r.ok) categories.add(r.category);
      }
    }
    const known = ["empty_action", "empty_state", "object_not_in_problem", "unknown_action", "unknown_fact"];
    known.push("unknown_object", "wrong_arity");
    for (const c of categories) expect(known).toContain(c);
    expect(categories.size).toBeGreaterThanOrEqual(5); // the soup reaches most failure paths
  });
});
