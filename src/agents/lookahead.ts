import type { Agent } from "../core/agent.ts";
import type { SearchNode } from "../core/episode.ts";
import type { Roles } from "../core/roles.ts";

export interface LookaheadOptions<O, S, A> {
  readonly name?: string;
  readonly roles: Roles<S, A>;
  /** The planner's state from an observation (often the observation itself or a field of it). */
  readonly stateOf: (observation: O) => S;
  /** Candidate actions the elite may propose (default 9). */
  readonly breadth?: number;
  /** Discount γ on the critic's value of the predicted next state (default 1). */
  readonly gamma?: number;
  /** Text of a planner state and of an action, for the search tree it publishes (`planner.tree` events). */
  readonly describeState?: (state: S) => string;
  readonly formatAction?: (action: A) => string;
}

/**
 * Depth-1 planning: the elite proposes, the model predicts each successor, the critic scores it, and the agent
 * plays argmax r + γ·V(s′), ties broken by the agent's seeded stream. With exact twins this is optimal play; it
 * is the U = 1 case of RAFA's depth-U planner, without learning. Each decision's tree (root and one child per
 * candidate) is published as a `planner.tree` event when someone listens.
 */
export function createLookaheadAgent<O, S, A>(options: LookaheadOptions<O, S, A>): Agent<O, A> {
  const { roles, stateOf } = options;
  const breadth = options.breadth ?? 9;
  const gamma = options.gamma ?? 1;
  const describeState = options.describeState ?? ((s: S) => String(s));
  const formatAction = options.formatAction ?? ((a: A) => String(a));
  let t = 0;
  return {
    name: options.name ?? "lookahead",
    reset() {
      t = 0;
    },
    async act(observation, legal, ctx) {
      const state = stateOf(observation);
      const roleCtx = { rng: ctx.rng, ...(ctx.signal ? { signal: ctx.signal } : {}) };
      const proposals = await roles.elite.propose(state, breadth, roleCtx);
      const candidates = legal ? proposals.filter((a) => legal.includes(a)) : proposals;
      if (candidates.length === 0) throw new Error("lookahead: the elite proposed no legal action");
      let best: number[] = [];
      let bestScore = Number.NEGATIVE_INFINITY;
      const children: SearchNode[] = [];
      for (const [i, action] of candidates.entries()) {
        const prediction = await roles.model.predict(state, action, roleCtx);
        const score =
          prediction.reward +
          (prediction.done ? 0 : gamma * (await roles.critic.value(prediction.state, roleCtx)));
        children.push({
          id: i + 1,
          parent: 0,
          action: formatAction(action),
          state: describeState(prediction.state),
          value: score,
          visits: 1,
          reward: prediction.reward,
        });
        if (score > bestScore) {
          bestScore = score;
          best = [i];
        } else if (score === bestScore) best.push(i);
      }
      const chosen = ctx.rng.pick(best);
      if (ctx.events && ctx.events.listenerCount("planner.tree") > 0) {
        const root: SearchNode = {
          id: 0,
          parent: null,
          action: null,
          state: describeState(state),
          value: bestScore,
          visits: 1,
        };
        ctx.events.emit("planner.tree", {
          episodeId: ctx.episodeId,
          t,
          nodes: [root, ...children],
          chosen: chosen + 1,
        });
      }
      t += 1;
      return candidates[chosen] as A;
    },
  };
}
