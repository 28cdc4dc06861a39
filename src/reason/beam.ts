/**
 * Beam search / BFS over the roles (ToT's BFS as RAFA uses it for the Game of 24, spec §3.1 and the "beam
 * variant" of §1.3): at each depth every kept partial plan asks the elite for `proposals` actions, the model
 * predicts each successor, the critic values it, and the `breadth` best partial plans (greedy top-b) are kept.
 *
 * A partial plan of d actions scores Q̂ = Σ_{u<d} γ^u r_u + γ^d V̂(s_d), with V̂ = 0 at terminal states: the same
 * objective as the depth-U tree search, so the two planners agree when the beam is wide enough. (ToT ranks by
 * the value alone; with γ = 1 and rewards that only mark progress the orders agree.) Plans that reached a
 * terminal state, or a state where the elite proposes nothing, stay in the pool and compete with their final
 * score. The result is the best plan of the last beam.
 */
import type { RoleContext, Roles } from "../core/roles.ts";
import { memoKeys, RoleMemo } from "./memo.ts";
import { argmax, TreeRecorder, topK } from "./tree.ts";
import { checkCount, checkGamma, type PlanResult, type SearchOptions, throwIfAborted } from "./types.ts";

export interface BeamOptions<S, A> extends SearchOptions<S, A> {
  /** b: partial plans kept at each depth (ToT's `n_select_sample`; RAFA runs b = 1 and b = 2). */
  readonly breadth: number;
  /** Actions asked of the elite per kept partial plan (ToT's `n_generate_sample`, 10 in RAFA). */
  readonly proposals: number;
  /** Depth limit: most actions in a plan. */
  readonly depth: number;
}

interface Candidate<S, A> {
  /** Search-tree node id. */
  readonly id: number;
  /** Id of the root's child this plan starts with (null for the root). */
  readonly first: number | null;
  readonly state: S;
  readonly plan: readonly A[];
  /** Σ_{u<d} γ^u r_u. */
  readonly ret: number;
  /** Q̂: `ret` plus the discounted value of the last state. */
  readonly score: number;
  /** Terminal, or the elite had nothing to propose: never expanded again. */
  readonly final: boolean;
}

export async function beamSearch<S, A>(
  roles: Roles<S, A>,
  root: S,
  options: BeamOptions<S, A>,
  ctx: RoleContext,
): Promise<PlanResult<A>> {
  const breadth = checkCount("breadth", options.breadth);
  const proposals = checkCount("proposals", options.proposals, true);
  const depth = checkCount("depth", options.depth);
  const gamma = checkGamma(options.gamma ?? 1);
  const keys = memoKeys(options);
  const memo = new RoleMemo(roles, keys, options.valueSamples ?? 1);
  const describeState = options.describeState ?? keys.stateKey;
  const formatAction = options.formatAction ?? keys.actionKey;
  const tree = new TreeRecorder();
  const rootId = tree.add(null, null, describeState(root));
  tree.set(rootId, { visits: 1 });

  let beam: Candidate<S, A>[] = [
    { id: rootId, first: null, state: root, plan: [], ret: 0, score: Number.NaN, final: false },
  ];
  for (let d = 0; d < depth; d++) {
    throwIfAborted(ctx);
    const open = beam.filter((p) => !p.final);
    if (open.length === 0) break;
    const discount = gamma ** d;
    // All questions of one depth are issued together (in a fixed order) and awaited together.
    const lists = await Promise.all(open.map((p) => memo.propose(p.state, proposals, ctx)));
    const asked = open.flatMap((parent, i) => (lists[i] ?? []).map(({ action }) => ({ parent, action })));
    const predictions = await Promise.all(
      asked.map(({ parent, action }) => memo.predict(parent.state, action, ctx)),
    );
    const values = await Promise.all(
      predictions.map((p) => (p.done ? Promise.resolve(0) : memo.value(p.state, ctx))),
    );
    const pool: Candidate<S, A>[] = beam.filter((p) => p.final);
    for (const [i, parent] of open.entries()) {
      if ((lists[i] ?? []).length > 0) continue;
      // A dead end keeps competing with its own value (the root's is asked only now that it is needed).
      const score = Number.isNaN(parent.score) ? await memo.value(parent.state, ctx) : parent.score;
      pool.push({ ...parent, score, final: true });
    }
    for (const [i, { parent, action }] of asked.entries()) {
      const prediction = predictions[i];
      if (!prediction) continue;
      const ret = parent.ret + discount * prediction.reward;
      const score = ret + (prediction.done ? 0 : gamma * discount * (values[i] ?? 0));
      const id = tree.add(
        parent.id,
        formatAction(action),
        describeState(prediction.state),
        prediction.reward,
      );
      tree.set(id, { value: score });
      pool.push({
        id,
        first: parent.first ?? id,
        state: prediction.state,
        plan: [...parent.plan, action],
        ret,
        score,
        final: prediction.done,
      });
    }
    beam = topK(
      pool.map((p) => p.score),
      breadth,
      ctx.rng,
    ).map((i) => pool[i] as Candidate<S, A>);
    for (const p of beam) if (p.id !== rootId) tree.set(p.id, { visits: 1 });
  }

  const bestIndex = argmax(
    beam.map((p) => p.score),
    ctx.rng,
  );
  const best = bestIndex === undefined ? undefined : beam[bestIndex];
  const value = best && !Number.isNaN(best.score) ? best.score : Number.NEGATIVE_INFINITY;
  tree.set(rootId, { value });
  return {
    action: best?.plan[0],
    plan: best?.plan ?? [],
    value,
    nodes: tree.nodes(),
    chosen: best?.first ?? null,
    stats: memo.stats(),
  };
}
