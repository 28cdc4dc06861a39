import { describe, expect, it } from "vitest";
import type { Agent } from "../../core/agent.ts";
import { runEpisode } from "../../core/episode.ts";
import { BayesactError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import type { Roles } from "../../core/roles.ts";
import { type BlocksWorldData, loadStepSplit } from "./data.ts";
import { type GroundAction, groundAction } from "./domain.ts";
import { BlocksWorldEnv, type BlocksWorldObservation, type BlocksWorldState } from "./env.ts";
import { createExactRoles, goalReward, UNREACHABLE_VALUE } from "./exact.ts";
import { DistanceOracle, optimalPlan } from "./planner.ts";
import { applyOperator, makeState, type State } from "./state.ts";
import { requireData } from "./testing/data.ts";
import { validatePlan } from "./validate.ts";

const DATA = requireData();
const splits: [string, BlocksWorldData, number][] = [
  ["step_4", loadStepSplit(DATA, "step_4"), 57],
  ["step_6", loadStepSplit(DATA, "step_6"), 114],
];
const step4 = splits[0]?.[1] as BlocksWorldData;
const ctx = { rng: new Rng(0) };

describe("optimal planner", () => {
  it.each(splits)("finds plans of exactly the optimal length for every %s instance", (_, data, count) => {
    expect(data.instances).toHaveLength(count);
    for (const inst of data.instances) {
      for (const heuristic of ["hmax", "none"] as const) {
        const { plan } = optimalPlan(inst.task.grounding, inst.task.init, inst.task.goal, { heuristic });
        if (!plan) throw new Error(`${inst.id}: no plan`);
        expect(plan.length, `${inst.id} ${heuristic}`).toBe(inst.optimalLength);
        expect(validatePlan(inst.task, plan).valid).toBe(true);
      }
    }
  });

  it("distances fall by one along every gold plan (each suffix of an optimal plan is optimal)", () => {
    for (const [, data] of splits) {
      for (const inst of data.instances) {
        const oracle = new DistanceOracle(inst.task.grounding, inst.task.goal);
        let s: State = inst.task.init;
        const seen: number[] = [oracle.distance(s)];
        for (const action of inst.goldPlan ?? []) {
          const op = inst.task.grounding.operator(action);
          const r = op ? applyOperator(s, op) : undefined;
          if (!r?.ok) throw new Error("gold plan does not apply");
          s = r.state;
          seen.push(oracle.distance(s));
        }
        expect(seen).toEqual(
          Array.from({ length: inst.optimalLength + 1 }, (_, i) => inst.optimalLength - i),
        );
      }
    }
  });

  it("reports unreachable goals and the expansion limit", () => {
    const inst = step4.instance("instance-1");
    const impossible = makeState(["(on a a)"]);
    expect(optimalPlan(inst.task.grounding, inst.task.init, impossible).plan).toBeUndefined();
    expect(new DistanceOracle(inst.task.grounding, impossible).distance(inst.task.init)).toBe(
      Number.POSITIVE_INFINITY,
    );
    let error: unknown;
    try {
      optimalPlan(inst.task.grounding, inst.task.init, inst.task.goal, {
        heuristic: "none",
        maxExpansions: 2,
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BayesactError);
    expect(error).toMatchObject({ category: "planner_limit" });
  });
});

/** Depth-1 search over the roles: the elite's candidates scored by reward + critic value of the prediction. */
function greedyAgent(
  roles: Roles<BlocksWorldState, GroundAction>,
): Agent<BlocksWorldObservation, GroundAction> {
  return {
    name: "greedy-exact",
    reset() {},
    async act(observation) {
      const candidates = await roles.elite.propose(observation.state, 100, ctx);
      let best: GroundAction | undefined;
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const a of candidates) {
        const p = await roles.model.predict(observation.state, a, ctx);
        const score = p.reward + (p.done ? 0 : await roles.critic.value(p.state, ctx));
        if (score > bestScore) [best, bestScore] = [a, score];
      }
      if (!best) throw new Error("no candidate");
      return best;
    },
  };
}

describe("exact twins", () => {
  it.each(splits)(
    "solve every %s instance in the first try with an optimal-length plan",
    async (_, data, count) => {
      const roles = createExactRoles(data.domain);
      let solved = 0;
      for (const inst of data.instances) {
        const env = new BlocksWorldEnv(inst, data.vocabulary);
        const t = await runEpisode(env, greedyAgent(roles), { seed: 0, maxSteps: 60 * inst.optimalLength });
        const last = t.steps.at(-1);
        expect(t.success, inst.id).toBe(true);
        expect(last?.info).toMatchObject({ try: 1, planValid: true, inapplicableSteps: 0 });
        const plan = last?.info?.plan;
        expect(Array.isArray(plan) ? plan.length : -1).toBe(inst.optimalLength);
        solved++;
      }
      expect(solved).toBe(count);
    },
  );

  it("a breadth-1 ranked elite is an optimal policy; the uninformed elite keeps the grounding order", async () => {
    const roles = createExactRoles(step4.domain);
    const plain = createExactRoles(step4.domain, { rank: "none", critic: "normalised" });
    for (const inst of step4.instances) {
      let state: BlocksWorldState = {
        objects: inst.task.grounding.objects,
        goal: inst.task.goal,
        atoms: inst.task.init,
      };
      const plan: GroundAction[] = [];
      for (let i = 0; i < inst.optimalLength; i++) {
        const [a] = await roles.elite.propose(state, 1, ctx);
        if (!a) throw new Error("empty elite");
        plan.push(a);
        state = (await roles.model.predict(state, a, ctx)).state;
      }
      expect(validatePlan(inst.task, plan).valid, inst.id).toBe(true);
    }
    const inst = step4.instance("instance-1");
    const s0: BlocksWorldState = {
      objects: inst.task.grounding.objects,
      goal: inst.task.goal,
      atoms: inst.task.init,
    };
    expect((await plain.elite.propose(s0, 10, ctx)).map((a) => a.text)).toEqual([
      "(pick-up a)",
      "(pick-up d)",
      "(unstack b c)",
    ]);
    // Only unstacking blue starts an optimal plan (gold: unstack blue orange).
    expect((await roles.elite.propose(s0, 1, ctx)).map((a) => a.text)).toEqual(["(unstack b c)"]);
    expect(await roles.critic.value(s0, ctx)).toBe(-4);
    expect(await plain.critic.value(s0, ctx)).toBe(1 / 5);
    const stuck = await roles.model.predict(s0, groundAction("put-down", ["a"]), ctx);
    expect(stuck).toEqual({ state: s0, reward: 0, done: false });
    expect(await roles.critic.value({ ...s0, goal: ["(on a a)"] }, ctx)).toBe(UNREACHABLE_VALUE);
    expect(await plain.critic.value({ ...s0, goal: ["(on a a)"] }, ctx)).toBe(0);
  });

  it("r₁: 100 at the goal, else satisfied/total + 0.5", () => {
    const goal = ["(on b c)", "(on d b)"];
    expect(goalReward(makeState(["(clear b)"]), goal)).toBe(0.5);
    expect(goalReward(makeState(["(on b c)", "(clear b)"]), goal)).toBe(1);
    expect(goalReward(makeState(["(on b c)", "(on d b)"]), goal)).toBe(100);
  });
});
