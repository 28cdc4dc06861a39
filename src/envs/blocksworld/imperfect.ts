/**
 * Imperfect twins of the BlocksWorld roles (issue 5) and the learner that repairs them from feedback.
 *
 * The corruption stands in for an LLM's wrong beliefs about this domain, keyed (see `envs/imperfect.ts`) so that a
 * wrong answer is given consistently until feedback overrides it:
 *
 * - **Model**: on a `rate` fraction of (state, action) pairs it confuses the action with another applicable one
 *   and predicts that one's outcome — the block ends up elsewhere ("stack red on blue" predicted to put red on the
 *   table or on green), or a different block is lifted. With a single applicable action it predicts no change.
 *   And it always believes that a block with something on it can still be moved or stacked upon: an inapplicable
 *   action whose only unmet preconditions are `clear` atoms is predicted to succeed (its effects applied anyway).
 *   Only the elite's impossible proposals ask it that question.
 * - **Elite**: on a `rate` fraction of states it also proposes one such impossible move (the classic "move the
 *   block underneath" mistake), which the model then believes in; on a `missRate` fraction (default 0) it misses
 *   one applicable move.
 *
 * The learner reads RAFA's memory: each observed transition (the environment's `info.state`, see the agent's
 * `nextStateOf`) overrides the model for that (state, action) pair, and each action the environment refused is
 * dropped from the elite's proposals in that state. Without learning (RAP) the wrong beliefs stay.
 */
import type {
  Elite,
  Experience,
  Learner,
  Prediction,
  RoleContext,
  Roles,
  WorldModel,
} from "../../core/roles.ts";
import { correctedModel, corruptElite, corruptModel, keyedUniform } from "../imperfect.ts";
import { type GroundAction, type Grounding, ground } from "./domain.ts";
import type { BlocksWorldState } from "./env.ts";
import type { Domain } from "./pddl.ts";
import { applicableOperators, applyOperator, makeState, satisfiesGoal, stateKey } from "./state.ts";

/** Identity of a planner state within one instance (objects and goal are fixed there). */
export const blocksKey = (state: BlocksWorldState): string => stateKey(state.atoms);
/** Identity of a (state, action) question. */
export const edgeKey = (state: BlocksWorldState, action: GroundAction): string =>
  `${stateKey(state.atoms)}|${action.text}`;

/** The model's answer for a state it ends in: reward 1 and terminal exactly when the goal holds (as the exact twin). */
export function outcome(state: BlocksWorldState): Prediction<BlocksWorldState> {
  const reached = satisfiesGoal(state.atoms, state.goal);
  return { state, reward: reached ? 1 : 0, done: reached };
}

/** Groundings per object set, shared by the roles of one domain. */
export function groundingCache(domain: Domain): (state: BlocksWorldState) => Grounding {
  const cache = new Map<string, Grounding>();
  const constants = new Set(domain.constants.map((c) => c.name));
  return (state) => {
    const key = state.objects.map((o) => `${o.name}:${o.type}`).join(" ");
    let g = cache.get(key);
    if (!g) {
      // The state's objects already include the domain's constants; grounding adds them again.
      g = ground(
        domain,
        state.objects.filter((o) => !constants.has(o.name)),
      );
      cache.set(key, g);
    }
    return g;
  };
}

export interface ImperfectOptions {
  /** Fraction of (state, action) pairs mispredicted, and of states with an impossible move proposed; 0 ≤ rate ≤ 1. */
  readonly rate: number;
  /** Fraction of states in which the elite misses one applicable move (default 0). */
  readonly missRate?: number;
  /** The corruption pattern (drawn once per episode). */
  readonly seed: number | string;
}

/** The default corruption rate of the imperfect twins (the rate of the issue-5 comparison with RAP). */
export const DEFAULT_RATE = 0.3;

/**
 * Imperfect twins built on exact ones (`createExactRoles`): the elite and model are corrupted as described above;
 * the critic is the exact one (RAP's planner reads the goal reward r₁ off the predicted state, not a critic).
 */
