import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import type { Experience } from "../../core/roles.ts";
import { LlmError } from "../../llm/errors.ts";
import { MockLanguageModel } from "../../llm/testing/mock.ts";
import type { GenerateRequest } from "../../llm/types.ts";
import { type Board, EMPTY_BOARD, emptyPositions, play } from "./board.ts";
import { llmOpponent } from "./llm-opponent.ts";
import { emptyLlmRoleStats, llmContextOf, llmLearner, llmRoles } from "./llm-roles.ts";
import { gameEndOf, TicTacToeMatchEnv } from "./match.ts";

const ctx = () => ({ rng: new Rng(1) });

const board = (moves: readonly (readonly [number, "X" | "O"])[]): Board =>
  moves.reduce<Board>((b, [p, m]) => play(b, p, m), EMPTY_BOARD);

/** The enum of the first property of the request's schema (the cells or labels the answer may use). */
function choices(request: GenerateRequest): string[] {
  const schema = request.responseFormat?.schema as { properties?: Record<string, { enum?: string[] }> };
  return Object.values(schema.properties ?? {})[0]?.enum ?? [];
}

describe("the LLM opponent", () => {
  it("plays a match with moves from structured output over the empty cells, at the configured temperature", async () => {
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: (r) => JSON.stringify({ cell: choices(r).at(-1) }),
    });
    const opponent = llmOpponent({ model, temperature: 0.7 });
    const env = new TicTacToeMatchEnv({ opponent, games: 2 });
    const rng = new Rng(2);
    let o = await env.reset(4);
    // X takes the highest empty cell: 9 on the empty board.
    expect(o.board[8]).toBe("X");
    while (!env.terminal) o = (await env.step(rng.pick(env.legalActions()))).observation;
    expect(opponent.stats.calls).toBe(model.calls.length);
    expect(opponent.stats.failures).toEqual({});
    for (const { request } of model.calls) {
      expect(request.temperature).toBe(0.7);
      expect(request.messages[0]?.content).toContain("You play X.");
      expect(choices(request).length).toBeGreaterThan(0);
    }
  });

  it("replaces an answer that stays invalid by a random empty cell and counts it; setup errors propagate", async () => {
    const b = board([
      [5, "X"],
      [1, "O"],
    ]);
    const garbled = llmOpponent({ model: new MockLanguageModel({ respond: () => '{"cell": "1"}' }) });
    const cell = await garbled.move(b, new Rng(3));
    expect(emptyPositions(b)).toContain(cell);
    expect(garbled.stats.failures).toEqual({ schema_violation: 1 });
    const refused = llmOpponent({
      model: new MockLanguageModel({ respond: () => new LlmError("auth", "bad key") }),
    });
    await expect(refused.move(b, new Rng(3))).rejects.toMatchObject({ category: "auth" });
  });
});

