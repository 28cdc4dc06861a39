/**
 * Imperfect twins of RAFA's Game-of-24 roles at step granularity (issue 5): the exact roles corrupted at a
 * configurable rate with the keyed corruption of `envs/imperfect.ts`, so a wrong answer is given consistently
 * within an episode — like a wrong belief — until a learner overrides it with what the feedback showed.
 *
 * - Critic: on a `criticRate` fraction of number multisets (two or more numbers) it mislabels, sure ↔ impossible.
 *   A single number is 24 or not by arithmetic and is never mislabelled.
 * - Elite: on an `eliteRate` fraction of number multisets it misses the right moves (those whose numbers left can
 *   still reach 24): it ranks them after every wrong move, so with fewer proposals than wrong moves it proposes
 *   none of them. Elsewhere it proposes a uniform random subset, as the exact elite does. Ranking rather than
 *   deleting keeps the error repairable: once the learner rules out enough wrong lines, the right ones surface.
 *   The answer line (when 24 is left) is substitution, not search, and is always proposed.
 * - Model: arithmetic (`arithmeticModel`), optionally miscalculating a `modelRate` fraction of (numbers, line)
 *   pairs by predicting a result one too large.
 *
 * The model of the imperfect and LLM roles is arithmetic only: it does not pay the environment's "can still reach
 * 24" reward, because that is the critic's question — an exact solver hidden in the model would make the critic's
 * errors harmless. The exact twins (`exactRoles`) keep the environment's simulator, reward included.
 */
import type { Rng } from "../../core/rng.ts";
import type { Prediction, Roles, WorldModel } from "../../core/roles.ts";
import { keyedUniform } from "../imperfect.ts";
import { answerLine, moves } from "./exact.ts";
import { formatStep, parsePlanLine, planLines } from "./plan.ts";
import { add, equals, multisetKey, rational, sameMultiset, sorted } from "./rational.ts";
import { ANSWER_REWARD, applyStep, type Game24State, judgeAnswer, STEP_REWARD } from "./rules.ts";
import { solvable } from "./solver.ts";

/**
 * Default corruption rate of the imperfect critic and elite: 0.3, the fraction of number sets on which each one is
 * wrong (a sizeable prior error that feedback must repair; see the bench's offline table for its effect).
 */
export const DEFAULT_CORRUPTION_RATE = 0.3;

/** What the critic reads and the elite's memory is keyed by: the numbers left, sorted. */
export function numbersKey(state: Game24State): string {
  return multisetKey(state.remaining);
}

/**
 * Canonical text of a plan line, so that `4*6=24 (left: 24)` and `4 * 6 = 24 (left: 24)` are one line in memory.
 * Unreadable lines keep their trimmed text.
 */
export function lineKey(line: string): string {
  const first = planLines(line)[0] ?? line.trim();
  const parsed = parsePlanLine(first);
  if (!parsed.ok) return first;
  return parsed.value.kind === "step" ? formatStep(parsed.value.step) : `Answer: ${parsed.value.answer.text}`;
}

/**
 * The arithmetic world model: a valid, correctly calculated step leads to the numbers it leaves with reward
 * `STEP_REWARD` (whether 24 is still reachable is left to the critic); a correct answer pays `ANSWER_REWARD` and
 * ends the episode. A line the checker would reject (unreadable, illegal, miscalculated, a wrong answer) ends the
 * attempt with nothing — the environment stops judging at it — so it is predicted as terminal with reward 0.
 */
export function predictLine(state: Game24State, action: string): Prediction<Game24State> {
  const dead = { state, reward: 0, done: true };
  const line = planLines(action)[0];
  if (line === undefined) return dead;
  const parsed = parsePlanLine(line);
  if (!parsed.ok) return dead;
  if (parsed.value.kind === "answer") {
    const judged = judgeAnswer(state.puzzle, parsed.value.answer);
    return judged.verdict === "correct" ? { state, reward: ANSWER_REWARD, done: true } : dead;
  }
  const step = parsed.value.step;
  const applied = applyStep(state, step);
  if (!applied.ok) return dead;
  const next = applied.value;
  const computed = next.steps[next.steps.length - 1];
  if (!computed || !equals(computed.result, step.result) || !sameMultiset(step.left, next.remaining))
    return dead;
  return { state: next, reward: STEP_REWARD, done: false };
}

export const arithmeticModel: WorldModel<Game24State, string> = {
  async predict(state, action) {
    return predictLine(state, action);
  },
};

/** The right moves of a state: step lines whose numbers left can still reach 24. */
function isRightMove(line: string, state: Game24State): boolean {
  const p = predictLine(state, line);
  return !p.done && solvable(p.state.remaining);
}

