/**
 * Monte-Carlo tree search with the semantics of RAP/RAFA's BlocksWorld planner (spec §3.2), over any roles.
 *
 * - **Expansion**: a node asks the elite for `breadth` actions and the model for every successor, so each
 *   child carries its predicted state, its reward and whether it is terminal before it is ever visited.
 * - **Selection** (UCT with priors): an unvisited child scores `reward + wExp·√(ln N_parent)` (ln := 0 for an
 *   unvisited parent), a visited one `value + wExp·√(ln N_parent / N_child)`, where value is the child's
 *   aggregated return (`aggrChild`: max by default, or mean). Exact ties go to the larger prior, then to the
 *   seeded stream. Priors come from the elite (`PriorElite`, e.g. an LLM's log-likelihoods; uniform when it
 *   gives none) and enter through the node reward (RAP: r = r₀^α·r₁^(1−α), see `rapReward`) and the ties.
 * - **Rollouts** select down to a final node — terminal per the model, at the depth cap `depth` (counted from
 *   the tree's root, as RAP's `max_depth`), or with nothing proposed — expanding every node on the way.
 *   With `bootstrap` the critic values a non-terminal final node (V̂ added as one more discounted term).
 * - **Back-up**: along the path from the tree's root to the final node, each node gets the aggregate of the
 *   rewards from itself down (`aggrReward`: mean as in RAFA, or the discounted sum): N += 1, Q += that
 *   return, M = max(M, that return).
 *
 * The tree is an object that persists (RAFA keeps it across its 60 tries as memory): `search` runs rollouts from
 * the current node, `best` names the action toward the best final node found, `observe` overwrites a predicted
 * child with what the environment showed ("act for now, learn from the truth"), `advance` moves the current
 * node to the child of the real action, `rewind` returns to the root for a new try. Open-loop use (the RAP
 * baseline) is `plan` on a fresh tree, without `observe`/`advance`.
 *
 * Our design where the spec is silent: statistics are kept as "rollouts that ended at each node", from which N,
 * Q and M are recomputed exactly after an observation changes rewards — instead of the official code's
 * incremental patch (Q, M updated, N not). When an observed state differs from the predicted one, the subtree
 * planned from the wrong state is dropped and its rollouts are credited to the corrected node (so N is kept,
 * as in RAFA). Every edge of the tree that asked the same question — same parent state, same action — learns
 * the same truth, as does the memo.
 */
import type { SearchNode } from "../core/episode.ts";
import type { Rng } from "../core/rng.ts";
import type { Elite, Prediction, RoleContext, Roles } from "../core/roles.ts";
import { memoKeys, RoleMemo, statsDelta } from "./memo.ts";
import {
  checkCount,
  checkGamma,
  type PlanResult,
  type PriorElite,
  type Proposal,
  type SearchOptions,
  type SearchStats,
  throwIfAborted,
} from "./types.ts";

/** What the node-reward function sees about one edge. */
export interface Edge<S, A> {
  /** The state the action is taken in. */
  readonly state: S;
  readonly action: A;
  /** The model's prediction, or the observed transition after `observe`. */
  readonly prediction: Prediction<S>;
  /** The action's prior (normalised over its siblings). */
  readonly prior: number;
  /** Depth of the child from the tree's root. */
  readonly depth: number;
}

export interface MctsOptions<S, A> extends SearchOptions<S, A> {
  /** B: actions asked of the elite per expanded node (`Infinity`: all it has, e.g. every legal action). */
  readonly breadth: number;
  /** Depth cap, counted from the tree's root: nodes this deep are final (RAP's `max_depth`). */
  readonly depth: number;
  /** Exploration weight w_exp (default 1). */
  readonly wExp?: number;
  /** How the rewards of a path below a node become one return: `mean` (RAFA/RAP, default) or discounted `sum`. */
  readonly aggrReward?: "mean" | "sum";
  /** How a node's returns become its UCT value: `max` (RAFA/RAP, default) or `mean`. */
  readonly aggrChild?: "max" | "mean";
  /** `elite` (default): the elite's weights when it is a `PriorElite`, else uniform; `uniform`: ignore them. */
  readonly prior?: "elite" | "uniform";
  /** A node's reward from its edge (default: the model's reward). RAP's r₀^α·r₁^(1−α): `rapReward(α)`. */
  readonly reward?: (edge: Edge<S, A>) => number;
  /** Value non-terminal final nodes with the critic (default false: RAP's returns are rewards only). */
  readonly bootstrap?: boolean;
  /** Rollouts `plan` runs when not told (default 1: RAFA's one rollout per real step). */
  readonly rollouts?: number;
}

