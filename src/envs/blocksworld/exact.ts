/**
 * The exact twins of RAFA's BlocksWorld roles (spec §3.2 "Exact twins" [our design]): Elite = the applicable
 * actions (optionally ranked by the planner's distance after each), Model = the STRIPS simulator, Critic = the
 * optimal distance to the goal. Also RAP's goal reward r₁, which agents combine with their action prior.
 */
import type { Critic, Elite, Roles, WorldModel } from "../../core/roles.ts";
import { type GroundAction, type Grounding, ground } from "./domain.ts";
import type { BlocksWorldState } from "./env.ts";
import type { Domain } from "./pddl.ts";
import { DistanceOracle, type PlannerOptions } from "./planner.ts";
import { applicableOperators, applyOperator, type State, satisfiesGoal, unsatisfiedGoals } from "./state.ts";

/**
 * RAP's goal reward r₁: 100 when every goal atom holds, otherwise #satisfied / #goal + 0.5 (spec §3.2). The
 * official code counts `on` atoms; the goals of this data set are only `on` atoms, so all goal atoms count.
 */
export function goalReward(atoms: State, goal: readonly string[]): number {
  if (goal.length === 0) return 100;
  const missing = unsatisfiedGoals(atoms, goal).length;
  return missing === 0 ? 100 : (goal.length - missing) / goal.length + 0.5;
}

/** The critic's value of a state from which the goal cannot be reached (finite, so it survives JSON). */
export const UNREACHABLE_VALUE = -1e6;

export interface ExactRolesOptions {
  /**
   * Elite order: `distance` (default) ranks the applicable actions by the optimal distance after them, best
   * first (ties in the grounding's order), so a breadth-1 elite is an optimal policy; `none` keeps the
   * grounding's order (pick-up, put-down, stack, unstack, arguments in object order), an uninformed proposer.
   */
  readonly rank?: "distance" | "none";
  /**
   * Critic scale: `distance` (default) gives −d, d = optimal number of actions to the goal (0 at the goal,
   * `UNREACHABLE_VALUE` when unreachable); `normalised` gives 1 / (1 + d) ∈ (0, 1] (0 when unreachable), for
   * planners that mix the value with rewards in [0, 1]. Both order states exactly as the optimal distance does.
   */
  readonly critic?: "distance" | "normalised";
  readonly planner?: PlannerOptions;
}

export interface ExactBlocksWorld extends Roles<BlocksWorldState, GroundAction> {
  readonly elite: Elite<BlocksWorldState, GroundAction>;
  readonly model: WorldModel<BlocksWorldState, GroundAction>;
  readonly critic: Critic<BlocksWorldState>;
  /** Optimal number of actions from the state to its goal (Infinity when unreachable). */
  distance(state: BlocksWorldState): number;
}

/**
 * Exact roles for every problem of one domain. Groundings and distance tables are cached per object set and goal,
 * so a critic asked about many states of one instance searches each optimal path once.
 */
export function createExactRoles(domain: Domain, options: ExactRolesOptions = {}): ExactBlocksWorld {
  const groundings = new Map<string, Grounding>();
  const oracles = new Map<string, DistanceOracle>();
  const objectsKey = (s: BlocksWorldState) => s.objects.map((o) => `${o.name}:${o.type}`).join(" ");
  const groundingOf = (s: BlocksWorldState): Grounding => {
    const key = objectsKey(s);
    let g = groundings.get(key);
    if (!g) {
      // The state's objects already include the domain's constants; grounding adds them again, so pass the rest.
      const constants = new Set(domain.constants.map((c) => c.name));
      g = ground(
        domain,
        s.objects.filter((o) => !constants.has(o.name)),
      );
      groundings.set(key, g);
    }
    return g;
  };
  const oracleOf = (s: BlocksWorldState): DistanceOracle => {
    const key = `${objectsKey(s)}|${s.goal.join("")}`;
    let o = oracles.get(key);
    if (!o) {
      o = new DistanceOracle(groundingOf(s), s.goal, options.planner);
      oracles.set(key, o);
    }
    return o;
  };
  const distance = (s: BlocksWorldState) => oracleOf(s).distance(s.atoms);
  const after = (s: BlocksWorldState, action: GroundAction): BlocksWorldState | undefined => {
    const op = groundingOf(s).operator(action);
    const r = op ? applyOperator(s.atoms, op) : undefined;
    return r?.ok ? { ...s, atoms: r.state } : undefined;
  };

  return {
    distance,
    elite: {
      async propose(state, breadth) {
        const actions = applicableOperators(groundingOf(state).operators, state.atoms).map((op) => op.action);
        if (options.rank === "none") return actions.slice(0, breadth);
        const scored = actions.map((action, i) => {
          const next = after(state, action);
          return { action, i, d: next ? distance(next) : Number.POSITIVE_INFINITY };
        });
        scored.sort((a, b) => (a.d === b.d ? a.i - b.i : a.d < b.d ? -1 : 1));
        return scored.slice(0, breadth).map((s) => s.action);
      },
    },
    model: {
      async predict(state, action) {
        // An inapplicable action changes nothing, exactly as the environment treats it.
        const next = after(state, action) ?? state;
        const reached = satisfiesGoal(next.atoms, next.goal);
        return { state: next, reward: reached ? 1 : 0, done: reached };
      },
    },
    critic: {
      async value(state) {
        const d = distance(state);
        if (options.critic === "normalised") return d === Number.POSITIVE_INFINITY ? 0 : 1 / (1 + d);
        return d === Number.POSITIVE_INFINITY ? UNREACHABLE_VALUE : -d;
      },
    },
  };
}
