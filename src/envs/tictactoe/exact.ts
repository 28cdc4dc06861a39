import type { Roles } from "../../core/roles.ts";
import {
  type Board,
  boardKey,
  emptyPositions,
  isFull,
  isOver,
  type Mark,
  play,
  toMove,
  winner,
} from "./board.ts";

/**
 * Exact game value by minimax, from O's side: +1 O wins, 0 draw, −1 X wins, under optimal play by both.
 * Memoised over the 5,478 reachable positions, so the full game tree is solved once per process.
 */
const memo = new Map<string, number>();

export function minimaxValue(board: Board): number {
  const key = boardKey(board);
  const cached = memo.get(key);
  if (cached !== undefined) return cached;
  let value: number;
  const w = winner(board);
  if (w) value = w === "O" ? 1 : -1;
  else if (isFull(board)) value = 0;
  else {
    const mark = toMove(board);
    const children = emptyPositions(board).map((p) => minimaxValue(play(board, p, mark)));
    value = mark === "O" ? Math.max(...children) : Math.min(...children);
  }
  memo.set(key, value);
  return value;
}

/** All moves that keep the minimax value for the side to move (the exact "elite" for an optimal player). */
export function optimalMoves(board: Board): number[] {
  const mark: Mark = toMove(board);
  const moves = emptyPositions(board);
  const values = moves.map((p) => minimaxValue(play(board, p, mark)));
  const best = mark === "O" ? Math.max(...values) : Math.min(...values);
  return moves.filter((_, i) => values[i] === best);
}

/**
 * The exact twins of RAFA's Tic-Tac-Toe roles, for the agent playing O (spec §3.3 "Exact twins": Model = rules,
 * Critic = minimax). States are boards. The model places O and stops there; the critic values the position with
 * X to move, so no prediction of X's reply is needed for optimal play.
 */
export const exactRoles: Roles<Board, number> = {
  elite: {
    async propose(board, breadth) {
      return emptyPositions(board).slice(0, breadth);
    },
  },
  model: {
    async predict(board, action) {
      const next = play(board, action, "O");
      const w = winner(next);
      return { state: next, reward: w === "O" ? 1 : 0, done: isOver(next) };
    },
  },
  critic: {
    async value(board) {
      return isOver(board) ? 0 : minimaxValue(board); // terminal rewards are paid by the model
    },
  },
};
