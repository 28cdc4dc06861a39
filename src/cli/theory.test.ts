import { describe, expect, it } from "vitest";
import { UserError } from "../core/errors.ts";
import { parseExtraParams } from "./theory.ts";

describe("theory parameters from the command line", () => {
  it("numbers, lists, booleans and kebab-case names", () => {
    expect(
      parseExtraParams(["--K", "4", "--p=0.7", "--deltas", "0,0.03,0.1", "--reward-visible", "--name", "x"]),
    ).toEqual({
      K: 4,
      p: 0.7,
      deltas: [0, 0.03, 0.1],
      rewardVisible: true,
      name: "x",
    });
  });
  it("a stray word is a one-line user error", () => {
    expect(() => parseExtraParams(["oops"])).toThrow(UserError);
  });
});
