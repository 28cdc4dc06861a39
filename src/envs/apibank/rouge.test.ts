import { describe, expect, it } from "vitest";
import { lcsWords, rougeL, rougeSentences } from "./rouge.ts";

describe("ROUGE-L (pltrdy/rouge semantics, hand-computed)", () => {
  it("one sentence: R = 3/5 distinct reference words, P = 3/3, F = 2PR/(P+R+1e-8)", () => {
    const s = rougeL("the cat sat on the mat", "the cat sat");
    expect(s.r).toBe(3 / 5);
    expect(s.p).toBe(1);
    expect(s.f).toBeCloseTo((2 * 0.6) / (1.6 + 1e-8), 12);
  });

  it("summary level: LCS words of every sentence pair are united, so swapped sentences still score ~1", () => {
    expect(rougeSentences("a b. c d")).toEqual(["a b", "c d"]);
    const s = rougeL("a b. c d", "c d. a b");
    expect(s.r).toBe(1);
    expect(s.p).toBe(1);
  });

  it("set semantics: repeated words count once on both sides", () => {
    const s = rougeL("a a a b", "a b");
    expect(s.r).toBe(1);
    expect(s.p).toBe(1);
  });

  it("a trailing '. ' makes an empty sentence whose empty token counts as a hypothesis word", () => {
    expect(rougeSentences("Hello. ")).toEqual(["Hello", ""]);
    const s = rougeL("Hello", "Hello. ");
    expect(s.r).toBe(1);
    expect(s.p).toBe(1 / 2);
    expect(s.f).toBeCloseTo(1 / 1.5, 6);
  });

  it("tokens are case-sensitive with punctuation attached", () => {
    expect(rougeL("Hello world!", "hello world").f).toBe(0);
    expect(rougeL("Hello world!", "Hello world!").f).toBeCloseTo(1, 7);
  });

  it("reconstructs the LCS with the package's tie-breaking (move left on ties)", () => {
    expect(lcsWords(["a", "b"], ["b", "a"])).toEqual(["b"]);
    expect(lcsWords(["a", "b", "c", "d"], ["a", "c", "d", "b"])).toEqual(["a", "c", "d"]);
    expect(rougeL("a b", "b a").f).toBeCloseTo(0.5, 7);
  });

  it("an empty or sentence-less text scores 0", () => {
    expect(rougeL("a reply", "").f).toBe(0);
    expect(rougeL("a reply", "...").f).toBe(0);
    expect(rougeL("", "a reply").f).toBe(0);
  });
});
