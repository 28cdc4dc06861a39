import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import type { Experience } from "../../core/roles.ts";
import { type Board, EMPTY_BOARD, emptyPositions, play } from "./board.ts";
import { minimaxOpponent } from "./env.ts";
import { minimaxValue, opponentRoles, optimalMoves } from "./exact.ts";
import { boardFromKey, gameEndOf, TicTacToeMatchEnv } from "./match.ts";
import {
  defaultHypotheses,
  entropy,
  frequencyModel,
  minimaxModel,
  opponentLearner,
  posterior,
  refutesMinimax,
  styleModel,
  uniformModel,
  type XMove,
  xMovesOf,
} from "./opponent-model.ts";
import { styleByName, styledOpponent } from "./styles.ts";

const ctx = { rng: new Rng(0) };

/**
 * A match played by random O moves, recorded as RAFA's memory records it (state, action, observed next board — a
 * game's final board when the step ended it), together with X's moves as the environment's feedback reports them.
 */
async function playMatch(
  env: TicTacToeMatchEnv,
  seed: number,
): Promise<{ memory: Experience<Board, number>[]; xCells: number[] }> {
  const rng = new Rng(seed).stream("o");
  let o = await env.reset(seed);
  const memory: Experience<Board, number>[] = [];
  const xCells = [o.board.indexOf("X") + 1];
  for (let t = 0; !env.terminal; t++) {
    const action = rng.pick(env.legalActions());
    const r = await env.step(action);
    for (const m of r.feedback.matchAll(/X (?:replies|opens at) ([1-9])/g)) xCells.push(Number(m[1]));
    const end = gameEndOf(r.info);
    const next = (end && boardFromKey(end.final)) ?? r.observation.board;
    memory.push({
      t,
      state: o.board,
      action,
      actionText: String(action),
      next,
      reward: r.reward,
      done: r.done,
      feedback: r.feedback,
    });
    o = r.observation;
  }
  return { memory, xCells };
}

describe("the X moves a memory reveals", () => {
  it("are exactly the openings and replies the environment reported, on the boards X saw", async () => {
    const env = new TicTacToeMatchEnv({ opponent: minimaxOpponent, games: 6 });
    const { memory, xCells } = await playMatch(env, 4);
    const moves = xMovesOf(memory);
    expect(moves.map((m) => m.cell)).toEqual(xCells);
    for (const { board, cell } of moves) {
      expect(emptyPositions(board)).toContain(cell);
      // Every X move of a minimax player is optimal on the board it was played on.
      expect(optimalMoves(board)).toContain(cell);
    }
    expect(moves.filter((m) => m.board === EMPTY_BOARD)).toHaveLength(6);
  });
});

