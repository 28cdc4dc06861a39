import { describe, expect, it } from "vitest";
import {
  formatInt,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatUsd,
  wilson,
  wilsonFromRate,
} from "./format.ts";

describe("wilson", () => {
  it("matches the textbook interval", () => {
    // 5 of 10 at 95%: 0.2366 – 0.7634.
    const ci = wilson(5, 10);
    expect(ci.low).toBeCloseTo(0.2366, 4);
    expect(ci.high).toBeCloseTo(0.7634, 4);
    // 0 of 20: the upper bound stays above zero (0.1611), unlike the normal approximation.
    expect(wilson(0, 20).low).toBe(0);
    expect(wilson(0, 20).high).toBeCloseTo(0.1611, 4);
    expect(wilson(20, 20).high).toBe(1);
  });

  it("is [0, 1] with no trials and recovers counts from rates", () => {
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1 });
    expect(wilsonFromRate(1 / 3, 12)).toEqual(wilson(4, 12));
  });
});

describe("formatting", () => {
  it("groups thousands without the host locale", () => {
    expect(formatInt(1234567)).toBe("1,234,567");
    expect(formatInt(-1000)).toBe("-1,000");
    expect(formatInt(999)).toBe("999");
  });

  it("trims trailing zeros and never writes -0", () => {
    expect(formatNumber(2.5)).toBe("2.5");
    expect(formatNumber(2)).toBe("2");
    expect(formatNumber(1 / 3)).toBe("0.333");
    expect(formatNumber(-0.0001)).toBe("0");
    expect(formatNumber(120, 2)).toBe("120");
  });

  it("writes rates, money and durations", () => {
    expect(formatPercent(0.5)).toBe("50.0%");
    expect(formatUsd(0.00251)).toBe("$0.0025");
    expect(formatUsd(12.345)).toBe("$12.35");
    expect(formatSeconds(12.5)).toBe("12.5 s");
    expect(formatSeconds(125)).toBe("2 min 5 s");
    expect(formatSeconds(7260)).toBe("2 h 1 min");
  });
});
