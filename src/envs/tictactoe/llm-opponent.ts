/**
 * An LLM as X (spec §3.3: the opponent is an LLM asked for the optimal position, at temperature 0.2). The answer
 * is structured output — `{"cell": <enum of the empty cells>}` — and checked again on arrival, since model output
 * is untrusted. An answer that stays invalid after the repair round (or is cut at `maxTokens`) does not end the
 * game: X takes a uniformly random empty cell and the failure is counted. Any other failure (unreachable server,
 * replay miss, abort) propagates, because a silent substitute would misreport what the model did.
 */
import { z } from "zod";
import type { Rng } from "../../core/rng.ts";
import { LlmError } from "../../llm/errors.ts";
import { generateObject } from "../../llm/structured.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { type Board, emptyPositions, renderBoard } from "./board.ts";
import type { Opponent } from "./env.ts";
import { opponentPrompt } from "./prompts.ts";

export interface LlmOpponentOptions {
  readonly model: LanguageModel;
  /** Sampling temperature (default 0.2, the paper's). */
  readonly temperature?: number;
  /** Output token cap (default 32). */
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
}

export interface LlmOpponentStats {
  /** Moves asked of the model. */
  calls: number;
  /** Moves replaced by a random cell, by failure category (`schema_violation`, `truncated`, `illegal_cell`). */
  readonly failures: Record<string, number>;
}

export interface LlmOpponent extends Opponent {
  readonly stats: LlmOpponentStats;
}

/** Failures that are the model's answer, not the setup: the move falls back to a random cell. */
export function isAnswerFailure(error: unknown): error is LlmError {
  return (
    error instanceof LlmError && (error.category === "schema_violation" || error.category === "truncated")
  );
}

export function llmOpponent(options: LlmOpponentOptions): LlmOpponent {
  const stats: LlmOpponentStats = { calls: 0, failures: {} };
  const failed = (category: string) => {
    stats.failures[category] = (stats.failures[category] ?? 0) + 1;
  };
  return {
    name: `llm:${options.model.id}`,
    stats,
    async move(board: Board, rng: Rng): Promise<number> {
      const empty = emptyPositions(board);
      const texts = empty.map(String) as [string, ...string[]];
      stats.calls += 1;
      // Drawn before the call, so the stream advances the same way whether or not the answer is usable.
      const seed = rng.nextUint32() % 2 ** 31;
      const fallback = rng.pick(empty);
      try {
        const { object } = await generateObject(options.model, {
          messages: [{ role: "user", content: opponentPrompt(renderBoard(board), empty) }],
          schema: z.strictObject({ cell: z.enum(texts) }),
          name: "move",
          temperature: options.temperature ?? 0.2,
          maxTokens: options.maxTokens ?? 32,
          seed,
          ...(options.signal ? { signal: options.signal } : {}),
        });
        const cell = Number(object.cell);
        if (empty.includes(cell)) return cell;
        failed("illegal_cell");
        return fallback;
      } catch (error) {
        if (!isAnswerFailure(error)) throw error;
        failed(error.category);
        return fallback;
      }
    },
  };
}
