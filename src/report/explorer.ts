/**
 * The data behind the search-tree explorer: for the main run's first episodes, every step with its tree and LLM
 * calls, as compact JSON. Texts are interned in one string table (prompts and predicted states repeat a lot), and a
 * size budget keeps big runs' reports reasonable; what was left out is said in `note`.
 */
import type { LlmCallRecord, RunData, StepRecord, TreeRecord } from "../bench/types.ts";

export interface ExplorerLimits {
  /** Episodes embedded at most (in grid order). */
  readonly maxEpisodes: number;
  /** Approximate size budget of the embedded JSON, in characters. */
  readonly maxChars: number;
  /** Nodes kept per tree (breadth-first from the root). */
  readonly maxNodesPerTree: number;
  /** Longer texts are cut, with a marker saying how much was cut. */
  readonly maxTextLength: number;
}

export const DEFAULT_EXPLORER_LIMITS: ExplorerLimits = {
  maxEpisodes: 200,
  maxChars: 6_000_000,
  maxNodesPerTree: 400,
  maxTextLength: 20_000,
};

/** A string-table reference; -1 for none. */
export type Ref = number;

/** `[id, parent (-1 for the root), action, state, value (null: not evaluated), visits, reward (null: none)]`. */
export type ExplorerNode = [number, number, Ref, Ref, number | null, number, number | null];

export interface ExplorerTree {
  readonly nodes: ExplorerNode[];
  readonly chosen: number | null;
  /** Nodes left out by `maxNodesPerTree`. */
  readonly omitted: number;
}

export interface ExplorerCall {
  readonly seq: number;
  readonly model: Ref;
  readonly ok: boolean;
  readonly error: Ref;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costUsd: number;
  readonly cacheHits: number;
  readonly latencyMs: number;
  /** The call's retried attempts, ms waited before them, attempts that timed out. */
  readonly retries: number;
  readonly retryWaitMs: number;
  readonly timeouts: number;
  /** `[role, content]` pairs. */
  readonly messages: [Ref, Ref][];
  readonly responses: Ref[];
}

export interface ExplorerStep {
  readonly t: number;
  /** False when the journal has a tree or calls for `t` but no finished step (the episode stopped mid-step). */
  readonly recorded: boolean;
  readonly observation: Ref;
  readonly action: Ref;
  readonly reward: number;
  readonly feedback: Ref;
  readonly done: boolean;
  /** The observation after the action. */
  readonly next: Ref;
  readonly tree: ExplorerTree | null;
  readonly calls: ExplorerCall[];
}

export interface ExplorerEpisode {
  readonly id: Ref;
  readonly instance: Ref;
  readonly seed: number;
  readonly success: boolean;
  readonly totalReturn: number;
  readonly end: Ref;
  readonly steps: ExplorerStep[];
}

export interface ExplorerData {
  readonly strings: string[];
  readonly episodes: ExplorerEpisode[];
  /** The run's episode count, to say how many were embedded. */
  readonly totalEpisodes: number;
  /** What was left out, or null when everything is there. */
  readonly note: string | null;
}

class StringTable {
  readonly strings: string[] = [];
  readonly #index = new Map<string, number>();
  #chars = 0;
  readonly #maxLength: number;
  truncated = 0;

  constructor(maxLength: number) {
    this.#maxLength = maxLength;
  }

  get chars(): number {
    return this.#chars;
  }

  ref(text: string): Ref {
    let s = text;
    if (s.length > this.#maxLength) {
      this.truncated++;
      s = `${s.slice(0, this.#maxLength)}\n… [${s.length - this.#maxLength} more characters not included in the report]`;
    }
    const known = this.#index.get(s);
    if (known !== undefined) return known;
    const i = this.strings.length;
    this.strings.push(s);
    this.#index.set(s, i);
    // JSON grows by at least the text plus quotes and a comma.
    this.#chars += s.length + 3;
    return i;
  }

