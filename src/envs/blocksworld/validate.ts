/**
 * The project's own plan validator (RAFA spec §3.2 [our design], in place of the VAL binary): apply the actions in
 * order from the initial state, each only if its preconditions hold, then test the goal.
 */
import type { GroundAction, Task } from "./domain.ts";
import { actionPhrase, joinPhrases, negatedPhrase, parseActionText, type Vocabulary } from "./nl.ts";
import { applyOperator, type State, unsatisfiedGoals } from "./state.ts";

export type PlanVerdict =
  | { readonly valid: true; readonly length: number; readonly final: State }
  | {
      readonly valid: false;
      /** 1-based index of the first failing step; null when every step applies but the goal does not hold. */
      readonly step: number | null;
      readonly reason: "unparsable_step" | "unknown_action" | "precondition" | "goal_not_reached";
      /** The preconditions of the failing step, or the goal atoms, that do not hold. */
      readonly failed: readonly string[];
      /** The state where validation stopped (before the failing step, or at the end). */
      readonly state: State;
      readonly message: string;
    };

/** "the red block is not clear and the hand is not empty" (PDDL atoms without a vocabulary). */
export function describeUnmet(vocabulary: Vocabulary | undefined, atoms: readonly string[]): string {
  return vocabulary
    ? joinPhrases(atoms.map((a) => negatedPhrase(vocabulary, a)))
    : `${atoms.join(" ")} ${atoms.length === 1 ? "does" : "do"} not hold`;
}

function actionText(vocabulary: Vocabulary | undefined, action: GroundAction): string {
  return vocabulary ? actionPhrase(vocabulary, action) : action.text;
}

/** Validate a plan of ground actions. With a vocabulary the message is in words, otherwise in PDDL. */
export function validatePlan(
  task: Task,
  plan: readonly GroundAction[],
  vocabulary?: Vocabulary,
): PlanVerdict {
  let state = task.init;
  for (const [i, action] of plan.entries()) {
    const op = task.grounding.operator(action);
    if (!op) {
      return {
        valid: false,
        step: i + 1,
        reason: "unknown_action",
        failed: [],
        state,
        message: `step ${i + 1}: ${action.text} is not an action of this problem`,
      };
    }
    const r = applyOperator(state, op);
    if (!r.ok) {
      return {
        valid: false,
        step: i + 1,
        reason: "precondition",
        failed: r.failed,
        state,
        message: `step ${i + 1} (${actionText(vocabulary, action)}): ${describeUnmet(vocabulary, r.failed)}`,
      };
    }
    state = r.state;
  }
  const missing = unsatisfiedGoals(state, task.goal);
  if (missing.length > 0) {
    return {
      valid: false,
      step: null,
      reason: "goal_not_reached",
      failed: missing,
      state,
      message: `after ${plan.length} step(s) the goal is not reached: ${describeUnmet(vocabulary, missing)}`,
    };
  }
  return { valid: true, length: plan.length, final: state };
}

/** Validate a plan given as text, one action a line (PDDL or words); blank lines are skipped. */
export function validatePlanText(task: Task, text: string, vocabulary: Vocabulary): PlanVerdict {
  const plan: GroundAction[] = [];
  const objects = task.grounding.objects.map((o) => o.name);
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const parsed = parseActionText(line, { vocabulary, objects });
    if (!parsed.ok) {
      // An earlier step may already fail: that one is the first failing step.
      const prefix = validatePlan(task, plan, vocabulary);
      if (!prefix.valid && prefix.reason !== "goal_not_reached") return prefix;
      return {
        valid: false,
        step: plan.length + 1,
        reason: "unparsable_step",
        failed: [],
        state: prefix.valid ? prefix.final : prefix.state,
        message: `step ${plan.length + 1}: ${parsed.category}: ${parsed.message}`,
      };
    }
    plan.push(parsed.value);
  }
  return validatePlan(task, plan, vocabulary);
}