describe("the posterior over styles", () => {
  const hypotheses = defaultHypotheses();
  const names = hypotheses.map((h) => h.model.name);

  it("starts at the prior: mostly minimax, the rest shared by uniform and the ten styles", () => {
    const p = posterior(hypotheses, []);
    expect(p[names.indexOf("minimax")]).toBeCloseTo(0.9, 12);
    expect(p[names.indexOf("uniform")]).toBeCloseTo(0.1 / 11, 12);
    expect(p.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
    expect(() => defaultHypotheses({ minimaxPrior: 1 })).toThrow(RangeError);
  });

  it("identifies a hidden style within one match, and its entropy falls", async () => {
    const style = styleByName("order:987654321");
    if (!style) throw new Error("family changed");
    const env = new TicTacToeMatchEnv({ opponent: styledOpponent(style), games: 5 });
    const { memory } = await playMatch(env, 11);
    const moves = xMovesOf(memory);
    const before = entropy(posterior(hypotheses, []));
    const p = posterior(hypotheses, moves);
    expect(p[names.indexOf(`style:${style.name}`)]).toBeGreaterThan(0.99);
    expect(entropy(p)).toBeLessThan(0.05);
    expect(entropy(p)).toBeLessThan(before);
    // The learner exposes the same entropy for entropy-drop switching.
    const learner = opponentLearner((m) => opponentRoles(m));
    expect(learner.entropy?.(memory)).toBeCloseTo(entropy(p), 12);
  });

  it("rules out minimax at the first move minimax never plays", () => {
    // X holds 1 and 2, O holds 4 and 5: X playing 9 ignores its win at 3 and O's threat at 6.
    let b = EMPTY_BOARD;
    for (const [p, m] of [
      [1, "X"],
      [4, "O"],
      [2, "X"],
      [5, "O"],
    ] as const)
      b = play(b, p, m);
    const blunder: XMove = { board: b, cell: 9 };
    expect(refutesMinimax([blunder])).toBe(true);
    expect(refutesMinimax([{ board: b, cell: 3 }])).toBe(false);
    const p = posterior(hypotheses, [blunder]);
    expect(p[names.indexOf("minimax")]).toBe(0);
    expect(p[names.indexOf("uniform")]).toBeGreaterThan(0);
  });
});

describe("per-state frequencies", () => {
  it("answer with the prior on unseen boards and move towards the counts on seen ones", () => {
    const b = play(EMPTY_BOARD, 5, "X");
    const afterO = play(b, 1, "O");
    const model = frequencyModel(
      uniformModel,
      [
        { board: afterO, cell: 9 },
        { board: afterO, cell: 9 },
        { board: afterO, cell: 3 },
      ],
      1,
    );
    expect(model.distribution(EMPTY_BOARD)).toEqual(uniformModel.distribution(EMPTY_BOARD));
    const d = model.distribution(afterO);
    // (2 + 1/7) / 4 for cell 9, (1 + 1/7) / 4 for cell 3, (1/7) / 4 elsewhere.
    expect(d[8]).toBeCloseTo((2 + 1 / 7) / 4, 12);
    expect(d[2]).toBeCloseTo((1 + 1 / 7) / 4, 12);
    expect(d[1]).toBeCloseTo(1 / 28, 12);
  });
});

describe("roles over an opponent model", () => {
  it("with 'X plays minimax' the critic is the minimax value and the predicted reply is optimal", async () => {
    const roles = opponentRoles(minimaxModel);
    const rng = new Rng(9);
    let b: Board = play(EMPTY_BOARD, 1, "X");
    for (let i = 0; i < 3; i++) {
      expect(await roles.critic.value(b, ctx)).toBe(minimaxValue(b));
      const o = rng.pick(emptyPositions(b));
      const afterO = play(b, o, "O");
      const reply = roles.predictReply(afterO);
      expect(optimalMoves(afterO)).toContain(reply);
      const prediction = await roles.model.predict(b, o, ctx);
      expect(prediction.state).toEqual(play(afterO, reply, "X"));
      if (prediction.done) break;
      b = prediction.state;
    }
  });

  it("the elite ranks cells by their value under the model, and the safe elite keeps only drawing ones", async () => {
    const style = styleByName("order:123456789");
    if (!style) throw new Error("family changed");
    const model = styleModel(style);
    const roles = opponentRoles(model);
    const b = play(EMPTY_BOARD, 1, "X");
    const all = await roles.elite.propose(b, 9, ctx);
    expect([...all].sort()).toEqual(emptyPositions(b));
    const q = all.map((p) => roles.gameValue(play(b, p, "O")));
    expect([...q].sort((x, y) => y - x)).toEqual(q);
    expect(await roles.elite.propose(b, 3, ctx)).toEqual(all.slice(0, 3));
    // Against X in the corner only the centre keeps the draw.
    expect(await opponentRoles(model, { safe: true }).elite.propose(b, 9, ctx)).toEqual([5]);
  });

  it("ties in the predicted reply go to the reply worst for O", () => {
    // Under uniform X every reply is equally likely; the prediction is the one with the lowest value for O.
    const roles = opponentRoles(uniformModel);
    const afterO = play(play(EMPTY_BOARD, 1, "X"), 2, "O");
    const reply = roles.predictReply(afterO);
    const values = emptyPositions(afterO).map((p) => roles.gameValue(play(afterO, p, "X")));
    expect(roles.gameValue(play(afterO, reply, "X"))).toBe(Math.min(...values));
  });
});
