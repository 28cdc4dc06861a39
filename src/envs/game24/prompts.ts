/**
 * Prompt text for the Game of 24 (our own wording: RAFA's code has no licence, so none of its or ToT's prompts are
 * copied; only the role of each is kept, spec §4). Each prompt is a function of the planner state; the parsers
 * below turn replies into step lines or value labels with a named category on failure, so a bad reply is a
 * dropped proposal or a missing label, never a crash.
 */
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import type { ValueLabel } from "./exact.ts";
import { formatOperation, parsePlanLine, planLines } from "./plan.ts";
import { formatNumbers } from "./rational.ts";
import type { Game24State } from "./rules.ts";

/** Bumped whenever a template's wording changes or one is added (cached replies are keyed by prompt text anyway). */
export const PROMPT_VERSION = "game24-prompts/2";

/** The rules, as the agent's system message. */
export const TASK = [
  "We are playing the Game of 24. You get four numbers and must combine all of them into 24,",
  "using each number exactly once and only addition, subtraction, multiplication and division, with brackets as needed.",
  "Work one step at a time. Each step takes two of the numbers you have, combines them with one operation, and",
  "replaces them by the result, written as: a op b = c (left: the numbers you have after the step).",
  "Write fractions as 7/3, never as rounded decimals. After three steps a single number, 24, is left; then give",
  "the whole calculation on one line as: Answer: <expression using the four original numbers> = 24",
].join("\n");

function committedSteps(state: Game24State): string {
  if (state.steps.length === 0) return "";
  const lines = state.steps.map((s) => `${formatOperation(s)} (left: ${formatNumbers(s.left)})`);
  return `Steps taken so far:\n${lines.join("\n")}\n`;
}

/**
 * Elite: ask for candidate next steps from the numbers left, one step line each (1-shot, our own example).
 * The example's lines are valid moves; the tests check that they parse and are calculated right.
 */
export function proposePrompt(state: Game24State, count = 10): string {
  return [
    `List up to ${count} different possible next steps. Each step uses two of the numbers, and each line has the form`,
    "a op b = c (left: the remaining numbers). Write only the step lines, one per line.",
    "",
    "Example",
    "Numbers: 3 5 7 11",
    "Possible next steps:",
    ...EXAMPLE_PROPOSALS,
    "",
    `Numbers: ${formatNumbers(state.remaining)}`,
    "Possible next steps:",
  ].join("\n");
}

/** The example in `proposePrompt` (exported so the tests can check it). */
export const EXAMPLE_PROPOSALS: readonly string[] = [
  "3 + 5 = 8 (left: 7 8 11)",
  "11 - 7 = 4 (left: 3 4 5)",
  "3 * 7 = 21 (left: 5 11 21)",
  "5 * 11 = 55 (left: 3 7 55)",
  "11 - 3 = 8 (left: 5 7 8)",
  "7 / 3 = 7/3 (left: 5 7/3 11)",
];
export const EXAMPLE_NUMBERS: readonly number[] = [3, 5, 7, 11];

/** Critic: can the numbers left still make 24? The reply ends with sure, likely or impossible. */
export function valuePrompt(state: Game24State): string {
  return [
    `Numbers: ${formatNumbers(state.remaining)}`,
    "Can these numbers be combined into exactly 24, using each of them once and only + - * / with brackets?",
    "Try a few promising combinations briefly. A single number counts only if it is 24 itself.",
    "Then write one last line holding a single word:",
    "sure (you found a way), likely (close, or too many options to rule out) or impossible (they are clearly too",
    "small, too large, or every combination fails).",
  ].join("\n");
}

/** Critic for a finished plan: does the answer use the four numbers once each and equal 24? */
export function answerValuePrompt(state: Game24State, answer: string): string {
  return [
    `Original numbers: ${formatNumbers(state.puzzle)}`,
    `Proposed answer: ${answer}`,
    "Check two things: the expression uses each original number exactly once and no other numbers, and it",
    "evaluates to exactly 24. Work it out briefly, then write one last line holding a single word:",
    "sure (both hold) or impossible (either fails).",
  ].join("\n");
}

