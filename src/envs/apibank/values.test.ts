import { describe, expect, it } from "vitest";
import { pyEqual, pyRepr, pyStringRepr, strftime, strptime } from "./values.ts";

describe("Python values", () => {
  it("pyEqual compares numbers by value, dicts without order, lists in order", () => {
    expect(pyEqual({ a: [1, { b: 6 }] }, { a: [1.0, { b: 6.0 }] })).toBe(true);
    expect(pyEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
    expect(pyEqual([1, 2], [2, 1])).toBe(false);
    expect(pyEqual({ a: 1 }, { a: 1, b: null })).toBe(false);
    expect(pyEqual(null, "None")).toBe(false);
  });

  it("pyRepr writes what str() prints", () => {
    expect(pyRepr("success")).toBe("success");
    expect(pyRepr({ time: "2023-03-11 14:20:00", blood_pressure: [140, 90], ok: true, x: null })).toBe(
      "{'time': '2023-03-11 14:20:00', 'blood_pressure': [140, 90], 'ok': True, 'x': None}",
    );
    expect(pyStringRepr("user's")).toBe('"user\'s"');
    expect(pyStringRepr("both ' and \"")).toBe("'both \\' and \"'");
    expect(pyRepr([1e-5, 1e16, 2.5])).toBe("[1e-05, 1e+16, 2.5]");
  });

  it("strptime accepts what CPython accepts and fails with CPython's messages", () => {
    const f = "%Y-%m-%d %H:%M:%S";
    const ok = strptime("2023-3-5 9:00:00", f);
    expect(ok.ok && strftime(ok.value, f)).toBe("2023-03-05 09:00:00");
    expect(strptime("tomorrow", f)).toEqual({
      ok: false,
      message: "time data 'tomorrow' does not match format '%Y-%m-%d %H:%M:%S'",
    });
    expect(strptime("2023-03-05 10:00:00pm", f)).toEqual({
      ok: false,
      message: "unconverted data remains: pm",
    });
    expect(strptime("2023-02-29", "%Y-%m-%d")).toEqual({
      ok: false,
      message: "day is out of range for month",
    });
    expect(strptime("2024-02-29", "%Y-%m-%d").ok).toBe(true);
    expect(strptime("13-01", "%m-%d").ok).toBe(false);
  });
});
