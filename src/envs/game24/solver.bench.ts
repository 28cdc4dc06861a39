/**
 * `node src/envs/game24/solver.bench.ts [dataDir]` — what the exact solver costs on the whole data set.
 *
 * Solves all 1,362 puzzles of `game24/24.csv` from an empty memo (cold) and again with the memo filled (warm),
 * five rounds each, and prints medians, the memo size and the number of unsolvable puzzles. It then checks every
 * test-split gold plan through the environment. Every number printed is measured in this run.
 */
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadGame24, splitPuzzles } from "./data.ts";
import { Game24Env } from "./env.ts";
import { goldPlan } from "./exact.ts";
import { rational } from "./rational.ts";
import { clearSolverMemo, solve, solverMemoSize } from "./solver.ts";

const dataDir = resolve(
  process.argv[2] ?? fileURLToPath(new URL("../../../../shared/data", import.meta.url)),
);
const data = loadGame24(dataDir);
const hands = data.puzzles.map((p) => p.numbers.map((n) => rational(n)));

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function round(cold: boolean): { ms: number; unsolvable: number } {
  if (cold) clearSolverMemo();
  const t0 = performance.now();
  let unsolvable = 0;
  for (const h of hands) if (!solve(h)) unsolvable++;
  return { ms: performance.now() - t0, unsolvable };
}

const cold: number[] = [];
const warm: number[] = [];
let unsolvable = 0;
for (let i = 0; i < 5; i++) {
  const c = round(true);
  cold.push(c.ms);
  unsolvable = c.unsolvable;
  warm.push(round(false).ms);
}
console.log(`data: ${data.path} (${data.puzzles.length} puzzles)`);
console.log(`unsolvable puzzles: ${unsolvable}`);
console.log(
  `solve all, cold memo: median ${median(cold).toFixed(1)} ms (${cold.map((x) => x.toFixed(0)).join(", ")})`,
);
console.log(`solve all, warm memo: median ${median(warm).toFixed(2)} ms; memo entries ${solverMemoSize()}`);

const t0 = performance.now();
let accepted = 0;
const test = splitPuzzles(data, "test");
for (const p of test) {
  const env = new Game24Env(p.numbers);
  await env.reset(0);
  const r = await env.step(goldPlan(p.numbers) ?? "");
  if (r.reward === 13 && r.success) accepted++;
}
console.log(
  `test-split gold plans accepted with reward 13: ${accepted}/${test.length} in ${(performance.now() - t0).toFixed(1)} ms`,
);
