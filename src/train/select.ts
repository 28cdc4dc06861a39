/**
 * Selection (spec §1.3): keep trajectories scored at or above a threshold, at most k per instruction — highest
 * score first, ties to fewer agent steps, remaining ties to input order — so the same inputs always give the same
 * data set. The result lists instructions in order of first appearance.
 */
import { agentSteps, type Trajectory } from "./trajectory.ts";

export interface Scored {
  readonly trajectory: Trajectory;
  readonly score: number;
}

export interface SelectOptions {
  /** Minimum score kept (default 8 on the 1–10 scale). */
  readonly threshold?: number;
  /** At most this many per instruction (default 2). */
  readonly perInstruction?: number;
}

export function selectTrajectories<T extends Scored>(items: readonly T[], options: SelectOptions = {}): T[] {
  const { threshold = 8, perInstruction = 2 } = options;
  const groups = new Map<string, { item: T; index: number }[]>();
  items.forEach((item, index) => {
    if (!(item.score >= threshold)) return;
    const id = item.trajectory.instructionId;
    const group = groups.get(id) ?? [];
    group.push({ item, index });
    groups.set(id, group);
  });
  const out: T[] = [];
  for (const group of groups.values()) {
    group.sort(
      (a, b) =>
        b.item.score - a.item.score ||
        agentSteps(a.item.trajectory) - agentSteps(b.item.trajectory) ||
        a.index - b.index,
    );
    out.push(...group.slice(0, perInstruction).map((g) => g.item));
  }
  return out;
}
