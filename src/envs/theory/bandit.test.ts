import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { BernoulliBandit } from "./bandit.ts";

describe("BernoulliBandit", () => {
  it("knows its best arm and gaps; pulls are Bernoulli with the arm mean", () => {
    const env = new BernoulliBandit([0.2, 0.7, 0.5]);
    expect(env.best).toBe(1);
    expect(env.gap(0)).toBeCloseTo(0.5, 12);
    expect(env.gap(1)).toBe(0);
    const rng = new Rng(1);
    let wins = 0;
    for (let i = 0; i < 20_000; i++) if (env.pull(2, rng)) wins += 1;
    expect(wins / 20_000).toBeCloseTo(0.5, 1);
  });
  it("draws its means from the prior, reproducibly", () => {
    const a = BernoulliBandit.sample(5, { alpha: 1, beta: 1 }, new Rng(3));
    const b = BernoulliBandit.sample(5, { alpha: 1, beta: 1 }, new Rng(3));
    expect([...a.means]).toEqual([...b.means]);
    expect(a.means.every((m) => m > 0 && m < 1)).toBe(true);
  });
});
