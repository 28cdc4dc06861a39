import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyLlamaGguf } from "../../llm/llamacpp/tiny-model.ts";
import { startRun } from "../run.ts";
import { RunStore } from "../store.ts";

let dir: string;
let gguf: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-ttt-llm-x-"));
  gguf = (await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { contextLength: 8192 })).path;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("Tic-Tac-Toe against an LLM opponent (match-llm)", () => {
  it("plays X with the run's model, every opponent call journaled and counted on the episode", async () => {
    const out = join(dir, "run");
    const outcome = await startRun({
      env: "tictactoe",
      agent: "rafa",
      split: "match-llm",
      model: `llamacpp:${gguf}?threads=1&ctx=8192`,
      seeds: [1],
      concurrency: 1,
      dataDir: "../shared/data",
      options: { roles: "exact", games: 2 },
      cache: { path: join(dir, "cache.sqlite"), mode: "off" },
      out,
    });
    expect(outcome.status).toBe("complete");
    const store = RunStore.open(out);
    const episode = store.episodes()[0];
    const calls = store.llmCalls(episode?.id ?? "");
    await store.close();
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((c) => c.ok)).toBe(true);
    expect(calls.every((c) => /"cell"/.test(c.responses[0] ?? ""))).toBe(true);
    expect(episode?.llmCalls).toBe(calls.length);
  });

  it("without --model the split is a one-line setup error", async () => {
    await expect(
      startRun({
        env: "tictactoe",
        agent: "rafa",
        split: "match-llm",
        seeds: [1],
        concurrency: 1,
        dataDir: ".",
        out: join(dir, "none"),
      }),
    ).rejects.toThrow(/match-llm split plays X with the run's model/);
    // Checked before anything is written: no run folder is left behind.
    expect(existsSync(join(dir, "none"))).toBe(false);
  });
});
