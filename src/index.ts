/**
 * bayesact: principled LLM agents with exact twins for every LLM role.
 * Subpath exports: `bayesact/core`, `bayesact/llm`.
 */

export { createLookaheadAgent, type LookaheadOptions } from "./agents/lookahead.ts";
export * from "./core/index.ts";
export { minimaxOpponent, type Opponent, randomOpponent, TicTacToeEnv } from "./envs/tictactoe/env.ts";
export { exactRoles as tictactoeExactRoles } from "./envs/tictactoe/exact.ts";
export * from "./llm/index.ts";
