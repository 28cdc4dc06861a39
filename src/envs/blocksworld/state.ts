/**
 * STRIPS states: the set of ground atoms that hold (closed world), kept as a sorted, frozen array of canonical
 * atom texts so that equal states are equal arrays and `stateKey` is a cheap canonical key.
 */
import type { Operator } from "./domain.ts";

export type State = readonly string[];

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A state from atoms in any order, duplicates dropped. */
export function makeState(atoms: Iterable<string>): State {
  return Object.freeze([...new Set(atoms)].sort(byCodeUnit));
}

/** Canonical key: atom texts are parenthesised, so plain concatenation is unambiguous. */
export function stateKey(state: State): string {
  return state.join("");
}

export function holds(state: State, atom: string): boolean {
  return state.includes(atom);
}

/** The result of applying an operator: the next state, or the preconditions that do not hold (in domain order). */
export type ApplyResult = { ok: true; state: State } | { ok: false; failed: readonly string[] };

/** STRIPS semantics: all preconditions must hold; delete effects are applied before add effects. */
export function applyOperator(state: State, op: Operator): ApplyResult {
  const set = new Set(state);
  const failed = op.pre.filter((p) => !set.has(p));
  if (failed.length > 0) return { ok: false, failed };
  for (const d of op.del) set.delete(d);
  for (const a of op.add) set.add(a);
  return { ok: true, state: makeState(set) };
}

export function isApplicable(state: State, op: Operator): boolean {
  const set = new Set(state);
  return op.pre.every((p) => set.has(p));
}

/** Operators whose preconditions hold, in the grounding's order. */
export function applicableOperators(operators: readonly Operator[], state: State): Operator[] {
  const set = new Set(state);
  return operators.filter((op) => op.pre.every((p) => set.has(p)));
}

/** Goal atoms that do not hold. */
export function unsatisfiedGoals(state: State, goal: readonly string[]): string[] {
  const set = new Set(state);
  return goal.filter((g) => !set.has(g));
}

export function satisfiesGoal(state: State, goal: readonly string[]): boolean {
  return unsatisfiedGoals(state, goal).length === 0;
}
