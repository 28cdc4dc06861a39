/**
 * RAFA and RAP on BlocksWorld (spec §3.2; issue 5): where the agents meet the environment.
 *
 * Both agents plan with the same MCTS (RAP's semantics: node reward r = r₀^α·r₁^(1−α), mean path reward, max child
 * aggregation, UCT with w_exp) over the same roles — exact twins, imperfect twins or an LLM — and differ only in
 * what they do with reality:
 *
 * - **rafa**: one tree per episode, kept across steps and tries (it is the memory). At every real step: learn
 *   (observed transitions override the model), run `rollouts` rollouts from the current node, act the first
 *   action toward the best final node, overwrite that child's predicted state (and so its r₁) with the observed
 *   one, replan. A try ends at the goal or at the depth limit; the next starts again at the root.
 * - **rap**: open loop. Its tree never sees a real transition. Before try j it has run ⌈R·j/tries⌉ rollouts in
 *   total (R = `rollouts`), then it executes the best plan of its tree; each try's plan is executed.
 *
 * **Equal search budget** (the comparison): RAFA with k rollouts per real step has run exactly j·d·k rollouts
 * after j failed tries of d = max-depth steps each; RAP's default R = k·d·tries gives it the same j·d·k rollouts
 * before it executes try j + 1. So at every try boundary both have searched equally (RAFA's successful try may
 * stop early). Rollouts, not model calls, are equated: both memoise every question, and which questions a
 * rollout asks is the planner's business.
 */

import { z } from "zod";
import { createRafaAgent, type RafaPlanner } from "../../agents/rafa/agent.ts";
import { everyStep } from "../../agents/rafa/switch.ts";
import type { Agent, EpisodeContext } from "../../core/agent.ts";
import type { SearchNode } from "../../core/episode.ts";
import { UserError } from "../../core/errors.ts";
import type { Rng } from "../../core/rng.ts";
import type { Experience, RoleContext, Roles } from "../../core/roles.ts";
import type { Step } from "../../core/trajectory.ts";
import {
  blocksKey,
  createBlocksWorldLearner,
  createImperfectRoles,
  DEFAULT_RATE,
  lookaheadPriors,
} from "../../envs/blocksworld/imperfect.ts";
import {
  type BlocksWorldAction,
  type BlocksWorldData,
  type BlocksWorldObservation,
  type BlocksWorldState,
  createExactRoles,
  type GroundAction,
  goalReward,
  loadBlocksWorld,
  loadPddlFolder,
  renderAction,
  renderState,
  satisfiesGoal,
} from "../../envs/blocksworld/index.ts";
import { createLlmRoles, type LlmPriorMode } from "../../envs/blocksworld/llm-roles.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { type Edge, Mcts, type MctsNode, type MctsOptions, statsDelta } from "../../reason/index.ts";
import type { PlanResult } from "../../reason/types.ts";
import type { DataRef, RafaKit } from "../registry.ts";

export const BLOCKSWORLD_AGENTS = ["rafa", "rap"] as const;

/** `--opt` keys of the BlocksWorld RAFA-family agents (kebab-case on the command line becomes camelCase). */
const optionsSchema = z.strictObject({
  /** exact | imperfect (offline; default exact) | llm (default when a model is given). */
  roles: z.enum(["exact", "imperfect", "llm"]).optional(),
  /** Corruption rate of the imperfect twins. */
  rate: z.number().min(0).max(1).optional(),
  /** Fraction of states where the imperfect elite misses a move. */
  missRate: z.number().min(0).max(1).optional(),
  /** RAFA: rollouts per real step (default 1). RAP: total rollouts per instance (default: equal budget). */
  rollouts: z.number().int().min(1).optional(),
  /** Tries per instance (default: the environment's, 60 as the paper). */
  tries: z.number().int().min(1).optional(),
  /** UCT exploration weight (default 1). */
  wExp: z.number().min(0).optional(),
  /** r = r₀^α · r₁^(1−α) (default 0.5). */
  alpha: z.number().min(0).max(1).optional(),
  /**
   * The prior r₀. Offline: `lookahead` (default; softmax of −d(s′)/τ, s′ the roles' own prediction, d the optimal
   * distance to the goal) or `uniform`. LLM: `auto` (default: `score` when the provider scores text, else `choice`),
   * `score` (softmax of log-likelihoods), `choice` (one structured choice per state) or `uniform`.
   */
  prior: z.enum(["lookahead", "uniform", "auto", "score", "choice"]).optional(),
  /** Temperature τ of `prior=lookahead` (default 1). */
  tau: z.number().positive().optional(),
  /** LLM: solved examples in the prior's prompt (default 2). */
  shots: z.number().int().min(0).max(4).optional(),
  /** LLM: token limit of a predicted state (default 200). */
  maxTokens: z.number().int().min(16).optional(),
  /** Search-tree nodes journaled per decision, breadth first (default 8: the decision and its children). */
  treeNodes: z.number().int().min(1).optional(),
  /**
   * RAFA: never move toward a final node whose failure was observed (default false: the paper's rule, which may
   * execute a known failing plan again when its mean path reward is still the best).
   */
  skipRefuted: z.boolean().optional(),
});