export interface CorruptionRates {
  /** Fraction of number sets the critic mislabels (default `DEFAULT_CORRUPTION_RATE`). */
  readonly criticRate?: number;
  /** Fraction of number sets in which the elite misses the right moves (default `DEFAULT_CORRUPTION_RATE`). */
  readonly eliteRate?: number;
  /** Fraction of (numbers, step line) pairs the model miscalculates (default 0). */
  readonly modelRate?: number;
}

export interface ImperfectOptions extends CorruptionRates {
  /** The corruption pattern's seed (drawn once per episode by the learner). */
  readonly seed: number | string;
}

/** Exact critic on the 0–1 scale of `exactRoles`: 1 ("sure") when the numbers left can reach 24, else 0. */
const exactValue = (state: Game24State) => (solvable(state.remaining) ? 1 : 0);

/**
 * The imperfect twins' answers, synchronously (a test server answering prompts as the twins would needs them so).
 * Corruption is keyed as `corruptCritic` / `corruptElite` / `corruptModel` key it (`critic:`, `elite:`, `model:`
 * plus the key, under `seed`), so these answers are the roles' answers.
 */
export class ImperfectTwin {
  readonly criticRate: number;
  readonly eliteRate: number;
  readonly modelRate: number;
  readonly seed: number | string;

  constructor(options: ImperfectOptions) {
    this.criticRate = checkRate(options.criticRate ?? DEFAULT_CORRUPTION_RATE);
    this.eliteRate = checkRate(options.eliteRate ?? DEFAULT_CORRUPTION_RATE);
    this.modelRate = checkRate(options.modelRate ?? 0);
    this.seed = options.seed;
  }

  /** The critic's value: exact solvability, flipped on a `criticRate` fraction of number sets (of two or more). */
  value(state: Game24State): number {
    const truth = exactValue(state);
    if (state.remaining.length < 2) return truth;
    return keyedUniform(this.seed, `critic:${numbersKey(state)}`) < this.criticRate ? 1 - truth : truth;
  }

  /** Every move in the elite's order: random (its sampling), with the right moves last where it is corrupted. */
  ranked(state: Game24State, rng: Rng): string[] {
    const lines = rng.shuffle(moves(state.remaining).map(formatStep));
    if (keyedUniform(this.seed, `elite:${numbersKey(state)}`) >= this.eliteRate) return lines;
    return [...lines.filter((l) => !isRightMove(l, state)), ...lines.filter((l) => isRightMove(l, state))];
  }

  /** Up to `breadth` proposals: the answer line when 24 is left, else the first `breadth` of `ranked`. */
  propose(state: Game24State, breadth: number, rng: Rng): string[] {
    const answer = answerLine(state);
    if (answer) return [answer];
    const chosen = new Set(this.ranked(state, rng).slice(0, Math.max(0, breadth)));
    // Canonical order, like the exact elite: the planner's tie-breaking should not see the ranking.
    return moves(state.remaining)
      .map(formatStep)
      .filter((l) => chosen.has(l));
  }

  /** The model's prediction: arithmetic, miscalculated on a `modelRate` fraction of (numbers, line) pairs. */
  predict(state: Game24State, action: string): Prediction<Game24State> {
    const p = predictLine(state, action);
    if (this.modelRate === 0) return p;
    const key = `model:${numbersKey(state)}\u0000${lineKey(action)}`;
    return keyedUniform(this.seed, key) < this.modelRate ? miscalculate(p) : p;
  }
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`corruption rate must be in [0, 1], got ${rate}`);
  return rate;
}

/** The imperfect twins as roles (see the module comment). */
export function imperfectRoles(options: ImperfectOptions): Roles<Game24State, string> {
  const twin = new ImperfectTwin(options);
  return {
    elite: { propose: async (state, breadth, ctx) => twin.propose(state, breadth, ctx.rng) },
    model: { predict: async (state, action) => twin.predict(state, action) },
    critic: { value: async (state) => twin.value(state) },
  };
}

/** A miscalculated prediction of a valid step: its result one too large, and the numbers left to match. */
function miscalculate(prediction: Prediction<Game24State>): Prediction<Game24State> {
  const last = prediction.state.steps[prediction.state.steps.length - 1];
  if (prediction.done || !last) return prediction;
  const wrong = add(last.result, rational(1));
  const rest = prediction.state.remaining.slice();
  const i = rest.findIndex((x) => equals(x, last.result));
  if (i < 0) return prediction;
  rest.splice(i, 1, wrong);
  const remaining = sorted(rest);
  const steps = [...prediction.state.steps.slice(0, -1), { ...last, result: wrong, left: remaining }];
  return { ...prediction, state: { ...prediction.state, steps, remaining } };
}
