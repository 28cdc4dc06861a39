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

/** How the critic values a position: under the opponent model, or as if X played minimax whatever the model says. */
export type CriticKind = "expectimax" | "minimax";

export interface OpponentRolesOptions {
  /**
   * `expectimax` (default): the game value when O maximises and X moves by the opponent model — the exact value
   * of the position under the posterior-mean model. `minimax`: the model-free game value.
   */
  readonly critic?: CriticKind;
  /**
   * Elite proposes only moves that keep O's minimax value (default false): exploitation that can never turn a
   * drawn game into a lost one, whatever the opponent model believes.
   */
  readonly safe?: boolean;
}

/** The roles of an agent playing O that predicts X's reply with an opponent model, and what they are built on. */
export interface OpponentRoles extends Roles<Board, number> {
  /** X's distribution over cells (index 0–8) on a board with X to move. */
  readonly opponent: { readonly name: string; distribution(board: Board): readonly number[] };
  /** The one predicted reply (cell 1–9) on a board with X to move. */
  predictReply(board: Board): number;
  /** The critic's game value of any board, terminal ones included (+1 O won, −1 X won, 0 draw). */
  gameValue(board: Board): number;
}

/**
 * RAFA's Tic-Tac-Toe roles over an opponent model (spec §3.3), exact apart from the model of X:
 *
 * - model: O's move, then the opponent model's one predicted reply (its most probable cell; ties go to the reply
 *   worst for O under the critic, then the lowest cell), with reward +1 / −1 when the game ends in a win / loss;
 * - critic: the game value with X to reply by the opponent model (expectimax), or plain minimax;
 * - elite: the legal cells ranked by the critic's value of the move (the top B of them).
 */
export function opponentRoles(
  opponent: OpponentRoles["opponent"],
  options: OpponentRolesOptions = {},
): OpponentRoles {
  const kind = options.critic ?? "expectimax";
  const memo = new Map<string, number>();
  function gameValue(board: Board): number {
    if (kind === "minimax") return minimaxValue(board);
    const key = boardKey(board);
    const known = memo.get(key);
    if (known !== undefined) return known;
    let value: number;
    const w = winner(board);
    if (w) value = w === "O" ? 1 : -1;
    else if (isFull(board)) value = 0;
    else if (toMove(board) === "O")
      value = Math.max(...emptyPositions(board).map((p) => gameValue(play(board, p, "O"))));
    else {
      const d = opponent.distribution(board);
      let total = 0;
      value = 0;
      for (const p of emptyPositions(board)) {
        const q = d[p - 1] ?? 0;
        if (q <= 0) continue;
        total += q;
        value += q * gameValue(play(board, p, "X"));
      }
      // A model without mass on the legal cells says nothing: fall back to the model-free value.
      value = total > 0 ? value / total : minimaxValue(board);
    }
    memo.set(key, value);
    return value;
  }
  function predictReply(board: Board): number {
    const d = opponent.distribution(board);
    const cells = emptyPositions(board);
    const top = Math.max(...cells.map((p) => d[p - 1] ?? 0));
    let best = cells[0] ?? 1;
    let bestValue = Number.POSITIVE_INFINITY;
    for (const p of cells) {
      if ((d[p - 1] ?? 0) < top * (1 - 1e-9)) continue;
      const v = gameValue(play(board, p, "X"));
      if (v < bestValue) {
        bestValue = v;
        best = p;
      }
    }
    return best;
  }
  return {
    opponent,
    predictReply,
    gameValue,
    elite: {
      async propose(board, breadth) {
        let cells = emptyPositions(board);
        if (options.safe) {
          const keep = minimaxValue(board);
          cells = cells.filter((p) => minimaxValue(play(board, p, "O")) >= keep);
        }
        const q = new Map(cells.map((p) => [p, gameValue(play(board, p, "O"))]));
        return cells.sort((a, b) => (q.get(b) ?? 0) - (q.get(a) ?? 0) || a - b).slice(0, breadth);
      },
    },
    model: {
      async predict(board, action) {
        // An occupied cell forfeits the game, as in the environment.
        if (board[action - 1] !== null) return { state: board, reward: -1, done: true };
        const afterO = play(board, action, "O");
        if (isOver(afterO)) return { state: afterO, reward: winner(afterO) === "O" ? 1 : 0, done: true };
        const next = play(afterO, predictReply(afterO), "X");
        return { state: next, reward: winner(next) === "X" ? -1 : 0, done: isOver(next) };
      },
    },
    critic: {
      async value(board) {
        return isOver(board) ? 0 : gameValue(board); // terminal rewards are paid by the model
      },
    },
  };
}
