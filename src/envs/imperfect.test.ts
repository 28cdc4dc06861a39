import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import type { Critic, Elite, WorldModel } from "../core/roles.ts";
import {
  correctedCritic,
  correctedElite,
  correctedModel,
  corruptCritic,
  corruptElite,
  corruptModel,
  keyedUniform,
} from "./imperfect.ts";

const ctx = { rng: new Rng(1) };
const critic: Critic<number> = { value: async (s) => s };
const elite: Elite<number, string> = { propose: async () => ["a", "b", "c"] };
const model: WorldModel<number, string> = {
  predict: async (s) => ({ state: s + 1, reward: 0, done: false }),
};

describe("imperfect twins", () => {
  it("corrupt a rate fraction of keys, the same way every time", async () => {
    const bad = corruptCritic(critic, { rate: 0.3, seed: 7, key: String, wrong: (v) => -v });
    const answers = await Promise.all(Array.from({ length: 2000 }, (_, s) => bad.value(s + 1, ctx)));
    const wrong = answers.filter((v) => v < 0).length / answers.length;
    expect(wrong).toBeGreaterThan(0.26);
    expect(wrong).toBeLessThan(0.34);
    for (let s = 1; s <= 50; s++) expect(await bad.value(s, ctx)).toBe(await bad.value(s, ctx));
    expect(keyedUniform(7, "x")).toBe(keyedUniform(7, "x"));
    expect(keyedUniform(7, "x")).not.toBe(keyedUniform(8, "x"));
    const none = corruptCritic(critic, { rate: 0, seed: 1, key: String, wrong: () => 99 });
    expect(await none.value(5, ctx)).toBe(5);
    expect(() => corruptCritic(critic, { rate: 2, seed: 1, key: String, wrong: () => 0 })).toThrow(
      RangeError,
    );
  });

  it("corrupted elites and models; learned corrections override them", async () => {
    const blind = corruptElite(elite, { rate: 1, seed: 1, key: String, drop: (as) => as.slice(1) });
    expect(await blind.propose(0, 3, ctx)).toEqual(["b", "c"]);
    const fixed = correctedElite(
      blind,
      { good: new Map([["0", ["a"]]]), bad: new Map([["0", ["c"]]]) },
      String,
      String,
    );
    expect(await fixed.propose(0, 3, ctx)).toEqual(["a", "b"]);
    expect(await fixed.propose(1, 1, ctx)).toEqual(["b"]);

    const wrongModel = corruptModel(model, {
      rate: 1,
      seed: 1,
      key: (s, a) => `${s}/${a}`,
      mispredict: (p) => ({ ...p, state: -1 }),
    });
    expect((await wrongModel.predict(3, "a", ctx)).state).toBe(-1);
    const learnedModel = correctedModel(
      wrongModel,
      new Map([["3/a", { state: 4, reward: 1, done: true }]]),
      (s, a) => `${s}/${a}`,
    );
    expect(await learnedModel.predict(3, "a", ctx)).toEqual({ state: 4, reward: 1, done: true });
    expect((await learnedModel.predict(3, "b", ctx)).state).toBe(-1);

    const learnedCritic = correctedCritic(
      corruptCritic(critic, { rate: 1, seed: 1, key: String, wrong: () => 0 }),
      new Map([["2", 2]]),
      String,
    );
    expect(await learnedCritic.value(2, ctx)).toBe(2);
    expect(await learnedCritic.value(3, ctx)).toBe(0);
  });
});