export function createImperfectRoles(
  domain: Domain,
  exact: Roles<BlocksWorldState, GroundAction>,
  options: ImperfectOptions,
): Roles<BlocksWorldState, GroundAction> {
  const groundingOf = groundingCache(domain);
  const { seed, rate } = options;

  /** Inapplicable operators whose only unmet preconditions are `clear` atoms, in grounding order. */
  const nearMisses = (state: BlocksWorldState) =>
    groundingOf(state).operators.filter((op) => {
      const r = applyOperator(state.atoms, op);
      return !r.ok && r.failed.every((atom) => atom.startsWith("(clear "));
    });

  const confusedModel: WorldModel<BlocksWorldState, GroundAction> = corruptModel(exact.model, {
    rate,
    seed,
    key: edgeKey,
    mispredict: (truth, state, action) => {
      const applicable = applicableOperators(groundingOf(state).operators, state.atoms);
      // Inapplicable actions are covered by the misbelief about `clear`, not by confusion.
      if (!applicable.some((op) => op.action === action)) return truth;
      const others = applicable.filter((op) => op.action !== action);
      if (others.length === 0) return outcome(state);
      const pick =
        others[Math.floor(keyedUniform(seed, `confuse:${edgeKey(state, action)}`) * others.length)];
      const r = pick ? applyOperator(state.atoms, pick) : undefined;
      return r?.ok ? outcome({ ...state, atoms: r.state }) : truth;
    },
  });

  const model: WorldModel<BlocksWorldState, GroundAction> = {
    async predict(state, action, ctx) {
      const op = groundingOf(state).operator(action);
      const r = op ? applyOperator(state.atoms, op) : undefined;
      if (op && r && !r.ok && r.failed.every((atom) => atom.startsWith("(clear "))) {
        // The systematic misbelief: "clear" does not matter, so the effects happen anyway.
        const set = new Set<string>(state.atoms);
        for (const d of op.del) set.delete(d);
        for (const a of op.add) set.add(a);
        return outcome({ ...state, atoms: makeState(set) });
      }
      return confusedModel.predict(state, action, ctx);
    },
  };

  // Misses first, so that only applicable moves are missed; then the impossible move is added.
  const missRate = options.missRate ?? 0;
  const missing =
    missRate > 0
      ? corruptElite(exact.elite, {
          rate: missRate,
          seed,
          key: (s) => `miss:${blocksKey(s)}`,
          drop: (actions, state) => {
            if (actions.length <= 1) return actions;
            const i = Math.floor(keyedUniform(seed, `missed:${blocksKey(state)}`) * actions.length);
            return actions.filter((_, j) => j !== i);
          },
        })
      : exact.elite;
  const elite = corruptElite(missing, {
    rate,
    seed,
    key: (s) => `hallucinate:${blocksKey(s)}`,
    drop: (actions, state) => {
      const misses = nearMisses(state);
      const pick = misses[Math.floor(keyedUniform(seed, `impossible:${blocksKey(state)}`) * misses.length)];
      return pick ? [...actions, pick.action] : actions;
    },
  });
  return { elite, model, critic: exact.critic };
}

/**
 * An elite that also weighs its proposals (RAP's prior r₀). Structurally the `PriorElite` of `reason/`, which an
 * environment may not import; planners recognise it by its method.
 */
export interface WeighingElite<S, A> extends Elite<S, A> {
  proposeWithPriors(
    state: S,
    breadth: number,
    ctx: RoleContext,
  ): Promise<readonly { readonly action: A; readonly prior: number }[]>;
}

function weighs<S, A>(elite: Elite<S, A>): elite is WeighingElite<S, A> {
  return typeof (elite as Partial<WeighingElite<S, A>>).proposeWithPriors === "function";
}

/**
 * The prior r₀ of the twins: softmax(−d(s′)/τ) over the elite's actions, where s′ is what the given model predicts
 * the action leads to and d the optimal distance from s′ to the goal (spec §3.2, "prior = softmax(−BFS distance/τ)").
 * With the exact model it is the exact twin of a perfectly pretrained LLM's action likelihood; with an imperfect
 * model the prior shares the model's wrong beliefs (a move believed to reach the goal is also believed likely),
 * as an LLM's likelihood and its world model come from one set of beliefs. Unreachable predictions weigh 0.
 */
export function lookaheadPriors(
  elite: Elite<BlocksWorldState, GroundAction>,
  model: WorldModel<BlocksWorldState, GroundAction>,
  distance: (state: BlocksWorldState) => number,
  tau = 1,
): WeighingElite<BlocksWorldState, GroundAction> {
  if (!(tau > 0)) throw new RangeError(`tau must be > 0, got ${tau}`);
  return {
    propose: (state, breadth, ctx) => elite.propose(state, breadth, ctx),
    async proposeWithPriors(state, breadth, ctx) {
      const actions = await elite.propose(state, breadth, ctx);
      const ds = await Promise.all(
        actions.map(async (a) => distance((await model.predict(state, a, ctx)).state)),
      );
      const finite = ds.filter((d) => Number.isFinite(d));
      const best = finite.length > 0 ? Math.min(...finite) : 0;
      // Shifted by the best distance, so the weights never underflow; the planner normalises them.
      return actions.map((action, i) => {
        const d = ds[i] ?? Number.POSITIVE_INFINITY;
        return { action, prior: Number.isFinite(d) ? Math.exp(-(d - best) / tau) : 0 };
      });
    },
  };
}

/**
 * The elite without the actions the environment refused in that state. Unlike `correctedElite` it keeps the
 * elite's priors (an LLM's r₀) when it has them; the remaining priors are renormalised by the planner.
 */
