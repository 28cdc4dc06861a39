import { describe, expect, it } from "vitest";
import { loadStepSplit } from "./data.ts";
import { type GroundAction, groundAction } from "./domain.ts";
import { BlocksWorldEnv } from "./env.ts";
import { requireData } from "./testing/data.ts";

const data = loadStepSplit(requireData(), "step_4");
// instance-1: red, blue, yellow clear; blue on orange. Goal: orange on blue. Gold: unstack b c, put-down b,
// pick-up c, stack c b.
const inst = data.instance("instance-1");
const gold = inst.goldPlan ?? [];
const pickRed = groundAction("pick-up", ["a"]);
const putRed = groundAction("put-down", ["a"]);

const envOf = (options: { maxTries?: number; maxDepth?: number } = {}) =>
  new BlocksWorldEnv(inst, data.vocabulary, options);

async function play(env: BlocksWorldEnv, actions: readonly GroundAction[]) {
  const results = [];
  for (const a of actions) results.push(await env.step(a));
  return results;
}

describe("BlocksWorldEnv", () => {
  it("starts try 1 at the initial state, in words, with the applicable actions", async () => {
    const env = envOf();
    const o = await env.reset(0);
    expect(o).toMatchObject({ tryNumber: 1, depth: 0, maxDepth: 4, maxTries: 60 });
    expect(o.text).toMatch(/^I have that, the red block is clear, /);
    expect(o.goalText).toBe("My goal is to have that the orange block is on top of the blue block.");
    expect(env.render()).toBe(`${o.text}\n${o.goalText}`);
    expect(env.legalActions().map((a) => a.text)).toEqual(["(pick-up a)", "(pick-up d)", "(unstack b c)"]);
    expect(env.terminal).toBe(false);
  });

  it("an inapplicable action says why, leaves the state unchanged and still counts", async () => {
    const env = envOf();
    const before = await env.reset(0);
    const r = await env.step(groundAction("unstack", ["c", "b"]));
    expect(r.feedback).toBe(
      "Not possible: unstack the orange block from on top of the blue block, because the orange block is not on " +
        "top of the blue block and the orange block is not clear. The state is unchanged.",
    );
    expect(r).toMatchObject({ reward: 0, done: false });
    expect(r.observation.state.atoms).toEqual(before.state.atoms);
    expect(r.observation.depth).toBe(1);
    expect(r.info).toMatchObject({ try: 1, depth: 1, inapplicable: { failed: ["(on c b)", "(clear c)"] } });
    const foreign = await env.step(groundAction("pick-up", ["e"]));
    expect(foreign.feedback).toBe(
      "Not possible: pick up the white block, because (pick-up e) is not an action of this problem. The state is unchanged.",
    );
  });

  it("a try ends at the depth limit and the next starts from the initial state", async () => {
    const env = envOf({ maxDepth: 2 });
    const start = await env.reset(0);
    const [first, second] = await play(env, [pickRed, putRed]);
    expect(first?.feedback).toBe("Done: pick up the red block.");
    expect(first?.observation.text).toContain("the hand is holding the red block");
    expect(second?.feedback).toBe(
      "Done: put down the red block. Try 1 of 60 ended after 2 action(s) without reaching the goal. Try 2 starts " +
        "again from the initial state.",
    );
    expect(second).toMatchObject({ reward: 0, done: false, info: { try: 1, depth: 2, tryEnded: true } });
    expect(second?.observation).toMatchObject({ tryNumber: 2, depth: 0, state: start.state });
    // The true state after the action, before the restart.
    expect(second?.info?.state).toContain("(ontable a)");
  });

  it("succeeds in the try that reaches the goal, with that try's validated plan", async () => {
    const env = envOf();
    await env.reset(0);
    await play(env, [pickRed, putRed, pickRed, putRed]); // try 1 used up
    // Try 2: an inapplicable pick-up counts as a step, so the goal is out of reach within maxDepth 4.
    const results = await play(
      env,
      [gold[0], pickRed, gold[1], gold[2]].filter((a) => a !== undefined),
    );
    expect(results[1]?.info).toMatchObject({ try: 2, depth: 2, inapplicable: { failed: ["(handempty)"] } });
    expect(results.at(-1)?.info).toMatchObject({ try: 2, depth: 4, tryEnded: true });
    expect(env.terminal).toBe(false);
    // …and try 3 follows the gold plan.
    const final = await play(env, gold);
    const last = final.at(-1);
    expect(last).toMatchObject({ reward: 1, done: true, success: true });
    expect(last?.feedback).toBe(
      "Done: stack the orange block on top of the blue block. The goal is reached in try 3 after 4 action(s).",
    );
    expect(last?.info).toMatchObject({
      try: 3,
      plan: ["(unstack b c)", "(put-down b)", "(pick-up c)", "(stack c b)"],
      planValid: true,
      inapplicableSteps: 0,
    });
    expect(env.terminal).toBe(true);
    expect(env.legalActions()).toEqual([]);
    await expect(env.step(pickRed)).rejects.toThrow(/after the episode ended/);
  });

  it("records a plan without the no-op steps when a try had inapplicable actions", async () => {
    const env = envOf({ maxDepth: 6 });
    await env.reset(0);
    const [g0, g1, g2, g3] = gold;
    if (!g0 || !g1 || !g2 || !g3) throw new Error("short gold plan");
    const results = await play(env, [g0, pickRed, g1, g2, g3]);
    expect(results.at(-1)?.info).toMatchObject({
      try: 1,
      plan: gold.map((a) => a.text),
      inapplicableSteps: 1,
    });
  });

  it("ends without success when the tries run out", async () => {
    const env = envOf({ maxTries: 2, maxDepth: 1 });
    await env.reset(0);
    const first = await env.step(pickRed);
    expect(first).toMatchObject({ done: false, info: { tryEnded: true } });
    const second = await env.step(pickRed);
    expect(second).toMatchObject({ done: true, success: false, reward: 0 });
    expect(second.feedback).toBe(
      "Done: pick up the red block. Try 2 of 2 ended after 1 action(s) without reaching the goal. No tries are left.",
    );
    expect(env.terminal).toBe(true);
    // A new episode starts over.
    expect(await env.reset(1)).toMatchObject({ tryNumber: 1, depth: 0 });
    expect(env.terminal).toBe(false);
  });

  it("formats actions as plan lines and parses both forms", () => {
    const env = envOf();
    const unstack = groundAction("unstack", ["b", "c"]);
    expect(env.formatAction(unstack)).toBe("Unstack the blue block from on top of the orange block");
    expect(env.parseAction(env.formatAction(unstack))).toEqual({ ok: true, value: unstack });
    expect(env.parseAction("(unstack blue orange)")).toEqual({ ok: true, value: unstack });
    expect(env.parseAction("(pick-up white)")).toMatchObject({
      ok: false,
      category: "object_not_in_problem",
    });
    expect(() => new BlocksWorldEnv(inst, data.vocabulary, { maxTries: 0 })).toThrow(RangeError);
  });
});
