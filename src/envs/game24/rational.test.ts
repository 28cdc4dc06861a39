import { describe, expect, it } from "vitest";
import {
  add,
  compare,
  div,
  equals,
  format,
  mul,
  multisetKey,
  parseRational,
  type Rational,
  rational,
  removeAll,
  sameMultiset,
  sub,
} from "./rational.ts";

const r = (n: number, d = 1) => rational(n, d);
const parsed = (text: string): Rational => {
  const p = parseRational(text);
  if (!p.ok) throw new Error(`${text}: ${p.message}`);
  return p.value;
};

describe("rational", () => {
  it("normalises: lowest terms, sign in the numerator, one zero", () => {
    expect(r(6, -4)).toEqual({ num: -3n, den: 2n });
    expect(r(-6, -4)).toEqual({ num: 3n, den: 2n });
    expect(r(0, -5)).toEqual({ num: 0n, den: 1n });
    expect(r(14, 7)).toEqual({ num: 2n, den: 1n });
    expect(() => rational(1, 0)).toThrow(RangeError);
  });

  it("computes exactly where floats do not: 8 / (3 − 8/3) = 24", () => {
    expect(8 / (3 - 8 / 3)).not.toBe(24); // the float result is 23.999999999999993
    const q = div(r(8), sub(r(3), r(8, 3)));
    expect(q.ok && equals(q.value, r(24))).toBe(true);
    expect(equals(add(r(1, 3), r(1, 6)), r(1, 2))).toBe(true);
    expect(equals(mul(r(2, 3), r(3, 2)), r(1))).toBe(true);
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(equals(add(parsed("0.1"), parsed("0.2")), parsed("0.3"))).toBe(true);
  });

  it("names division by zero instead of throwing", () => {
    const q = div(r(5), r(0));
    expect(q.ok).toBe(false);
    if (!q.ok) expect(q.category).toBe("division_by_zero");
  });

  it("compares and formats", () => {
    expect(compare(r(7, 3), r(5, 2))).toBe(-1);
    expect(compare(r(-1, 2), r(-2, 3))).toBe(1);
    expect(compare(r(4, 2), r(2))).toBe(0);
    expect(format(r(7, 3))).toBe("7/3");
    expect(format(r(-8, 3))).toBe("-8/3");
    expect(format(r(24))).toBe("24");
    expect(format(r(-4))).toBe("-4");
  });

  it("parses integers, decimals, fractions and signs exactly", () => {
    expect(parsed("24")).toEqual(r(24));
    expect(parsed(" 2.50 ")).toEqual(r(5, 2));
    expect(parsed(".5")).toEqual(r(1, 2));
    expect(parsed("7/3")).toEqual(r(7, 3));
    expect(parsed("6/4")).toEqual(r(3, 2));
    expect(parsed("-8/3")).toEqual(r(-8, 3));
    expect(parsed("−4")).toEqual(r(-4));
    expect(parsed("+3")).toEqual(r(3));
  });

  it("judges a rounded decimal as different from the exact fraction", () => {
    expect(equals(parsed("2.333"), r(7, 3))).toBe(false);
    expect(equals(parsed("2.3333333333333335"), r(7, 3))).toBe(false);
    expect(equals(parsed("2.25"), r(9, 4))).toBe(true);
  });

  it("rejects malformed numbers with a category", () => {
    const cases: [string, string][] = [
      ["", "bad_number"],
      ["abc", "bad_number"],
      ["1.2.3", "bad_number"],
      ["7/-3", "bad_number"],
      ["1.5/2", "bad_number"],
      ["3/0", "division_by_zero"],
      ["1e5", "bad_number"],
      ["9".repeat(500), "too_long"],
    ];
    for (const [text, category] of cases) {
      const p = parseRational(text);
      expect(p.ok, text).toBe(false);
      if (!p.ok) expect(p.category, text).toBe(category);
    }
  });

  it("multiset helpers count repeats", () => {
    expect(multisetKey([r(5), r(1, 2), r(5)])).toBe("1/2 5 5");
    expect(sameMultiset([r(4), r(4), r(6)], [r(6), r(4), r(4)])).toBe(true);
    expect(sameMultiset([r(4), r(6), r(6)], [r(6), r(4), r(4)])).toBe(false);
    expect(removeAll([r(4), r(4), r(6)], [r(4), r(4)])).toEqual([r(6)]);
    expect(removeAll([r(4), r(6)], [r(4), r(4)])).toBeUndefined();
  });
});
