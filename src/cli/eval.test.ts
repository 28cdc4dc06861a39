import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../core/errors.ts";
import { loadApiBank } from "../envs/apibank/data.ts";
import { llmPredictor } from "../envs/apibank/evaluate.ts";
import { levelPoints, pointPrompt } from "../envs/apibank/points.ts";
import { writeTinyLlamaGguf } from "../llm/llamacpp/tiny-model.ts";
import { withRecorder } from "../llm/providers/replay.ts";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import { startOpenAIServer } from "../llm/testing/openai-server.ts";
import { addEvalCommand, type EvalFlags, evalCommand } from "./eval.ts";
import { bufferOutput } from "./output.ts";

const DATA_DIR = fileURLToPath(new URL("../../../shared/data", import.meta.url));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-eval-"));
  // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
  loadApiBank(DATA_DIR);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `bayesact eval …` through the command definition the lead wires into main.ts. */
async function cli(args: string[]) {
  const output = bufferOutput();
  let code = -1;
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => output.err(s.trimEnd()) });
  addEvalCommand(program, output, (c) => {
    code = c;
  });
  await program.parseAsync(["eval", "apibank", "--data", DATA_DIR, ...args], { from: "user" });
  return { code, ...output };
}

function json(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("bayesact eval apibank --model exact", () => {
  it("writes a run folder: manifest with data hashes, summary, predictions, journal, report", async () => {
    const out = join(dir, "exact-l2");
    const r = await cli(["--model", "exact", "--level", "2", "--out", out]);
    expect(r.code).toBe(0);
    // Official scoring (the default): API-Bank's own logic fails 10 of its gold calls, and says why.
    expect(r.stdout[0]).toBe(
      "apibank level 2 / exact: API calls 125/135 (92.59%), ROUGE-L 1.0000 over 103 responses",
    );
    expect(r.stdout.join("\n")).toContain("scoring: official");
    expect(r.stdout.join("\n")).toContain("KeyError: 'time'");
    const summary = json(join(out, "summary.json"));
    expect(summary).toMatchObject({ level: 2, points: 135, call_correct: 125, rouge_l: 1 });
    expect(Object.keys(summary.errors as object)).toContain("api_hallucination");
    const manifest = json(join(out, "manifest.json"));
    const files = manifest.dataFiles as Record<string, string>;
    expect(Object.keys(files).length).toBe(292);
    expect(Object.values(files).every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    expect(manifest.config).toMatchObject({
      level: 2,
      model: "exact",
      retriever: "recorded+bm25",
      scoring: "official",
    });
    const preds = lines(join(out, "predictions.jsonl"));
    expect(preds).toHaveLength(238);
    expect(Object.keys(preds[0] ?? {})).toEqual(["file", "id", "pred"]);
    const journal = lines(join(out, "journal.jsonl"));
    expect(journal[0]).toMatchObject({ kind: "call", call: { correct: true } });
    expect(String(journal[0]?.prompt)).toContain("API descriptions:");
    const report = readFileSync(join(out, "report.html"), "utf8");
    expect(report).toContain("exact (this run)");
    expect(report).toContain("GPT-4-0613");
    expect(report).toContain("50 / 135");
    expect(report).toContain("<svg");
  });

  it("level 1 gold: 347/399 under official scoring (with the reasons), 399/399 corrected, rules in between", async () => {
    const official = await cli(["--model", "exact", "--level", "1", "--out", join(dir, "l1-official")]);
    expect(official.stdout[0]).toContain("API calls 347/399 (86.97%)");
    const text = official.stdout.join("\n");
    expect(text).toContain("exception: The health data has invalid format.");
    expect(text).toContain("invalid_parameters: invalid parameter name. parameter: …");
    const corrected = await cli([
      ...["--model", "exact", "--level", "1", "--scoring", "corrected"],
      ...["--out", join(dir, "l1-corrected")],
    ]);
    expect(corrected.stdout[0]).toContain("API calls 399/399 (100.00%)");
    const some = await cli([
      ...["--model", "exact", "--level", "1", "--rules", "device-id,dialogue-state"],
      ...["--out", join(dir, "l1-rules")],
    ]);
    expect(json(join(dir, "l1-rules", "summary.json"))).toMatchObject({
      call_correct: 347 + 3 + 8,
      settings: { scoring: "official+device-id+dialogue-state", state: "dialogue", reference: "recorded" },
    });
    expect(some.code).toBe(0);
  });

  it("level 3 counts samples; --limit keeps the first points", async () => {
    const out = join(dir, "exact-l3");
    const r = await cli(["--model", "exact", "--level", "3", "--out", out]);
    expect(r.stdout[0]).toContain("samples 50/50");
    expect(r.stdout.join("\n")).toContain("scoring: corrected (level 3 has no runnable official evaluator)");
    const small = join(dir, "limit");
    await cli(["--model", "exact", "--level", "1", "--limit", "5", "--out", small]);
    expect(json(join(small, "summary.json"))).toMatchObject({ points: 5, response_points: 0 });
  });
});

describe("eval: mistakes a user can make", () => {
  const flags: EvalFlags = {
    model: "exact",
    level: "1",
    data: DATA_DIR,
    concurrency: 1,
    scoring: "official",
    recordedSearch: true,
    icl: false,
    maxTokens: 256,
    seed: 0,
  };
  const oneLine = async (promise: Promise<unknown>, pattern: RegExp) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).not.toContain("\n");
  };

  it("bad level, benchmark, model spec, data folder, existing run folder: one line each", async () => {
    const out = bufferOutput();
    await oneLine(evalCommand("apibank", { ...flags, level: "4" }, out), /bad --level "4"/);
    await oneLine(evalCommand("toolbench", flags, out), /bad benchmark "toolbench"/);
    await oneLine(evalCommand("apibank", { ...flags, model: "gpt4" }, out), /bad model spec/);
    await oneLine(
      evalCommand("apibank", { ...flags, data: join(dir, "nowhere") }, out),
      /API-Bank data not found/,
    );
    await oneLine(evalCommand("apibank", { ...flags, icl: true }, out), /--icl applies to level 3/);
    await oneLine(evalCommand("apibank", { ...flags, scoring: "strict" }, out), /bad --scoring "strict"/);
    await oneLine(evalCommand("apibank", { ...flags, rules: "call-syntax,typo" }, out), /bad --rules "typo"/);
    await oneLine(
      evalCommand("apibank", { ...flags, scoring: "corrected", rules: "call-syntax" }, out),
      /--rules adds to official scoring/,
    );
    await oneLine(
      evalCommand("apibank", { ...flags, out: join(dir, "exact-l2") }, out),
      /already holds a run/,
    );
  });

  it("a bad option value is commander's one-line error", async () => {
    await expect(cli(["--model", "exact", "--level", "1", "--limit", "0"])).rejects.toThrow(/--limit/);
    await expect(cli(["--model", "exact", "--level", "1", "--llm-timeout", "0"])).rejects.toThrow(
      /--llm-timeout/,
    );
  });
});

