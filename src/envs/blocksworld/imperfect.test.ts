import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import type { Experience, Roles } from "../../core/roles.ts";
import { loadStepSplit } from "./data.ts";
import { type GroundAction, groundAction } from "./domain.ts";
import { BlocksWorldEnv, type BlocksWorldState } from "./env.ts";
import { createExactRoles } from "./exact.ts";
import {
  blocksKey,
  corruptionSeed,
  createBlocksWorldLearner,
  createImperfectRoles,
  edgeKey,
  learnFrom,
  lookaheadPriors,
  type WeighingElite,
  withoutRefused,
} from "./imperfect.ts";
import { applicableOperators, applyOperator, stateKey } from "./state.ts";
import { requireData } from "./testing/data.ts";

const data = loadStepSplit(requireData(), "step_4");
const exact = createExactRoles(data.domain, { rank: "none" });
const ctx = { rng: new Rng(1) };
// instance-1: red, blue, yellow clear; blue on orange. Goal: orange on blue.
const inst = data.instance("instance-1");
const start: BlocksWorldState = {
  objects: inst.task.grounding.objects,
  goal: inst.task.goal,
  atoms: inst.task.init,
};
const ops = inst.task.grounding.operators;

/** Every state reachable from the start within `depth` actions (breadth first, distinct). */
function reachable(depth: number): BlocksWorldState[] {
  const seen = new Map<string, BlocksWorldState>([[blocksKey(start), start]]);
  let frontier = [start];
  for (let d = 0; d < depth; d++) {
    const next: BlocksWorldState[] = [];
    for (const s of frontier)
      for (const op of applicableOperators(ops, s.atoms)) {
        const r = applyOperator(s.atoms, op);
        if (!r.ok || seen.has(stateKey(r.state))) continue;
        const n = { ...s, atoms: r.state };
        seen.set(stateKey(r.state), n);
        next.push(n);
      }
    frontier = next;
  }
  return [...seen.values()];
}

const states = reachable(6);
const truth = (s: BlocksWorldState, a: GroundAction) => {
  const op = inst.task.grounding.operator(a);
  const r = op ? applyOperator(s.atoms, op) : undefined;
  return r?.ok ? stateKey(r.state) : stateKey(s.atoms);
};

