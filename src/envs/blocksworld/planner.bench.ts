/**
 * `npx node src/envs/blocksworld/planner.bench.ts [DATA_DIR]` — how long optimal planning takes on the BlocksWorld
 * splits: A* with h_max against plain breadth-first order (h = 0), fresh planners each time, median of 5 rounds.
 * Also the exact critic's cost on every state the gold plans visit (memoised distances). Every number printed is
 * measured in this run.
 */
import { performance } from "node:perf_hooks";
import { type BlocksWorldData, loadBlocksWorld } from "./data.ts";
import { DistanceOracle } from "./planner.ts";
import { applyOperator, type State } from "./state.ts";

const dataDir = process.argv[2] ?? "../shared/data";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

function planAll(data: BlocksWorldData, heuristic: "hmax" | "none") {
  let expanded = 0;
  let slowest = 0;
  const t0 = performance.now();
  for (const inst of data.instances) {
    const t = performance.now();
    const r = new DistanceOracle(inst.task.grounding, inst.task.goal, { heuristic }).solve(inst.task.init);
    slowest = Math.max(slowest, performance.now() - t);
    if (r.plan?.length !== inst.optimalLength) throw new Error(`${inst.id}: not optimal`);
    expanded += r.expanded;
  }
  return { ms: performance.now() - t0, expanded, slowest };
}

function criticAlongGold(data: BlocksWorldData): { ms: number; queries: number } {
  const t0 = performance.now();
  let queries = 0;
  for (const inst of data.instances) {
    const oracle = new DistanceOracle(inst.task.grounding, inst.task.goal);
    let s: State = inst.task.init;
    for (const a of inst.goldPlan ?? []) {
      oracle.distance(s);
      queries++;
      const op = inst.task.grounding.operator(a);
      const r = op ? applyOperator(s, op) : undefined;
      if (r?.ok) s = r.state;
    }
  }
  return { ms: performance.now() - t0, queries };
}

for (const split of ["step_4", "step_6", "generated_basic"]) {
  const t = performance.now();
  const data = loadBlocksWorld(dataDir, split);
  const loadMs = performance.now() - t;
  const rows: string[] = [];
  for (const heuristic of ["hmax", "none"] as const) {
    const rounds = Array.from({ length: 5 }, () => planAll(data, heuristic));
    const ms = median(rounds.map((r) => r.ms));
    const slowest = median(rounds.map((r) => r.slowest));
    rows.push(
      `${heuristic.padEnd(4)} ${ms.toFixed(1).padStart(7)} ms total, ${(ms / data.instances.length).toFixed(3)} ms/instance, slowest ${slowest.toFixed(2)} ms, ${rounds[0]?.expanded} states expanded`,
    );
  }
  console.log(`${split}: ${data.instances.length} instances, loaded in ${loadMs.toFixed(0)} ms`);
  for (const r of rows) console.log(`  ${r}`);
  if (split !== "generated_basic") {
    const c = criticAlongGold(data);
    console.log(`  critic on gold-plan states: ${c.queries} queries, ${c.ms.toFixed(1)} ms`);
  }
}