describe("the LLM roles", () => {
  it("elite: distinct legal cells, at most B, best first", async () => {
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: () => JSON.stringify({ cells: ["3", "3", "7", "1"] }),
    });
    const stats = emptyLlmRoleStats();
    const roles = llmRoles({ model, stats });
    const b = board([[5, "X"]]);
    expect(await roles.elite.propose(b, 2, ctx())).toEqual([3, 7]);
    const schema = model.calls[0]?.request.responseFormat?.schema as {
      properties: { cells: { maxItems: number; items: { enum: string[] } } };
    };
    expect(schema.properties.cells.maxItems).toBe(9);
    expect(schema.properties.cells.items.enum).toEqual(emptyPositions(b).map(String));
    expect(model.calls[0]?.request.messages[0]?.content).toContain("List up to 2 different empty cells");
    // The same question in the same epoch is asked once.
    await roles.elite.propose(b, 2, ctx());
    expect(stats.calls.elite).toBe(1);
    expect(stats.failures).toMatchObject({ elite_format: 0, elite_illegal: 0 });
  });

  it("model: X's reply and the board after it; a board that contradicts the reply is counted", async () => {
    const b = board([[5, "X"]]);
    const consistent = ["O", ".", ".", ".", "X", ".", ".", ".", "X"];
    let answer = { reply: "9", board: consistent };
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: () => JSON.stringify(answer),
    });
    const stats = emptyLlmRoleStats();
    const roles = llmRoles({ model, stats });
    const p = await roles.model.predict(b, 1, ctx());
    expect(p).toEqual({ state: play(play(b, 1, "O"), 9, "X"), reward: 0, done: false });
    expect(stats.failures.model_board).toBe(0);
    answer = { reply: "9", board: [...consistent.slice(0, 8), "."] };
    await roles.model.predict(b, 2, ctx());
    expect(stats.failures.model_board).toBe(1);
    // A move that ends the game is read off the board by the rules, without a call.
    const winning = board([
      [1, "X"],
      [4, "O"],
      [2, "X"],
      [5, "O"],
      [9, "X"],
    ]);
    const calls = model.calls.length;
    expect(await roles.model.predict(winning, 6, ctx())).toMatchObject({ reward: 1, done: true });
    expect(model.calls).toHaveLength(calls);
  });

  it("critic: labels map to +1 / 0 / −1, a missing label to 0 (counted)", async () => {
    let label = "O wins";
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: () => JSON.stringify({ outcome: label }),
    });
    const stats = emptyLlmRoleStats();
    const b = board([[5, "X"]]);
    expect(await llmRoles({ model, stats }).critic.value(b, ctx())).toBe(1);
    label = "X wins";
    expect(await llmRoles({ model, stats }).critic.value(b, ctx())).toBe(-1);
    label = "nobody";
    expect(await llmRoles({ model, stats }).critic.value(b, ctx())).toBe(0);
    expect(stats.failures.critic_format).toBe(1);
  });
});

describe("the LLM learner", () => {
  /** One real step: X was predicted to reply `predicted` but replied `actual`. */
  function surprise(
    state: Board,
    action: number,
    predicted: number,
    actual: number,
  ): Experience<Board, number> {
    const afterO = play(state, action, "O");
    return {
      t: 0,
      state,
      action,
      actionText: String(action),
      predicted: { state: play(afterO, predicted, "X"), reward: 0, done: false },
      next: play(afterO, actual, "X"),
      reward: 0,
      done: false,
      feedback: "",
    };
  }

  it("writes past mispredictions and X's cells into the prompts; without learning the prompts never change", async () => {
    const b = board([[5, "X"]]);
    const memory = [surprise(b, 1, 9, 3)];
    const context = llmContextOf(memory);
    expect(context.examples).toEqual([
      expect.objectContaining({ oMove: 1, predictedReply: 9, actualReply: 3 }),
    ]);
    expect(context.notes).toBe("In the moves seen so far X took: cell 3 1x, cell 5 1x.");
    expect(
      llmContextOf([{ ...memory[0], next: memory[0]?.predicted?.state } as Experience<Board, number>])
        .examples,
    ).toEqual([]);

    const prompts: string[] = [];
    const model = new MockLanguageModel({
      capabilities: { jsonSchema: true },
      respond: (r) => {
        prompts.push(r.messages[0]?.content ?? "");
        return JSON.stringify({ reply: choices(r)[0], board: Array(9).fill(".") });
      },
    });
    const next = play(play(b, 1, "O"), 3, "X");
    for (const learn of [true, false]) {
      const roles = await llmLearner({ model, learn }).learn(memory, ctx());
      await roles.model.predict(next, 9, ctx());
    }
    expect(prompts[0]).toContain("Past predictions that were wrong");
    expect(prompts[0]).toContain("It was predicted that X would reply 9; X actually replied 3");
    expect(prompts[1]).not.toContain("Past predictions");
    expect(prompts[1]).not.toContain("X took");
  });

  it("shows a game's last move too: the final board comes from the step's info", () => {
    // The learner works on RAFA's memory, whose `next` for a game-ending step is the final board (see match.ts).
    expect(gameEndOf({ game: 2, outcome: -1, final: "XXXOO...." })).toEqual({
      game: 2,
      outcome: -1,
      final: "XXXOO....",
    });
    expect(gameEndOf({ game: 2 })).toBeUndefined();
  });
});
