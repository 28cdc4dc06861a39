/**
 * The OpenAI-compatible path against a server the project did not write: llama.cpp's own `llama-server`, built
 * from the source bundle node-llama-cpp ships (cached per bundle hash; `.ci/run` builds it before the tests, and a
 * fresh machine's first `npm test` builds it here), serving the generated tiny GGUF.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeTinyLlamaGguf } from "../llm/llamacpp/tiny-model.ts";
import { LlamaCppModel } from "../llm/providers/llamacpp.ts";
import { OpenAICompatibleModel } from "../llm/providers/openai-compatible.ts";
import { ensureLlamaServer, type RunningLlamaServer, startLlamaServer } from "../llm/testing/llama-server.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";

let dir: string;
let gguf: string;
/** Four slots: n > 1 natively. */
let full: RunningLlamaServer;
/** One slot: the server refuses n > 1 (HTTP 400), so samples are emulated. */
let single: RunningLlamaServer;

const specOf = (server: RunningLlamaServer) => `openai-compatible:${server.baseURL}#${server.alias}`;

beforeAll(async () => {
  const build = await ensureLlamaServer({ log: (line) => process.stderr.write(`${line}\n`) });
  dir = mkdtempSync(join(tmpdir(), "bayesact-llama-server-"));
  // Byte-level tokens: one per byte of the prompt, so the benches' prompts need an 8k context per slot.
  gguf = (await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 3, contextLength: 8192 })).path;
  full = await startLlamaServer({ binary: build.binary, model: gguf, parallel: 4, contextSize: 4 * 8192 });
  single = await startLlamaServer({ binary: build.binary, model: gguf, parallel: 1, contextSize: 8192 });
}, 45 * 60_000);

afterAll(async () => {
  await Promise.all([full?.close(), single?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function doctor(spec: string): Promise<Record<string, unknown>> {
  const out = bufferOutput();
  expect(await main(["doctor", "--model", spec, "--json"], out), out.stderr.join("\n")).toBe(0);
  const report = JSON.parse(out.stdout.join("\n")) as { model: { capabilities: Record<string, unknown> } };
  return report.model.capabilities;
}

describe("doctor against llama-server", () => {
  it("measures what the server supports: JSON schema, logprobs, n > 1, seeds and exact scoring", async () => {
    const caps = await doctor(specOf(full));
    expect(caps).toMatchObject({
      jsonSchema: true,
      logprobs: true,
      multipleSamples: true,
      seed: true,
      score: true,
      grammar: false,
    });
    const text = bufferOutput();
    expect(await main(["doctor", "--model", specOf(full)], text)).toBe(0);
    expect(text.stdout.join("\n")).toMatch(/JSON schema: yes.*logprobs: yes/);
    expect(text.stdout.join("\n")).toMatch(/n > 1: yes, seed: yes, exact scoring: yes/);
  });

  it("a one-slot server lacks n > 1: reported as missing with the server's reason, not an error", async () => {
    const caps = await doctor(specOf(single));
    expect(caps.multipleSamples).toBe(false);
    expect(caps.notes).toEqual(
      expect.arrayContaining([expect.stringMatching(/^n=2 rejected: HTTP 400: .*'n'/)]),
    );
    expect(caps).toMatchObject({ jsonSchema: true, logprobs: true, seed: true, score: true });
  });
});

describe("scoring over HTTP", () => {
  it("llama-server's log-likelihoods equal node-llama-cpp's on the same GGUF", async () => {
    const remote = new OpenAICompatibleModel({ baseURL: full.baseURL, model: full.alias });
    const local = new LlamaCppModel({ modelPath: gguf, threads: 1, contextSize: 2048, maxParallel: 1 });
    try {
      for (const [prefix, continuation] of [
        ["Plan:\n", "unstack the red block from the blue block"],
        ["The answer is", " 24"],
        ["x", "ü→ü"], // multi-byte characters: several byte tokens each
      ] as const) {
        const [a, b] = await Promise.all([
          remote.score(prefix, continuation),
          local.score(prefix, continuation),
        ]);
        expect(a.tokens.length).toBe(b.tokens.length);
        expect(a.tokens.length).toBeGreaterThan(0);
        a.tokens.forEach((t, i) => {
          expect(t.logprob).toBeCloseTo(b.tokens[i]?.logprob ?? Number.NaN, 3);
        });
        expect(a.logprob).toBeCloseTo(b.logprob, 2);
      }
      expect(await remote.score("abc", "")).toEqual({ logprob: 0, tokens: [] });
    } finally {
      await Promise.all([remote.close(), local.close()]);
    }
  });
});

/** Run a bench and check that every episode of the grid finished and was journaled with its LLM calls. */
async function bench(name: string, args: readonly string[], episodes: number) {
  const runDir = join(dir, name);
  const out = bufferOutput();
  const code = await main([...args, "--no-cache", "--out", runDir], out);
  expect(code, [...out.stderr, ...out.stdout].join("\n")).toBe(0);
  const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as {
    episodes: number;
    llm: { calls: number };
  };
  expect(summary.episodes).toBe(episodes);
  expect(summary.llm.calls).toBeGreaterThan(0);
  const db = new DatabaseSync(join(runDir, "run.sqlite"), { readOnly: true });
  try {
    const rows = db.prepare("SELECT status, count(*) AS n FROM episodes GROUP BY status").all();
    expect(rows).toEqual([{ status: "done", n: episodes }]);
    const calls = db
      .prepare(
        "SELECT count(*) AS n, sum(ok) AS ok, sum(messages LIKE '%score:prefix%') AS scored FROM llm_calls",
      )
      .get() as { n: number; ok: number; scored: number };
    expect(calls.n).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8")) as {
      models: Record<string, { score: boolean }>;
    };
    return { summary, calls, manifest, stdout: out.stdout.join("\n") };
  } finally {
    db.close();
  }
}

describe("benches through openai-compatible: against llama-server", () => {
  it("tictactoe --agent direct: every episode accounted for", async () => {
    const spec = specOf(full);
    const { calls } = await bench(
      "tictactoe",
      ["bench", "tictactoe", "--agent", "direct", "--model", spec, "--episodes", "2", "--opt", "games=2"],
      2,
    );
    expect(calls.ok).toBe(calls.n);
  });

  it("game24 --agent rafa, on the server with n > 1 and on the one without (emulated samples)", async () => {
    for (const server of [full, single]) {
      const args = ["bench", "game24", "--agent", "rafa", "--model", specOf(server), "--episodes", "1"];
      const { calls } = await bench(
        `game24-${server.alias}-${server.origin.split(":").at(-1)}`,
        [...args, "--opt", "proposals=2", "valueSamples=2"],
        1,
      );
      expect(calls.ok).toBe(calls.n);
    }
  });

  it("blocksworld --agent rafa with scored priors (prior=score): log-likelihoods from llama-server", async () => {
    const spec = specOf(full);
    const { calls, manifest } = await bench(
      "blocksworld",
      [
        "bench",
        "blocksworld",
        "--agent",
        "rafa",
        "--model",
        spec,
        "--episodes",
        "1",
        "--opt",
        "prior=score",
        "tries=2",
        "rollouts=2",
        "shots=1",
        "maxTokens=24",
      ],
      1,
    );
    expect(manifest.models[spec]?.score).toBe(true);
    expect(calls.scored).toBeGreaterThan(0);
    expect(calls.ok).toBe(calls.n);
  });
});
