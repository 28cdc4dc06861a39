/**
 * Tic-Tac-Toe rules (RAFA spec §3.3): a 3×3 board with cells numbered 1–9 row by row, X moves first, 8 win lines,
 * the game ends on a win or a full board. Pure functions over an immutable board.
 */
export type Mark = "X" | "O";
export type Cell = Mark | null;
/** Cells 0–8 internally; the text form and actions use 1–9 as the paper does. */
export type Board = readonly Cell[];

export const EMPTY_BOARD: Board = Object.freeze(Array<Cell>(9).fill(null));

export const WIN_LINES: readonly (readonly [number, number, number])[] = [
  [0, 1, 2],
  [3, 4, 5],
  [6, 7, 8],
  [0, 3, 6],
  [1, 4, 7],
  [2, 5, 8],
  [0, 4, 8],
  [2, 4, 6],
];

export function winner(board: Board): Mark | null {
  for (const [a, b, c] of WIN_LINES) {
    const m = board[a];
    if (m && m === board[b] && m === board[c]) return m;
  }
  return null;
}

export function isFull(board: Board): boolean {
  return board.every((c) => c !== null);
}

export function isOver(board: Board): boolean {
  return winner(board) !== null || isFull(board);
}

/** Whose turn it is: X when the counts are equal (X moves first). */
export function toMove(board: Board): Mark {
  let x = 0;
  let o = 0;
  for (const c of board) {
    if (c === "X") x++;
    else if (c === "O") o++;
  }
  return x === o ? "X" : "O";
}

/** Empty cells as 1–9 positions, ascending. */
export function emptyPositions(board: Board): number[] {
  const out: number[] = [];
  board.forEach((c, i) => {
    if (c === null) out.push(i + 1);
  });
  return out;
}

/** The board after `mark` plays `position` (1–9); throws on an occupied or out-of-range cell (a caller bug). */
export function play(board: Board, position: number, mark: Mark): Board {
  const i = position - 1;
  if (!Number.isInteger(position) || i < 0 || i > 8) throw new RangeError(`position ${position} is not 1-9`);
  if (board[i] !== null) throw new RangeError(`cell ${position} is taken`);
  const next = board.slice();
  next[i] = mark;
  return next;
}

/** Text board for prompts and logs: three rows, empty cells shown by their number. */
export function renderBoard(board: Board): string {
  const cell = (i: number) => board[i] ?? String(i + 1);
  return [0, 3, 6].map((r) => `${cell(r)} | ${cell(r + 1)} | ${cell(r + 2)}`).join("\n---------\n");
}

/** Compact key, e.g. `X.O......`, for memo tables. */
export function boardKey(board: Board): string {
  return board.map((c) => c ?? ".").join("");
}
