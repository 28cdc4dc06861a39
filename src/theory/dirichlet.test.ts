import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { betaEntropy } from "./beta.ts";
import { DirichletTransitions, dirichletEntropy } from "./dirichlet.ts";

describe("Dirichlet entropy", () => {
  it("Dir(1,1,1) is uniform on the simplex (density 2): entropy −log 2; two outcomes reduce to Beta", () => {
    expect(dirichletEntropy([1, 1, 1])).toBeCloseTo(-Math.LN2, 12);
    expect(dirichletEntropy([1, 1, 1, 1])).toBeCloseTo(-Math.log(6), 12);
    expect(dirichletEntropy([3.5, 1.25])).toBeCloseTo(betaEntropy(3.5, 1.25), 12);
  });
});

describe("DirichletTransitions", () => {
  it("counts, posterior means, and a running entropy equal to the sum over rows", () => {
    const post = new DirichletTransitions([
      [1, 1],
      [0.5, 1, 2],
    ]);
    expect(post.entropy()).toBeCloseTo(dirichletEntropy([1, 1]) + dirichletEntropy([0.5, 1, 2]), 12);
    post.update(1, 0);
    post.update(1, 0);
    post.update(0, 1);
    expect([...post.params(1)]).toEqual([2.5, 1, 2]);
    expect([...post.mean(1)]).toEqual([2.5 / 5.5, 1 / 5.5, 2 / 5.5]);
    expect([...post.mean(0)]).toEqual([1 / 3, 2 / 3]);
    expect(post.entropy()).toBeCloseTo(dirichletEntropy([1, 2]) + dirichletEntropy([2.5, 1, 2]), 12);
    expect(() => post.update(0, 2)).toThrow(RangeError);
    expect(() => post.update(2, 0)).toThrow(RangeError);
  });
  it("samples have the Dirichlet mean and variance α_j(α0 − α_j)/(α0²(α0 + 1))", () => {
    const alpha = [2, 3, 5];
    const post = new DirichletTransitions([alpha]);
    const rng = new Rng(8);
    const n = 40_000;
    const s = [0, 0, 0];
    const ss = [0, 0, 0];
    const out = new Float64Array(3);
    for (let i = 0; i < n; i++) {
      post.sample(0, rng, out);
      expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      for (let j = 0; j < 3; j++) {
        s[j] = (s[j] as number) + (out[j] as number);
        ss[j] = (ss[j] as number) + (out[j] as number) ** 2;
      }
    }
    for (let j = 0; j < 3; j++) {
      const a = alpha[j] as number;
      const m = (s[j] as number) / n;
      expect(m).toBeCloseTo(a / 10, 2);
      expect((ss[j] as number) / n - m * m).toBeCloseTo((a * (10 - a)) / (100 * 11), 3);
    }
  });
  it("rejects rows with fewer than two outcomes or non-positive parameters", () => {
    expect(() => new DirichletTransitions([[1]])).toThrow(RangeError);
    expect(() => new DirichletTransitions([[1, 0]])).toThrow(RangeError);
  });
});

describe("tiny parameters", () => {
  it("a draw is still a distribution when every gamma underflows", () => {
    const post = new DirichletTransitions([[1e-4, 1e-4, 1e-4]]);
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      const p = post.sample(0, rng);
      expect(p.every((x) => x >= 0 && x <= 1)).toBe(true);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    }
  });
});
