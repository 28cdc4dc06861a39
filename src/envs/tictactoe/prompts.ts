/**
 * Prompt text for Tic-Tac-Toe (our own wording; RAFA's code has no licence, so none of its prompts are copied).
 */
export const TASK = [
  "You are playing Tic-Tac-Toe as O against an opponent playing X. X moves first.",
  "The board has cells numbered 1 to 9, row by row; an empty cell shows its number.",
  "Three of your marks in a row, column or diagonal win. Choose one empty cell for your next move.",
].join("\n");
