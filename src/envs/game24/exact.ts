/**
 * Exact twins of RAFA's Game-of-24 roles at step granularity (spec §3.1 "Exact twins"). A planner state is the
 * puzzle, the committed steps and the numbers left (`Game24State`); an action is one plan line (text), the same
 * type the environment takes, so an agent can submit what the elite proposes.
 *
 * - Elite: every move on the current multiset, one step line each, deduplicated; for each pair it proposes a + b,
 *   a × b, larger − smaller, and both quotients (no division by zero). Differences are taken larger − smaller
 *   because b − a = −(a − b) adds nothing a positive-numbers game needs (checked on all 1,362 puzzles in the
 *   tests); from the positive puzzle numbers every proposal is therefore non-negative. When the numbers left are
 *   exactly 24, it proposes the answer line built from the committed steps. Asked for fewer than all moves
 *   (`breadth`), it proposes a uniformly random subset drawn from the role context's stream; a breadth of
 *   `MAX_PROPOSALS` always gets all of them.
 * - Model: the arithmetic. A valid, correctly calculated step leads to the numbers it leaves, with the reward the
 *   environment would pay (1 if 24 is still reachable, else 0); the environment does not commit a dead-end step,
 *   but the planner's imagined trajectory follows it so the critic can judge where it leads, as in the paper's
 *   tree search. A correct answer pays 10 and ends the episode; anything the environment would reject leaves the
 *   state unchanged with reward 0.
 * - Critic: exact solvability of the numbers left — 1 ("sure") or 0 ("impossible"), the two ends of the paper's
 *   sure / likely / impossible labels.
 */
import type { Roles } from "../../core/roles.ts";
import { show } from "./expression.ts";
import { formatAnswerLine, formatStep, type Step } from "./plan.ts";
import { apply, equals, type Rational, removeAll, sorted, TWENTY_FOUR } from "./rational.ts";
import { type Game24State, initialState, judgePlan } from "./rules.ts";
import { buildExpression, type SolverStep, solvable, solve } from "./solver.ts";

/** Most moves the elite proposes in one state (6 pairs × 5 operations on four numbers). */
export const MAX_PROPOSALS = 30;

/** All elite moves on a multiset, in a fixed order (pairs ascending, then +, ×, −, ÷). */
export function moves(remaining: readonly Rational[]): Step[] {
  const vs = sorted(remaining);
  const out: Step[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < vs.length; i++) {
    for (let j = i + 1; j < vs.length; j++) {
      const small = vs[i] as Rational;
      const big = vs[j] as Rational;
      const rest = vs.filter((_, k) => k !== i && k !== j);
      const candidates: [Rational, Step["op"], Rational][] = [
        [big, "+", small],
        [big, "*", small],
        [big, "-", small],
        [big, "/", small],
        [small, "/", big],
      ];
      for (const [a, op, b] of candidates) {
        const r = apply(op, a, b);
        if (!r.ok) continue;
        const step: Step = { a, op, b, result: r.value, left: sorted([...rest, r.value]) };
        const line = formatStep(step);
        if (seen.has(line)) continue; // repeated numbers and a = b give the same line twice
        seen.add(line);
        out.push(step);
      }
    }
  }
  return out;
}

function asSolverSteps(steps: readonly Step[]): SolverStep[] {
  return steps.map(({ a, op, b, result }) => ({ a, op, b, result }));
}

/** The answer line the committed steps spell, when they leave exactly 24. */
export function answerLine(state: Game24State): string | undefined {
  const only = state.remaining[0];
  if (state.remaining.length !== 1 || !only || !equals(only, TWENTY_FOUR)) return undefined;
  return formatAnswerLine(buildExpression(state.puzzle, asSolverSteps(state.steps)));
}

/**
 * A full action text that finishes the puzzle from `state`: the remaining step lines of a solver witness, then
 * the answer built from the committed and the new steps. Undefined when the numbers left cannot reach 24.
 */
export function completionPlan(state: Game24State): string | undefined {
  const witness = solve(state.remaining);
  if (!witness) return undefined;
  const lines: string[] = [];
  let numbers: readonly Rational[] = state.remaining;
  for (const s of witness.steps) {
    const rest = removeAll(numbers, [s.a, s.b]);
    if (!rest) throw new Error("completionPlan: the witness uses a number that is not left"); // solver invariant
    numbers = sorted([...rest, s.result]);
    lines.push(formatStep({ ...s, left: numbers }));
  }
  const expr = buildExpression(state.puzzle, [...asSolverSteps(state.steps), ...witness.steps]);
  lines.push(formatAnswerLine(expr));
  return lines.join("\n");
}

/** The gold-style plan for a puzzle (three steps and the answer), or undefined when it is unsolvable. */
export function goldPlan(puzzle: readonly (number | Rational)[]): string | undefined {
  return completionPlan(initialState(puzzle));
}

/** The expression of a solver witness for a puzzle, e.g. `(10 - 4) * (5 - 1)`. */
export function solutionExpression(puzzle: readonly (number | Rational)[]): string | undefined {
  const witness = solve(initialState(puzzle).puzzle);
  return witness ? show(witness.expression) : undefined;
}

export type ValueLabel = "sure" | "likely" | "impossible";

/** The exact critic's label: "sure" when the numbers left can reach 24, else "impossible". */
export function criticLabel(state: Game24State): ValueLabel {
  return solvable(state.remaining) ? "sure" : "impossible";
}

export const exactRoles: Roles<Game24State, string> = {
  elite: {
    async propose(state, breadth, ctx) {
      const answer = answerLine(state);
      if (answer) return [answer];
      const all = moves(state.remaining).map(formatStep);
      if (breadth >= all.length) return all;
      // A narrower elite proposes a uniform random subset (kept in canonical order), not always the first pairs.
      const chosen = ctx.rng
        .shuffle(all.map((_, i) => i))
        .slice(0, Math.max(0, breadth))
        .sort((a, b) => a - b);
      return chosen.map((i) => all[i] as string);
    },
  },
  model: {
    async predict(state, action) {
      const judged = judgePlan(state, action, state.steps.length + 1);
      const last = judged.lines[judged.lines.length - 1];
      const steps = [...state.steps, ...judged.steps];
      if (last?.verdict === "unreachable" && last.step && last.next)
        return {
          state: { puzzle: state.puzzle, steps: [...steps, last.step], remaining: last.next },
          reward: judged.reward,
          done: false,
        };
      const next =
        judged.steps.length === 0 ? state : { puzzle: state.puzzle, steps, remaining: judged.remaining };
      return { state: next, reward: judged.reward, done: judged.solved };
    },
  },
  critic: {
    async value(state) {
      return solvable(state.remaining) ? 1 : 0;
    },
  },
};