export function withoutRefused(
  elite: Elite<BlocksWorldState, GroundAction>,
  refused: ReadonlyMap<string, readonly GroundAction[]>,
): Elite<BlocksWorldState, GroundAction> {
  const allowed = (state: BlocksWorldState) => {
    const bad = refused.get(blocksKey(state));
    return (a: GroundAction) => !bad?.includes(a);
  };
  const propose = async (state: BlocksWorldState, breadth: number, ctx: RoleContext) =>
    (await elite.propose(state, breadth, ctx)).filter(allowed(state));
  if (!weighs(elite)) return { propose };
  const weighed: WeighingElite<BlocksWorldState, GroundAction> = {
    propose,
    async proposeWithPriors(state, breadth, ctx) {
      const ok = allowed(state);
      return (await elite.proposeWithPriors(state, breadth, ctx)).filter((p) => ok(p.action));
    },
  };
  return weighed;
}

/** What a learner knows after reading a memory: observed transitions and refused actions. */
export interface BlocksWorldKnowledge {
  /** Observed outcome per (state, action) pair (`edgeKey`). */
  readonly transitions: Map<string, Prediction<BlocksWorldState>>;
  /** Actions the environment refused, per state (`blocksKey`). */
  readonly refused: Map<string, GroundAction[]>;
}

/** Add one experience to the knowledge: its observed outcome, and the action if the environment refused it. */
function learnOne(e: Experience<BlocksWorldState, GroundAction>, into: BlocksWorldKnowledge): void {
  into.transitions.set(edgeKey(e.state, e.action), outcome(e.next));
  if (e.info?.inapplicable !== undefined) {
    const k = blocksKey(e.state);
    const list = into.refused.get(k) ?? [];
    if (!list.includes(e.action)) list.push(e.action);
    into.refused.set(k, list);
  }
}

/** The knowledge a memory gives (a function of the memory alone). */
export function learnFrom(
  memory: readonly Experience<BlocksWorldState, GroundAction>[],
): BlocksWorldKnowledge {
  const into: BlocksWorldKnowledge = { transitions: new Map(), refused: new Map() };
  for (const e of memory) learnOne(e, into);
  return into;
}

export interface BlocksWorldLearnerOptions {
  /**
   * The prior roles of an episode (exact, imperfect or LLM), built once from the corruption seed. The seed is
   * drawn at the first `learn` from `ctx.rng.stream("corruption")`: a pure function of the episode's agent stream,
   * so every agent on the same episode seed faces the same corruption, and no other draw shifts.
   */
  readonly prior: (seed: number) => Roles<BlocksWorldState, GroundAction>;
  /** Learn from the memory (RAFA), or keep the prior (an agent without feedback). Default true. */
  readonly learn?: boolean;
}

export interface BlocksWorldLearner extends Learner<BlocksWorldState, GroundAction> {
  /** The current knowledge (empty before the first `learn`). */
  readonly knowledge: BlocksWorldKnowledge;
  /** The corruption seed drawn for this episode (undefined before the first `learn`). */
  readonly seed: number | undefined;
}

/** Draw an episode's corruption seed from the agent's stream, as the learner does. */
export function corruptionSeed(ctx: RoleContext): number {
  return ctx.rng.stream("corruption").nextUint32();
}

/**
 * The learner of RAFA's BlocksWorld roles: observed transitions override the model, refused actions leave the
 * elite. It returns one roles object per episode whose corrections read the knowledge of the last `learn` (the
 * memory frozen at the switch), so a planner that keeps its search tree while the roles stay the same — MCTS,
 * whose tree is RAFA's memory across tries — keeps it. Build one learner per episode.
 */
export function createBlocksWorldLearner(options: BlocksWorldLearnerOptions): BlocksWorldLearner {
  const knowledge: BlocksWorldKnowledge = { transitions: new Map(), refused: new Map() };
  const learns = options.learn ?? true;
  let roles: Roles<BlocksWorldState, GroundAction> | undefined;
  let seed: number | undefined;
  // RAFA's memory only grows within an episode, so each learn adds the new suffix; anything else starts over.
  let learned = 0;
  let last: Experience<BlocksWorldState, GroundAction> | undefined;
  const update = (memory: readonly Experience<BlocksWorldState, GroundAction>[]) => {
    if (memory.length < learned || (learned > 0 && memory[learned - 1] !== last)) {
      knowledge.transitions.clear();
      knowledge.refused.clear();
      learned = 0;
    }
    for (let i = learned; i < memory.length; i++)
      learnOne(memory[i] as Experience<BlocksWorldState, GroundAction>, knowledge);
    learned = memory.length;
    last = memory.at(-1);
  };
  return {
    knowledge,
    get seed() {
      return seed;
    },
    learn(memory, ctx) {
      if (!roles) {
        seed = corruptionSeed(ctx);
        const prior = options.prior(seed);
        roles = learns
          ? {
              elite: withoutRefused(prior.elite, knowledge.refused),
              model: correctedModel(prior.model, knowledge.transitions, edgeKey),
              critic: prior.critic,
            }
          : prior;
      }
      if (learns) update(memory);
      return roles;
    },
  };
}
