import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import type { RoleContext, Roles } from "../core/roles.ts";
import { Mcts, type MctsNode, mctsSearch, rankedPriors, rapReward } from "./mcts.ts";
import { DIAMOND, type GraphSpec, graphRoles, TRAP } from "./testing/graph.ts";
import { type PriorElite, SearchAborted } from "./types.ts";

const ctx = (seed = 1): RoleContext => ({ rng: new Rng(seed) });

function child<S, A>(node: MctsNode<S, A>, action: A): MctsNode<S, A> {
  const c = node.children?.find((n) => n.action === action);
  if (!c) throw new Error(`no child ${String(action)}`);
  return c;
}

describe("Mcts", () => {
  it("finds the optimum of the greedy trap with enough rollouts", async () => {
    const r = await mctsSearch(graphRoles(TRAP), "S", { breadth: 2, depth: 4, rollouts: 8 }, ctx());
    expect(r.plan).toEqual(["b", "d"]);
    expect(r.value).toBe(5); // mean(0, 10)
    expect(r.nodes[0]).toMatchObject({ id: 0, parent: null, action: null, visits: 8 });
    expect(r.nodes.find((n) => n.id === r.chosen)).toMatchObject({ parent: 0, action: '"b"', reward: 0 });
    const sum = await mctsSearch(
      graphRoles(TRAP),
      "S",
      { breadth: 2, depth: 4, rollouts: 20, aggrReward: "sum" },
      ctx(),
    );
    expect(sum.value).toBe(10);
  });

  it("backs up N, Q (sum of returns) and M (max) along the path", async () => {
    const tree = new Mcts(graphRoles(TRAP), "S", { breadth: 2, depth: 4 });
    await tree.search(6, ctx());
    const { root } = tree;
    const a = child(root, "a");
    const b = child(root, "b");
    expect(root.visits).toBe(6);
    expect(a.visits + b.visits).toBe(6);
    expect(a.visits).toBeGreaterThan(0);
    expect(b.visits).toBeGreaterThan(0);
    // Every rollout through a returns mean(1, 0) = 0.5, through b mean(0, 10) = 5.
    expect(a.total).toBe(0.5 * a.visits);
    expect(a.best).toBe(0.5);
    expect(b.best).toBe(5);
    expect(tree.value(b)).toBe(5);
  });

  it("keeps the tree across calls: visits accumulate, nothing is asked twice", async () => {
    const roles = graphRoles(TRAP);
    const tree = new Mcts(roles, "S", { breadth: 2, depth: 4 });
    // UCT (RAP's formula) tries a four times before b's bonus wins: the first call sees only S and A.
    const first = await tree.plan(ctx(), 3);
    expect(first.stats).toMatchObject({ eliteCalls: 2, modelCalls: 3 });
    expect(first.action).toBe("a");
    const second = await tree.plan(ctx(), 5);
    expect(second.stats).toMatchObject({ eliteCalls: 1, modelCalls: 1 }); // only B is new
    expect(second.action).toBe("b");
    const third = await tree.plan(ctx(), 3);
    expect(third.stats).toMatchObject({ eliteCalls: 0, modelCalls: 0, criticCalls: 0 });
    expect(tree.root.visits).toBe(11);
    expect(tree.stats.eliteCalls).toBe(3);
    expect(roles.calls.elite).toEqual(["S", "A", "B"]);
    expect(new Set(roles.calls.model).size).toBe(roles.calls.model.length);
  });

  it("an overwritten misprediction changes the next choice; the open-loop tree keeps the mistake", async () => {
    // The model believes a wins (reward 1); in truth a scores 0. b honestly scores 0.5.
    const believed: GraphSpec = {
      edges: {
        S: [
          ["a", "W", 1],
          ["b", "Y", 0.5],
        ],
      },
      terminal: ["W", "X", "Y"],
    };
    const options = { breadth: 2, depth: 1 } as const;
    const rafa = new Mcts(graphRoles(believed), "S", options);
    const rap = new Mcts(graphRoles(believed), "S", options);
    await rafa.search(2, ctx());
    await rap.search(2, ctx());
    expect(rafa.best(new Rng(1))?.action).toBe("a");
    // Act for now: take a, see the truth, write it into the tree.
    const node = await rafa.observe("a", { state: "X", reward: 0, done: true }, ctx());
    expect(node).toMatchObject({ state: "X", reward: 0, observed: true });
    rafa.rewind();
    await rafa.search(2, ctx());
    await rap.search(2, ctx());
    expect(rafa.best(new Rng(1))?.action).toBe("b");
    expect(rap.best(new Rng(1))?.action).toBe("a");
    // M was recomputed from the corrected reward, N kept.
    expect(child(rafa.root, "a").best).toBe(0);
    expect(rafa.root.visits).toBe(4);
  });

  it("drops what was planned from a wrong state and re-expands from the observed one", async () => {
    // Predicted: a → P, from where p reaches the goal. Truth: a → Q, a dead end worth nothing.
    const roles = graphRoles({
      edges: {
        S: [
          ["a", "P", 0],
          ["b", "B", 0],
        ],
        P: [["p", "G", 1]],
        B: [["c", "C", 0.2]],
        Q: [["q", "Z", 0]],
      },
      terminal: ["G", "C", "Z"],
    });
    const tree = new Mcts(roles, "S", { breadth: 2, depth: 2 });
    await tree.search(6, ctx());
    const a = child(tree.root, "a");
    const visitsBefore = a.visits;
    expect(tree.best(new Rng(1))?.plan).toEqual(["a", "p"]);
    await tree.step("a", { state: "Q", reward: 0, done: false }, ctx());
    expect(tree.current).toBe(a);
    expect(a.state).toBe("Q");
    expect(a.children).toBeNull(); // the subtree under P is gone
    expect(a.visits).toBe(visitsBefore); // its rollouts are credited here
    expect(a.best).toBe(0); // what they found under P no longer counts
    await tree.search(1, ctx());
    expect(a.children?.map((c) => c.action)).toEqual(["q"]);
    expect(roles.calls.elite).toContain("Q");
    tree.rewind();
    expect(tree.best(new Rng(1))?.plan).toEqual(["b", "c"]);
  });

  it("teaches every edge that asked the same question, and the memo", async () => {
    // D is reached via L and via R; the model thinks e pays 1, it pays 0.
    const roles = graphRoles(DIAMOND);
    const tree = new Mcts(roles, "S", { breadth: 2, depth: 3, wExp: 10 });
    await tree.search(8, ctx());
    const viaR = child(child(child(tree.root, "b"), "d"), "e");
    expect(viaR.reward).toBe(1);
    await tree.advance("a", ctx());
    await tree.advance("c", ctx());
    await tree.observe("e", { state: "E", reward: 0, done: true }, ctx());
    expect(viaR).toMatchObject({ reward: 0, observed: true });
    expect(tree.root.best).toBe(0);
    // An edge created later asks the memo, which answers with the observation.
    const fresh = new Mcts(graphRoles(DIAMOND), "S", { breadth: 2, depth: 3 });
    await fresh.advance("a", ctx());
    await fresh.advance("c", ctx());
    await fresh.observe("e", { state: "E", reward: 0, done: true }, ctx());
    fresh.rewind();
    await fresh.advance("b", ctx());
    const d = await fresh.advance("d", ctx());
    await fresh.search(1, ctx());
    expect(child(d, "e")).toMatchObject({ reward: 0, observed: false });
    expect(fresh.stats.hits.model).toBeGreaterThanOrEqual(1);
  });

  it("moves the current node with advance, rolls out from it and shows its subtree", async () => {
    const tree = new Mcts(graphRoles(TRAP), "S", { breadth: 2, depth: 4 });
    const b = await tree.advance("b", ctx());
    expect(tree.current).toBe(b);
    expect(tree.root.children?.map((c) => c.action)).toEqual(["a", "b"]); // advancing expanded the root
    const r = await tree.plan(ctx(), 1);
    expect(r.plan).toEqual(["d"]);
    expect(r.nodes[0]).toMatchObject({ id: 0, parent: null, action: null, state: '"B"' });
    expect(r.nodes.map((n) => n.action)).toEqual([null, '"d"']);
    // Rollouts from a deeper node are backed up to the tree's root.
    expect(tree.root.visits).toBe(1);
    tree.rewind();
    expect(tree.current).toBe(tree.root);
    expect(tree.nodes().map((n) => n.action)).toEqual([null, '"a"', '"b"', '"d"']);
  });

  it("uses the elite's priors to order unvisited children, and rapReward mixes them into the reward", async () => {
    const spec: GraphSpec = {
      edges: {
        S: [
          ["x", "X", 1],
          ["y", "Y", 1],
        ],
      },
      terminal: ["X", "Y"],
    };
    const base = graphRoles(spec);
    const elite: PriorElite<string, string> = {
      propose: base.elite.propose,
      async proposeWithPriors() {
        return [
          { action: "x", prior: 1 },
          { action: "y", prior: 3 },
        ];
      },
    };
    for (let seed = 0; seed < 8; seed++) {
      const tree = new Mcts({ ...base, elite }, "S", { breadth: 2, depth: 1 });
      await tree.search(1, ctx(seed));
      expect(child(tree.root, "y").visits).toBe(1);
    }
    const firsts = new Set<string | null | undefined>();
    for (let seed = 0; seed < 16; seed++) {
      const tree = new Mcts({ ...base, elite }, "S", { breadth: 2, depth: 1, prior: "uniform" });
      await tree.search(1, ctx(seed));
      firsts.add(tree.root.children?.find((c) => c.visits === 1)?.action);
    }
    expect(firsts.size).toBe(2);
    const rap = new Mcts({ ...base, elite }, "S", { breadth: 2, depth: 1, reward: rapReward(0.5) });
    await rap.search(2, ctx());
    expect(child(rap.root, "y").reward).toBeCloseTo(Math.sqrt(0.75), 12);
    expect(child(rap.root, "x").reward).toBeCloseTo(Math.sqrt(0.25), 12);
    expect(rap.best(new Rng(1))?.action).toBe("y");
  });

  it("rankedPriors turns an elite's order into priors", async () => {
    const ranked = rankedPriors(graphRoles(TRAP).elite, 1);
    const ps = await ranked.proposeWithPriors("S", 2, ctx());
    expect(ps.map((p) => p.action)).toEqual(["a", "b"]);
    expect((ps[0]?.prior ?? 0) / (ps[1]?.prior ?? 1)).toBeCloseTo(Math.E, 12);
  });

  it("bootstraps final non-terminal nodes with the critic when asked", async () => {
    const roles = graphRoles({ ...TRAP, values: { A: 0, B: 10 } });
    const plain = await mctsSearch(
      roles,
      "S",
      { breadth: 2, depth: 1, rollouts: 4, aggrReward: "sum" },
      ctx(),
    );
    expect(plain.action).toBe("a");
    expect(roles.calls.critic).toEqual([]);
    const boot = await mctsSearch(
      graphRoles({ ...TRAP, values: { A: 0, B: 10 } }),
      "S",
      { breadth: 2, depth: 1, rollouts: 16, aggrReward: "sum", bootstrap: true, gamma: 0.9 },
      ctx(),
    );
    expect(boot.action).toBe("b");
    expect(boot.value).toBe(9);
    expect(boot.stats.criticCalls).toBe(2);
  });

  it("is deterministic per seed", async () => {
    const run = async (seed: number) => {
      const r = await mctsSearch(graphRoles(DIAMOND), "S", { breadth: 2, depth: 3, rollouts: 5 }, ctx(seed));
      return JSON.stringify(r);
    };
    expect(await run(3)).toBe(await run(3));
    const all = new Set<string>();
    for (let seed = 0; seed < 8; seed++) all.add(await run(seed));
    expect(all.size).toBeGreaterThan(1); // ties between L and R are really drawn
  });

  it("stops when aborted, and refuses nodes of another tree", async () => {
    const controller = new AbortController();
    const tree = new Mcts(graphRoles(TRAP), "S", { breadth: 2, depth: 4 });
    await tree.search(1, ctx());
    controller.abort();
    await expect(tree.search(5, { rng: new Rng(1), signal: controller.signal })).rejects.toBeInstanceOf(
      SearchAborted,
    );
    expect(tree.root.visits).toBe(1);
    const other = new Mcts(graphRoles(TRAP), "S", { breadth: 2, depth: 4 });
    await expect(tree.search(1, ctx(), other.root)).rejects.toThrow(/not part of this tree/);
  });

  it("works on a roles object typed for any state", async () => {
    const roles: Roles<string, string> = graphRoles(TRAP);
    const tree = new Mcts(roles, "S", { breadth: Number.POSITIVE_INFINITY, depth: 2 });
    await tree.search(3, ctx());
    expect(tree.root.children).toHaveLength(2);
  });
});
