import type { Env, StepResult } from "../../core/env.ts";
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { type Board, EMPTY_BOARD, emptyPositions, isOver, play, renderBoard, winner } from "./board.ts";
import { optimalMoves } from "./exact.ts";

/**
 * X's policy. Each opponent draws its random choices from the environment's seeded stream. A move may be async
 * (an LLM opponent); it must be an empty cell 1–9.
 */
export interface Opponent {
  readonly name: string;
  move(board: Board, rng: Rng): number | Promise<number>;
}

/** Ask the opponent for a move and check it: an occupied or invalid cell is a bug in the opponent. */
export async function opponentMove(opponent: Opponent, board: Board, rng: Rng): Promise<number> {
  const move = await opponent.move(board, rng);
  if (!emptyPositions(board).includes(move))
    throw new Error(`opponent ${opponent.name} chose ${move}, which is not an empty cell`);
  return move;
}

/** The first standalone digit 1–9 of a text ("5", "O at 5", "position 5"). */
export function parseCell(text: string): ParseResult<number> {
  const m = /(?:^|[^0-9])([1-9])(?![0-9])/.exec(text);
  if (!m?.[1]) return fail("invalid_action", `no cell number 1-9 in "${text.slice(0, 40)}"`);
  return ok(Number(m[1]));
}

/** Plays a minimax-optimal move, breaking ties uniformly at random. Never loses. */
export const minimaxOpponent: Opponent = {
  name: "minimax",
  move: (board, rng) => rng.pick(optimalMoves(board)),
};

/** Plays a uniformly random empty cell. */
export const randomOpponent: Opponent = {
  name: "random",
  move: (board, rng) => rng.pick(emptyPositions(board)),
};

export interface TicTacToeObservation {
  readonly board: Board;
  /** The text board, as prompts show it. */
  readonly text: string;
}

/**
 * Tic-Tac-Toe with the agent playing O against an opponent X that moves first (RAFA spec §3.3). An action is a
 * cell 1–9; the step plays it and, unless the game is over, the opponent's reply. Reward at the end: +1 O wins,
 * 0 draw, −1 X wins (the paper's score). `success` means O did not lose — the best result against optimal play.
 */
export class TicTacToeEnv implements Env<TicTacToeObservation, number> {
  readonly name = "tictactoe";
  readonly opponent: Opponent;
  private board: Board = EMPTY_BOARD;
  /** Set when O forfeits by an illegal move: the game is over although the board is not. */
  private forfeited = false;
  private rng = new Rng(0);

  constructor(opponent: Opponent = minimaxOpponent) {
    this.opponent = opponent;
  }

  get terminal(): boolean {
    return this.forfeited || isOver(this.board);
  }

  private observe(): TicTacToeObservation {
    return { board: this.board, text: renderBoard(this.board) };
  }

  async reset(seed: number): Promise<TicTacToeObservation> {
    this.rng = new Rng(seed).stream(`opponent:${this.opponent.name}`);
    this.forfeited = false;
    this.board = play(EMPTY_BOARD, await opponentMove(this.opponent, EMPTY_BOARD, this.rng), "X");
    return this.observe();
  }

  async step(action: number): Promise<StepResult<TicTacToeObservation>> {
    if (this.terminal) throw new Error("step() after the game ended; call reset()");
    if (!emptyPositions(this.board).includes(action)) {
      // An illegal move loses the game, as an illegal move does in over-the-board play.
      return this.finish(-1, `Position ${action} is not an empty cell; O forfeits.`, { illegal: action });
    }
    this.board = play(this.board, action, "O");
    let feedback = `O takes ${action}.`;
    if (!isOver(this.board)) {
      const reply = await opponentMove(this.opponent, this.board, this.rng);
      this.board = play(this.board, reply, "X");
      feedback += ` X replies ${reply}.`;
    }
    if (!isOver(this.board)) return { observation: this.observe(), reward: 0, done: false, feedback };
    const w = winner(this.board);
    return this.finish(w === "O" ? 1 : w === "X" ? -1 : 0, `${feedback} ${w ? `${w} wins.` : "Draw."}`);
  }

  private finish(
    reward: number,
    feedback: string,
    info?: Record<string, unknown>,
  ): StepResult<TicTacToeObservation> {
    if (info) this.forfeited = true;
    return {
      observation: this.observe(),
      reward,
      done: true,
      success: reward >= 0,
      feedback,
      ...(info ? { info } : {}),
    };
  }

  legalActions(): readonly number[] {
    return this.terminal ? [] : emptyPositions(this.board);
  }

  render(): string {
    return renderBoard(this.board);
  }

  formatAction(action: number): string {
    return String(action);
  }

  /** Accepts "5", "O at 5", "position 5" and the like: the first standalone digit 1–9. */
  parseAction(text: string): ParseResult<number> {
    return parseCell(text);
  }
}