/** A read-only view of one node of the tree. */
export interface MctsNode<S, A> {
  readonly id: number;
  readonly parent: MctsNode<S, A> | null;
  /** The action from the parent (null at the root). */
  readonly action: A | null;
  readonly prior: number;
  /** Depth from the tree's root. */
  readonly depth: number;
  /** The predicted state, or the observed one once `observed`. */
  readonly state: S;
  /** Node reward of the edge into this node (0 at the root). */
  readonly reward: number;
  /** Terminal according to the model (or the observation). */
  readonly done: boolean;
  /** True once `observe` replaced the prediction with the environment's transition. */
  readonly observed: boolean;
  /** Null until expanded. */
  readonly children: readonly MctsNode<S, A>[] | null;
  /** N: rollouts through this node. */
  readonly visits: number;
  /** Q: sum of the returns backed up through this node. */
  readonly total: number;
  /** M: the best return backed up through this node (−∞ before any). */
  readonly best: number;
}

/** The plan toward the best final node found below the current node. */
export interface BestPath<S, A> {
  readonly action: A;
  readonly plan: readonly A[];
  /** The aggregated return of the path (same aggregation as the back-up). */
  readonly value: number;
  /** The current node's child to take. */
  readonly child: MctsNode<S, A>;
  /** The final node the plan leads to (the child itself when no final node is known yet). */
  readonly leaf: MctsNode<S, A>;
}

class Node<S, A> implements MctsNode<S, A> {
  readonly id: number;
  readonly parent: Node<S, A> | null;
  readonly action: A | null;
  readonly actionKey: string | null;
  prior: number;
  readonly depth: number;
  state: S;
  key: string;
  reward: number;
  done: boolean;
  observed = false;
  children: Node<S, A>[] | null = null;
  visits = 0;
  total = 0;
  best = Number.NEGATIVE_INFINITY;
  /** Rollouts that ended here. */
  ends = 0;
  /** The critic's value of this node as a final node (bootstrap), once asked. */
  leafValue: number | null = null;

  constructor(
    id: number,
    parent: Node<S, A> | null,
    action: A | null,
    actionKey: string | null,
    prior: number,
    state: S,
    key: string,
    reward: number,
    done: boolean,
  ) {
    this.id = id;
    this.parent = parent;
    this.action = action;
    this.actionKey = actionKey;
    this.prior = prior;
    this.depth = parent ? parent.depth + 1 : 0;
    this.state = state;
    this.key = key;
    this.reward = reward;
    this.done = done;
  }
}

export class Mcts<S, A> {
  readonly roles: Roles<S, A>;
  private readonly memo: RoleMemo<S, A>;
  private readonly breadth: number;
  private readonly depthCap: number;
  private readonly gamma: number;
  private readonly wExp: number;
  private readonly aggrReward: "mean" | "sum";
  private readonly aggrChild: "max" | "mean";
  private readonly usePriors: boolean;
  private readonly rewardOf: (edge: Edge<S, A>) => number;
  private readonly bootstrap: boolean;
  private readonly defaultRollouts: number;
  private readonly describeState: (state: S) => string;
  private readonly formatAction: (action: A) => string;
  private readonly rootNode: Node<S, A>;
  private cursor: Node<S, A>;
  private nextId = 1;

