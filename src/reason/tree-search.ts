/**
 * RAFA's deterministic planner (spec §1.3): depth-U, breadth-B tree search. From the root the elite proposes B
 * actions per node, the model predicts successors to depth U and the critic values the leaves; a sequence
 * scores Σ_{u<U} γ^u r_u + γ^U V̂(s_U), cut short at terminal states (V̂ = 0 there) and at states where the
 * elite proposes nothing (valued by the critic). The search is exhaustive over the B^U sequences and returns the
 * best one; only its first action is meant to be executed.
 *
 * Cost control beyond the role memo: the best continuation from a state with k steps left is computed once
 * (a transposition table, like the Tic-Tac-Toe planner's memo of optimal action and value per state), so a state
 * reached by several paths is searched once; its later occurrences appear in the tree as leaves carrying the
 * shared value. Optional pruning: `maxValue`.
 */
import type { RoleContext, Roles } from "../core/roles.ts";
import { memoKeys, RoleMemo } from "./memo.ts";
import { argmax, TreeRecorder } from "./tree.ts";
import { checkCount, checkGamma, type PlanResult, type SearchOptions, throwIfAborted } from "./types.ts";

export interface TreeSearchOptions<S, A> extends SearchOptions<S, A> {
  /** B: actions asked of the elite per node. */
  readonly breadth: number;
  /** U: actions per sequence (the planning horizon). */
  readonly depth: number;
  /**
   * An upper bound on the score of any node (r + γ·(what follows), from any state), e.g. +1 in Tic-Tac-Toe.
   * When an action attains it, its untried siblings are skipped (they cannot do better): the spec's "early stop
   * on +1". The search stays exact; among equally good actions it then keeps the first found instead of
   * drawing one at random. Omit for a full search.
   */
  readonly maxValue?: number;
}

interface Solution<A> {
  readonly score: number;
  readonly plan: readonly A[];
  /** The tree node of the first action (in the tree where this solution was first computed). */
  readonly child: number | null;
}

export async function treeSearch<S, A>(
  roles: Roles<S, A>,
  root: S,
  options: TreeSearchOptions<S, A>,
  ctx: RoleContext,
): Promise<PlanResult<A>> {
  const breadth = checkCount("breadth", options.breadth, true);
  const depth = checkCount("depth", options.depth);
  const gamma = checkGamma(options.gamma ?? 1);
  const { maxValue } = options;
  const keys = memoKeys(options);
  const memo = new RoleMemo(roles, keys, options.valueSamples ?? 1);
  const describeState = options.describeState ?? keys.stateKey;
  const formatAction = options.formatAction ?? keys.actionKey;
  const tree = new TreeRecorder();
  const solved = new Map<string, Solution<A>>();

  /** The best continuation from a non-terminal `state` with `left` ≥ 1 actions to go. */
  async function search(state: S, left: number, node: number): Promise<Solution<A>> {
    const key = `${keys.stateKey(state)}\u0000${left}`;
    const known = solved.get(key);
    if (known) return known;
    const proposals = await memo.propose(state, breadth, ctx);
    let solution: Solution<A>;
    if (proposals.length === 0) {
      solution = { score: await memo.value(state, ctx), plan: [], child: null };
    } else {
      const scores: number[] = [];
      const plans: (readonly A[])[] = [];
      const children: number[] = [];
      for (const { action } of proposals) {
        throwIfAborted(ctx);
        const prediction = await memo.predict(state, action, ctx);
        const child = tree.add(
          node,
          formatAction(action),
          describeState(prediction.state),
          prediction.reward,
        );
        let next = 0;
        let rest: readonly A[] = [];
        if (!prediction.done) {
          if (left === 1) next = await memo.value(prediction.state, ctx);
          else ({ score: next, plan: rest } = await search(prediction.state, left - 1, child));
        }
        const score = prediction.reward + gamma * next;
        tree.set(child, { value: score, visits: 1 });
        scores.push(score);
        plans.push([action, ...rest]);
        children.push(child);
        if (maxValue !== undefined && score >= maxValue) break;
      }
      const i = argmax(scores, ctx.rng) ?? 0;
      solution = {
        score: scores[i] ?? Number.NEGATIVE_INFINITY,
        plan: plans[i] ?? [],
        child: children[i] ?? null,
      };
    }
    solved.set(key, solution);
    return solution;
  }

  const rootId = tree.add(null, null, describeState(root));
  const best = await search(root, depth, rootId);
  tree.set(rootId, { value: best.score, visits: 1 });
  return {
    action: best.plan[0],
    plan: best.plan,
    value: best.score,
    nodes: tree.nodes(),
    chosen: best.child,
    stats: memo.stats(),
  };
}
