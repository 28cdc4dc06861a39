/**
 * Judging a Game-of-24 plan (RAFA spec §3.1): lines are checked in order and checking stops at the first failure.
 * A step line must be (1) a valid move — both operands among the current numbers and the stated "left" list equal
 * to old − {a, b} + {c} as multisets — (2) calculated right, and (3) leave numbers that can still reach 24. An
 * answer line must use exactly the four puzzle numbers and equal 24. Rewards: +1 per correct step that can still
 * reach 24, +10 for a correct answer. The environment and the exact world model share these functions.
 */
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import {
  type AnswerLine,
  formatOperation,
  isAnswerLine,
  parsePlanLine,
  planLines,
  type Step,
} from "./plan.ts";
import {
  apply,
  equals,
  format,
  formatNumbers,
  isInteger,
  type Rational,
  rational,
  removeAll,
  sameMultiset,
  sorted,
  TWENTY_FOUR,
} from "./rational.ts";
import { solvable } from "./solver.ts";

export const STEP_REWARD = 1;
export const ANSWER_REWARD = 10;

/** What the agent knows and plans from: the puzzle, the committed steps and the numbers they leave. */
export interface Game24State {
  readonly puzzle: readonly Rational[];
  readonly steps: readonly Step[];
  readonly remaining: readonly Rational[];
}

export function initialState(puzzle: readonly (number | Rational)[]): Game24State {
  const numbers = puzzle.map((n) => (typeof n === "number" ? rational(n) : n));
  return { puzzle: numbers, steps: [], remaining: numbers };
}

/** The state as prompts and the search-tree explorer show it. */
export function describeState(state: Game24State): string {
  const lines = [`Numbers: ${formatNumbers(state.puzzle)}`];
  if (state.steps.length > 0) {
    lines.push("Steps so far:");
    state.steps.forEach((s, i) => {
      lines.push(`${i + 1}. ${formatOperation(s)} (left: ${formatNumbers(s.left)})`);
    });
  }
  lines.push(`Numbers left: ${formatNumbers(state.remaining)}`);
  return lines.join("\n");
}

/** Verdicts of checked lines: `correct`, a judging category, or a parse category of the line. */
export type Verdict =
  | "correct"
  | "unavailable_number"
  | "wrong_left"
  | "miscalculated"
  | "division_by_zero"
  | "unreachable"
  | "wrong_numbers"
  | "not_24"
  | "empty_plan"
  | (string & {});

export interface LineJudgement {
  /** The line as read (prefix dropped). */
  readonly text: string;
  readonly kind: "step" | "answer" | "unreadable";
  readonly verdict: Verdict;
  readonly reward: number;
  /** One sentence for the agent. */
  readonly feedback: string;
  /** The parsed step (step lines that parsed). */
  readonly step?: Step;
  /** The numbers after the step, when it is a valid move calculated right (reachable or not). */
  readonly next?: readonly Rational[];
}

/** Judge a parsed step against the current numbers; `label` names it in feedback (e.g. "Step 2"). */
export function judgeStep(
  remaining: readonly Rational[],
  step: Step,
  label: string,
  text = "",
): LineJudgement {
  const base = { text, kind: "step" as const, step };
  const rest = removeAll(remaining, [step.a, step.b]);
  if (!rest) {
    const missing = removeAll(remaining, [step.a]) ? step.b : step.a;
    const twice = equals(step.a, step.b) && removeAll(remaining, [step.a]) !== undefined;
    const why = twice
      ? `it uses ${format(step.a)} twice, but the current numbers ${formatNumbers(remaining)} hold it once`
      : `${format(missing)} is not among the current numbers ${formatNumbers(remaining)}`;
    return { ...base, verdict: "unavailable_number", reward: 0, feedback: `${label} is illegal: ${why}.` };
  }
  const expected = sorted([...rest, step.result]);
  if (!sameMultiset(expected, step.left)) {
    const stated = step.left.length === 0 ? "nothing" : formatNumbers(step.left);
    return {
      ...base,
      verdict: "wrong_left",
      reward: 0,
      feedback: `${label} is illegal: after using ${format(step.a)} and ${format(step.b)} the numbers left should be ${formatNumbers(expected)}, not ${stated}.`,
    };
  }
  const value = apply(step.op, step.a, step.b);
  if (!value.ok)
    return {
      ...base,
      verdict: "division_by_zero",
      reward: 0,
      feedback: `${label} is miscalculated: ${format(step.a)} / 0 divides by zero.`,
    };
  if (!equals(value.value, step.result)) {
    const hint = isInteger(value.value) ? "" : " Write fractions such as 7/3 rather than rounded decimals.";
    return {
      ...base,
      verdict: "miscalculated",
      reward: 0,
      feedback: `${label} is miscalculated: ${format(step.a)} ${step.op} ${format(step.b)} is ${format(value.value)}, not ${format(step.result)}.${hint}`,
    };
  }
  if (!solvable(expected))
    return {
      ...base,
      next: expected,
      verdict: "unreachable",
      reward: 0,
      feedback: `${label} is calculated right, but ${formatNumbers(expected)} cannot reach 24 any more.`,
    };
  return {
    ...base,
    next: expected,
    verdict: "correct",
    reward: STEP_REWARD,
    feedback: `${label} (${formatOperation(step)}) is correct, and ${formatNumbers(expected)} can still reach 24.`,
  };
}

