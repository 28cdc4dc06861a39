/**
 * RAFA's Tic-Tac-Toe roles played by a language model (spec §3.3, §4), and the learner that writes the memory into
 * their prompts:
 *
 * - elite: the top-B cells for O, `{"cells": [<enum of the empty cells>]}`;
 * - model: X's most likely reply and the board after it, `{"reply": <enum>, "board": [9 × "X" | "O" | "."]}`,
 *   with in-context examples of the latest mispredictions from memory (what was predicted, what X really did);
 * - critic: the outcome label `{"outcome": "O wins" | "draw" | "X wins"}` → +1 / 0 / −1.
 *
 * The learner's in-context summary: the mispredictions, and the cells X took in past moves. Without learning
 * (`learn: false`) the prompts never show the memory.
 *
 * Model output is untrusted: each answer is validated by the schema and again against the board. Failures are
 * named and counted, never fatal: `elite_format` / `elite_illegal` drop the proposals (the agent falls back to a
 * random legal cell at the root), `model_format` replaces the reply by a random empty cell, `model_board` marks a
 * board inconsistent with the rules (the rules' board after the reply is used), `critic_format` gives the neutral
 * value 0. Failures that are not the model's answer (unreachable server, replay miss, abort) propagate.
 * Terminal positions are read off the board by the rules (reward, done), so no call asks who won a finished game.
 */
import { z } from "zod";
import type { Experience, Learner, Prediction, RoleContext, Roles } from "../../core/roles.ts";
import { generateObject } from "../../llm/structured.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { type Board, boardKey, emptyPositions, isOver, play, renderBoard, toMove, winner } from "./board.ts";
import { isAnswerFailure } from "./llm-opponent.ts";
import { xMovesOf } from "./opponent-model.ts";
import { criticPrompt, elitePrompt, type MispredictionExample, modelPrompt } from "./prompts.ts";

export type LlmRoleFailure =
  | "elite_format"
  | "elite_illegal"
  | "model_format"
  | "model_board"
  | "critic_format";

export interface LlmRoleStats {
  /** Calls by role. */
  readonly calls: { elite: number; model: number; critic: number };
  readonly failures: Record<LlmRoleFailure, number>;
}

export function emptyLlmRoleStats(): LlmRoleStats {
  return {
    calls: { elite: 0, model: 0, critic: 0 },
    failures: { elite_format: 0, elite_illegal: 0, model_format: 0, model_board: 0, critic_format: 0 },
  };
}

export interface LlmRolesOptions {
  readonly model: LanguageModel;
  /** Sampling temperature of every role (default 0.2, the paper's). */
  readonly temperature?: number;
  /** Output token cap per call (default 160: the model's answer holds a board). */
  readonly maxTokens?: number;
  /** Past mispredictions shown to the model, most recent (default 5). */
  readonly examples?: number;
  /** Where failures and calls are counted (shared by the roles of every epoch). */
  readonly stats?: LlmRoleStats;
}

/** What the learner took from memory into the prompts. */
export interface LlmContext {
  /** A line summarising the cells X took, or "". */
  readonly notes: string;
  readonly examples: readonly MispredictionExample[];
}

const NO_CONTEXT: LlmContext = { notes: "", examples: [] };

const OUTCOMES = { "O wins": 1, draw: 0, "X wins": -1 } as const;
const MARKS = ["X", "O", "."] as const;

function seedOf(ctx: RoleContext): number {
  return ctx.rng.nextUint32() % 2 ** 31;
}

/** Answers of one epoch by question, so each question is asked once while the roles stay the same. */
function once<T>(memo: Map<string, Promise<T>>, key: string, compute: () => Promise<T>): Promise<T> {
  let answer = memo.get(key);
  if (!answer) {
    answer = compute();
    memo.set(key, answer);
  }
  return answer;
}

/**
 * The roles for one epoch: the prompts carry `context`. Each question (board and breadth, board and move, board)
 * is asked once per epoch, like the exact twins' fixed answers between switches; RAFA's check of the chosen
 * move's prediction then reuses the planner's answer instead of sampling a new one.
 */
export function llmRoles(options: LlmRolesOptions, context: LlmContext = NO_CONTEXT): Roles<Board, number> {
  const roles = uncachedLlmRoles(options, context);
  const proposals = new Map<string, Promise<readonly number[]>>();
  const predictions = new Map<string, Promise<Prediction<Board>>>();
  const values = new Map<string, Promise<number>>();
  return {
    elite: {
      propose: (board, breadth, ctx) =>
        once(proposals, `${boardKey(board)}/${breadth}`, () => roles.elite.propose(board, breadth, ctx)),
    },
    model: {
      predict: (board, action, ctx) =>
        once(predictions, `${boardKey(board)}/${action}`, () => roles.model.predict(board, action, ctx)),
    },
    critic: { value: (board, ctx) => once(values, boardKey(board), () => roles.critic.value(board, ctx)) },
  };
}

