/**
 * The official evaluator's verdicts (`api-bank-official/verdicts.jsonl`: 1,514 level-1/2 predictions, each with
 * the verdict API-Bank's `evaluator.py` gave it) and what the project's scorings say about the same predictions:
 * the differential test, and the docs' table of how many verdicts each corrected rule changes.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../../core/errors.ts";
import type { ApiBankData } from "./data.ts";
import { Judge } from "./evaluate.ts";
import { ApiBankWorld } from "./executor.ts";
import { type CallPoint, levelPoints } from "./points.ts";
import { SCORING_RULE_IDS, type ScoringRule } from "./scoring.ts";

export const OfficialVerdictSchema = z.object({
  set: z.string(),
  level: z.union([z.literal(1), z.literal(2)]),
  file: z.string(),
  id: z.number().int().min(0),
  gold_api: z.string(),
  gold: z.string(),
  pred: z.string(),
  official_correct: z.boolean(),
  official_bucket: z.string(),
});
export type OfficialVerdict = z.infer<typeof OfficialVerdictSchema>;

/** Read `<dataDir>/api-bank-official/verdicts.jsonl`; one clear line when it is missing or malformed. */
export function loadOfficialVerdicts(dataDir: string): OfficialVerdict[] {
  const path = join(dataDir, "api-bank-official", "verdicts.jsonl");
  if (!existsSync(path)) {
    throw new UserError(
      `the official API-Bank verdicts are missing: ${path} (see ../shared/data/README.md)`,
      {
        category: "missing_data",
      },
    );
  }
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      const parsed = OfficialVerdictSchema.safeParse(JSON.parse(line));
      if (!parsed.success) {
        throw new UserError(`${path}:${i + 1}: ${parsed.error.issues[0]?.message ?? "bad line"}`, {
          category: "bad_data",
        });
      }
      return parsed.data;
    });
}

/** One prediction set of one level, in the official evaluator's order (a dialogue's points by sample id). */
export interface VerdictGroup {
  readonly set: string;
  readonly level: 1 | 2;
  readonly rows: readonly OfficialVerdict[];
  readonly points: readonly CallPoint[];
  /** The level's world, built once and shared by every pass over the group. */
  readonly world: ApiBankWorld;
}

export function verdictGroups(data: ApiBankData, verdicts: readonly OfficialVerdict[]): VerdictGroup[] {
  const groups: VerdictGroup[] = [];
  for (const level of [1, 2] as const) {
    const world = new ApiBankWorld(data, { level });
    const byKey = new Map(
      levelPoints(data, level)
        .filter((p): p is CallPoint => p.kind === "call")
        .map((p) => [p.key, p]),
    );
    const sets = [...new Set(verdicts.filter((v) => v.level === level).map((v) => v.set))];
    for (const set of sets) {
      const rows = verdicts
        .filter((v) => v.level === level && v.set === set)
        .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.id - b.id));
      const points = rows.map((r) => {
        const point = byKey.get(`${r.file}#${r.id}`);
        if (!point) throw new UserError(`verdict ${r.file}#${r.id} names no level-${level} call point`);
        return point;
      });
      groups.push({ set, level, rows, points, world });
    }
  }
  return groups;
}

/** The verdicts a rule set gives a group, one pass (one Judge) as the official evaluator makes it. */
export async function groupVerdicts(group: VerdictGroup, rules: Iterable<ScoringRule>): Promise<boolean[]> {
  const judge = new Judge(group.world, { rules });
  const out: boolean[] = [];
  for (const [i, point] of group.points.entries()) {
    out.push((await judge.judgeCall(point, group.rows[i]?.pred ?? "")).correct);
  }
  return out;
}

export interface Departures {
  readonly set: string;
  readonly level: 1 | 2;
  readonly points: number;
  readonly official: number;
  readonly corrected: number;
  /** Points whose official and corrected verdicts differ. */
  readonly differ: number;
  /** Verdicts each rule changes when added alone to official, and when removed alone from corrected. */
  readonly byRule: Readonly<Record<ScoringRule, { readonly added: number; readonly removed: number }>>;
  /** Differing points that no single rule explains (neither its addition nor its removal flips them). */
  readonly unexplained: readonly string[];
}

/** Official against corrected on a group, and which rule makes each difference. */
export async function departures(group: VerdictGroup): Promise<Departures> {
  const official = await groupVerdicts(group, []);
  const corrected = await groupVerdicts(group, SCORING_RULE_IDS);
  const explained = official.map((v, i) => v === corrected[i]);
  const byRule = {} as Record<ScoringRule, { added: number; removed: number }>;
  for (const rule of SCORING_RULE_IDS) {
    const added = await groupVerdicts(group, [rule]);
    const removed = await groupVerdicts(
      group,
      SCORING_RULE_IDS.filter((r) => r !== rule),
    );
    byRule[rule] = {
      added: added.filter((v, i) => v !== official[i]).length,
      removed: removed.filter((v, i) => v !== corrected[i]).length,
    };
    for (const [i, v] of added.entries()) {
      if (v !== official[i] || removed[i] !== corrected[i]) explained[i] = true;
    }
  }
  return {
    set: group.set,
    level: group.level,
    points: group.points.length,
    official: official.filter(Boolean).length,
    corrected: corrected.filter(Boolean).length,
    differ: official.filter((v, i) => v !== corrected[i]).length,
    byRule,
    unexplained: group.points.filter((_, i) => !explained[i]).map((p) => p.key),
  };
}