export type BlocksWorldAgentOptions = z.infer<typeof optionsSchema>;

/** Defaults of the options above, for reports and docs. */
export const BLOCKSWORLD_AGENT_DEFAULTS = {
  rate: DEFAULT_RATE,
  missRate: 0,
  rafaRollouts: 1,
  wExp: 1,
  alpha: 0.5,
  tau: 1,
  shots: 2,
  maxTokens: 200,
  treeNodes: 8,
  skipRefuted: false,
} as const;

export function parseAgentOptions(raw: Readonly<Record<string, unknown>>): BlocksWorldAgentOptions {
  const r = optionsSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue?.path.join(".") ?? "";
  const known = Object.keys(optionsSchema.shape).join(", ");
  throw new UserError(
    issue?.code === "unrecognized_keys"
      ? `blocksworld agents have no option ${issue.keys.join(", ")} (known: ${known})`
      : `bad --opt ${key}: ${issue?.message ?? "invalid"}`,
    { category: "bad_option" },
  );
}

/** Loaded once per (data folder, split), as the registry does; `folder` reads `dataDir` as PDDL problems. */
const dataCache = new Map<string, BlocksWorldData>();

function loadData({ dataDir, split }: DataRef): BlocksWorldData {
  const key = `${dataDir}\u0000${split}`;
  let data = dataCache.get(key);
  if (!data) {
    data = split === "folder" ? loadPddlFolder(dataDir) : loadBlocksWorld(dataDir, split);
    dataCache.set(key, data);
  }
  return data;
}

/**
 * The node reward of RAP (spec §3.2): r₀^α · r₁^(1−α), r₁ read off the (predicted or observed) state. An action
 * that leaves the state unchanged earns 0 [our design]: every legal BlocksWorld action changes the state, so a
 * no-op is an action the rules refuse — observed (the environment said "not possible") or predicted — and must
 * not keep the reward its prior promised.
 */
export function blocksReward(alpha: number): (edge: Edge<BlocksWorldState, GroundAction>) => number {
  // r₁ comes from the state, not from the prediction's reward: an observed transition carries the environment's
  // 0/1 reward, and RAFA overwrites "the predicted state and r₁" with the true ones.
  return ({ state, prior, prediction }) =>
    blocksKey(prediction.state) === blocksKey(state)
      ? 0
      : prior ** alpha * goalReward(prediction.state.atoms, prediction.state.goal) ** (1 - alpha);
}

/** The environment options an agent's `--opt` implies (the registry passes them to `BlocksWorldEnv`). */
export function blocksworldEnvOptions(raw: Readonly<Record<string, unknown>>): { maxTries?: number } {
  const tries = raw.tries;
  return typeof tries === "number" && Number.isInteger(tries) && tries >= 1 ? { maxTries: tries } : {};
}

/** What an agent did, for tests and experiments (not journaled). */
export interface SearchCounts {
  /** Rollouts run. */
  rollouts: number;
  /** Questions the search asked its elite and model (memo misses). */
  eliteCalls: number;
  modelCalls: number;
}