function uncachedLlmRoles(options: LlmRolesOptions, context: LlmContext): Roles<Board, number> {
  const stats = options.stats ?? emptyLlmRoleStats();
  const temperature = options.temperature ?? 0.2;
  const maxTokens = options.maxTokens ?? 160;

  async function ask<T>(schema: z.ZodType<T>, name: string, content: string, ctx: RoleContext) {
    return generateObject(options.model, {
      messages: [{ role: "user", content }],
      schema,
      name,
      temperature,
      maxTokens,
      seed: seedOf(ctx),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  }

  return {
    elite: {
      async propose(board, breadth, ctx) {
        const empty = emptyPositions(board);
        if (empty.length === 0 || isOver(board)) return [];
        stats.calls.elite += 1;
        // Longer lists than asked are accepted and cut to B below, rather than rejected whole.
        const schema = z.strictObject({
          cells: z
            .array(z.enum(empty.map(String) as [string, ...string[]]))
            .min(1)
            .max(9),
        });
        try {
          const { object } = await ask(
            schema,
            "cells",
            elitePrompt(renderBoard(board), empty, breadth, context.notes),
            ctx,
          );
          const cells = [...new Set(object.cells.map(Number))]
            .filter((c) => empty.includes(c))
            .slice(0, breadth);
          if (cells.length === 0) stats.failures.elite_illegal += 1;
          return cells;
        } catch (error) {
          if (!isAnswerFailure(error)) throw error;
          stats.failures.elite_format += 1;
          return [];
        }
      },
    },
    model: {
      async predict(board, action, ctx): Promise<Prediction<Board>> {
        if (board[action - 1] !== null) return { state: board, reward: -1, done: true };
        const afterO = play(board, action, "O");
        if (isOver(afterO)) return { state: afterO, reward: winner(afterO) === "O" ? 1 : 0, done: true };
        const empty = emptyPositions(afterO);
        stats.calls.model += 1;
        const schema = z.strictObject({
          reply: z.enum(empty.map(String) as [string, ...string[]]),
          board: z.array(z.enum(MARKS)).length(9),
        });
        let reply: number;
        try {
          const { object } = await ask(
            schema,
            "prediction",
            modelPrompt(
              renderBoard(board),
              action,
              renderBoard(afterO),
              empty,
              context.notes,
              context.examples,
            ),
            ctx,
          );
          reply = Number(object.reply);
          const expected = play(afterO, reply, "X");
          if (object.board.some((m, i) => (m === "." ? null : m) !== expected[i]))
            stats.failures.model_board += 1;
        } catch (error) {
          if (!isAnswerFailure(error)) throw error;
          stats.failures.model_format += 1;
          reply = ctx.rng.pick(empty);
        }
        const next = play(afterO, reply, "X");
        return { state: next, reward: winner(next) === "X" ? -1 : 0, done: isOver(next) };
      },
    },
    critic: {
      async value(board, ctx) {
        if (isOver(board)) return 0; // terminal rewards are paid by the model
        stats.calls.critic += 1;
        const schema = z.strictObject({ outcome: z.enum(["O wins", "draw", "X wins"]) });
        try {
          const { object } = await ask(
            schema,
            "outcome",
            criticPrompt(renderBoard(board), toMove(board), context.notes),
            ctx,
          );
          return OUTCOMES[object.outcome];
        } catch (error) {
          if (!isAnswerFailure(error)) throw error;
          stats.failures.critic_format += 1;
          return 0;
        }
      },
    },
  };
}

/** The cell X took in reply (or undefined), from a board after O's move and the board that followed. */
function replyIn(afterO: Board, next: Board): number | undefined {
  const added = next.flatMap((c, i) => (c === "X" && afterO[i] === null ? [i + 1] : []));
  return added.length === 1 ? added[0] : undefined;
}

/** The in-context summary of a memory: the latest mispredictions and the cells X took. */
export function llmContextOf(memory: readonly Experience<Board, number>[], examples = 5): LlmContext {
  const wrong: MispredictionExample[] = [];
  for (const e of memory) {
    const p = e.predicted;
    if (!p || e.state[e.action - 1] !== null) continue;
    const afterO = play(e.state, e.action, "O");
    const predictedReply = replyIn(afterO, p.state);
    const actualReply = replyIn(afterO, e.next);
    if (predictedReply === actualReply && p.done === e.done && p.reward === e.reward) continue;
    wrong.push({
      boardText: renderBoard(e.state),
      oMove: e.action,
      predictedReply,
      actualReply,
      actualBoardText: renderBoard(e.next),
    });
  }
  const counts = new Map<number, number>();
  for (const { cell } of xMovesOf(memory)) counts.set(cell, (counts.get(cell) ?? 0) + 1);
  const notes =
    counts.size === 0
      ? ""
      : `In the moves seen so far X took: ${[...counts]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .map(([cell, n]) => `cell ${cell} ${n}x`)
          .join(", ")}.`;
  return { notes, examples: examples > 0 ? wrong.slice(-examples) : [] };
}

/**
 * The LLM learner: memory → prompts that show it (`learn: true`), or the same prompts without memory (`learn:
 * false`, the no-learning baseline). `stats` counts every role's calls and failures across epochs.
 */
export function llmLearner(
  options: LlmRolesOptions & { readonly learn?: boolean },
): Learner<Board, number> & { readonly stats: LlmRoleStats } {
  const stats = options.stats ?? emptyLlmRoleStats();
  const learn = options.learn ?? true;
  return {
    stats,
    learn(memory) {
      return llmRoles({ ...options, stats }, learn ? llmContextOf(memory, options.examples) : NO_CONTEXT);
    },
  };
}