/** Judge an answer line against the four puzzle numbers. */
export function judgeAnswer(puzzle: readonly Rational[], answer: AnswerLine, text = ""): LineJudgement {
  const base = { text, kind: "answer" as const };
  if (!sameMultiset(answer.literals, puzzle))
    return {
      ...base,
      verdict: "wrong_numbers",
      reward: 0,
      feedback: `The answer is wrong: it must use ${formatNumbers(puzzle)} each exactly once, but it uses ${answer.literals.length === 0 ? "no numbers" : formatNumbers(answer.literals)}.`,
    };
  if (!equals(answer.value, TWENTY_FOUR))
    return {
      ...base,
      verdict: "not_24",
      reward: 0,
      feedback: `The answer is wrong: ${answer.text} equals ${format(answer.value)}, not 24.`,
    };
  return {
    ...base,
    verdict: "correct",
    reward: ANSWER_REWARD,
    feedback: `The answer ${answer.text} = 24 is correct.`,
  };
}

/** Judge one line of text: parse it, then judge it as a step on `remaining` or as an answer. */
export function judgeLine(
  puzzle: readonly Rational[],
  remaining: readonly Rational[],
  text: string,
  stepNumber: number,
): LineJudgement {
  const label = `Step ${stepNumber}`;
  const parsed = parsePlanLine(text);
  if (!parsed.ok) {
    const what = isAnswerLine(text) ? "The answer line" : label;
    return {
      text,
      kind: "unreadable",
      verdict: parsed.category,
      reward: 0,
      feedback: `${what} cannot be read (${parsed.category}): ${parsed.message}.`,
    };
  }
  const line = parsed.value;
  return line.kind === "answer"
    ? judgeAnswer(puzzle, line.answer, line.text)
    : judgeStep(remaining, line.step, label, line.text);
}

export interface PlanJudgement {
  /** The judged lines in order; the last one failed, was an answer, or was the plan's last line. */
  readonly lines: readonly LineJudgement[];
  readonly reward: number;
  /** A correct answer was given. */
  readonly solved: boolean;
  /** The correct steps (the ones that join the committed prefix in feedback mode). */
  readonly steps: readonly Step[];
  /** The numbers after the correct steps. */
  readonly remaining: readonly Rational[];
}

/**
 * Judge a whole plan from `state`: lines in order, stopping at the first failure or at the answer line. Step lines
 * chain from one another within the attempt; `firstStepNumber` numbers them in feedback.
 */
export function judgePlan(state: Game24State, text: string, firstStepNumber: number): PlanJudgement {
  const lines: LineJudgement[] = [];
  const steps: Step[] = [];
  let remaining = state.remaining;
  let reward = 0;
  let solved = false;
  const candidates = planLines(text);
  if (candidates.length === 0)
    lines.push({
      text: "",
      kind: "unreadable",
      verdict: "empty_plan",
      reward: 0,
      feedback: "The attempt contains no step line and no answer line.",
    });
  for (const candidate of candidates) {
    const j = judgeLine(state.puzzle, remaining, candidate, firstStepNumber + steps.length);
    lines.push(j);
    reward += j.reward;
    if (j.verdict !== "correct") break;
    if (j.kind === "answer") {
      solved = true;
      break;
    }
    if (j.step && j.next) {
      steps.push(j.step);
      remaining = j.next;
    }
  }
  return { lines, reward, solved, steps, remaining };
}

/** Apply a step known to be a valid move (a and b present) to a state, with its computed result. */
export function applyStep(state: Game24State, step: Step): ParseResult<Game24State> {
  const rest = removeAll(state.remaining, [step.a, step.b]);
  if (!rest) return fail("unavailable_number", "the step uses numbers that are not available");
  const value = apply(step.op, step.a, step.b);
  if (!value.ok) return value;
  const remaining = sorted([...rest, value.value]);
  return ok({
    puzzle: state.puzzle,
    steps: [...state.steps, { ...step, result: value.value, left: remaining }],
    remaining,
  });
}