describe("eval through the LLM layer", () => {
  it("replays a cassette: answers are parsed with the tokenizer and classified", async () => {
    const data = loadApiBank(DATA_DIR);
    const points = levelPoints(data, 2).slice(0, 5);
    // Points 1 and 2 share their prompt and gold call: an API turn right after another API turn is both the
    // second sample of the first turn and the first sample of its own (API-Bank counts both).
    const at = (i: number) => {
      const p = points[i];
      if (!p) throw new Error(`no point ${i}`);
      return p;
    };
    expect(pointPrompt(at(1))).toBe(pointPrompt(at(2)));
    const prompts = [...new Set(points.map(pointPrompt))];
    expect(prompts).toHaveLength(4);
    const answers = [
      points[0]?.expected ?? "",
      "API-Request: [PlayMusic(music_name='jazz')]",
      "I cannot do that.",
      "API-Request: [GetUserToken(username='x'",
    ];
    const cassette = join(dir, "cassette.jsonl");
    const mock = new MockLanguageModel({
      id: "mock:apibank",
      respond: (request) => answers[prompts.indexOf(request.messages.at(-1)?.content ?? "")] ?? "",
    });
    // Record through the same predictor the CLI uses, so the replayed requests match byte for byte.
    const predictor = llmPredictor(withRecorder(mock, { path: cassette }));
    for (const p of points) await predictor.predict(p);
    const out = join(dir, "replay");
    const base = ["--model", `replay:${cassette}`, "--level", "2", "--limit", "5"];
    const r = await cli([...base, "--scoring", "corrected", "--out", out]);
    expect(r.code).toBe(0);
    const summary = json(join(out, "summary.json"));
    expect(summary).toMatchObject({
      points: 5,
      call_correct: 1,
      errors: { api_hallucination: 2, no_api_call: 1, false_format: 1 },
      settings: { scoring: "corrected", state: "dialogue", reference: "executed" },
    });
    // API-Bank's regular expression sees no call at all in the unclosed one.
    const official = join(dir, "replay-official");
    expect((await cli([...base, "--out", official])).code).toBe(0);
    expect(json(join(official, "summary.json"))).toMatchObject({
      call_correct: 1,
      errors: { api_hallucination: 2, no_api_call: 2, false_format: 0 },
      settings: { scoring: "official", state: "fresh", reference: "recorded" },
    });
    const preds = lines(join(out, "predictions.jsonl"));
    expect(preds.map((p) => p.pred)).toEqual([answers[0], answers[1], answers[1], answers[2], answers[3]]);
  });

  it("--llm-timeout: a hung attempt times out and is retried; summary.json and the LLM line count it", async () => {
    let hangNext = true;
    const server = await startOpenAIServer({
      respond: (body) => {
        // The first API-Bank prompt (the probes' prompts are short) makes the next request hang.
        if (hangNext && (body.messages.at(-1)?.content.length ?? 0) > 100) {
          hangNext = false;
          server.enqueueFault({ kind: "hang", times: 1 });
        }
        return "API-Request: [ToolSearcher(keywords='x')]";
      },
    });
    try {
      const out = join(dir, "llm-timeout");
      const model = `openai-compatible:${server.url}#m`;
      const r = await cli([
        "--model",
        model,
        "--level",
        "1",
        "--limit",
        "3",
        "--llm-timeout",
        "0.2",
        "--out",
        out,
      ]);
      expect(r.code).toBe(0);
      const summary = json(join(out, "summary.json"));
      expect(summary.llm).toMatchObject({ calls: 3, failed_calls: 0, retries: 1, timeouts: 1 });
      expect(r.stdout.join("\n")).toMatch(/LLM: 3 calls, .* 1 retries \([\d.]+ s waited\), 1 timeouts/);
    } finally {
      await server.close();
    }
  });

  it("a missing recording stops the run with one line (setup error, not a point's failure)", async () => {
    const out = join(dir, "replay-miss");
    await expect(
      cli(["--model", `replay:${join(dir, "cassette.jsonl")}`, "--level", "1", "--limit", "1", "--out", out]),
    ).rejects.toThrow(/replay miss/);
  });

  it("a generated tiny GGUF model (random weights) answers through llama.cpp; its answers are classified", async () => {
    const tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 3, contextLength: 8192 });
    const out = join(dir, "tiny");
    const r = await cli([
      "--model",
      `llamacpp:${tiny.path}?ctx=8192&threads=1&parallel=1`,
      "--level",
      "1",
      "--limit",
      "2",
      "--max-tokens",
      "16",
      "--concurrency",
      "1",
      "--out",
      out,
    ]);
    expect(r.code).toBe(0);
    const journal = lines(join(out, "journal.jsonl"));
    expect(journal).toHaveLength(2);
    for (const record of journal) {
      const call = record.call as { correct: boolean; category?: string };
      expect(call.correct).toBe(false);
      expect(["no_api_call", "false_format"]).toContain(call.category);
    }
    expect(existsSync(join(out, "report.html"))).toBe(true);
    // A prompt longer than the context is this point's failure (an empty answer), not the run's.
    const short = join(dir, "tiny-short");
    await cli([
      "--model",
      `llamacpp:${tiny.path}?ctx=512&threads=1&parallel=1`,
      "--level",
      "1",
      "--limit",
      "1",
      "--out",
      short,
    ]);
    expect(json(join(short, "summary.json"))).toMatchObject({
      points: 1,
      llm_errors: 1,
      errors: { no_api_call: 1 },
    });
    expect(String(lines(join(short, "journal.jsonl"))[0]?.llmError)).toMatch(/^context_length/);
  });
});