  constructor(roles: Roles<S, A>, root: S, options: MctsOptions<S, A>) {
    this.roles = roles;
    const keys = memoKeys(options);
    this.memo = new RoleMemo(roles, keys, options.valueSamples ?? 1);
    this.breadth = checkCount("breadth", options.breadth, true);
    this.depthCap = checkCount("depth", options.depth);
    this.gamma = checkGamma(options.gamma ?? 1);
    this.wExp = options.wExp ?? 1;
    if (!(this.wExp >= 0)) throw new RangeError(`wExp must be ≥ 0, got ${this.wExp}`);
    this.aggrReward = options.aggrReward ?? "mean";
    this.aggrChild = options.aggrChild ?? "max";
    this.usePriors = (options.prior ?? "elite") === "elite";
    this.rewardOf = options.reward ?? ((edge) => edge.prediction.reward);
    this.bootstrap = options.bootstrap ?? false;
    this.defaultRollouts = checkCount("rollouts", options.rollouts ?? 1);
    this.describeState = options.describeState ?? keys.stateKey;
    this.formatAction = options.formatAction ?? keys.actionKey;
    this.rootNode = new Node<S, A>(0, null, null, null, 1, root, keys.stateKey(root), 0, false);
    this.cursor = this.rootNode;
  }

  /** The tree's root: the state the tree was built from (the start of every try). */
  get root(): MctsNode<S, A> {
    return this.rootNode;
  }

  /** The node searches start from: the real current state. */
  get current(): MctsNode<S, A> {
    return this.cursor;
  }

  /** Everything the tree has asked of the roles so far. */
  get stats(): SearchStats {
    return this.memo.stats();
  }

  /** A node's aggregated value as UCT uses it (M with `aggrChild: "max"`, Q/N with `"mean"`); −∞ unvisited. */
  value(node: MctsNode<S, A>): number {
    if (node.visits === 0) return Number.NEGATIVE_INFINITY;
    return this.aggrChild === "max" ? node.best : node.total / node.visits;
  }

  /** Final: terminal, at the depth cap, or expanded with nothing to do. */
  isFinal(node: MctsNode<S, A>): boolean {
    return node.done || node.depth >= this.depthCap || (node.children !== null && node.children.length === 0);
  }

  /** (a) Run `rollouts` rollouts from `from` (default: the current node). */
  async search(rollouts: number, ctx: RoleContext, from: MctsNode<S, A> = this.cursor): Promise<void> {
    checkCount("rollouts", rollouts);
    const start = this.own(from);
    for (let i = 0; i < rollouts; i++) await this.rollout(start, ctx);
  }

  /**
   * (b) The action toward the final node with the best path return below the current node (over every final
   * node the tree knows, as RAFA picks "the terminal with the best mean path reward"). Before any final node is
   * known it falls back to the greedy UCT choice without exploration. Undefined when the current node has no
   * children (not expanded, or nothing to do).
   */
  best(rng: Rng): BestPath<S, A> | undefined {
    const from = this.cursor;
    const leaves: Node<S, A>[] = [];
    const scores: number[] = [];
    const stack = [...(from.children ?? [])];
    while (stack.length > 0) {
      const node = stack.pop() as Node<S, A>;
      if (this.isFinal(node)) {
        const needsValue = this.bootstrap && !node.done;
        if (!needsValue || node.leafValue !== null) {
          leaves.push(node);
          scores.push(this.pathReturn(node, from));
        }
      } else if (node.children) stack.push(...node.children);
    }
    let leaf: Node<S, A> | undefined;
    let value: number;
    if (leaves.length > 0) {
      // Deterministic order before breaking ties: by id (creation order).
      const order = leaves
        .map((_, i) => i)
        .sort((a, b) => (leaves[a] as Node<S, A>).id - (leaves[b] as Node<S, A>).id);
      const top = Math.max(...scores);
      const tied = order.filter((i) => scores[i] === top);
      leaf = leaves[tied.length === 1 ? (tied[0] as number) : rng.pick(tied)];
      value = top;
    } else {
      const children = from.children ?? [];
      if (children.length === 0) return undefined;
      leaf = this.choose(children, 0, rng);
      value = leaf.visits > 0 ? this.value(leaf) : leaf.reward;
    }
    if (!leaf) return undefined;
    const path: Node<S, A>[] = [];
    for (let n: Node<S, A> | null = leaf; n && n !== from; n = n.parent) path.unshift(n);
    const child = path[0] as Node<S, A>;
    return {
      action: child.action as A,
      plan: path.map((n) => n.action as A),
      value,
      child,
      leaf,
    };
  }