/** Answer writing: turn the committed steps (which leave 24) into one expression over the original numbers. */
export function answerPrompt(state: Game24State): string {
  return [
    `Original numbers: ${formatNumbers(state.puzzle)}`,
    committedSteps(state).trimEnd(),
    "These steps reach 24. Substitute each intermediate result by the step that produced it, so that the",
    "expression uses each original number exactly once, and write a single line:",
    "Answer: <expression> = 24",
  ]
    .filter((l) => l.length > 0)
    .join("\n");
}

/** The observation as the agent's user message: puzzle, committed steps, numbers left. */
export function statePrompt(state: Game24State): string {
  return [
    `Numbers: ${formatNumbers(state.puzzle)}`,
    committedSteps(state).trimEnd(),
    `Numbers left: ${formatNumbers(state.remaining)}`,
  ]
    .filter((l) => l.length > 0)
    .join("\n");
}

/** How the official RAFA code weighs value labels when it sums critic samples (spec §3.1). */
export const VALUE_WEIGHTS: Readonly<Record<ValueLabel, number>> = { sure: 20, likely: 1, impossible: 0.001 };

/** The label on the reply's last non-empty line (`critic_label_missing` when there is none or several). */
export function parseValueLabel(reply: string): ParseResult<ValueLabel> {
  const last = reply
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .at(-1);
  if (last === undefined) return fail("critic_label_missing", "the reply is empty");
  const found = [...new Set(last.toLowerCase().match(/\b(?:sure|likely|impossible)\b/g) ?? [])];
  const label = found[0];
  if (found.length !== 1 || label === undefined)
    return fail(
      "critic_label_missing",
      `the last line "${last.slice(0, 60)}" does not hold exactly one of sure, likely, impossible`,
    );
  return ok(label as ValueLabel);
}

export interface Proposals {
  /** The readable step lines, in the reply's order, without repeats. */
  readonly lines: readonly string[];
  /** Lines that were not readable step lines, with why (an elite format error each). */
  readonly dropped: readonly { readonly line: string; readonly category: string }[];
}

/** Step lines from an elite reply; unreadable ones are dropped with their category (checked later by the env). */
export function parseProposals(reply: string, max = Number.POSITIVE_INFINITY): Proposals {
  const lines: string[] = [];
  const dropped: { line: string; category: string }[] = [];
  for (const line of planLines(reply)) {
    const parsed = parsePlanLine(line);
    if (!parsed.ok) dropped.push({ line, category: parsed.category });
    else if (parsed.value.kind !== "step") dropped.push({ line, category: "not_a_step" });
    else if (!lines.includes(parsed.value.text) && lines.length < max) lines.push(parsed.value.text);
  }
  return { lines, dropped };
}

/** One line of what has been learned: a step line or a number set, with what the checker's feedback showed. */
export interface LearnedLine {
  readonly text: string;
  readonly label: string;
}

/**
 * The learner's reflections (spec §3.1: "what has been learned about the puzzle"), written in front of a prompt:
 * the step lines tried with their outcome (Elite memory) and the number sets known to reach 24 or not (Critic
 * memory). Empty when nothing has been learned yet.
 */
export function learnedPrompt(steps: readonly LearnedLine[], numbers: readonly LearnedLine[]): string {
  if (steps.length === 0 && numbers.length === 0) return "";
  const out = ["What the checker's feedback has shown about this puzzle so far:"];
  if (steps.length > 0) {
    out.push("Steps tried (sure: 24 is still reachable after it; impossible: it is not; invalid: rejected):");
    for (const s of steps) out.push(`${s.text}: ${s.label}`);
  }
  if (numbers.length > 0) {
    out.push("Number sets (sure: they can make 24; impossible: they cannot):");
    for (const n of numbers) out.push(`${n.text}: ${n.label}`);
  }
  out.push("Do not propose a step marked impossible or invalid again.");
  return out.join("\n");
}

