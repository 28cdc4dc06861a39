import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { evaluate, literals, show } from "./expression.ts";
import { add, div, equals, key, mul, type Rational, rational, sameMultiset, sub } from "./rational.ts";
import { solvable, solve } from "./solver.ts";

const nums = (...xs: number[]) => xs.map((x) => rational(x));

/**
 * Independent brute force: the set of values of every expression tree over the numbers, by dynamic programming
 * over subsets (split each subset into two non-empty parts and combine their value sets).
 */
function reachable(values: readonly Rational[]): Map<string, Rational> {
  const n = values.length;
  const table = new Map<number, Map<string, Rational>>();
  for (let mask = 1; mask < 1 << n; mask++) {
    const out = new Map<string, Rational>();
    if ((mask & (mask - 1)) === 0) {
      const v = values[Math.log2(mask)] as Rational;
      out.set(key(v), v);
    } else {
      for (let part = (mask - 1) & mask; part > 0; part = (part - 1) & mask) {
        const left = table.get(part);
        const right = table.get(mask ^ part);
        if (!left || !right) continue;
        for (const x of left.values())
          for (const y of right.values()) {
            // Each split is visited in both orders, so x − y and x ÷ y cover y − x and y ÷ x.
            const results = [add(x, y), sub(x, y), mul(x, y)];
            const q = div(x, y);
            if (q.ok) results.push(q.value);
            for (const r of results) out.set(key(r), r);
          }
      }
    }
    table.set(mask, out);
  }
  return table.get((1 << n) - 1) ?? new Map();
}

const bruteSolvable = (values: readonly Rational[]) => reachable(values).has("24");

function checkWitness(values: readonly Rational[]): void {
  const w = solve(values);
  expect(w, values.map(key).join(" ")).toBeDefined();
  if (!w) return;
  const v = evaluate(w.expression);
  expect(v.ok && equals(v.value, rational(24)), show(w.expression)).toBe(true);
  expect(sameMultiset(literals(w.expression), values)).toBe(true);
  expect(w.steps).toHaveLength(values.length - 1);
}

describe("solver", () => {
  it("solves known puzzles with a checked witness", () => {
    for (const p of [
      [4, 5, 6, 10],
      [3, 3, 8, 8], // needs fractions: 8 / (3 − 8/3)
      [1, 5, 5, 5], // 5 × (5 − 1/5)
      [1, 1, 4, 6],
      [4, 9, 10, 13],
      [1, 1, 11, 11],
    ])
      checkWitness(nums(...p));
    expect(show(solve(nums(3, 3, 8, 8))?.expression ?? { kind: "num", value: rational(0), text: "0" })).toBe(
      "8 / (3 - 8 / 3)",
    );
  });

  it("knows unsolvable puzzles", () => {
    for (const p of [
      [1, 1, 1, 1],
      [1, 1, 1, 2],
      [1, 1, 5, 9],
      [13, 13, 13, 13],
      [5, 5, 5, 7],
    ]) {
      expect(solvable(nums(...p)), p.join(" ")).toBe(false);
      expect(bruteSolvable(nums(...p))).toBe(false);
    }
  });

  it("handles small and odd multisets", () => {
    expect(solvable(nums(24))).toBe(true);
    expect(solvable(nums(23))).toBe(false);
    expect(solvable([])).toBe(false);
    expect(solvable([rational(-3), rational(-8)])).toBe(true);
    expect(solvable([rational(1, 3), rational(8)])).toBe(true); // 8 ÷ 1/3
    expect(solvable(nums(0, 0, 0, 24))).toBe(true);
    expect(solvable(nums(0, 0, 0, 0))).toBe(false);
    expect(solve(nums(6, 4), rational(2))?.steps[0]?.op).toBe("-");
  });

  it("agrees with the brute force on all 1,820 four-card hands of 1–13 (1,362 solvable)", () => {
    let count = 0;
    let hands = 0;
    for (let a = 1; a <= 13; a++)
      for (let b = a; b <= 13; b++)
        for (let c = b; c <= 13; c++)
          for (let d = c; d <= 13; d++) {
            const hand = nums(a, b, c, d);
            const s = solvable(hand);
            expect(s, `${a} ${b} ${c} ${d}`).toBe(bruteSolvable(hand));
            if (s) count++;
            hands++;
          }
    expect(hands).toBe(1820);
    expect(count).toBe(1362);
  });

  it("agrees with the brute force on 400 random multisets with fractions, negatives and zeros", () => {
    const rng = new Rng(2024);
    let agreeSolvable = 0;
    for (let i = 0; i < 400; i++) {
      const size = 2 + rng.int(3);
      const values = Array.from({ length: size }, () => {
        const n = rng.int(31) - 6;
        const d = rng.bernoulli(0.3) ? 1 + rng.int(4) : 1;
        return rational(n, d);
      });
      const s = solvable(values);
      expect(s, values.map(key).join(" ")).toBe(bruteSolvable(values));
      if (s) {
        checkWitness(values);
        agreeSolvable++;
      }
    }
    // Both outcomes occur, so the comparison tests something either way.
    expect(agreeSolvable).toBeGreaterThan(20);
    expect(agreeSolvable).toBeLessThan(380);
  });
});
