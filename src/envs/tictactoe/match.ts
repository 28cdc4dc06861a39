/**
 * A Tic-Tac-Toe match as one episode (issue 5): N games against the same X, so an agent's memory — its opponent
 * model — carries from game to game as in the paper's protocol (spec §3.3), while the runner still builds one
 * agent per episode.
 *
 * Every game starts with X's move; the agent plays O. A step is O's move and, unless that ended the game, X's
 * reply. When a game ends the step pays its score (+1 O wins, 0 draw, −1 X wins or O forfeits by an illegal
 * move), its info carries `{ game, outcome, final }` (the final board, since the next observation already shows
 * the next game's opening), and the next game begins; the last game ends the episode. X is drawn once per run from
 * the seed when it has a hidden parameter (a style), so all games of a match face the same X.
 */
import type { Env, StepResult } from "../../core/env.ts";
import type { ParseResult } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import {
  type Board,
  boardKey,
  EMPTY_BOARD,
  emptyPositions,
  isOver,
  play,
  renderBoard,
  winner,
} from "./board.ts";
import { type Opponent, opponentMove, parseCell, type TicTacToeObservation } from "./env.ts";

/** Games per match unless configured. */
export const DEFAULT_GAMES = 20;

export interface MatchObservation extends TicTacToeObservation {
  /** The game in progress, 1-based. */
  readonly game: number;
  readonly games: number;
}

export interface MatchOptions {
  /** X for the run: one opponent, or a draw from the run's seed (a hidden style). */
  readonly opponent: Opponent | ((rng: Rng) => Opponent);
  /** Games per match (default 20). */
  readonly games?: number;
}

/** What a game-ending step's info holds. */
export interface GameEndInfo {
  readonly game: number;
  /** +1 O won, 0 draw, −1 X won or O forfeited. */
  readonly outcome: number;
  /** The final board of the game (`boardKey` form, e.g. `XO.X.O..X`). */
  readonly final: string;
}

/** The game-end fields of a step's info, when the step ended a game of a match. */
export function gameEndOf(info: Readonly<Record<string, unknown>> | undefined): GameEndInfo | undefined {
  const game = info?.game;
  const outcome = info?.outcome;
  const final = info?.final;
  if (typeof game !== "number" || typeof outcome !== "number" || typeof final !== "string") return undefined;
  return { game, outcome, final };
}

/** A board from its `boardKey` form; undefined for anything else. */
export function boardFromKey(key: string): Board | undefined {
  if (!/^[XO.]{9}$/.test(key)) return undefined;
  return [...key].map((c) => (c === "." ? null : (c as "X" | "O")));
}

export class TicTacToeMatchEnv implements Env<MatchObservation, number> {
  readonly name = "tictactoe";
  readonly games: number;
  private readonly source: MatchOptions["opponent"];
  private opponent: Opponent | undefined;
  private board: Board = EMPTY_BOARD;
  private game = 1;
  private finished = false;
  private lost = false;
  private rng = new Rng(0);

  constructor(options: MatchOptions) {
    this.games = options.games ?? DEFAULT_GAMES;
    if (!(Number.isInteger(this.games) && this.games >= 1))
      throw new RangeError(`games must be a positive integer, got ${this.games}`);
    this.source = options.opponent;
  }

  /** X of the current run (known after `reset`). */
  get opponentName(): string | undefined {
    return this.opponent?.name;
  }

  get terminal(): boolean {
    return this.finished;
  }

  private observe(): MatchObservation {
    return { board: this.board, text: renderBoard(this.board), game: this.game, games: this.games };
  }

  async reset(seed: number): Promise<MatchObservation> {
    const root = new Rng(seed);
    this.opponent = typeof this.source === "function" ? this.source(root.stream("style")) : this.source;
    this.rng = root.stream("opponent");
    this.game = 1;
    this.finished = false;
    this.lost = false;
    this.board = play(EMPTY_BOARD, await this.xMove(EMPTY_BOARD), "X");
    return this.observe();
  }

  private xMove(board: Board): Promise<number> {
    if (!this.opponent) throw new Error("reset() before step()");
    return opponentMove(this.opponent, board, this.rng);
  }

  async step(action: number): Promise<StepResult<MatchObservation>> {
    if (this.finished) throw new Error("step() after the match ended; call reset()");
    if (!emptyPositions(this.board).includes(action)) {
      // An illegal move loses the game, as in the single-game environment; the match goes on.
      return this.endGame(-1, `Position ${action} is not an empty cell; O forfeits game ${this.game}.`, {
        illegal: action,
      });
    }
    this.board = play(this.board, action, "O");
    let feedback = `O takes ${action}.`;
    if (!isOver(this.board)) {
      const reply = await this.xMove(this.board);
      this.board = play(this.board, reply, "X");
      feedback += ` X replies ${reply}.`;
    }
    if (!isOver(this.board)) return { observation: this.observe(), reward: 0, done: false, feedback };
    const w = winner(this.board);
    const outcome = w === "O" ? 1 : w === "X" ? -1 : 0;
    return this.endGame(outcome, `${feedback} ${w ? `${w} wins` : "Draw in"} game ${this.game}.`);
  }

  private async endGame(
    outcome: number,
    feedback: string,
    extra: Record<string, unknown> = {},
  ): Promise<StepResult<MatchObservation>> {
    const info: Record<string, unknown> = {
      game: this.game,
      outcome,
      final: boardKey(this.board),
      ...extra,
    };
    if (outcome < 0) this.lost = true;
    if (this.game >= this.games) {
      this.finished = true;
      return {
        observation: this.observe(),
        reward: outcome,
        done: true,
        // The best result against optimal play is never to lose.
        success: !this.lost,
        feedback,
        info: { ...info, opponent: this.opponent?.name ?? "" },
      };
    }
    this.game += 1;
    this.board = EMPTY_BOARD;
    const opening = await this.xMove(EMPTY_BOARD);
    this.board = play(EMPTY_BOARD, opening, "X");
    return {
      observation: this.observe(),
      reward: outcome,
      done: false,
      feedback: `${feedback} Game ${this.game} of ${this.games}: X opens at ${opening}.`,
      info,
    };
  }

  legalActions(): readonly number[] {
    return this.finished ? [] : emptyPositions(this.board);
  }

  render(): string {
    return `Game ${this.game} of ${this.games}\n${renderBoard(this.board)}`;
  }

  formatAction(action: number): string {
    return String(action);
  }

  parseAction(text: string): ParseResult<number> {
    return parseCell(text);
  }
}
