import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { type Board, boardKey, EMPTY_BOARD, emptyPositions, isFull, play, toMove, winner } from "./board.ts";
import { minimaxValue, opponentRoles } from "./exact.ts";
import { styleModel } from "./opponent-model.ts";
import {
  completingCells,
  DEFAULT_SLIP,
  orderStyle,
  STYLES,
  sampleStyle,
  styleByName,
  styleDistribution,
  styledOpponent,
} from "./styles.ts";

const board = (moves: readonly (readonly [number, "X" | "O"])[]): Board =>
  moves.reduce<Board>((b, [p, m]) => play(b, p, m), EMPTY_BOARD);

const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

describe("the style family", () => {
  it("holds corners, edges and the reading order in its 8 orientations, all distinct", () => {
    expect(STYLES).toHaveLength(10);
    expect(new Set(STYLES.map((s) => s.name)).size).toBe(10);
    const orders = STYLES.filter((s) => s.family === "order");
    expect(orders.map((s) => s.name)).toContain("order:123456789");
    expect(orders.map((s) => s.name)).toContain("order:741852963");
    expect(new Set(orders.map((s) => s.weights.join(","))).size).toBe(8);
    expect(() => orderStyle([0, 1, 2, 3, 4, 5, 6, 7, 7])).toThrow(RangeError);
  });

  it("draws a run's hidden style from the seed: reproducible, and every member turns up", () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 200; seed++) seen.add(sampleStyle("styled", new Rng(seed)).name);
    expect(seen.size).toBe(10);
    expect(sampleStyle("order", new Rng(5)).name).toBe(sampleStyle("order", new Rng(5)).name);
    expect(sampleStyle("corners", new Rng(5)).name).toBe("corners");
  });
});

describe("a style's move distribution", () => {
  const corners = styleByName("corners");
  const reading = styleByName("order:123456789");
  if (!corners || !reading) throw new Error("family changed");

  it("is a distribution over the empty cells", () => {
    const b = board([
      [5, "X"],
      [1, "O"],
    ]);
    for (const style of STYLES) {
      const d = styleDistribution(style, b);
      expect(sum(d)).toBeCloseTo(1, 12);
      expect(d[0]).toBe(0);
      expect(d[4]).toBe(0);
    }
  });

  it("follows the preference on a quiet board", () => {
    const d = styleDistribution(corners, EMPTY_BOARD);
    expect(d[0]).toBeCloseTo(8 / 37, 12);
    expect(d[4]).toBeCloseTo(1 / 37, 12);
    // The reading order prefers its first free cell with ~3/4 of the mass.
    const r = styleDistribution(reading, board([[1, "X"]]));
    expect(r[1]).toBeGreaterThan(0.74);
    expect(r[1]).toBeLessThan(0.76);
  });

  it("wins when it can, else blocks, except for a slip", () => {
    // X has 1, 2 (wins at 3); O has 4, 5 (would win at 6).
    const b = board([
      [1, "X"],
      [4, "O"],
      [2, "X"],
      [5, "O"],
    ]);
    expect(completingCells(b, "X")).toEqual([2]);
    const d = styleDistribution(reading, b);
    expect(d[2]).toBeGreaterThanOrEqual(1 - DEFAULT_SLIP);
    const block = board([
      [1, "X"],
      [4, "O"],
      [9, "X"],
      [5, "O"],
    ]);
    expect(styleDistribution(reading, block, 0)[5]).toBe(1);
    expect(styleDistribution(reading, block, 1)[5]).toBeLessThan(0.01);
    expect(() => styleDistribution(reading, block, 1.5)).toThrow(RangeError);
  });

  it("the opponent samples from it", () => {
    const opponent = styledOpponent(corners);
    const rng = new Rng(3);
    let cornerMoves = 0;
    for (let i = 0; i < 2000; i++) if ([1, 3, 7, 9].includes(opponent.move(EMPTY_BOARD, rng))) cornerMoves++;
    // P(corner) = 32/37 ≈ 0.865; 2000 draws put the frequency within ±0.03 with overwhelming probability.
    expect(cornerMoves / 2000).toBeGreaterThan(0.835);
    expect(cornerMoves / 2000).toBeLessThan(0.895);
  });
});

/** Exact expected score (X first) of O playing uniformly among minimax-optimal moves against a model of X. */
function safeUniformScore(model: ReturnType<typeof styleModel>): number {
  const memo = new Map<string, number>();
  const value = (b: Board): number => {
    const key = boardKey(b);
    const known = memo.get(key);
    if (known !== undefined) return known;
    const w = winner(b);
    let v: number;
    if (w) v = w === "O" ? 1 : -1;
    else if (isFull(b)) v = 0;
    else if (toMove(b) === "O") {
      const keep = minimaxValue(b);
      const moves = emptyPositions(b).filter((p) => minimaxValue(play(b, p, "O")) >= keep);
      v = sum(moves.map((p) => value(play(b, p, "O")))) / moves.length;
    } else {
      const d = model.distribution(b);
      v = sum(emptyPositions(b).map((p) => (d[p - 1] ?? 0) * value(play(b, p, "X"))));
    }
    memo.set(key, v);
    return v;
  };
  return value(EMPTY_BOARD);
}

describe("styles are beatable by an agent that knows them", () => {
  it("the best reply to a known style scores more than optimal-but-unaware play", () => {
    for (const style of STYLES) {
      const model = styleModel(style);
      const knowing = opponentRoles(model).gameValue(EMPTY_BOARD);
      const unaware = safeUniformScore(model);
      expect(knowing, style.name).toBeGreaterThan(unaware);
      if (style.family !== "corners") expect(knowing - unaware, style.name).toBeGreaterThan(0.3);
    }
  });
});