  /**
   * (d) Overwrite the predicted outcome of `action` at the current node with the observed one: its state,
   * reward and terminal flag (the node reward is recomputed from the observed transition with the same prior).
   * Every other edge asking the same question (same parent state and action) and the memo learn it too; if
   * the state differs from the prediction, what was planned below it is dropped. Expands the current node
   * first when needed; an action the elite never proposed is added with a uniform share of prior.
   */
  async observe(action: A, observed: Prediction<S>, ctx: RoleContext): Promise<MctsNode<S, A>> {
    const child = await this.childFor(this.cursor, action, ctx, observed);
    const parentKey = this.cursor.key;
    const actionKey = child.actionKey;
    this.memo.overwrite(this.cursor.state, action, observed);
    for (const node of this.all()) {
      // A node dropped by an earlier correction in this loop is no longer part of the tree.
      if (node.parent?.key !== parentKey || node.actionKey !== actionKey || !this.attached(node)) continue;
      await this.learn(node, observed, ctx);
    }
    this.recompute();
    return child;
  }

  /** (c) Move the current node to the child of `action` (predicting it if the tree does not have it yet). */
  async advance(action: A, ctx: RoleContext): Promise<MctsNode<S, A>> {
    this.cursor = await this.childFor(this.cursor, action, ctx);
    return this.cursor;
  }

  /** `observe` then `advance`: one real step. */
  async step(action: A, observed: Prediction<S>, ctx: RoleContext): Promise<MctsNode<S, A>> {
    await this.observe(action, observed, ctx);
    return this.advance(action, ctx);
  }

  /** Back to the root: the next try starts from the initial state, with everything learned kept. */
  rewind(): void {
    this.cursor = this.rootNode;
  }

  /** Forget the memo's answers (after the roles learned); the tree and its observations stay. */
  clearMemo(): void {
    this.memo.clear();
  }

  /** Run `rollouts` rollouts from the current node and return the plan, its tree and this call's cost. */
  async plan(ctx: RoleContext, rollouts: number = this.defaultRollouts): Promise<PlanResult<A>> {
    const before = this.memo.stats();
    await this.search(rollouts, ctx);
    const best = this.best(ctx.rng);
    const { nodes, ids } = this.snapshot(this.cursor);
    return {
      action: best?.action,
      plan: best?.plan ?? [],
      value: best?.value ?? Number.NEGATIVE_INFINITY,
      nodes,
      chosen: best ? (ids.get(best.child.id) ?? null) : null,
      stats: statsDelta(this.memo.stats(), before),
    };
  }

  /** The subtree of `from` (default: the current node) as `SearchNode`s, `from` as node 0. */
  nodes(from: MctsNode<S, A> = this.cursor): SearchNode[] {
    return this.snapshot(this.own(from)).nodes;
  }

  // ——— internals ———

  private async rollout(start: Node<S, A>, ctx: RoleContext): Promise<void> {
    throwIfAborted(ctx);
    let node = start;
    while (!this.isFinal(node)) {
      if (node.children === null) {
        await this.expand(node, ctx);
        continue;
      }
      node = this.choose(node.children, this.wExp, ctx.rng, node.visits);
    }
    if (this.bootstrap && !node.done && node.leafValue === null)
      node.leafValue = await this.memo.value(node.state, ctx);
    node.ends += 1;
    this.backup(node, 1);
  }

  /** UCT choice among `children` of a parent with `parentVisits` visits; ties → larger prior → seeded draw. */
  private choose(children: readonly Node<S, A>[], wExp: number, rng: Rng, parentVisits = 0): Node<S, A> {
    const lnN = parentVisits > 0 ? Math.log(parentVisits) : 0;
    let tied: Node<S, A>[] = [];
    let top = Number.NEGATIVE_INFINITY;
    for (const child of children) {
      const score =
        child.visits === 0
          ? child.reward + wExp * Math.sqrt(lnN)
          : this.value(child) + wExp * Math.sqrt(lnN / child.visits);
      if (score > top) {
        top = score;
        tied = [child];
      } else if (score === top) tied.push(child);
    }
    if (tied.length === 0) tied = [...children]; // only NaN scores: fall back to all
    const maxPrior = Math.max(...tied.map((c) => c.prior));
    const byPrior = tied.filter((c) => c.prior === maxPrior);
    return byPrior.length === 1 ? (byPrior[0] as Node<S, A>) : rng.pick(byPrior);
  }