/** Critic with structured output: the same question, answered as a JSON object holding the label. */
export function valueChoicePrompt(state: Game24State): string {
  return [
    `Numbers: ${formatNumbers(state.remaining)}`,
    "Can these numbers be combined into exactly 24, using each of them once and only + - * / with brackets?",
    'Answer with a JSON object {"label": ...} whose label is "sure" (you see a way), "likely" (close, or too',
    'many options to rule out) or "impossible" (too small, too large, or every combination fails).',
  ].join("\n");
}

/**
 * Elite with structured output: choose the most promising of the valid moves (listed), best first. Used when the
 * model should not write step lines itself (e.g. a small local model under a grammar).
 */
export function choosePrompt(state: Game24State, legal: readonly string[], count: number): string {
  return [
    `Numbers: ${formatNumbers(state.remaining)}`,
    "Valid next steps:",
    ...legal,
    `Choose up to ${count} of these steps that are most likely to lead to 24, best first.`,
    'Answer with a JSON object {"steps": [...]} holding the chosen lines exactly as written above.',
  ].join("\n");
}

/** What a prompt of this module asks, read back from its text (for test servers that answer like a model). */
export type PromptQuestion =
  | { readonly kind: "propose"; readonly numbers: string; readonly count: number }
  | { readonly kind: "value"; readonly numbers: string; readonly structured: boolean }
  | {
      readonly kind: "choose";
      readonly numbers: string;
      readonly legal: readonly string[];
      readonly count: number;
    }
  | { readonly kind: "answer"; readonly puzzle: string; readonly steps: readonly string[] };

/** The question of a prompt built by `proposePrompt`, `valuePrompt`, `valueChoicePrompt`, `choosePrompt`, `answerPrompt`. */
export function readPrompt(text: string): ParseResult<PromptQuestion> {
  const lines = text.split(/\r?\n/);
  const numbersBefore = (i: number) => {
    for (let j = i; j >= 0; j--) {
      const m = /^Numbers: (.*)$/.exec(lines[j] ?? "");
      if (m?.[1] !== undefined) return m[1].trim();
    }
    return undefined;
  };
  const propose = lines.lastIndexOf("Possible next steps:");
  if (propose >= 0 && propose === lines.length - 1) {
    const numbers = numbersBefore(propose);
    const count = /List up to (\d+) different possible next steps/.exec(text)?.[1];
    if (numbers !== undefined && count !== undefined)
      return ok({ kind: "propose", numbers, count: Number(count) });
  }
  const valid = lines.indexOf("Valid next steps:");
  if (valid >= 0) {
    const numbers = numbersBefore(valid);
    const end = lines.findIndex((l, i) => i > valid && l.startsWith("Choose up to "));
    const count = /^Choose up to (\d+) /.exec(lines[end] ?? "")?.[1];
    if (numbers !== undefined && end > valid && count !== undefined)
      return ok({ kind: "choose", numbers, legal: lines.slice(valid + 1, end), count: Number(count) });
  }
  const question = lines.findIndex((l) => l.startsWith("Can these numbers be combined into exactly 24"));
  if (question >= 0) {
    const numbers = numbersBefore(question);
    if (numbers !== undefined)
      return ok({ kind: "value", numbers, structured: text.includes('{"label": ...}') });
  }
  const original = lines.findIndex((l) => l.startsWith("Original numbers: "));
  if (original >= 0 && text.includes("These steps reach 24.")) {
    const steps = lines.filter((l, i) => i > original && l.includes("(left: "));
    return ok({ kind: "answer", puzzle: (lines[original] ?? "").slice(18).trim(), steps });
  }
  return fail("unknown_prompt", "not a Game-of-24 prompt of this module");
}
