/** Small pieces the planners share: recording a search tree as `SearchNode`s, and seeded tie-breaking. */
import type { SearchNode } from "../core/episode.ts";
import type { Rng } from "../core/rng.ts";

/** A mutable search-tree record; `nodes()` returns the `SearchNode[]` a `planner.tree` event carries. */
export class TreeRecorder {
  private readonly list: {
    id: number;
    parent: number | null;
    action: string | null;
    state: string;
    value: number | null;
    visits: number;
    reward?: number;
  }[] = [];

  /** Add a node and return its id (the root first: id 0). */
  add(parent: number | null, action: string | null, state: string, reward?: number): number {
    const id = this.list.length;
    this.list.push({
      id,
      parent,
      action,
      state,
      value: null,
      visits: 0,
      ...(reward !== undefined ? { reward } : {}),
    });
    return id;
  }

  set(id: number, fields: { value?: number; visits?: number }): void {
    const node = this.list[id];
    if (!node) throw new RangeError(`no search node ${id}`);
    // JSON has no ±Infinity; an unevaluated value is shown as null.
    if (fields.value !== undefined) node.value = Number.isFinite(fields.value) ? fields.value : null;
    if (fields.visits !== undefined) node.visits = fields.visits;
  }

  nodes(): SearchNode[] {
    return this.list.map((n) => ({ ...n }));
  }
}

/**
 * Index of the largest score; exact ties are broken uniformly by `rng` (only when there is a tie, so an
 * untied choice draws nothing). Undefined for an empty list.
 */
export function argmax(scores: readonly number[], rng: Rng): number | undefined {
  let best: number[] = [];
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const [i, s] of scores.entries()) {
    if (s > bestScore) {
      bestScore = s;
      best = [i];
    } else if (s === bestScore) best.push(i);
  }
  if (best.length === 0) return scores.length > 0 ? rng.int(scores.length) : undefined;
  return best.length === 1 ? best[0] : rng.pick(best);
}

/** Indices of the `k` largest scores, best first; ties at the cut (and within it) broken by `rng`. */
export function topK(scores: readonly number[], k: number, rng: Rng): number[] {
  // A random permutation first, then a stable sort: equal scores keep the random order.
  const order = rng.shuffle(scores.map((_, i) => i));
  const score = (i: number) => {
    const s = scores[i] as number;
    return Number.isNaN(s) ? Number.NEGATIVE_INFINITY : s;
  };
  order.sort((a, b) => (score(b) > score(a) ? 1 : score(b) < score(a) ? -1 : 0));
  return order.slice(0, k);
}