  private async expand(node: Node<S, A>, ctx: RoleContext): Promise<void> {
    const proposals = await this.memo.propose(node.state, this.breadth, ctx);
    const predictions = await Promise.all(proposals.map((p) => this.memo.predict(node.state, p.action, ctx)));
    const uniform = 1 / Math.max(1, proposals.length);
    node.children = proposals.map((p: Proposal<A>, i) =>
      this.makeChild(node, p.action, this.usePriors ? p.prior : uniform, predictions[i] as Prediction<S>),
    );
  }

  private makeChild(parent: Node<S, A>, action: A, prior: number, prediction: Prediction<S>): Node<S, A> {
    const reward = this.rewardOf({ state: parent.state, action, prediction, prior, depth: parent.depth + 1 });
    return new Node<S, A>(
      this.nextId++,
      parent,
      action,
      this.memo.keys.actionKey(action),
      prior,
      prediction.state,
      this.memo.keys.stateKey(prediction.state),
      reward,
      prediction.done,
    );
  }

  /** The child of `action` under `parent`, expanding the parent or adding the child when needed. */
  private async childFor(
    parent: Node<S, A>,
    action: A,
    ctx: RoleContext,
    observed?: Prediction<S>,
  ): Promise<Node<S, A>> {
    if (parent.children === null && !this.isFinal(parent)) await this.expand(parent, ctx);
    const key = this.memo.keys.actionKey(action);
    const children = parent.children ?? [];
    const found = children.find((c) => c.actionKey === key);
    if (found) return found;
    const prediction = observed ?? (await this.memo.predict(parent.state, action, ctx));
    const child = this.makeChild(parent, action, 1 / (children.length + 1), prediction);
    parent.children = [...children, child];
    return child;
  }

  /** Overwrite one node's outcome with the observed transition. */
  private async learn(node: Node<S, A>, observed: Prediction<S>, ctx: RoleContext): Promise<void> {
    const parent = node.parent;
    if (!parent || node.action === null) return;
    const key = this.memo.keys.stateKey(observed.state);
    node.reward = this.rewardOf({
      state: parent.state,
      action: node.action,
      prediction: observed,
      prior: node.prior,
      depth: node.depth,
    });
    const changed = key !== node.key || observed.done !== node.done;
    node.state = observed.state;
    node.key = key;
    node.done = observed.done;
    node.observed = true;
    if (!changed) return;
    // The subtree was planned from a state that does not occur: drop it, keep its rollouts' count here.
    for (const d of this.descendants(node)) node.ends += d.ends;
    node.children = null;
    node.leafValue = null;
    if (this.cursor !== node && this.isUnder(this.cursor, node)) this.cursor = node;
    if (this.bootstrap && node.ends > 0 && !node.done)
      node.leafValue = await this.memo.value(node.state, ctx);
  }

  /** Add `count` rollouts that ended at `leaf` to the statistics of it and its ancestors. */
  private backup(leaf: Node<S, A>, count: number): void {
    const g = this.gamma;
    const hasValue = leaf.leafValue !== null;
    let num = leaf.reward + (hasValue ? g * (leaf.leafValue as number) : 0);
    let den = 1 + (hasValue ? g : 0);
    for (let n: Node<S, A> | null = leaf; n; n = n.parent) {
      if (n !== leaf) {
        num = n.reward + g * num;
        den = 1 + g * den;
      }
      const ret = this.aggrReward === "mean" ? num / den : num;
      n.visits += count;
      n.total += count * ret;
      if (ret > n.best) n.best = ret;
    }
  }

  /** The aggregated return of the path from `from`'s child down to `leaf` (as `backup` computes it). */
  private pathReturn(leaf: Node<S, A>, from: Node<S, A>): number {
    const g = this.gamma;
    const hasValue = this.bootstrap && !leaf.done && leaf.leafValue !== null;
    let num = leaf.reward + (hasValue ? g * (leaf.leafValue as number) : 0);
    let den = 1 + (hasValue ? g : 0);
    for (let n = leaf.parent; n && n !== from; n = n.parent) {
      num = n.reward + g * num;
      den = 1 + g * den;
    }
    return this.aggrReward === "mean" ? num / den : num;
  }