export interface BlocksWorldAgent extends Agent<BlocksWorldObservation, BlocksWorldAction> {
  readonly counts: SearchCounts;
}

/** The first `max` nodes of the subtree under `from` in breadth-first order (parents before children). */
function snapshot(
  tree: Mcts<BlocksWorldState, GroundAction>,
  from: MctsNode<BlocksWorldState, GroundAction>,
  max: number,
  describe: (s: BlocksWorldState) => string,
  format: (a: GroundAction) => string,
  chosen?: MctsNode<BlocksWorldState, GroundAction>,
): { nodes: SearchNode[]; chosen: number | null } {
  const nodes: SearchNode[] = [];
  const ids = new Map<number, number>();
  const queue = [from];
  for (let i = 0; i < queue.length && nodes.length < max; i++) {
    const n = queue[i] as MctsNode<BlocksWorldState, GroundAction>;
    const id = nodes.length;
    ids.set(n.id, id);
    const value = tree.value(n);
    nodes.push({
      id,
      parent: n === from || !n.parent ? null : (ids.get(n.parent.id) ?? null),
      action: n === from || n.action === null ? null : format(n.action),
      state: describe(n.state),
      value: Number.isFinite(value) ? value : null,
      visits: n.visits,
      ...(n === from ? {} : { reward: n.reward }),
    });
    if (n.children) queue.push(...n.children);
  }
  return { nodes, chosen: chosen ? (ids.get(chosen.id) ?? null) : null };
}

/** Exact roles per domain, shared by episodes: their distance tables then serve every seed of an instance. */
const exactCache = new WeakMap<BlocksWorldData["domain"], ReturnType<typeof createExactRoles>>();

function exactRoles(data: BlocksWorldData): ReturnType<typeof createExactRoles> {
  let roles = exactCache.get(data.domain);
  if (!roles) {
    roles = createExactRoles(data.domain, { rank: "none" });
    exactCache.set(data.domain, roles);
  }
  return roles;
}

interface Setup {
  readonly data: BlocksWorldData;
  readonly options: BlocksWorldAgentOptions;
  readonly roles: "exact" | "imperfect" | "llm";
  readonly model: LanguageModel | undefined;
}

/** The prior roles of one episode (the corruption seed is drawn by the caller, once per episode). */
function priorRoles(setup: Setup, seed: number): Roles<BlocksWorldState, GroundAction> {
  const { data, options } = setup;
  const prior = options.prior;
  if (setup.roles === "llm") {
    if (!setup.model) throw new UserError("roles=llm needs --model", { category: "bad_option" });
    return createLlmRoles({
      model: setup.model,
      domain: data.domain,
      vocabulary: data.vocabulary,
      prior: (prior ?? "auto") as LlmPriorMode,
      shots: options.shots ?? BLOCKSWORLD_AGENT_DEFAULTS.shots,
      maxTokens: options.maxTokens ?? BLOCKSWORLD_AGENT_DEFAULTS.maxTokens,
    });
  }
  const exact = exactRoles(data);
  const base =
    setup.roles === "imperfect"
      ? createImperfectRoles(data.domain, exact, {
          rate: options.rate ?? DEFAULT_RATE,
          missRate: options.missRate ?? 0,
          seed,
        })
      : exact;
  if (prior === "uniform") return base;
  const tau = options.tau ?? BLOCKSWORLD_AGENT_DEFAULTS.tau;
  return { ...base, elite: lookaheadPriors(base.elite, base.model, exact.distance, tau) };
}

function mctsOptions(setup: Setup, depth: number): MctsOptions<BlocksWorldState, GroundAction> {
  return {
    // RAP's elite: every legal action (rule-based enumeration), weighted by the prior.
    breadth: Number.POSITIVE_INFINITY,
    depth,
    stateKey: blocksKey,
    actionKey: (a) => a.text,
    wExp: setup.options.wExp ?? BLOCKSWORLD_AGENT_DEFAULTS.wExp,
    aggrReward: "mean",
    aggrChild: "max",
    reward: blocksReward(setup.options.alpha ?? BLOCKSWORLD_AGENT_DEFAULTS.alpha),
  };
}

