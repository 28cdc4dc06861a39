/**
 * The 1,362 Game-of-24 puzzles (`game24/24.csv` under the data directory; see the data README), ranked easy to
 * hard by human solve time. Splits: `test` = ranks 901–1000 (the ToT split used by RAFA), `train` = every other
 * rank, `all`. The instance id of a puzzle is its rank, as text.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../../core/errors.ts";

export const HEADER = "Rank,Puzzles,AMT (s),Solved rate,1-sigma Mean (s),1-sigma STD (s)";
export const SPLITS = ["test", "train", "all"] as const;
export type Game24Split = (typeof SPLITS)[number];
export const DEFAULT_SPLIT: Game24Split = "test";
export const TEST_RANKS = { first: 901, last: 1000 } as const;

export interface Game24Puzzle {
  readonly rank: number;
  readonly numbers: readonly [number, number, number, number];
  /** Mean human solve time on Amazon Mechanical Turk, seconds. */
  readonly amtSeconds: number;
  /** Fraction of human players who solved it, 0–1. */
  readonly solvedRate: number;
  readonly sigmaMeanSeconds: number;
  readonly sigmaStdSeconds: number;
}

export interface Game24Data {
  /** The file read (the runner hashes it into the manifest). */
  readonly path: string;
  readonly puzzles: readonly Game24Puzzle[];
}

const decimal = z
  .string()
  .regex(/^\d+(?:\.\d+)?$/, "expected a non-negative decimal")
  .transform(Number);

const Row = z.object({
  rank: z
    .string()
    .regex(/^[1-9]\d*$/, "expected a positive integer rank")
    .transform(Number),
  numbers: z
    .string()
    .regex(/^[1-9]\d* [1-9]\d* [1-9]\d* [1-9]\d*$/, "expected four positive integers separated by spaces")
    .transform((s) => s.split(" ").map(Number) as [number, number, number, number]),
  amtSeconds: decimal,
  solvedRate: z
    .string()
    .regex(/^\d+(?:\.\d+)?%$/, "expected a percentage like 99.20%")
    .transform((s) => Number(s.slice(0, -1)) / 100)
    .pipe(z.number().max(1, "a solved rate above 100%")),
  sigmaMeanSeconds: decimal,
  sigmaStdSeconds: decimal,
});

/** Where the puzzles live under a data directory. */
export function game24Path(dataDir: string): string {
  return join(dataDir, "game24", "24.csv");
}

/** Load and validate every row; a missing or malformed file is a one-line `UserError`. */
export function loadGame24(dataDir: string): Game24Data {
  const path = game24Path(dataDir);
  if (!existsSync(path))
    throw new UserError(
      `Game of 24 data not found: ${path} (pass the data directory that holds game24/24.csv)`,
      {
        category: "missing_data",
      },
    );
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, {
      category: "missing_data",
      cause: e,
    });
  }
  return { path, puzzles: parseGame24Csv(text, path) };
}

/** Parse the CSV text (exported for tests of malformed files). `where` names the file in errors. */
export function parseGame24Csv(text: string, where: string): Game24Puzzle[] {
  const bad = (line: number, why: string) =>
    new UserError(`${where}:${line}: ${why}`, { category: "bad_data" });
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  if (lines[lines.length - 1] === "") lines.pop(); // tolerate a trailing newline though the shipped file has none
  if (lines[0]?.trim() !== HEADER) throw bad(1, `expected the header "${HEADER}"`);
  const puzzles: Game24Puzzle[] = [];
  const ranks = new Set<number>();
  for (let i = 1; i < lines.length; i++) {
    const cells = (lines[i] ?? "").split(",");
    if (cells.length !== 6) throw bad(i + 1, `expected 6 comma-separated fields, found ${cells.length}`);
    const [rank, numbers, amtSeconds, solvedRate, sigmaMeanSeconds, sigmaStdSeconds] = cells.map((c) =>
      c.trim(),
    );
    const row = Row.safeParse({ rank, numbers, amtSeconds, solvedRate, sigmaMeanSeconds, sigmaStdSeconds });
    if (!row.success) {
      const issue = row.error.issues[0];
      throw bad(i + 1, `${issue?.path.join(".") ?? "row"}: ${issue?.message ?? "invalid row"}`);
    }
    if (ranks.has(row.data.rank)) throw bad(i + 1, `rank ${row.data.rank} appears twice`);
    ranks.add(row.data.rank);
    puzzles.push(row.data);
  }
  if (puzzles.length === 0) throw bad(1, "no puzzles");
  return puzzles;
}

function isSplit(name: string): name is Game24Split {
  return (SPLITS as readonly string[]).includes(name);
}

/** The puzzles of a split, in rank order. */
export function splitPuzzles(data: Game24Data, split: string): Game24Puzzle[] {
  if (!isSplit(split))
    throw new UserError(`unknown Game of 24 split "${split}" (known: ${SPLITS.join(", ")})`, {
      category: "bad_option",
    });
  const inTest = (p: Game24Puzzle) => p.rank >= TEST_RANKS.first && p.rank <= TEST_RANKS.last;
  const chosen =
    split === "all" ? data.puzzles : data.puzzles.filter((p) => (split === "test" ? inTest(p) : !inTest(p)));
  return chosen.slice().sort((a, b) => a.rank - b.rank);
}

/** A puzzle by its instance id (the rank, as text). */
export function puzzleById(data: Game24Data, id: string): Game24Puzzle {
  const rank = /^[1-9]\d*$/.test(id) ? Number(id) : Number.NaN;
  const p = data.puzzles.find((x) => x.rank === rank);
  if (!p)
    throw new UserError(`no Game of 24 puzzle with rank "${id}" in ${data.path}`, { category: "bad_option" });
  return p;
}

/** What the registry's `instances(split, dataDir)` returns: the ranks of a split and the file read. */
export function game24Instances(split: string, dataDir: string): { ids: string[]; dataFiles: string[] } {
  const data = loadGame24(dataDir);
  return { ids: splitPuzzles(data, split).map((p) => String(p.rank)), dataFiles: [data.path] };
}
