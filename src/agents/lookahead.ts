import type { Agent } from "../core/agent.ts";
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
}

/**
 * Depth-1 planning: the elite proposes, the model predicts each successor, the critic scores it, and the agent
 * plays argmax r + γ·V(s′), ties broken by the agent's seeded stream. With exact twins this is optimal play; it
 * is the U = 1 case of RAFA's depth-U planner, without learning.
 */
export function createLookaheadAgent<O, S, A>(options: LookaheadOptions<O, S, A>): Agent<O, A> {
  const { roles, stateOf } = options;
  const breadth = options.breadth ?? 9;
  const gamma = options.gamma ?? 1;
  return {
    name: options.name ?? "lookahead",
    reset() {},
    async act(observation, legal, ctx) {
      const state = stateOf(observation);
      const roleCtx = { rng: ctx.rng, ...(ctx.signal ? { signal: ctx.signal } : {}) };
      const proposals = await roles.elite.propose(state, breadth, roleCtx);
      const candidates = legal ? proposals.filter((a) => legal.includes(a)) : proposals;
      if (candidates.length === 0) throw new Error("lookahead: the elite proposed no legal action");
      let best: A[] = [];
      let bestScore = Number.NEGATIVE_INFINITY;
      for (const action of candidates) {
        const prediction = await roles.model.predict(state, action, roleCtx);
        const score =
          prediction.reward +
          (prediction.done ? 0 : gamma * (await roles.critic.value(prediction.state, roleCtx)));
        if (score > bestScore) {
          bestScore = score;
          best = [action];
        } else if (score === bestScore) best.push(action);
      }
      return ctx.rng.pick(best);
    },
  };
}
