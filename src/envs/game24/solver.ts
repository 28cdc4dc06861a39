/**
 * Complete Game-of-24 solver: the exact twin of "can these numbers still reach 24?" (RAFA spec §3.1, [our design]).
 *
 * Every binary expression tree over a multiset is reached by repeatedly replacing two of the numbers by one
 * result (a+b, a−b, b−a, a×b, a÷b, b÷a), so searching those reductions covers all trees — unlike the official
 * brute force, which tries 3 of the 5 tree shapes for four numbers. Arithmetic is exact; intermediate results may
 * be negative or fractional. Results are memoised by the sorted multiset, so a whole data set shares work.
 */
import type { Expr } from "./expression.ts";
import {
  apply,
  equals,
  format,
  multisetKey,
  type Op,
  type Rational,
  sorted,
  TWENTY_FOUR,
} from "./rational.ts";

/** One reduction `a op b = result`. */
export interface SolverStep {
  readonly a: Rational;
  readonly op: Op;
  readonly b: Rational;
  readonly result: Rational;
}

/** A solution: the reductions in order and the single expression they build. */
export interface Witness {
  readonly steps: readonly SolverStep[];
  readonly expression: Expr;
}

/**
 * Memo by target and sorted multiset. All 1,362 puzzles need about 22,000 entries; model-written numbers add more
 * over a long run, so the table is dropped when it passes `MEMO_LIMIT` (a cache, not state: results are the same).
 */
const memo = new Map<string, readonly SolverStep[] | null>();
export const MEMO_LIMIT = 200_000;

/** The ordered operand pairs and operations tried for two numbers, without repeats when a = b. */
function combinations(a: Rational, b: Rational): [Rational, Op, Rational][] {
  const out: [Rational, Op, Rational][] = [
    [a, "+", b],
    [a, "*", b],
    [a, "-", b],
    [a, "/", b],
  ];
  if (!equals(a, b)) out.push([b, "-", a], [b, "/", a]);
  return out;
}

function search(values: readonly Rational[], target: Rational): readonly SolverStep[] | null {
  if (values.length === 1) return equals(values[0] as Rational, target) ? [] : null;
  const k = `${format(target)}|${multisetKey(values)}`;
  const cached = memo.get(k);
  if (cached !== undefined) return cached;
  const vs = sorted(values);
  let found: readonly SolverStep[] | null = null;
  const triedPairs = new Set<string>();
  outer: for (let i = 0; i < vs.length; i++) {
    for (let j = i + 1; j < vs.length; j++) {
      const a = vs[i] as Rational;
      const b = vs[j] as Rational;
      const pairKey = `${format(a)} ${format(b)}`;
      if (triedPairs.has(pairKey)) continue; // repeated numbers give the same pair again
      triedPairs.add(pairKey);
      const rest = vs.filter((_, idx) => idx !== i && idx !== j);
      for (const [x, op, y] of combinations(a, b)) {
        const r = apply(op, x, y);
        if (!r.ok) continue; // division by zero: no such tree
        const tail = search([...rest, r.value], target);
        if (tail) {
          found = [{ a: x, op, b: y, result: r.value }, ...tail];
          break outer;
        }
      }
    }
  }
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(k, found);
  return found;
}

/** A witness that `numbers` reach `target` (default 24) using each number exactly once, or undefined. */
export function solve(numbers: readonly Rational[], target: Rational = TWENTY_FOUR): Witness | undefined {
  if (numbers.length === 0) return undefined;
  const steps = search(numbers, target);
  if (!steps) return undefined;
  return { steps, expression: buildExpression(numbers, steps) };
}

export function solvable(numbers: readonly Rational[], target: Rational = TWENTY_FOUR): boolean {
  return numbers.length > 0 && search(numbers, target) !== null;
}

/**
 * Replay reductions on (value, expression) pairs that start as the given numbers, so the final expression uses
 * each number exactly once. When several entries share a value any of them is correct (each holds a disjoint part
 * of the numbers); the latest is taken, as a step usually works on the result it just made.
 */
export function buildExpression(numbers: readonly Rational[], steps: readonly SolverStep[]): Expr {
  const pool: { value: Rational; expr: Expr }[] = numbers.map((v) => ({
    value: v,
    expr: { kind: "num", value: v, text: format(v) },
  }));
  const take = (v: Rational): Expr => {
    const i = pool.findLastIndex((p) => equals(p.value, v));
    const entry = pool[i];
    if (!entry) throw new Error(`buildExpression: ${format(v)} is not available`);
    pool.splice(i, 1);
    return entry.expr;
  };
  for (const s of steps) {
    const left = take(s.a);
    const right = take(s.b);
    pool.push({ value: s.result, expr: { kind: "bin", op: s.op, left, right } });
  }
  const only = pool[0];
  if (pool.length !== 1 || !only) throw new Error("buildExpression: the steps do not reduce to one number");
  return only.expr;
}

/** Entries in the memo table (for diagnostics and benchmarks). */
export function solverMemoSize(): number {
  return memo.size;
}

/** Empty the memo table (benchmarks measure cold solving with it). */
export function clearSolverMemo(): void {
  memo.clear();
}
