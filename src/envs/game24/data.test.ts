import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../core/errors.ts";
import {
  type Game24Data,
  game24Instances,
  game24Path,
  HEADER,
  loadGame24,
  parseGame24Csv,
  puzzleById,
  splitPuzzles,
} from "./data.ts";
import { rational } from "./rational.ts";
import { solvable } from "./solver.ts";

/** The shared data directory: `../shared/data` relative to the project root. */
const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

describe("24.csv loader", () => {
  let data: Game24Data;
  beforeAll(() => {
    // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
    data = loadGame24(DATA_DIR);
  });

  it("reads 1,362 validated puzzles in rank order", () => {
    expect(data.path).toBe(game24Path(DATA_DIR));
    expect(data.puzzles).toHaveLength(1362);
    expect(data.puzzles[0]).toEqual({
      rank: 1,
      numbers: [1, 1, 4, 6],
      amtSeconds: 4.4,
      solvedRate: 0.992,
      sigmaMeanSeconds: 4.67,
      sigmaStdSeconds: 1.48,
    });
    expect(data.puzzles.map((p) => p.rank)).toEqual(data.puzzles.map((_, i) => i + 1));
  });

  it("splits: test = ranks 901–1000, train = the rest, all", () => {
    const test = splitPuzzles(data, "test");
    expect(test).toHaveLength(100);
    expect(test[0]?.rank).toBe(901);
    expect(test[0]?.numbers).toEqual([4, 5, 6, 10]);
    expect(test[99]?.rank).toBe(1000);
    expect(splitPuzzles(data, "train")).toHaveLength(1262);
    expect(splitPuzzles(data, "all")).toHaveLength(1362);
    expect(() => splitPuzzles(data, "dev")).toThrow(UserError);
    expect(puzzleById(data, "901").numbers).toEqual([4, 5, 6, 10]);
    expect(() => puzzleById(data, "0")).toThrow(/no Game of 24 puzzle with rank "0"/);
    expect(() => puzzleById(data, "9x")).toThrow(UserError);
    const inst = game24Instances("test", DATA_DIR);
    expect(inst.ids).toHaveLength(100);
    expect(inst.ids[0]).toBe("901");
    expect(inst.dataFiles).toEqual([data.path]);
  });

  it("holds every solvable hand of 1–13 exactly once, so none is unsolvable", () => {
    const keys = new Set(data.puzzles.map((p) => [...p.numbers].sort((a, b) => a - b).join(" ")));
    expect(keys.size).toBe(1362);
    const unsolvable = data.puzzles.filter((p) => !solvable(p.numbers.map((n) => rational(n))));
    expect(unsolvable.map((p) => p.rank)).toEqual([]);
  });
});

describe("24.csv errors", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "game24-"));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("a missing file is a one-line UserError naming the path", () => {
    const missing = join(dir, "nowhere");
    let error: unknown;
    try {
      loadGame24(missing);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    const message = (error as Error).message;
    expect(message).toContain(join(missing, "game24", "24.csv"));
    expect(message).not.toContain("\n");
    expect((error as UserError).category).toBe("missing_data");
  });

  it("malformed rows name the line and field", () => {
    const row = "1,1 1 4 6,4.4,99.20%,4.67,1.48";
    const cases: [string, RegExp][] = [
      ["", /:1: expected the header/],
      [`Rank,Puzzle\n${row}`, /:1: expected the header/],
      [HEADER, /no puzzles/],
      [`${HEADER}\n1,1 1 4,4.4,99.20%,4.67,1.48`, /:2: numbers: expected four positive integers/],
      [`${HEADER}\n1,1 1 4 6,4.4,99.20%,4.67`, /:2: expected 6 comma-separated fields, found 5/],
      [`${HEADER}\nx,1 1 4 6,4.4,99.20%,4.67,1.48`, /:2: rank: expected a positive integer rank/],
      [`${HEADER}\n1,1 1 4 6,4.4,99.2,4.67,1.48`, /:2: solvedRate: expected a percentage/],
      [`${HEADER}\n1,1 1 4 6,4.4,120%,4.67,1.48`, /:2: solvedRate: a solved rate above 100%/],
      [`${HEADER}\n${row}\n${row}`, /:3: rank 1 appears twice/],
      [
        `${HEADER}\n${row}\n\n2,1 1 3 8,4.45,99.20%,4.69,1.48`,
        /:3: expected 6 comma-separated fields, found 1/,
      ],
    ];
    for (const [text, expected] of cases) {
      expect(() => parseGame24Csv(text, "f.csv"), text).toThrow(expected);
      expect(() => parseGame24Csv(text, "f.csv")).toThrow(UserError);
    }
    expect(parseGame24Csv(`${HEADER}\n${row}\n`, "f.csv")).toHaveLength(1); // a trailing newline is harmless
  });

  it("loads a malformed file as a UserError too", () => {
    mkdirSync(join(dir, "game24"), { recursive: true });
    writeFileSync(join(dir, "game24", "24.csv"), `${HEADER}\n1,1 1 4 6,4.4,abc,4.67,1.48`);
    expect(() => loadGame24(dir)).toThrow(/24\.csv:2: solvedRate/);
  });
});
