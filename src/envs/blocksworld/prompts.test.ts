import { describe, expect, it } from "vitest";
import { loadStepSplit } from "./data.ts";
import { groundAction } from "./domain.ts";
import type { BlocksWorldState } from "./env.ts";
import { parseStateText, renderState } from "./nl.ts";
import { judgePrompt, parseJudgement, predictPrompt, proposePrompt, taskText } from "./prompts.ts";
import { requireData } from "./testing/data.ts";

const data = loadStepSplit(requireData(), "step_4");
const inst = data.instance("instance-1");
const state: BlocksWorldState = {
  objects: inst.task.grounding.objects,
  goal: inst.task.goal,
  atoms: inst.task.init,
};

describe("prompts", () => {
  it("carry the rules, the state, the goal and the actions taken", () => {
    const v = data.vocabulary;
    expect(taskText(v)).toContain("I can only pick up or unstack one block at a time.");
    const propose = proposePrompt(v, state, [groundAction("pick-up", ["a"])]);
    expect(propose).toContain(renderState(v, state.atoms));
    expect(propose).toContain("My goal is to have that the orange block is on top of the blue block.");
    expect(propose).toContain("1. Pick up the red block");
    expect(proposePrompt(v, state, [])).toContain("No actions have been taken yet.");
    expect(predictPrompt(v, state, groundAction("unstack", ["b", "c"]))).toContain(
      "Action: Unstack the blue block from on top of the orange block.",
    );
    expect(judgePrompt(v, state)).toContain('"Remaining: N"');
  });

  it("a predicted state in the asked-for form parses back", () => {
    const answer =
      "I have that, the red block is clear, the orange block is clear, the hand is holding the blue block and the red block is on the table.";
    const r = parseStateText(answer, { vocabulary: data.vocabulary, objects: ["a", "b", "c", "d"] });
    expect(r).toEqual({ ok: true, value: ["(clear a)", "(clear c)", "(holding b)", "(ontable a)"] });
  });

  it("judgements: the last 'Remaining: N' line, or a named failure", () => {
    expect(parseJudgement("Remaining: 3")).toEqual({ ok: true, value: 3 });
    expect(parseJudgement("Remaining: 5\nso on reflection\n**Remaining:** 2.")).toEqual({
      ok: true,
      value: 2,
    });
    expect(parseJudgement("I think about four.")).toMatchObject({
      ok: false,
      category: "critic_label_missing",
    });
    expect(parseJudgement("Remaining: -1")).toMatchObject({ ok: false, category: "critic_label_missing" });
  });
});