describe("imperfect BlocksWorld twins", () => {
  it("mispredict about a rate fraction of (state, action) pairs, consistently, with reachable wrong states", async () => {
    expect(states.length).toBeGreaterThan(40);
    for (const rate of [0.1, 0.3, 0.6]) {
      const roles = createImperfectRoles(data.domain, exact, { rate, seed: 7 });
      let pairs = 0;
      let wrong = 0;
      for (const s of states)
        for (const op of applicableOperators(ops, s.atoms)) {
          pairs++;
          const p = await roles.model.predict(s, op.action, ctx);
          if (stateKey(p.state.atoms) === truth(s, op.action)) continue;
          wrong++;
          // The block ends up elsewhere, or another block is lifted: the outcome of another legal action (or,
          // with no other, nothing happens).
          const legal = applicableOperators(ops, s.atoms);
          const outcomes = legal.map((o) => applyOperator(s.atoms, o));
          const another = outcomes.some((r) => r.ok && stateKey(r.state) === stateKey(p.state.atoms));
          const unchanged = legal.length === 1 && stateKey(p.state.atoms) === stateKey(s.atoms);
          expect(another || unchanged).toBe(true);
          expect(await roles.model.predict(s, op.action, ctx)).toEqual(p);
        }
      expect(pairs).toBeGreaterThan(150);
      expect(wrong / pairs).toBeGreaterThan(rate - 0.1);
      expect(wrong / pairs).toBeLessThan(rate + 0.1);
    }
    const none = createImperfectRoles(data.domain, exact, { rate: 0, seed: 7 });
    for (const s of states.slice(0, 20))
      for (const op of applicableOperators(ops, s.atoms))
        expect(stateKey((await none.model.predict(s, op.action, ctx)).state.atoms)).toBe(truth(s, op.action));
  });

  it("different seeds corrupt different pairs", async () => {
    const a = createImperfectRoles(data.domain, exact, { rate: 0.3, seed: 1 });
    const b = createImperfectRoles(data.domain, exact, { rate: 0.3, seed: 2 });
    let differ = 0;
    for (const s of states)
      for (const op of applicableOperators(ops, s.atoms)) {
        const [pa, pb] = await Promise.all([
          a.model.predict(s, op.action, ctx),
          b.model.predict(s, op.action, ctx),
        ]);
        if (stateKey(pa.state.atoms) !== stateKey(pb.state.atoms)) differ++;
      }
    expect(differ).toBeGreaterThan(20);
  });

  it("the elite proposes an impossible move in a rate fraction of states, and the model believes in it", async () => {
    const roles = createImperfectRoles(data.domain, exact, { rate: 0.5, seed: 3 });
    let corrupted = 0;
    for (const s of states) {
      const legal = applicableOperators(ops, s.atoms).map((o) => o.action);
      const proposed = await roles.elite.propose(s, Number.POSITIVE_INFINITY, ctx);
      const extra = proposed.filter((a) => !legal.includes(a));
      expect(proposed.slice(0, legal.length)).toEqual(legal);
      expect(extra.length).toBeLessThanOrEqual(1);
      const impossible = extra[0];
      if (!impossible) continue;
      corrupted++;
      // Only "clear" preconditions fail: a block with something on it is moved, or stacked upon.
      const op = inst.task.grounding.operator(impossible);
      const r = op ? applyOperator(s.atoms, op) : undefined;
      expect(r?.ok).toBe(false);
      if (r && !r.ok) expect(r.failed.every((f) => f.startsWith("(clear "))).toBe(true);
      const p = await roles.model.predict(s, impossible, ctx);
      expect(stateKey(p.state.atoms)).not.toBe(stateKey(s.atoms));
      for (const atom of op?.add ?? []) expect(p.state.atoms).toContain(atom);
    }
    expect(corrupted / states.length).toBeGreaterThan(0.3);
    expect(corrupted / states.length).toBeLessThan(0.7);
  });

  it("a missRate drops one applicable move in that fraction of states", async () => {
    const roles = createImperfectRoles(data.domain, exact, { rate: 0, missRate: 1, seed: 3 });
    for (const s of states.slice(0, 30)) {
      const legal = applicableOperators(ops, s.atoms).map((o) => o.action);
      const proposed = await roles.elite.propose(s, Number.POSITIVE_INFINITY, ctx);
      expect(proposed.length).toBe(legal.length > 1 ? legal.length - 1 : legal.length);
      for (const a of proposed) expect(legal).toContain(a);
    }
  });
});

describe("the lookahead prior r₀", () => {
  it("weighs each action by exp(−d(s′)/τ) of the model's own prediction", async () => {
    const full = createExactRoles(data.domain, { rank: "none" });
    const elite = lookaheadPriors(full.elite, full.model, full.distance, 1);
    const proposals = await elite.proposeWithPriors(start, Number.POSITIVE_INFINITY, ctx);
    expect(proposals.map((p) => p.action.text)).toEqual(["(pick-up a)", "(pick-up d)", "(unstack b c)"]);
    const ds = proposals.map((p) => {
      const op = inst.task.grounding.operator(p.action);
      const r = op ? applyOperator(start.atoms, op) : undefined;
      return r?.ok ? full.distance({ ...start, atoms: r.state }) : Number.NaN;
    });
    // Gold: unstack blue from orange first (3 left); picking up red or yellow leaves 5.
    expect(ds).toEqual([5, 5, 3]);
    expect(proposals.map((p) => p.prior)).toEqual([Math.exp(-2), Math.exp(-2), 1]);
    const flatter = lookaheadPriors(full.elite, full.model, full.distance, 4);
    expect((await flatter.proposeWithPriors(start, 3, ctx))[0]?.prior).toBeCloseTo(Math.exp(-0.5), 12);
    expect(() => lookaheadPriors(full.elite, full.model, full.distance, 0)).toThrow(RangeError);
  });
});

/** Experiences of playing `actions` in instance-1 (the true next state from `info.state`). */
async function experiences(
  actions: readonly GroundAction[],
): Promise<Experience<BlocksWorldState, GroundAction>[]> {
  const env = new BlocksWorldEnv(inst, data.vocabulary);
  let o = await env.reset(0);
  const out: Experience<BlocksWorldState, GroundAction>[] = [];
  for (const [t, action] of actions.entries()) {
    const r = await env.step(action);
    const atoms = r.info?.state as readonly string[];
    out.push({
      t,
      state: o.state,
      action,
      actionText: action.text,
      next: { ...o.state, atoms },
      reward: r.reward,
      done: r.done,
      feedback: r.feedback,
      ...(r.info ? { info: r.info } : {}),
    });
    o = r.observation;
  }
  return out;
}

