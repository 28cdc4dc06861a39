/**
 * Styled X opponents (issue 5): the unknown a RAFA agent must learn in Tic-Tac-Toe.
 *
 * A style is a club player with a habit. It takes an immediate win when it has one and blocks O's immediate win
 * when it must (its tactics); every other move follows a hidden preference weight per cell (corners, edges, or a
 * preference order over the cells). With probability `slip` a move ignores tactics and follows the preference
 * alone. So the style is a distribution over moves, not a fixed policy: an agent has to learn which distribution
 * it faces, and one that knows it can steer into positions where the habit walks into a fork.
 *
 * The family is finite (`STYLES`) and public; which member a run faces is drawn from the run's seed. A Bayesian
 * opponent model can therefore hold the exact hypothesis set, while the prior says nothing about which member.
 */
import type { Rng } from "../../core/rng.ts";
import { type Board, emptyPositions, type Mark, WIN_LINES } from "./board.ts";

export type StyleFamily = "corners" | "edges" | "order";

export interface Style {
  /** Stable name, e.g. `corners`, `edges`, `order:123456789` (the cells in order of preference). */
  readonly name: string;
  readonly family: StyleFamily;
  /** Preference weight of cells 1–9 (index 0–8), all > 0. */
  readonly weights: readonly number[];
}

/** Default chance that a styled move ignores tactics (so no move of the style has probability 0). */
export const DEFAULT_SLIP = 0.1;

/** Weight of a preferred cell relative to the others in the corners and edges styles. */
const CLASS_WEIGHT = 8;
/** Each step down a preference order divides the weight by this (the first free preference gets ~3/4). */
const ORDER_RATIO = 4;

const CORNERS = new Set([0, 2, 6, 8]);
const EDGES = new Set([1, 3, 5, 7]);

function classStyle(family: "corners" | "edges", cells: ReadonlySet<number>): Style {
  return {
    name: family,
    family,
    weights: Array.from({ length: 9 }, (_, i) => (cells.has(i) ? CLASS_WEIGHT : 1)),
  };
}

/** A preference order: `order[k]` is the cell index (0–8) preferred k-th. */
export function orderStyle(order: readonly number[]): Style {
  if (order.length !== 9 || new Set(order).size !== 9 || order.some((i) => !(i >= 0 && i <= 8)))
    throw new RangeError(`a preference order lists the cells 0-8 once each, got ${order.join(",")}`);
  const weights = Array<number>(9).fill(0);
  order.forEach((cell, k) => {
    weights[cell] = ORDER_RATIO ** (8 - k);
  });
  return { name: `order:${order.map((i) => i + 1).join("")}`, family: "order", weights };
}

/** The 8 symmetries of the board as index maps (rotations and reflections). */
const SYMMETRIES: readonly (readonly number[])[] = (() => {
  const rotate = (m: readonly number[]) => m.map((_, i) => m[6 - 3 * (i % 3) + Math.floor(i / 3)] ?? 0);
  const reflect = (m: readonly number[]) => m.map((_, i) => m[3 * Math.floor(i / 3) + 2 - (i % 3)] ?? 0);
  const out: number[][] = [];
  let m: number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  for (let r = 0; r < 4; r++) {
    out.push(m, reflect(m));
    m = rotate(m);
  }
  return out;
})();

/**
 * The whole family: corners, edges, and the reading order (1, 2, …, 9) in each of the board's 8 orientations
 * (e.g. 3, 2, 1, 6, 5, 4, … or 7, 4, 1, 8, 5, 2, …).
 */
export const STYLES: readonly Style[] = [
  classStyle("corners", CORNERS),
  classStyle("edges", EDGES),
  ...SYMMETRIES.map((map) => orderStyle(map)),
];

export function styleByName(name: string): Style | undefined {
  return STYLES.find((s) => s.name === name);
}

/** The styles of one family, or all of them (`styled`). */
export function stylesOf(family: StyleFamily | "styled"): readonly Style[] {
  return family === "styled" ? STYLES : STYLES.filter((s) => s.family === family);
}

/** Draw the hidden style of a run. */
export function sampleStyle(family: StyleFamily | "styled", rng: Rng): Style {
  return rng.pick(stylesOf(family));
}

/** Empty cells (0–8) on which `mark` completes a line. */
export function completingCells(board: Board, mark: Mark): number[] {
  const out: number[] = [];
  for (const line of WIN_LINES) {
    let own = 0;
    let empty = -1;
    for (const i of line) {
      const c = board[i];
      if (c === mark) own++;
      else if (c === null) empty = i;
    }
    if (own === 2 && empty >= 0 && !out.includes(empty)) out.push(empty);
  }
  return out;
}

/** Weights restricted to `cells`, normalised (all zero when `cells` is empty). */
function normalised(weights: readonly number[], cells: readonly number[]): number[] {
  const out = Array<number>(9).fill(0);
  let total = 0;
  for (const i of cells) total += weights[i] ?? 0;
  if (total <= 0) return out;
  for (const i of cells) out[i] = (weights[i] ?? 0) / total;
  return out;
}

/**
 * X's move distribution under a style (index 0–8 = cell 1–9; zero on taken cells): tactics (win, else block,
 * else preference) with probability 1 − slip, the preference alone with probability slip.
 */
export function styleDistribution(style: Style, board: Board, slip: number = DEFAULT_SLIP): number[] {
  if (!(slip >= 0 && slip <= 1)) throw new RangeError(`slip must be in [0, 1], got ${slip}`);
  const empty = emptyPositions(board).map((p) => p - 1);
  const preference = normalised(style.weights, empty);
  const wins = completingCells(board, "X");
  const blocks = wins.length > 0 ? [] : completingCells(board, "O");
  const forced = wins.length > 0 ? wins : blocks;
  if (forced.length === 0) return preference;
  const tactical = normalised(style.weights, forced);
  return preference.map((p, i) => (1 - slip) * (tactical[i] ?? 0) + slip * p);
}

/** An X player with a style: moves drawn from `styleDistribution` with the environment's stream. */
export interface StyledOpponent {
  readonly name: string;
  readonly style: Style;
  move(board: Board, rng: Rng): number;
}

export function styledOpponent(style: Style, slip: number = DEFAULT_SLIP): StyledOpponent {
  return {
    name: `styled:${style.name}`,
    style,
    move: (board, rng) => rng.categorical(styleDistribution(style, board, slip)) + 1,
  };
}
