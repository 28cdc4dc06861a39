/**
 * Prompt text for Tic-Tac-Toe (our own wording; RAFA's code has no licence, so none of its prompts are copied).
 */
export const TASK = [
  "You are playing Tic-Tac-Toe as O against an opponent playing X. X moves first.",
  "The board has cells numbered 1 to 9, row by row; an empty cell shows its number.",
  "Three of your marks in a row, column or diagonal win. Choose one empty cell for your next move.",
].join("\n");

/** Version of the prompt templates below; bump it when their wording changes (cached answers then differ). */
export const PROMPT_VERSION = 1;

const RULES = [
  "Tic-Tac-Toe on a 3x3 board. Cells are numbered 1 to 9, row by row; an empty cell shows its number.",
  "X moves first, then the players alternate. Three marks in a row, column or diagonal win; a full board",
  "without a line is a draw.",
].join("\n");

/** The LLM opponent (X): asked for the best cell, as the paper's opponent was ("optimal position"). */
export function opponentPrompt(boardText: string, empty: readonly number[]): string {
  return [
    RULES,
    "",
    "You play X. Pick the strongest move for X: win now if you can, stop O from winning next, and otherwise",
    "take the cell that gives X the best chances.",
    "",
    "Board:",
    boardText,
    "",
    `Empty cells: ${empty.join(", ")}`,
    'Answer with JSON: {"cell": "<one empty cell>"}.',
  ].join("\n");
}

/** A past misprediction shown to the LLM model as an in-context example. */
export interface MispredictionExample {
  readonly boardText: string;
  readonly oMove: number;
  readonly predictedReply: number | undefined;
  readonly actualReply: number | undefined;
  readonly actualBoardText: string;
}

/** Elite: the agent's top-B candidate cells for O. */
export function elitePrompt(
  boardText: string,
  empty: readonly number[],
  breadth: number,
  notes: string,
): string {
  return [
    TASK,
    "",
    "Board (O to move):",
    boardText,
    "",
    `Empty cells: ${empty.join(", ")}`,
    ...(notes ? ["", notes] : []),
    "",
    `List up to ${breadth} different empty cells for O's next move, best first.`,
    'Answer with JSON: {"cells": ["<cell>", ...]}.',
  ].join("\n");
}

/** Model: the board after O's move and X's most likely reply. */
export function modelPrompt(
  boardText: string,
  oMove: number,
  afterText: string,
  empty: readonly number[],
  notes: string,
  examples: readonly MispredictionExample[],
): string {
  const shown = examples.map((e, i) =>
    [
      `Example ${i + 1}: on this board O played ${e.oMove}:`,
      e.boardText,
      `It was predicted that X would reply ${e.predictedReply ?? "?"}; X actually replied ${e.actualReply ?? "(the game ended)"}, giving:`,
      e.actualBoardText,
    ].join("\n"),
  );
  return [
    RULES,
    "",
    "Predict how the opponent X answers a move of O.",
    ...(notes ? ["", notes] : []),
    ...(shown.length > 0
      ? ["", "Past predictions that were wrong, with what really happened:", ...shown]
      : []),
    "",
    "Board:",
    boardText,
    "",
    `O plays ${oMove}, which gives:`,
    afterText,
    "",
    `Empty cells for X: ${empty.join(", ")}`,
    'Answer with JSON: {"reply": "<the cell X most likely takes>", "board": ["<X, O or . for cells 1 to 9>", ...]}',
    "where board is the position after X's reply.",
  ].join("\n");
}

/** Critic: who wins from this position with sensible play by both sides. */
export function criticPrompt(boardText: string, toMove: "X" | "O", notes: string): string {
  return [
    RULES,
    "",
    "Board:",
    boardText,
    "",
    `${toMove} is to move.${notes ? `\n${notes}` : ""}`,
    "Check each row, column and diagonal, then judge how this game ends with good play from here.",
    'Answer with JSON: {"outcome": "O wins" | "draw" | "X wins"}.',
  ].join("\n");
}