function checkTries(setup: Setup, o: BlocksWorldObservation): number {
  const tries = setup.options.tries;
  if (tries !== undefined && tries !== o.maxTries) {
    throw new UserError(
      `--opt tries=${tries} but the environment runs ${o.maxTries} tries (it must be created with the same tries)`,
      { category: "bad_option" },
    );
  }
  return o.maxTries;
}

/**
 * RAFA's move with `skipRefuted` [our design]: toward the final node with the best mean path reward below the
 * current node (the paper's rule, `Mcts.best`), except final nodes whose failure was observed — every step of the
 * path from here is a real transition and the goal does not hold at its end. The memory says that plan fails, so
 * repeating it can only waste a try. With no other final node known, the paper's rule applies as is.
 */
export function rafaBest(
  tree: Mcts<BlocksWorldState, GroundAction>,
  rng: Rng,
):
  | {
      action: GroundAction;
      plan: GroundAction[];
      value: number;
      child: MctsNode<BlocksWorldState, GroundAction>;
    }
  | undefined {
  const from = tree.current;
  const leaves: { node: MctsNode<BlocksWorldState, GroundAction>; value: number }[] = [];
  const stack: {
    node: MctsNode<BlocksWorldState, GroundAction>;
    sum: number;
    count: number;
    real: boolean;
  }[] = (from.children ?? []).map((node) => ({ node, sum: node.reward, count: 1, real: node.observed }));
  while (stack.length > 0) {
    const { node, sum, count, real } = stack.pop() as (typeof stack)[number];
    if (tree.isFinal(node)) {
      const refuted = real && !satisfiesGoal(node.state.atoms, node.state.goal);
      if (!refuted) leaves.push({ node, value: sum / count });
    } else
      for (const c of node.children ?? [])
        stack.push({ node: c, sum: sum + c.reward, count: count + 1, real: real && c.observed });
  }
  if (leaves.length === 0) {
    const best = tree.best(rng);
    return best && { action: best.action, plan: [...best.plan], value: best.value, child: best.child };
  }
  const top = Math.max(...leaves.map((l) => l.value));
  const tied = leaves.filter((l) => l.value === top).sort((a, b) => a.node.id - b.node.id);
  const leaf = (tied.length === 1 ? tied[0] : rng.pick(tied))?.node;
  if (!leaf) return undefined;
  const path: MctsNode<BlocksWorldState, GroundAction>[] = [];
  for (let n: MctsNode<BlocksWorldState, GroundAction> | null = leaf; n && n !== from; n = n.parent)
    path.unshift(n);
  const child = path[0];
  if (!child || child.action === null) return undefined;
  return { action: child.action, plan: path.map((n) => n.action as GroundAction), value: top, child };
}

/**
 * RAFA's MCTS planner for tries: like `mctsPlanner` (the tree persists, observations overwrite predictions), but
 * a try boundary is recognised by the tree itself — the current node is final (goal or depth limit) — rather than
 * by the state, which may equal the initial one at the end of a try. Journals a bounded snapshot.
 */
