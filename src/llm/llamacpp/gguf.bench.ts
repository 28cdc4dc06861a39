/**
 * `npm run bench:gguf` — generation speed of a local GGUF model by CPU thread count.
 *
 * Writes the tiny random-weight GGUF (`tiny-model.ts`) to a temp folder and, for each thread setting in turn (one
 * model loaded at a time, so idle thread pools do not compete), loads it through `LlamaCppModel`, warms up, and
 * times REPS greedy generations of TOKENS tokens from the same prompt. The prompt is cached after the warm-up, so
 * a repetition evaluates one prompt token and then generates: tokens/s is generation speed. Settings: our default
 * (min(cpuMathCores, availableParallelism)), 1 and 2 threads, and node-llama-cpp's own CPU default,
 * max(4, cpuMathCores), which is what the provider used before it chose a default. The thread count printed is
 * the one llama.cpp's context holds (`describe().threads.used`), not the one asked for.
 * Every number printed is measured in this run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { LlamaCppModel } from "../providers/llamacpp.ts";
import type { ChatMessage } from "../types.ts";
import { writeTinyLlamaGguf } from "./tiny-model.ts";

const TOKENS = 64;
const REPS = 5;
const MESSAGES: ChatMessage[] = [{ role: "user", content: "Count the moves from here to the goal." }];

interface Measured {
  label: string;
  threads: number;
  tokensPerSecond: number[];
  outputTokens: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function measure(path: string, label: string, threads: number | undefined): Promise<Measured> {
  const model = new LlamaCppModel({ modelPath: path, contextSize: 512, ...(threads ? { threads } : {}) });
  try {
    // describe() loads the model and reports the thread count llama.cpp holds; check() makes sure it works.
    const description = await model.describe();
    const checks = await model.check();
    if (!checks.grammar.ok || !checks.score.ok) {
      throw new Error(`bench:gguf: ${label}: ${checks.grammar.detail}; ${checks.score.detail}`);
    }
    const request = { messages: MESSAGES, temperature: 0, seed: 1, maxTokens: TOKENS };
    await model.generate(request);
    const tokensPerSecond: number[] = [];
    let outputTokens = 0;
    for (let rep = 0; rep < REPS; rep++) {
      const result = await model.generate(request);
      outputTokens = result.usage.outputTokens;
      tokensPerSecond.push((outputTokens / result.latencyMs) * 1000);
    }
    return { label, threads: description.threads.used, tokensPerSecond, outputTokens };
  } finally {
    await model.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "bayesact-bench-gguf-"));
  try {
    const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 1 });
    const probe = new LlamaCppModel({ modelPath: tiny.path, contextSize: 512, threads: 1 });
    const { cpuMathCores, availableParallelism } = (await probe.describe()).threads;
    await probe.close();
    console.log(
      `bench:gguf — tiny random-weight GGUF (${tiny.sizeBytes} bytes), ${TOKENS} greedy tokens, median of ${REPS} ` +
        `after a warm-up; ${os.cpus().length} CPUs, availableParallelism ${availableParallelism}, ` +
        `llama.cpp math cores ${cpuMathCores}`,
    );
    const runs: Measured[] = [];
    runs.push(await measure(tiny.path, "default", undefined));
    runs.push(await measure(tiny.path, "threads=1", 1));
    runs.push(await measure(tiny.path, "threads=2", 2));
    const theirs = Math.max(4, cpuMathCores);
    runs.push(await measure(tiny.path, `threads=${theirs} (node-llama-cpp's default)`, theirs));

    const one = median(runs.find((r) => r.label === "threads=1")?.tokensPerSecond ?? []);
    console.log(`${"setting".padEnd(38)} threads  tokens  median tok/s  min tok/s  max tok/s  vs 1 thread`);
    for (const r of runs) {
      const m = median(r.tokensPerSecond);
      console.log(
        [
          r.label.padEnd(38),
          String(r.threads).padStart(7),
          String(r.outputTokens).padStart(6),
          m.toFixed(1).padStart(12),
          Math.min(...r.tokensPerSecond)
            .toFixed(1)
            .padStart(9),
          Math.max(...r.tokensPerSecond)
            .toFixed(1)
            .padStart(9),
          `${(m / one).toFixed(3)}x`.padStart(11),
        ].join("  "),
      );
    }
    const byDefault = median(runs[0]?.tokensPerSecond ?? []);
    console.log(`default / 1 thread: ${(byDefault / one).toFixed(3)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
