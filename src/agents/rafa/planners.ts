import type { Roles } from "../../core/roles.ts";
import { type BeamOptions, beamSearch } from "../../reason/beam.ts";
import { Mcts, type MctsOptions } from "../../reason/mcts.ts";
import { type TreeSearchOptions, treeSearch } from "../../reason/tree-search.ts";
import type { RafaPlanner } from "./agent.ts";

/** RAFA with ToT-style beam search over the roles (the paper's Game-of-24 planner). */
export function beamPlanner<S, A>(options: BeamOptions<S, A>): RafaPlanner<S, A> {
  return { name: "beam", plan: (roles, state, ctx) => beamSearch(roles, state, options, ctx) };
}

/** RAFA with exhaustive depth-U breadth-B search and a discounted critic at the leaves. */
export function treePlanner<S, A>(options: TreeSearchOptions<S, A>): RafaPlanner<S, A> {
  return { name: "tree", plan: (roles, state, ctx) => treeSearch(roles, state, options, ctx) };
}

/**
 * RAFA with MCTS (the paper's BlocksWorld planner): the tree persists across steps and tries — it is the memory —
 * and after each real step the chosen child's predicted state and reward are overwritten by the observed ones. A
 * new tree is grown when the roles change (a new epoch) or the real state leaves the tree — so the tree only
 * persists across relearning if the learner returns the same roles object for the episode.
 */
export function mctsPlanner<S, A>(
  options: MctsOptions<S, A> & { readonly rolloutsPerStep: number; readonly stateKey: (s: S) => string },
): RafaPlanner<S, A> {
  let tree: Mcts<S, A> | undefined;
  let treeRoles: Roles<S, A> | undefined;
  return {
    name: "mcts",
    async plan(roles, state, ctx) {
      // A new try starts when the tree's current node is final (the try ended there) or the real state left the
      // tree — also when a try ended in a state equal to the initial one.
      const atTryEnd = tree?.isFinal(tree.current) ?? false;
      if (
        !tree ||
        treeRoles !== roles ||
        atTryEnd ||
        options.stateKey(tree.current.state) !== options.stateKey(state)
      ) {
        const root = tree?.root;
        // Back at the initial state (a new try): keep the tree and rewind instead of starting over.
        if (tree && treeRoles === roles && root && options.stateKey(root.state) === options.stateKey(state))
          tree.rewind();
        else {
          tree = new Mcts(roles, state, options);
          treeRoles = roles;
        }
      }
      return tree.plan(ctx, options.rolloutsPerStep);
    },
    async observe(e, ctx) {
      if (!tree) return;
      await tree.step(e.action, { state: e.next, reward: e.reward, done: e.done }, ctx);
    },
  };
}