function tryPlanner(
  setup: Setup,
  depth: number,
  counts: SearchCounts,
  journaling: () => boolean,
): RafaPlanner<BlocksWorldState, GroundAction> {
  const options = mctsOptions(setup, depth);
  const perStep = setup.options.rollouts ?? BLOCKSWORLD_AGENT_DEFAULTS.rafaRollouts;
  const maxNodes = setup.options.treeNodes ?? BLOCKSWORLD_AGENT_DEFAULTS.treeNodes;
  const skipRefuted = setup.options.skipRefuted ?? BLOCKSWORLD_AGENT_DEFAULTS.skipRefuted;
  const describe = (s: BlocksWorldState) => renderState(setup.data.vocabulary, s.atoms);
  const format = (a: GroundAction) => renderAction(setup.data.vocabulary, a);
  let tree: Mcts<BlocksWorldState, GroundAction> | undefined;
  let treeRoles: Roles<BlocksWorldState, GroundAction> | undefined;
  return {
    name: "mcts-tries",
    async plan(roles, state, ctx): Promise<PlanResult<GroundAction>> {
      const here = blocksKey(state);
      if (!tree || treeRoles !== roles) {
        tree = new Mcts(roles, state, options);
        treeRoles = roles;
      } else if (tree.isFinal(tree.current) || blocksKey(tree.current.state) !== here) {
        // A new try starts at the root; anything else means the tree lost track of reality: start over.
        if (blocksKey(tree.root.state) === here) tree.rewind();
        else tree = new Mcts(roles, state, options);
      }
      const before = tree.stats;
      await tree.search(perStep, ctx);
      counts.rollouts += perStep;
      const best = skipRefuted ? rafaBest(tree, ctx.rng) : tree.best(ctx.rng);
      const stats = statsDelta(tree.stats, before);
      counts.eliteCalls += stats.eliteCalls;
      counts.modelCalls += stats.modelCalls;
      // Rendering states is most of a step's cost on the twins: only when someone journals the tree.
      const view = journaling()
        ? snapshot(tree, tree.current, maxNodes, describe, format, best?.child)
        : { nodes: [], chosen: null };
      return {
        action: best?.action,
        plan: best?.plan ?? [],
        value: best?.value ?? Number.NEGATIVE_INFINITY,
        nodes: view.nodes,
        chosen: view.chosen,
        stats,
      };
    },
    async observe(e: Experience<BlocksWorldState, GroundAction>, ctx: RoleContext) {
      if (!tree) return;
      const before = tree.stats;
      // The observed transition in the model's convention: terminal exactly when the goal holds.
      await tree.step(e.action, { state: e.next, reward: e.reward, done: e.done }, ctx);
      const stats = statsDelta(tree.stats, before);
      counts.eliteCalls += stats.eliteCalls;
      counts.modelCalls += stats.modelCalls;
    },
  };
}

/** The true state after a step: the environment's `info.state` (the observation may already be the next try's start). */
function nextStateOf(step: Step<BlocksWorldObservation, BlocksWorldAction>): BlocksWorldState {
  const atoms = step.info?.state;
  if (!Array.isArray(atoms) || !atoms.every((a) => typeof a === "string"))
    throw new Error("blocksworld step without info.state: cannot learn the true transition");
  return { ...step.observation.state, atoms: atoms as readonly string[] };
}

function firstLegal(legal: readonly BlocksWorldAction[] | undefined): BlocksWorldAction {
  const a = legal?.[0];
  if (!a) throw new Error("no legal action");
  return a;
}

function rafaAgent(setup: Setup): BlocksWorldAgent {
  const counts: SearchCounts = { rollouts: 0, eliteCalls: 0, modelCalls: 0 };
  let inner: Agent<BlocksWorldObservation, BlocksWorldAction> | undefined;
  let journaling = false;
  return {
    name: "rafa",
    counts,
    reset() {
      inner = undefined;
    },
    async act(o, legal, ctx) {
      if (!inner) {
        checkTries(setup, o);
        inner = createRafaAgent<BlocksWorldObservation, BlocksWorldState, GroundAction>({
          name: "rafa",
          learner: createBlocksWorldLearner({ prior: (seed) => priorRoles(setup, seed), learn: true }),
          // The depth limit of the tree is the try's: the tree's depth is the try's step count.
          planner: tryPlanner(setup, o.maxDepth, counts, () => journaling),
          switchRule: everyStep(),
          stateOf: (obs) => obs.state,
          nextStateOf,
          // Predictions are asked again by the agent only to store them with the experience; the tree has them.
          recordPredictions: false,
          fallback: (_s, l) => firstLegal(l),
        });
      }
      journaling = (ctx.events?.listenerCount("planner.tree") ?? 0) > 0;
      return inner.act(o, legal, ctx);
    },
    async observe(step, ctx) {
      await inner?.observe?.(step, ctx);
    },
  };
}

