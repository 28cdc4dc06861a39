/**
 * Optimal planning for STRIPS tasks: A* with the admissible h_max heuristic (the cost of the most expensive goal
 * atom in the delete relaxation). Re-opening states whose cost improves keeps the result optimal with any
 * admissible heuristic. Used for the exact critic (optimal distance to the goal) and for the optimal length of
 * problems that come without a gold plan.
 */
import { BayesactError } from "../../core/errors.ts";
import type { GroundAction, Grounding, Operator } from "./domain.ts";
import { applyOperator, type State, stateKey } from "./state.ts";

export interface PlannerOptions {
  /** `hmax` (default) or `none` (plain breadth-first order; the same optimal lengths, more states expanded). */
  readonly heuristic?: "hmax" | "none";
  /** Give up with a `planner_limit` error after expanding this many states (default 2,000,000). */
  readonly maxExpansions?: number;
}

export interface PlanResult {
  /** An optimal plan, or undefined when the goal is unreachable from the start state. */
  readonly plan: readonly GroundAction[] | undefined;
  /** States expanded by the search. */
  readonly expanded: number;
}

interface IndexedOperator {
  readonly op: Operator;
  readonly pre: readonly number[];
  readonly add: readonly number[];
  readonly del: readonly number[];
}

/** Min-heap on (f, h, insertion order): deterministic, and ties go to the deeper node. */
class Heap<T> {
  private items: { f: number; h: number; n: number; value: T }[] = [];
  private count = 0;

  get size(): number {
    return this.items.length;
  }

  private less(i: number, j: number): boolean {
    const a = this.items[i];
    const b = this.items[j];
    if (!a || !b) return false;
    return a.f !== b.f ? a.f < b.f : a.h !== b.h ? a.h < b.h : a.n < b.n;
  }

  private swap(i: number, j: number): void {
    const a = this.items[i];
    const b = this.items[j];
    if (!a || !b) return;
    this.items[i] = b;
    this.items[j] = a;
  }

  push(f: number, h: number, value: T): void {
    this.items.push({ f, h, n: this.count++, value });
    let i = this.items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const top = this.items[0];
    const last = this.items.pop();
    if (!top || !last) return undefined;
    if (this.items.length > 0) {
      this.items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < this.items.length && this.less(l, m)) m = l;
        if (r < this.items.length && this.less(r, m)) m = r;
        if (m === i) break;
        this.swap(i, m);
        i = m;
      }
    }
    return top.value;
  }
}

/**
 * Optimal distances to one goal over one grounding, memoised: every state on an optimal path found gets its
 * (exact) distance recorded, so a critic querying the states an agent visits mostly hits the memo.
 */
export class DistanceOracle {
  readonly grounding: Grounding;
  readonly goal: readonly string[];
  private readonly options: PlannerOptions;
  private readonly index = new Map<string, number>();
  private readonly ops: IndexedOperator[];
  private readonly goalIdx: number[];
  private readonly memo = new Map<string, number>();
  /** Expanded states over all searches (for benchmarks). */
  expandedTotal = 0;

  constructor(grounding: Grounding, goal: readonly string[], options: PlannerOptions = {}) {
    this.grounding = grounding;
    this.goal = goal;
    this.options = options;
    const id = (atom: string) => {
      let i = this.index.get(atom);
      if (i === undefined) {
        i = this.index.size;
        this.index.set(atom, i);
      }
      return i;
    };
    this.goalIdx = goal.map(id);
    this.ops = grounding.operators.map((op) => ({
      op,
      pre: op.pre.map(id),
      add: op.add.map(id),
      del: op.del.map(id),
    }));
  }

  /** Atoms that no operator or goal mentions never change and never matter, so the search drops them. */
  private encode(state: State): number[] {
    const out: number[] = [];
    for (const atom of state) {
      const i = this.index.get(atom);
      if (i !== undefined) out.push(i);
    }
    return out.sort((a, b) => a - b);
  }

  private static key(atoms: readonly number[]): string {
    return String.fromCharCode(...atoms);
  }