describe("the BlocksWorld learner", () => {
  const unstack = groundAction("unstack", ["b", "c"]);
  const impossible = groundAction("pick-up", ["c"]); // orange is under blue

  it("observed transitions override the model and refused actions leave the elite", async () => {
    const memory = await experiences([impossible, unstack]);
    expect(memory[0]?.info?.inapplicable).toBeDefined();
    const knowledge = learnFrom(memory);
    expect(knowledge.transitions.get(edgeKey(start, impossible))?.state.atoms).toEqual(start.atoms);
    expect(knowledge.refused.get(blocksKey(start))).toEqual([impossible]);

    // A prior that gets both wrong: it believes the impossible pick-up works and the unstack does nothing.
    const wrong: Roles<BlocksWorldState, GroundAction> = {
      elite: { propose: async () => [impossible, unstack] },
      model: { predict: async (s) => ({ state: { ...s, atoms: ["(holding c)"] }, reward: 0, done: false }) },
      critic: exact.critic,
    };
    const learner = createBlocksWorldLearner({ prior: () => wrong });
    const before = await learner.learn([], ctx);
    expect((await before.model.predict(start, unstack, ctx)).state.atoms).toEqual(["(holding c)"]);
    const after = await learner.learn(memory, ctx);
    // One roles object per episode: a planner keeps its tree; the corrections read the latest knowledge.
    expect(after).toBe(before);
    expect(stateKey((await after.model.predict(start, unstack, ctx)).state.atoms)).toBe(
      truth(start, unstack),
    );
    expect(await after.elite.propose(start, 5, ctx)).toEqual([unstack]);
    // Elsewhere the prior still answers.
    const other = memory[1]?.next as BlocksWorldState;
    expect((await after.model.predict(other, unstack, ctx)).state.atoms).toEqual(["(holding c)"]);
    // A memory that is not an extension of the last one is learned from scratch.
    await learner.learn(memory.slice(1), ctx);
    expect(await after.elite.propose(start, 5, ctx)).toEqual([impossible, unstack]);
  });

  it("without learning the prior stays; the corruption seed comes from the agent's stream", async () => {
    const memory = await experiences([impossible]);
    const seeds: number[] = [];
    const learner = createBlocksWorldLearner({
      prior: (seed) => {
        seeds.push(seed);
        return createImperfectRoles(data.domain, exact, { rate: 1, seed });
      },
      learn: false,
    });
    const roles = await learner.learn(memory, { rng: new Rng(5) });
    await learner.learn(memory, { rng: new Rng(6) });
    expect(seeds).toEqual([corruptionSeed({ rng: new Rng(5) })]);
    expect(learner.seed).toBe(seeds[0]);
    // Drawing the seed does not move the agent's stream.
    const rng = new Rng(5);
    corruptionSeed({ rng });
    expect(rng.nextUint32()).toBe(new Rng(5).nextUint32());
    const p = await roles.model.predict(start, unstack, ctx);
    expect(stateKey(p.state.atoms)).not.toBe(truth(start, unstack));
  });

  it("keeps an elite's priors when dropping refused actions", async () => {
    const weighing: WeighingElite<BlocksWorldState, GroundAction> = {
      propose: async () => [impossible, unstack],
      proposeWithPriors: async () => [
        { action: impossible, prior: 0.9 },
        { action: unstack, prior: 0.1 },
      ],
    };
    const filtered = withoutRefused(weighing, new Map([[blocksKey(start), [impossible]]]));
    expect("proposeWithPriors" in filtered).toBe(true);
    const proposals = await (filtered as WeighingElite<BlocksWorldState, GroundAction>).proposeWithPriors(
      start,
      5,
      ctx,
    );
    expect(proposals).toEqual([{ action: unstack, prior: 0.1 }]);
    expect("proposeWithPriors" in withoutRefused(exact.elite, new Map())).toBe(false);
  });
});
