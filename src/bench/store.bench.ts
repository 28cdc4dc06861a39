/**
 * `npm run bench:store` — what journaling costs.
 *
 * The same run twice, with the journal on (every step, LLM call and search-tree node written to run.sqlite) and
 * off (only each episode's result, which resume needs), alternating, three times each; the ratio of medians is the
 * journaling overhead. Two workloads of about 10,000 steps each, both real runs through the runner:
 *   - trees: Tic-Tac-Toe with the depth-1 planner on the exact twins, a 10-node search tree per step. A step takes
 *     tens of microseconds, so this is the worst case for relative overhead.
 *   - llm calls: the direct agent with an in-process model answering instantly, one journaled call (prompt and
 *     answer) per step.
 * Memory: heap and RSS sampled every 10% of the journaled run; flat means the last sample is close to the second.
 * Every number printed is measured in this run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Emitter } from "../core/events.ts";
import type { LanguageModel } from "../llm/types.ts";
import { agentEntry, envEntry } from "./registry.ts";
import { resolveConfig } from "./run.ts";
import { executeRun, type RunEvents } from "./runner.ts";
import { RunStore } from "./store.ts";

const dir = mkdtempSync(join(tmpdir(), "bayesact-bench-store-"));
let runs = 0;

interface Measured {
  ms: number;
  steps: number;
  memory: { heapMiB: number; rssMiB: number }[];
}

async function once(
  agent: string,
  seeds: number,
  journal: boolean,
  model?: LanguageModel,
): Promise<Measured> {
  const config = resolveConfig({
    env: "tictactoe",
    agent,
    // The spec only labels the run; the in-process model below answers every call.
    ...(model ? { model: "openai-compatible:http://127.0.0.1:9/v1#in-process" } : {}),
    seeds: Array.from({ length: seeds }, (_, i) => i + 1),
    concurrency: 4,
    dataDir: ".",
  });
  const store = RunStore.create(join(dir, `run-${runs++}`), "bench");
  const events = new Emitter<RunEvents>();
  const memory: Measured["memory"] = [];
  let nextSample = 0;
  events.on("episode.done", (e) => {
    if (e.done >= nextSample) {
      const m = process.memoryUsage();
      memory.push({ heapMiB: m.heapUsed / 2 ** 20, rssMiB: m.rss / 2 ** 20 });
      nextSample += e.total / 10;
    }
  });
  const started = performance.now();
  await executeRun({
    store,
    config,
    env: envEntry("tictactoe"),
    agent: agentEntry(agent),
    ...(model ? { model } : {}),
    journal,
    events,
  });
  const ms = performance.now() - started;
  const steps = store.episodes().reduce((s, e) => s + e.steps, 0);
  await store.close();
  return { ms, steps, memory };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function workload(name: string, agent: string, seeds: number, model?: LanguageModel): Promise<void> {
  await once(agent, Math.ceil(seeds / 10), true, model); // warm-up: JIT, worker start, page cache
  const on: Measured[] = [];
  const off: Measured[] = [];
  for (let i = 0; i < 3; i++) {
    off.push(await once(agent, seeds, false, model));
    on.push(await once(agent, seeds, true, model));
  }
  const steps = on[0]?.steps ?? 0;
  const msOn = median(on.map((m) => m.ms));
  const msOff = median(off.map((m) => m.ms));
  const costUs = ((msOn - msOff) / steps) * 1000;
  console.log(
    `${name.padEnd(10)} ${steps} steps | journal on ${msOn.toFixed(0)} ms (${((steps / msOn) * 1000).toFixed(0)} steps/s) | ` +
      `off ${msOff.toFixed(0)} ms (${((steps / msOff) * 1000).toFixed(0)} steps/s) | overhead ${(msOn / msOff).toFixed(3)}x`,
  );
  const stepUs = ((msOff / steps) * 1000).toFixed(1);
  console.log(
    costUs > 0
      ? `${"".padEnd(10)} journaling adds ${costUs.toFixed(1)} us per step to a ${stepUs} us step; steps of ${(costUs / 0.15).toFixed(0)} us or more stay within 1.15x`
      : `${"".padEnd(10)} journaling cost is below the run-to-run noise on a ${stepUs} us step`,
  );
  const mem = on.at(-1)?.memory ?? [];
  console.log(
    `${"".padEnd(10)} memory over the journaled run (heap MiB): ${mem.map((m) => m.heapMiB.toFixed(1)).join(" ")}; ` +
      `RSS MiB: ${mem.map((m) => m.rssMiB.toFixed(0)).join(" ")}`,
  );
}

try {
  console.log("bench:store — journaling overhead, medians of 3 alternating runs, concurrency 4");
  await workload("trees", "lookahead", 1300);
  // An instant in-process model that, unlike MockLanguageModel, keeps no log of calls (which would grow the heap).
  const model: LanguageModel = {
    id: "in-process",
    provider: "mock",
    endpoint: "in-process",
    capabilities: async () => ({
      jsonSchema: true,
      grammar: false,
      logprobs: false,
      multipleSamples: true,
      seed: true,
      score: false,
    }),
    generate: async (request) => {
      const prompt = request.messages.at(-1)?.content ?? "";
      const legal = /Legal actions: ([0-9, ]+)/.exec(prompt)?.[1]?.split(", ")[0] ?? "5";
      const text = JSON.stringify({ action: legal });
      return {
        model: "in-process",
        choices: [{ index: request.sampleIndex ?? 0, text, finishReason: "stop" }],
        usage: { inputTokens: Math.ceil(prompt.length / 4), outputTokens: Math.ceil(text.length / 4) },
        latencyMs: 0,
        structuredMode: "native",
      };
    },
  };
  await workload("llm calls", "direct", 1300, model);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