function rapAgent(setup: Setup): BlocksWorldAgent {
  const counts: SearchCounts = { rollouts: 0, eliteCalls: 0, modelCalls: 0 };
  const maxNodes = setup.options.treeNodes ?? BLOCKSWORLD_AGENT_DEFAULTS.treeNodes;
  let tree: Mcts<BlocksWorldState, GroundAction> | undefined;
  let plan: readonly GroundAction[] = [];
  let t = 0;

  async function planTry(o: BlocksWorldObservation, ctx: EpisodeContext): Promise<void> {
    const tries = checkTries(setup, o);
    const roleCtx: RoleContext = { rng: ctx.rng, ...(ctx.signal ? { signal: ctx.signal } : {}) };
    if (!tree) {
      // The same corruption stream as RAFA's learner draws, so both agents face the same wrong beliefs.
      const seed = ctx.rng.stream("corruption").nextUint32();
      tree = new Mcts(priorRoles(setup, seed), o.state, mctsOptions(setup, o.maxDepth));
    }
    const total = setup.options.rollouts ?? BLOCKSWORLD_AGENT_DEFAULTS.rafaRollouts * o.maxDepth * tries;
    const target = Math.ceil((total * Math.min(o.tryNumber, tries)) / tries);
    const before = tree.stats;
    if (target > counts.rollouts) {
      await tree.search(target - counts.rollouts, roleCtx);
      counts.rollouts = target;
    }
    const stats = statsDelta(tree.stats, before);
    counts.eliteCalls += stats.eliteCalls;
    counts.modelCalls += stats.modelCalls;
    const best = tree.best(ctx.rng);
    plan = best?.plan ?? [];
    if (ctx.events && ctx.events.listenerCount("planner.tree") > 0) {
      const view = snapshot(
        tree,
        tree.root,
        maxNodes,
        (s) => renderState(setup.data.vocabulary, s.atoms),
        (a) => renderAction(setup.data.vocabulary, a),
        best?.child,
      );
      ctx.events.emit("planner.tree", { episodeId: ctx.episodeId, t, ...view });
    }
  }

  return {
    name: "rap",
    counts,
    reset() {
      tree = undefined;
      plan = [];
      t = 0;
    },
    async act(o, legal, ctx) {
      if (o.depth === 0) await planTry(o, ctx);
      t += 1;
      const next = plan[o.depth];
      if (next) return next;
      // The plan ended early (its model believed the goal reached): idle for the rest of the try by repeating
      // the last action, which the rules make a no-op (every action falsifies one of its own preconditions), so
      // RAP takes nothing from the real state.
      return plan.at(-1) ?? firstLegal(legal);
    },
  };
}

/**
 * RAFA and RAP on BlocksWorld. Options (`--opt`, see `optionsSchema`): roles (exact | imperfect | llm), rate,
 * missRate, rollouts, tries, wExp, alpha, prior, tau, shots, maxTokens, treeNodes.
 */
export function blocksworldRafa(where: DataRef): RafaKit<BlocksWorldObservation, BlocksWorldAction> {
  return {
    agents: BLOCKSWORLD_AGENTS,
    create(name, { model, options: raw }) {
      const options = parseAgentOptions(raw);
      const roles = options.roles ?? (model ? "llm" : "exact");
      if (roles === "llm" && !model)
        throw new UserError("roles=llm needs --model (an LLM spec)", { category: "bad_option" });
      if (roles !== "llm" && model)
        throw new UserError(`roles=${roles} runs on the twins; drop --model or use roles=llm`, {
          category: "bad_option",
        });
      const llmPriors = ["auto", "score", "choice", "uniform"];
      const offlinePriors = ["lookahead", "uniform"];
      if (options.prior && !(roles === "llm" ? llmPriors : offlinePriors).includes(options.prior)) {
        throw new UserError(
          `prior=${options.prior} does not apply to roles=${roles} (use ${(roles === "llm" ? llmPriors : offlinePriors).join(" | ")})`,
          { category: "bad_option" },
        );
      }
      const setup: Setup = { data: loadData(where), options, roles, model };
      if (name === "rafa") return rafaAgent(setup);
      if (name === "rap") return rapAgent(setup);
      throw new UserError(`blocksworld has no "${name}" agent (it has: ${BLOCKSWORLD_AGENTS.join(", ")})`, {
        category: "bad_option",
      });
    },
  };
}
