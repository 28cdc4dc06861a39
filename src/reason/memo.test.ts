import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import type { RoleContext } from "../core/roles.ts";
import { structuralKey } from "./keys.ts";
import { memoKeys, RoleMemo, statsDelta } from "./memo.ts";
import { graphRoles } from "./testing/graph.ts";
import { argmax, topK } from "./tree.ts";
import { type PriorElite, type SampledCritic, SearchAborted } from "./types.ts";

const ctx = (seed = 1): RoleContext => ({ rng: new Rng(seed) });

describe("structuralKey", () => {
  it("ignores key order and undefined fields, keeps array order, handles bigints", () => {
    expect(structuralKey({ a: 1, b: [2, 3] })).toBe(structuralKey({ b: [2, 3], a: 1, c: undefined }));
    expect(structuralKey([1, 2])).not.toBe(structuralKey([2, 1]));
    expect(structuralKey({ num: 7n, den: 3n })).toBe('{"den":3n,"num":7n}');
    expect(structuralKey("1")).not.toBe(structuralKey(1));
    expect(structuralKey(["a,b"])).not.toBe(structuralKey(["a", "b"]));
    expect(() => structuralKey(() => 1)).toThrow(/not plain data/);
  });
});

describe("RoleMemo", () => {
  const spec = {
    edges: {
      S: [
        ["a", "T", 1],
        ["a", "T", 1],
        ["b", "U", 0],
      ] as const,
    },
    values: { T: 2 },
  };

  it("asks each question once and counts hits", async () => {
    const roles = graphRoles(spec);
    const memo = new RoleMemo(roles, memoKeys({}));
    const c = ctx();
    const proposals = await memo.propose("S", 3, c);
    // The elite proposed "a" twice: one proposal, the prior of both.
    expect(proposals.map((p) => p.action)).toEqual(["a", "b"]);
    expect(proposals.map((p) => p.prior)).toEqual([2 / 3, 1 / 3]);
    await memo.propose("S", 3, c);
    await memo.predict("S", "a", c);
    await memo.predict("S", "a", c);
    expect(await memo.value("T", c)).toBe(2);
    expect(await memo.value("T", c)).toBe(2);
    expect(roles.calls).toMatchObject({ elite: ["S"], model: ["S:a"], critic: ["T"] });
    const stats = memo.stats();
    expect(stats).toMatchObject({
      eliteCalls: 1,
      modelCalls: 1,
      criticCalls: 1,
      statesValued: 1,
      cacheHits: 3,
    });
    expect(stats.hits).toEqual({ elite: 1, model: 1, critic: 1 });
    const before = memo.stats();
    await memo.value("U", c);
    expect(statsDelta(memo.stats(), before)).toMatchObject({ criticCalls: 1, statesValued: 1, cacheHits: 0 });
  });

  it("shares questions asked concurrently", async () => {
    const roles = graphRoles(spec);
    const memo = new RoleMemo(roles, memoKeys({}));
    await Promise.all([memo.value("T", ctx()), memo.value("T", ctx()), memo.predict("S", "b", ctx())]);
    await memo.predict("S", "b", ctx());
    expect(roles.calls.critic).toEqual(["T"]);
    expect(roles.calls.model).toEqual(["S:b"]);
  });

  it("asks a sampling critic once for n samples and averages them", async () => {
    const asked: number[] = [];
    const critic: SampledCritic<string> = {
      async value() {
        throw new Error("value() must not be called when values() exists");
      },
      async values(_state, n) {
        asked.push(n);
        return Array.from({ length: n }, (_, i) => i); // 0, 1, 2 → mean 1
      },
    };
    const roles = { ...graphRoles(spec), critic };
    const memo = new RoleMemo(roles, memoKeys({}), 3);
    expect(await memo.value("X", ctx())).toBe(1);
    expect(await memo.value("X", ctx())).toBe(1);
    expect(asked).toEqual([3]);
    expect(memo.stats()).toMatchObject({ criticCalls: 1, criticSamples: 3 });
  });

  it("falls back to n value() calls, each with its own child generator", async () => {
    const draws: number[] = [];
    const roles = {
      ...graphRoles(spec),
      critic: {
        async value(_s: string, c: RoleContext) {
          const x = c.rng.float();
          draws.push(x);
          return x;
        },
      },
    };
    const memo = new RoleMemo(roles, memoKeys({}), 3);
    const v = await memo.value("X", ctx(5));
    expect(draws).toHaveLength(3);
    expect(new Set(draws).size).toBe(3);
    expect(v).toBeCloseTo((draws[0] ?? 0) / 3 + (draws[1] ?? 0) / 3 + (draws[2] ?? 0) / 3, 12);
    expect(memo.stats()).toMatchObject({ criticCalls: 3, criticSamples: 3, statesValued: 1 });
    // Same seed, same samples.
    const again = new RoleMemo(roles, memoKeys({}), 3);
    expect(await again.value("X", ctx(5))).toBe(v);
  });

  it("uses the elite's priors when it has them, normalised", async () => {
    const elite: PriorElite<string, string> = {
      async propose() {
        return ["x", "y"];
      },
      async proposeWithPriors() {
        return [
          { action: "x", prior: 3 },
          { action: "y", prior: 1 },
          { action: "z", prior: Number.NaN },
        ];
      },
    };
    const memo = new RoleMemo({ ...graphRoles(spec), elite }, memoKeys({}));
    expect(await memo.propose("S", 3, ctx())).toEqual([
      { action: "x", prior: 0.75 },
      { action: "y", prior: 0.25 },
      { action: "z", prior: 0 },
    ]);
  });

  it("keys critic questions by criticKey and can forget", async () => {
    const roles = graphRoles(spec);
    const memo = new RoleMemo(roles, memoKeys<string, string>({ criticKey: (s) => s.toLowerCase() }));
    await memo.value("T", ctx());
    await memo.value("t", ctx());
    expect(roles.calls.critic).toEqual(["T"]);
    memo.clear();
    await memo.value("t", ctx());
    expect(roles.calls.critic).toEqual(["T", "t"]);
    expect(memo.stats().statesValued).toBe(1);
  });

  it("forgets a failed question, and refuses to ask after an abort", async () => {
    const roles = graphRoles(spec);
    const memo = new RoleMemo(roles, memoKeys({}));
    await expect(memo.predict("S", "nope", ctx())).rejects.toThrow(/no action nope/);
    await expect(memo.predict("S", "nope", ctx())).rejects.toThrow(/no action nope/);
    expect(roles.calls.model).toEqual(["S:nope", "S:nope"]);
    const controller = new AbortController();
    controller.abort();
    expect(() => memo.value("T", { rng: new Rng(1), signal: controller.signal })).toThrow(SearchAborted);
    expect(roles.calls.critic).toEqual([]);
  });
});

describe("tie-breaking", () => {
  it("argmax draws only among exact ties, deterministically per seed", () => {
    expect(argmax([1, 3, 2], new Rng(1))).toBe(1);
    expect(argmax([], new Rng(1))).toBeUndefined();
    const picks = new Set<number | undefined>();
    for (let seed = 0; seed < 20; seed++) picks.add(argmax([5, 1, 5, 5], new Rng(seed)));
    expect([...picks].sort()).toEqual([0, 2, 3]);
    expect(argmax([5, 1, 5, 5], new Rng(7))).toBe(argmax([5, 1, 5, 5], new Rng(7)));
  });

  it("topK keeps the best, best first, ties at the cut by the seeded stream", () => {
    expect(topK([1, 4, 3, Number.NaN], 2, new Rng(1))).toEqual([1, 2]);
    const cut = new Set<number | undefined>();
    for (let seed = 0; seed < 20; seed++) cut.add(topK([2, 1, 2, 2], 2, new Rng(seed))[1]);
    expect(cut.size).toBeGreaterThan(1);
    expect(topK([2, 1, 2, 2], 2, new Rng(3))).toEqual(topK([2, 1, 2, 2], 2, new Rng(3)));
  });
});