  mark(): { length: number; chars: number; truncated: number } {
    return { length: this.strings.length, chars: this.#chars, truncated: this.truncated };
  }

  rollback(mark: { length: number; chars: number; truncated: number }): void {
    for (let i = mark.length; i < this.strings.length; i++) {
      const s = this.strings[i];
      if (s !== undefined) this.#index.delete(s);
    }
    this.strings.length = mark.length;
    this.#chars = mark.chars;
    this.truncated = mark.truncated;
  }
}

/** Keep at most `max` nodes, breadth-first from the root, so every kept node's parent is kept too. */
function capTree(tree: TreeRecord, max: number): { nodes: TreeRecord["nodes"]; omitted: number } {
  if (tree.nodes.length <= max) return { nodes: tree.nodes, omitted: 0 };
  const children = new Map<number | null, TreeRecord["nodes"][number][]>();
  for (const node of tree.nodes) {
    const list = children.get(node.parent) ?? [];
    list.push(node);
    children.set(node.parent, list);
  }
  const kept: TreeRecord["nodes"][number][] = [];
  const queue = [...(children.get(null) ?? [])];
  for (let i = 0; i < queue.length && kept.length < max; i++) {
    const node = queue[i];
    if (node === undefined) break;
    kept.push(node);
    queue.push(...(children.get(node.id) ?? []));
  }
  return { nodes: kept, omitted: tree.nodes.length - kept.length };
}

function buildEpisodeSteps(
  table: StringTable,
  steps: readonly StepRecord[],
  trees: readonly TreeRecord[],
  calls: readonly LlmCallRecord[],
  limits: ExplorerLimits,
): ExplorerStep[] {
  const ts = new Set<number>();
  for (const s of steps) ts.add(s.t);
  for (const tr of trees) ts.add(tr.t);
  for (const c of calls) ts.add(c.t);
  const byT = new Map(steps.map((s) => [s.t, s]));
  // A planner may journal several trees for one step (e.g. a replan); the last one is what it acted on.
  const treeByT = new Map(trees.map((tr) => [tr.t, tr]));
  const out: ExplorerStep[] = [];
  for (const t of [...ts].sort((a, b) => a - b)) {
    const step = byT.get(t);
    const tree = treeByT.get(t);
    let explorerTree: ExplorerTree | null = null;
    if (tree) {
      const capped = capTree(tree, limits.maxNodesPerTree);
      explorerTree = {
        nodes: capped.nodes.map(
          (n): ExplorerNode => [
            n.id,
            n.parent ?? -1,
            n.action === null ? -1 : table.ref(n.action),
            table.ref(n.state),
            n.value === null || !Number.isFinite(n.value) ? null : n.value,
            n.visits,
            n.reward === undefined || !Number.isFinite(n.reward) ? null : n.reward,
          ],
        ),
        chosen: tree.chosen,
        omitted: capped.omitted,
      };
    }
    out.push({
      t,
      recorded: step !== undefined,
      observation: step ? table.ref(step.observation) : -1,
      action: step ? table.ref(step.action) : -1,
      reward: step?.reward ?? 0,
      feedback: step ? table.ref(step.feedback) : -1,
      done: step?.done ?? false,
      next: step ? table.ref(step.nextObservation) : -1,
      tree: explorerTree,
      calls: calls
        .filter((c) => c.t === t)
        .sort((a, b) => a.seq - b.seq)
        .map((c) => ({
          seq: c.seq,
          model: table.ref(c.model),
          ok: c.ok,
          error: c.errorCategory === undefined ? -1 : table.ref(c.errorCategory),
          inputTokens: c.inputTokens,
          outputTokens: c.outputTokens,
          costUsd: c.costUsd,
          cacheHits: c.cacheHits,
          latencyMs: c.latencyMs,
          retries: c.retries,
          retryWaitMs: c.retryWaitMs,
          timeouts: c.timeouts,
          messages: c.messages.map((m): [Ref, Ref] => [table.ref(m.role), table.ref(m.content)]),
          responses: c.responses.map((r) => table.ref(r)),
        })),
    });
  }
  return out;
}

/** Size of the JSON that `value` adds besides its interned strings (which the table counts). */
function structureChars(value: unknown): number {
  return JSON.stringify(value)?.length ?? 0;
}

export function buildExplorerData(
  run: RunData,
  limits: ExplorerLimits = DEFAULT_EXPLORER_LIMITS,
): ExplorerData {
  const table = new StringTable(limits.maxTextLength);
  const episodes: ExplorerEpisode[] = [];
  const ordered = [...run.episodes].sort((a, b) => a.index - b.index);
  let chars = 0;
  let overBudget = false;
  for (const ep of ordered) {
    if (episodes.length >= limits.maxEpisodes) break;
    const mark = table.mark();
    const episode: ExplorerEpisode = {
      id: table.ref(ep.id),
      instance: table.ref(ep.instance),
      seed: ep.seed,
      success: ep.success,
      totalReturn: ep.totalReturn,
      end: table.ref(ep.end),
      steps: buildEpisodeSteps(table, run.steps(ep.id), run.trees(ep.id), run.llmCalls(ep.id), limits),
    };
    const size = structureChars(episode) + (table.chars - mark.chars);
    // The first episode always goes in (its long texts are already cut), so the explorer is never empty.
    if (episodes.length > 0 && chars + size > limits.maxChars) {
      table.rollback(mark);
      overBudget = true;
      break;
    }
    chars += size;
    episodes.push(episode);
  }

  const parts: string[] = [];
  const total = run.episodes.length;
  if (episodes.length < total) {
    const why = overBudget ? "the report's size budget" : `the limit of ${limits.maxEpisodes} episodes`;
    parts.push(
      `The explorer holds the first ${episodes.length} of ${total} episodes (in grid order); the others were left out to keep this file small (${why}). Every step of every episode is in run.sqlite.`,
    );
  }
  const trimmedTrees = episodes.reduce(
    (n, e) => n + e.steps.filter((s) => s.tree !== null && s.tree.omitted > 0).length,
    0,
  );
  if (trimmedTrees > 0) {
    parts.push(
      `${trimmedTrees} search tree(s) had more than ${limits.maxNodesPerTree} nodes; they show the first ${limits.maxNodesPerTree} breadth-first.`,
    );
  }
  if (table.truncated > 0) {
    parts.push(`${table.truncated} text(s) longer than ${limits.maxTextLength} characters were cut.`);
  }
  return {
    strings: table.strings,
    episodes,
    totalEpisodes: total,
    note: parts.length > 0 ? parts.join(" ") : null,
  };
}
