/**
 * `npm run bench:theory` — the theory lab's speed.
 *
 * 1. Every experiment with its defaults (200 seeds): wall time and environment steps per second each, one after
 *    another in this process; then `bayesact theory all` itself (one process per experiment, as many at once as
 *    there are cores), its wall time against the goal of 60 s on 2 cores and against the one-after-another total.
 * 2. Step cost as |Z| grows 4 → 64: the probe trap's exact-posterior arms (BAIL, posterior sampling, ε-BAIL,
 *    control) at fixed seeds and horizon; with O(|Z|) posterior updates the time per step grows linearly in |Z|,
 *    so ns per step per |Z| stays roughly flat once fixed per-step costs are amortised.
 * Every number printed is measured in this run.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { linearFit } from "../../theory/stats.ts";
import { EXPERIMENTS, parseParams } from "./index.ts";
import { probeTrapExperiment } from "./probe-trap.ts";

const SEEDS = 200;
const BIN = fileURLToPath(new URL("../../../bin/bayesact.js", import.meta.url));

async function main(): Promise<void> {
  console.log(`bench:theory — every experiment with its defaults, ${SEEDS} seeds`);
  console.log("experiment        wall_s    env_steps   steps/s      checks");
  let total = 0;
  for (const exp of EXPERIMENTS) {
    const started = performance.now();
    const result = await exp.run(parseParams(exp, {}), { seeds: SEEDS, baseSeed: 1 });
    const wall = (performance.now() - started) / 1000;
    total += wall;
    const passed = result.checks.filter((c) => c.pass).length;
    console.log(
      `${exp.name.padEnd(16)} ${wall.toFixed(1).padStart(7)} ${result.env_steps.toExponential(2).padStart(12)} ${(result.env_steps / wall).toExponential(2).padStart(10)}   ${passed}/${result.checks.length}`,
    );
  }
  console.log(`total            ${total.toFixed(1).padStart(7)} s  one after another, in this process`);

  // `bayesact theory all` as a user runs it: one process per experiment, as many at once as there are cores.
  const out = mkdtempSync(join(tmpdir(), "bayesact-bench-theory-"));
  const started = performance.now();
  try {
    execFileSync(process.execPath, [BIN, "theory", "all", "--out", out], {
      stdio: ["ignore", "ignore", "ignore"],
    });
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const all = (performance.now() - started) / 1000;
  console.log(
    `bayesact theory all: ${all.toFixed(1)} s wall on ${Math.min(8, availableParallelism())} processes (goal: at most 60 s on 2 cores); ${(total / all).toFixed(2)}x the one-after-another total`,
  );

  console.log("");
  console.log("probe trap, exact-posterior arms, 50 seeds x 20000 episodes: step cost against |Z|");
  console.log("   |Z|   wall_s    steps/s   ns/step   ns/step/|Z|");
  const sizes = [4, 8, 16, 32, 64];
  const costs: number[] = [];
  for (const K of sizes) {
    const params = parseParams(probeTrapExperiment, {
      Ks: [K],
      horizon: 20_000,
      horizons: [1000, 20_000],
      sweepK: K,
      sweepEpsilons: [0.01],
      cSweep: [],
      negativeControl: false,
    });
    const started = performance.now();
    const result = await probeTrapExperiment.run(params as never, { seeds: 50, baseSeed: 1 });
    const wall = (performance.now() - started) / 1000;
    const nsPerStep = (wall * 1e9) / result.env_steps;
    costs.push(nsPerStep);
    console.log(
      `${String(K).padStart(6)} ${wall.toFixed(2).padStart(8)} ${(result.env_steps / wall).toExponential(2).padStart(10)} ${nsPerStep.toFixed(0).padStart(9)} ${(nsPerStep / K).toFixed(1).padStart(13)}`,
    );
  }
  const fit = linearFit(sizes, costs);
  const mean = costs.reduce((s, c) => s + c, 0) / costs.length;
  const ssTot = costs.reduce((s, c) => s + (c - mean) ** 2, 0);
  const ssRes = costs.reduce((s, c, i) => s + (c - fit.intercept - fit.slope * (sizes[i] ?? 0)) ** 2, 0);
  console.log(
    `linear fit: ns/step = ${fit.intercept.toFixed(0)} + ${fit.slope.toFixed(2)} x |Z|  (R^2 ${(1 - ssRes / ssTot).toFixed(3)}): O(|Z|) per step`,
  );
}

await main();