  /** Recompute N, Q and M of every node from the rollouts' end points (exact after rewards changed). */
  private recompute(): void {
    const nodes = this.all();
    for (const n of nodes) {
      n.visits = 0;
      n.total = 0;
      n.best = Number.NEGATIVE_INFINITY;
    }
    for (const n of nodes) if (n.ends > 0) this.backup(n, n.ends);
  }

  private all(): Node<S, A>[] {
    return [this.rootNode, ...this.descendants(this.rootNode)];
  }

  private descendants(node: Node<S, A>): Node<S, A>[] {
    const out: Node<S, A>[] = [];
    const stack = [...(node.children ?? [])];
    while (stack.length > 0) {
      const n = stack.pop() as Node<S, A>;
      out.push(n);
      if (n.children) stack.push(...n.children);
    }
    return out;
  }

  private isUnder(node: Node<S, A>, ancestor: Node<S, A>): boolean {
    for (let n = node.parent; n; n = n.parent) if (n === ancestor) return true;
    return false;
  }

  private attached(node: Node<S, A>): boolean {
    let n = node;
    while (n.parent) {
      if (!n.parent.children?.includes(n)) return false;
      n = n.parent;
    }
    return n === this.rootNode;
  }

  /** The internal node behind a view handed out earlier (views are the nodes themselves). */
  private own(view: MctsNode<S, A>): Node<S, A> {
    if (!(view instanceof Node) || !this.attached(view as Node<S, A>))
      throw new RangeError("the node is not part of this tree");
    return view as Node<S, A>;
  }

  private snapshot(from: Node<S, A>): { nodes: SearchNode[]; ids: Map<number, number> } {
    const nodes: SearchNode[] = [];
    const ids = new Map<number, number>();
    const queue: Node<S, A>[] = [from];
    for (let i = 0; i < queue.length; i++) {
      const n = queue[i] as Node<S, A>;
      const id = nodes.length;
      ids.set(n.id, id);
      const value = this.value(n);
      nodes.push({
        id,
        parent: n === from || !n.parent ? null : (ids.get(n.parent.id) ?? null),
        action: n === from || n.action === null ? null : this.formatAction(n.action),
        state: this.describeState(n.state),
        value: Number.isFinite(value) ? value : null,
        visits: n.visits,
        ...(n === from ? {} : { reward: n.reward }),
      });
      if (n.children) queue.push(...n.children);
    }
    return { nodes, ids };
  }
}

/** One-shot MCTS (RAP's open loop): a fresh tree, `rollouts` rollouts from `root`, the best plan. */
export async function mctsSearch<S, A>(
  roles: Roles<S, A>,
  root: S,
  options: MctsOptions<S, A>,
  ctx: RoleContext,
): Promise<PlanResult<A>> {
  return new Mcts(roles, root, options).plan(ctx);
}

/** RAP's node reward r = r₀^α · r₁^(1−α), with r₀ the action's prior and r₁ the model's reward (≥ 0). */
export function rapReward<S, A>(alpha = 0.5): (edge: Edge<S, A>) => number {
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  return ({ prior, prediction }) => prior ** alpha * Math.max(0, prediction.reward) ** (1 - alpha);
}

/**
 * An elite whose ranking becomes a prior: the i-th proposal (0-based) weighs exp(−i / temperature), so a
 * ranked exact elite (e.g. BlocksWorld's, ordered by distance to the goal) guides MCTS like an LLM's
 * log-likelihoods would.
 */
export function rankedPriors<S, A>(elite: Elite<S, A>, temperature = 1): PriorElite<S, A> {
  if (!(temperature > 0)) throw new RangeError(`temperature must be > 0, got ${temperature}`);
  return {
    propose: (state, breadth, ctx) => elite.propose(state, breadth, ctx),
    async proposeWithPriors(state, breadth, ctx) {
      const actions = await elite.propose(state, breadth, ctx);
      return actions.map((action, i) => ({ action, prior: Math.exp(-i / temperature) }));
    },
  };
}
