import { describe, expect, it } from "vitest";
import { createLookaheadAgent } from "../../agents/lookahead.ts";
import { runEpisode } from "../../core/episode.ts";
import { EMPTY_BOARD, play, renderBoard, toMove, winner } from "./board.ts";
import { minimaxOpponent, randomOpponent, TicTacToeEnv } from "./env.ts";
import { exactRoles, minimaxValue, optimalMoves } from "./exact.ts";

const exactAgent = () =>
  createLookaheadAgent({
    name: "exact",
    roles: exactRoles,
    stateOf: (o: { board: typeof EMPTY_BOARD }) => o.board,
  });

describe("tic-tac-toe rules", () => {
  it("detects wins on all lines, turn order and rendering", () => {
    let b = EMPTY_BOARD;
    for (const [p, m] of [
      [1, "X"],
      [4, "O"],
      [5, "X"],
      [7, "O"],
      [9, "X"],
    ] as const)
      b = play(b, p, m);
    expect(winner(b)).toBe("X");
    expect(toMove(b)).toBe("O");
    expect(renderBoard(b).split("\n")[0]).toBe("X | 2 | 3");
    expect(() => play(b, 1, "O")).toThrow(RangeError);
  });

  it("minimax: the empty board is a draw; a forced win is found", () => {
    expect(minimaxValue(EMPTY_BOARD)).toBe(0);
    // X: 1, 2 — O: 5, 4. O to move? No: X to move and can complete 1-2-3.
    let b = EMPTY_BOARD;
    for (const [p, m] of [
      [1, "X"],
      [5, "O"],
      [2, "X"],
      [4, "O"],
    ] as const)
      b = play(b, p, m);
    expect(optimalMoves(b)).toEqual([3]);
    expect(minimaxValue(b)).toBe(-1);
  });
});

describe("TicTacToeEnv with the exact twins", () => {
  it("never loses to minimax X over 50 seeded games", async () => {
    const env = new TicTacToeEnv(minimaxOpponent);
    for (let seed = 0; seed < 50; seed++) {
      const t = await runEpisode(env, exactAgent(), { seed, maxSteps: 5 });
      expect(t.end).toBe("done");
      expect(t.totalReturn).toBe(0);
      expect(t.success).toBe(true);
    }
  });

  it("beats a random X in most games and never loses", async () => {
    const env = new TicTacToeEnv(randomOpponent);
    let wins = 0;
    for (let seed = 0; seed < 50; seed++) {
      const t = await runEpisode(env, exactAgent(), { seed, maxSteps: 5 });
      expect(t.totalReturn).toBeGreaterThanOrEqual(0);
      if (t.totalReturn === 1) wins++;
    }
    expect(wins).toBeGreaterThan(35);
  });

  it("is reproducible per seed", async () => {
    const env = new TicTacToeEnv(randomOpponent);
    const a = await runEpisode(env, exactAgent(), { seed: 7, maxSteps: 5 });
    const b = await runEpisode(env, exactAgent(), { seed: 7, maxSteps: 5 });
    expect(b.steps.map((s) => s.actionText)).toEqual(a.steps.map((s) => s.actionText));
  });

  it("an illegal move forfeits; parseAction finds the cell in free text", async () => {
    const env = new TicTacToeEnv(minimaxOpponent);
    const first = await env.reset(1);
    const taken = first.board.indexOf("X") + 1;
    const r = await env.step(taken);
    expect(r).toMatchObject({ done: true, reward: -1, success: false });
    expect(env.terminal).toBe(true);
    expect(env.legalActions()).toEqual([]);
    expect(env.parseAction("I play O at 5.")).toEqual({ ok: true, value: 5 });
    expect(env.parseAction("cell 10")).toMatchObject({ ok: false, category: "invalid_action" });
  });
});
