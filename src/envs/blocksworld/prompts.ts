/**
 * LLM-facing texts for BlocksWorld, in our own wording (no prompt of RAFA_code, RAP or PlanBench is copied). The
 * domain rules are the data set's `domain_intro` (part of the MIT-licensed data). States, goals and actions use
 * the official NL rendering (nl.ts), so a model sees the phrasing of the published setting.
 */
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import type { GroundAction } from "./domain.ts";
import type { BlocksWorldState } from "./env.ts";
import { renderAction, renderGoal, renderPlan, renderState, type Vocabulary } from "./nl.ts";

export const PROMPT_VERSION = "blocksworld/1";

/** The task: the domain rules and what an answer looks like. */
export function taskText(vocabulary: Vocabulary): string {
  return [
    vocabulary.domainIntro.trim(),
    "",
    "Each turn you choose exactly one of these actions. Write it as a plain sentence such as",
    '"Pick up the red block" or "Stack the red block on top of the blue block", naming blocks by colour.',
  ].join("\n");
}

/** The current state and the goal, as two sentences. */
export function statement(vocabulary: Vocabulary, state: BlocksWorldState): string {
  return `${renderState(vocabulary, state.atoms)}\n${renderGoal(vocabulary, state.goal)}`;
}

function history(vocabulary: Vocabulary, done: readonly GroundAction[]): string {
  if (done.length === 0) return "No actions have been taken yet.";
  return ["Actions taken so far:", ...done.map((a, i) => `${i + 1}. ${renderAction(vocabulary, a)}`)].join(
    "\n",
  );
}

/** Elite: ask for the next action (one line; parse it with `parseActionText`). */
export function proposePrompt(
  vocabulary: Vocabulary,
  state: BlocksWorldState,
  done: readonly GroundAction[],
): string {
  return [
    taskText(vocabulary),
    "",
    statement(vocabulary, state),
    history(vocabulary, done),
    "",
    "Which single action brings me closest to the goal from here? Answer with that action on one line and nothing else.",
  ].join("\n");
}

/** World model: ask for the state after an action (one line; parse it with `parseStateText`). */
export function predictPrompt(vocabulary: Vocabulary, state: BlocksWorldState, action: GroundAction): string {
  return [
    vocabulary.domainIntro.trim(),
    "",
    renderState(vocabulary, state.atoms),
    `Action: ${renderAction(vocabulary, action)}.`,
    "",
    "Describe every fact that holds after this action, in the same style as the state above: one line starting",
    'with "I have that," and listing the facts separated by commas, with "and" before the last one. If the',
    "action is not allowed by the rules, repeat the state unchanged.",
  ].join("\n");
}

/** Critic: ask how many actions remain (parse it with `parseJudgement`). */
export function judgePrompt(vocabulary: Vocabulary, state: BlocksWorldState): string {
  return [
    vocabulary.domainIntro.trim(),
    "",
    statement(vocabulary, state),
    "",
    "Judge the progress towards the goal: what is the smallest number of further actions that reaches it?",
    'Reason briefly if you like, then end with a last line of the form "Remaining: N" (N = 0 if the goal holds).',
  ].join("\n");
}

/** The number on the judge's last "Remaining: N" line, a whole number of actions. */
export function parseJudgement(text: string): ParseResult<number> {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\W*remaining\W*:\s*\**\s*(\d{1,4})\b/i.exec(lines[i] ?? "");
    if (m?.[1]) return ok(Number(m[1]));
  }
  return fail("critic_label_missing", 'no "Remaining: N" line in the judgement');
}

/** A solved problem shown to the prior's prompt: a start, a goal and a shortest plan. */
export interface SolvedExample {
  readonly init: readonly string[];
  readonly goal: readonly string[];
  readonly plan: readonly GroundAction[];
}

function problemBlock(vocabulary: Vocabulary, atoms: readonly string[], goal: readonly string[]): string {
  return `Problem:\n${renderState(vocabulary, atoms)}\n${renderGoal(vocabulary, goal)}\nPlan:\n`;
}

/**
 * Prior r₀ (RAP's action likelihood): the text after which each candidate action is scored. Solved examples,
 * then the current state and goal, ending where the next plan line starts; score `priorContinuation(action)`.
 */
export function priorPrompt(
  vocabulary: Vocabulary,
  examples: readonly SolvedExample[],
  state: BlocksWorldState,
): string {
  const intro =
    examples.length > 0
      ? "Each problem below lists the facts that hold, the goal, and a shortest plan reaching the goal, one action per line.\n\n"
      : "The problem below lists the facts that hold and the goal; a shortest plan follows, one action per line.\n\n";
  const solved = examples.map(
    (e) => `${problemBlock(vocabulary, e.init, e.goal)}${renderPlan(vocabulary, e.plan)}\nEnd of plan.\n\n`,
  );
  return `${vocabulary.domainIntro.trim()}\n\n${intro}${solved.join("")}${problemBlock(vocabulary, state.atoms, state.goal)}`;
}

/** The scored continuation of `priorPrompt`: one plan line. */
export function priorContinuation(vocabulary: Vocabulary, action: GroundAction): string {
  return `${renderAction(vocabulary, action)}\n`;
}

/** Prior r₀ without log-likelihoods: ask for one of the legal actions (answer with structured output). */
export function choicePrompt(
  vocabulary: Vocabulary,
  state: BlocksWorldState,
  options: readonly GroundAction[],
): string {
  return [
    vocabulary.domainIntro.trim(),
    "",
    statement(vocabulary, state),
    "",
    "These actions are possible now:",
    ...options.map((a) => `- ${renderAction(vocabulary, a)}`),
    "",
    'Which one is the best next step towards the goal? Answer with JSON: {"action": "<the action exactly as listed>"}.',
  ].join("\n");
}