  /** h_max: relaxed cost of the dearest goal atom; Infinity when some goal atom is unreachable even relaxed. */
  private hmax(atoms: readonly number[]): number {
    if (this.options.heuristic === "none") return 0;
    const cost = new Array<number>(this.index.size).fill(Number.POSITIVE_INFINITY);
    for (const a of atoms) cost[a] = 0;
    for (let changed = true; changed; ) {
      changed = false;
      for (const o of this.ops) {
        let c = 0;
        for (const p of o.pre) c = Math.max(c, cost[p] ?? Number.POSITIVE_INFINITY);
        if (c === Number.POSITIVE_INFINITY) continue;
        for (const a of o.add) {
          if (c + 1 < (cost[a] ?? Number.POSITIVE_INFINITY)) {
            cost[a] = c + 1;
            changed = true;
          }
        }
      }
    }
    let h = 0;
    for (const g of this.goalIdx) h = Math.max(h, cost[g] ?? Number.POSITIVE_INFINITY);
    return h;
  }

  private isGoal(set: ReadonlySet<number>): boolean {
    return this.goalIdx.every((g) => set.has(g));
  }

  /** An optimal plan from `state` to the goal (A*). */
  solve(state: State): PlanResult {
    const start = this.encode(state);
    const startKey = DistanceOracle.key(start);
    const limit = this.options.maxExpansions ?? 2_000_000;
    const g = new Map<string, number>([[startKey, 0]]);
    const parent = new Map<string, { from: string; op: IndexedOperator }>();
    const open = new Heap<{ key: string; atoms: number[]; g: number }>();
    const h0 = this.hmax(start);
    if (h0 !== Number.POSITIVE_INFINITY) open.push(h0, h0, { key: startKey, atoms: start, g: 0 });
    let expanded = 0;
    while (open.size > 0) {
      const node = open.pop();
      if (!node || node.g > (g.get(node.key) ?? Number.POSITIVE_INFINITY)) continue; // stale entry
      const set = new Set(node.atoms);
      if (this.isGoal(set)) {
        this.expandedTotal += expanded;
        return { plan: this.reconstruct(node.key, parent), expanded };
      }
      if (++expanded > limit) {
        this.expandedTotal += expanded;
        throw new BayesactError(
          "planner_limit",
          `the planner expanded ${limit} states without reaching the goal; the problem is too large for optimal search`,
          { userFacing: true },
        );
      }
      for (const o of this.ops) {
        if (!o.pre.every((p) => set.has(p))) continue;
        const next = new Set(set);
        for (const d of o.del) next.delete(d);
        for (const a of o.add) next.add(a);
        const atoms = [...next].sort((a, b) => a - b);
        const key = DistanceOracle.key(atoms);
        const ng = node.g + 1;
        if (ng >= (g.get(key) ?? Number.POSITIVE_INFINITY)) continue;
        const h = this.hmax(atoms);
        if (h === Number.POSITIVE_INFINITY) continue; // dead end: some goal atom is unreachable
        g.set(key, ng);
        parent.set(key, { from: node.key, op: o });
        open.push(ng + h, h, { key, atoms, g: ng });
      }
    }
    this.expandedTotal += expanded;
    this.memo.set(stateKey(state), Number.POSITIVE_INFINITY);
    return { plan: undefined, expanded };
  }

  private reconstruct(goalKey: string, parent: ReadonlyMap<string, { from: string; op: IndexedOperator }>) {
    const ops: IndexedOperator[] = [];
    for (let k = goalKey, p = parent.get(k); p; k = p.from, p = parent.get(k)) ops.push(p.op);
    return ops.reverse().map((o) => o.op.action);
  }

  /**
   * The optimal number of actions from `state` to the goal; Infinity when unreachable. Memoised, and every state
   * on the optimal path found is memoised too (a suffix of an optimal plan is optimal).
   */
  distance(state: State): number {
    const key = stateKey(state);
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const { plan } = this.solve(state);
    if (!plan) return Number.POSITIVE_INFINITY;
    let s = state;
    for (const [i, action] of plan.entries()) {
      this.memo.set(stateKey(s), plan.length - i);
      const op = this.grounding.operator(action);
      const next = op ? applyOperator(s, op) : undefined;
      if (!next?.ok) return plan.length; // cannot happen: the plan came from these operators
      s = next.state;
    }
    this.memo.set(stateKey(s), 0);
    return plan.length;
  }
}

/** An optimal plan for a task's initial state (convenience over `DistanceOracle`). */
export function optimalPlan(
  grounding: Grounding,
  init: State,
  goal: readonly string[],
  options: PlannerOptions = {},
): PlanResult {
  return new DistanceOracle(grounding, goal, options).solve(init);
}
