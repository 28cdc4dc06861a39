import { describe, expect, it } from "vitest";
import { type BlocksWorldInstance, loadStepSplit } from "./data.ts";
import { type GroundAction, groundAction } from "./domain.ts";
import { renderPlan } from "./nl.ts";
import { requireData } from "./testing/data.ts";
import { validatePlan, validatePlanText } from "./validate.ts";

const DATA = requireData();
const step4 = loadStepSplit(DATA, "step_4");
const step6 = loadStepSplit(DATA, "step_6");
const { vocabulary } = step4;

const gold = (i: BlocksWorldInstance): readonly GroundAction[] => {
  if (!i.goldPlan) throw new Error(`${i.id} has no gold plan`);
  return i.goldPlan;
};

describe("validator on the gold plans", () => {
  it.each([
    ["step_4", step4, 57],
    ["step_6", step6, 114],
  ] as const)("accepts every gold plan of %s (%i)", (_, data, count) => {
    expect(data.instances).toHaveLength(count);
    for (const inst of data.instances) {
      const v = validatePlan(inst.task, gold(inst), vocabulary);
      expect(v, inst.id).toMatchObject({ valid: true, length: inst.optimalLength });
      // The same plan as NL plan lines.
      expect(validatePlanText(inst.task, renderPlan(vocabulary, gold(inst)), vocabulary).valid).toBe(true);
    }
  });

  // One hand: pick-up/unstack need an empty hand, put-down/stack a held block, so valid plans alternate the
  // two kinds. Breaking the alternation at step i must fail exactly at step i.
  it("rejects swapped neighbours and dropped steps at the right step", () => {
    for (const inst of [...step4.instances, ...step6.instances]) {
      const plan = gold(inst);
      const n = plan.length;
      for (let i = 0; i + 1 < n; i++) {
        const swapped = [...plan];
        [swapped[i], swapped[i + 1]] = [plan[i + 1] as GroundAction, plan[i] as GroundAction];
        expect(validatePlan(inst.task, swapped), `${inst.id} swap ${i + 1}`).toMatchObject({
          valid: false,
          step: i + 1,
          reason: "precondition",
        });
        const dropped = plan.filter((_, j) => j !== i);
        expect(validatePlan(inst.task, dropped), `${inst.id} drop ${i + 1}`).toMatchObject({
          valid: false,
          step: i + 1,
          reason: "precondition",
        });
      }
      // Without the last step every action applies, but the plan is shorter than optimal.
      expect(validatePlan(inst.task, plan.slice(0, -1))).toMatchObject({
        valid: false,
        step: null,
        reason: "goal_not_reached",
      });
    }
  });

  // Goals are `on` atoms only, so an optimal plan ends with a stack; stacking the held block on itself fails
  // because a held block is not clear.
  it("rejects a replaced argument at the right step, naming the precondition", () => {
    for (const inst of [...step4.instances, ...step6.instances]) {
      const plan = gold(inst);
      const last = plan.at(-1);
      if (last?.name !== "stack") throw new Error(`${inst.id} does not end with stack`);
      const [x = ""] = last.args;
      const mutated = [...plan.slice(0, -1), groundAction("stack", [x, x])];
      expect(validatePlan(inst.task, mutated), inst.id).toMatchObject({
        valid: false,
        step: plan.length,
        reason: "precondition",
        failed: [`(clear ${x})`],
      });
    }
  });

  it("says why in words (instance-1, checked by hand)", () => {
    const inst = step4.instance("instance-1");
    const [unstack, putDown, pickUp] = gold(inst);
    if (!unstack || !putDown || !pickUp) throw new Error("short plan");
    expect(validatePlan(inst.task, [putDown, unstack], vocabulary)).toMatchObject({
      step: 1,
      failed: ["(holding b)"],
      message: "step 1 (put down the blue block): the hand is not holding the blue block",
    });
    expect(validatePlan(inst.task, [unstack, pickUp], vocabulary)).toMatchObject({
      step: 2,
      failed: ["(handempty)"],
      message: "step 2 (pick up the orange block): the hand is not empty",
    });
    expect(
      validatePlan(inst.task, [unstack, putDown, pickUp, groundAction("stack", ["c", "a"])], vocabulary),
    ).toMatchObject({
      step: null,
      reason: "goal_not_reached",
      failed: ["(on c b)"],
      message: "after 4 step(s) the goal is not reached: the orange block is not on top of the blue block",
    });
    expect(validatePlan(inst.task, [groundAction("pick-up", ["e"])], vocabulary)).toMatchObject({
      step: 1,
      reason: "unknown_action",
    });
    expect(validatePlan(inst.task, [putDown])).toMatchObject({
      message: "step 1 ((put-down b)): (holding b) does not hold",
    });
  });

  it("reports an unparsable line as its step, unless an earlier step already fails", () => {
    const inst = step4.instance("instance-1");
    expect(validatePlanText(inst.task, "(unstack blue orange)\n\n(juggle blue)\n", vocabulary)).toMatchObject(
      {
        valid: false,
        step: 2,
        reason: "unparsable_step",
      },
    );
    expect(validatePlanText(inst.task, "(put-down blue)\n(juggle blue)", vocabulary)).toMatchObject({
      step: 1,
      reason: "precondition",
    });
  });
});
