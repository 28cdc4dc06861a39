import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import type { RoleContext } from "../core/roles.ts";
import { DIAMOND, type GraphSpec, graphRoles, TRAP } from "./testing/graph.ts";
import { treeSearch } from "./tree-search.ts";
import { SearchAborted } from "./types.ts";

const ctx = (seed = 1): RoleContext => ({ rng: new Rng(seed) });

describe("treeSearch (depth U, breadth B)", () => {
  it("greedy (U = 1) takes the trap, U = 2 finds the optimum", async () => {
    const greedy = await treeSearch(graphRoles(TRAP), "S", { breadth: 2, depth: 1 }, ctx());
    expect(greedy.action).toBe("a");
    expect(greedy.value).toBe(1);
    const deep = await treeSearch(graphRoles(TRAP), "S", { breadth: 2, depth: 2 }, ctx());
    expect(deep.plan).toEqual(["b", "d"]);
    expect(deep.value).toBe(10);
    expect(deep.nodes.find((n) => n.id === deep.chosen)).toMatchObject({
      parent: 0,
      action: '"b"',
      value: 10,
    });
  });

  it("scores Σ γ^u r_u + γ^U V̂(s_U)", async () => {
    const roles = graphRoles({
      edges: {
        S: [
          ["p", "P", 1],
          ["q", "Q", 0],
        ],
        P: [["p2", "P2", 1]],
        Q: [["q2", "Q2", 2]],
      },
      values: { P2: 4, Q2: 1 },
    });
    // p: 1 + 0.5·1 + 0.25·4 = 2.5 ; q: 0 + 0.5·2 + 0.25·1 = 1.25
    const r = await treeSearch(roles, "S", { breadth: 2, depth: 2, gamma: 0.5 }, ctx());
    expect(r.plan).toEqual(["p", "p2"]);
    expect(r.value).toBe(2.5);
    expect(r.nodes.find((n) => n.state === '"Q"')?.value).toBe(1.25);
  });

  it("stops at terminal states without asking the critic about them", async () => {
    const roles = graphRoles(TRAP);
    await treeSearch(roles, "S", { breadth: 2, depth: 5 }, ctx());
    expect(roles.calls.critic).toEqual([]);
  });

  it("asks about a state reached by two paths once (critic, elite and model)", async () => {
    const two = graphRoles(DIAMOND);
    const r2 = await treeSearch(two, "S", { breadth: 2, depth: 2 }, ctx());
    expect(two.calls.critic).toEqual(["D"]);
    expect(r2.stats).toMatchObject({ criticCalls: 1, statesValued: 1, hits: { critic: 1 } });
    const three = graphRoles(DIAMOND);
    const r3 = await treeSearch(three, "S", { breadth: 2, depth: 3 }, ctx());
    expect(three.calls.elite).toEqual(["S", "L", "D", "R"]);
    expect(three.calls.model.filter((m) => m === "D:e")).toHaveLength(1);
    expect(r3.value).toBe(1);
    // The second D is a leaf of the recorded tree carrying the shared value.
    const ds = r3.nodes.filter((n) => n.state === '"D"');
    expect(ds.map((n) => n.value)).toEqual([1, 1]);
    expect(r3.nodes.filter((n) => n.state === '"E"')).toHaveLength(1);
  });

  it("maxValue skips siblings once the bound is attained, without changing the value", async () => {
    const spec: GraphSpec = {
      edges: {
        S: [
          ["w", "W", 1],
          ["x", "X", 0],
          ["y", "Y", 0],
        ],
      },
      terminal: ["W", "X", "Y"],
    };
    const full = graphRoles(spec);
    const pruned = graphRoles(spec);
    const a = await treeSearch(full, "S", { breadth: 3, depth: 1 }, ctx());
    const b = await treeSearch(pruned, "S", { breadth: 3, depth: 1, maxValue: 1 }, ctx());
    expect(a.value).toBe(b.value);
    expect(b.action).toBe("w");
    expect(full.calls.model).toHaveLength(3);
    expect(pruned.calls.model).toEqual(["S:w"]);
  });

  it("values a dead end with the critic and reports no action at an empty root", async () => {
    const roles = graphRoles({ edges: { S: [["go", "M", 1]] }, values: { M: 3, S: 9 } });
    const r = await treeSearch(roles, "S", { breadth: 2, depth: 4 }, ctx());
    expect(r.plan).toEqual(["go"]);
    expect(r.value).toBe(4);
    const empty = await treeSearch(
      graphRoles({ edges: {}, values: { S: 9 } }),
      "S",
      { breadth: 2, depth: 2 },
      ctx(),
    );
    expect(empty).toMatchObject({ action: undefined, plan: [], value: 9, chosen: null });
  });

  it("is deterministic per seed and abortable", async () => {
    const tie: GraphSpec = {
      edges: {
        S: [
          ["x", "X", 1],
          ["y", "Y", 1],
        ],
      },
    };
    const seen = new Set<string | undefined>();
    for (let seed = 0; seed < 16; seed++) {
      const a = await treeSearch(graphRoles(tie), "S", { breadth: 2, depth: 1 }, ctx(seed));
      const b = await treeSearch(graphRoles(tie), "S", { breadth: 2, depth: 1 }, ctx(seed));
      expect(b.action).toBe(a.action);
      seen.add(a.action);
    }
    expect(seen.size).toBe(2);
    const controller = new AbortController();
    controller.abort();
    await expect(
      treeSearch(
        graphRoles(TRAP),
        "S",
        { breadth: 2, depth: 2 },
        { rng: new Rng(1), signal: controller.signal },
      ),
    ).rejects.toBeInstanceOf(SearchAborted);
  });
});
