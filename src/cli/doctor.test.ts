import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TinyModel, writeTinyLlamaGguf } from "../llm/llamacpp/tiny-model.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";

let dir: string;
let tiny: TinyModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bayesact-doctor-"));
  tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 1 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("doctor --model llamacpp:FILE", () => {
  it("loads the model and prints what it measured", async () => {
    const out = bufferOutput();
    expect(await main(["doctor", "--model", `llamacpp:${tiny.path}?ctx=256&parallel=2&threads=1`], out)).toBe(
      0,
    );
    expect(out.stderr).toEqual([]);
    const text = out.stdout.join("\n");
    expect(text).toContain("  context size: 256 tokens per sequence × 2 sequences (trained context: 512)");
    expect(text).toContain(
      `  vocabulary: ${tiny.metadata.vocabularySize} tokens, spm (llama tokenizer), BOS "<s>" (prepended), EOS "</s>"`,
    );
    expect(text).toContain("  chat template: none (the plain fallback format)");
    expect(text).toContain("  threads: 1 (asked for with threads=1)");
    expect(text).toMatch(
      / {2}grammar-constrained JSON: yes \(\{"answer":"(yes|no)","sure":(true|false)\} parses/,
    );
    expect(text).toMatch(/ {2}score: yes \(log p\(" yes" \| "The answer is"\) = -\d+\.\d+ over 4 tokens\)/);
    expect(text).toContain("JSON schema: no, grammar: yes, logprobs: yes");
  });

  it("reports the same facts in --json, with the default thread count", async () => {
    const out = bufferOutput();
    expect(await main(["doctor", "--model", `llamacpp:${tiny.path}?ctx=256`, "--json"], out)).toBe(0);
    const report = JSON.parse(out.stdout.join("\n"));
    const d = report.model.llamacpp;
    expect(d.context).toEqual({ size: 256, sequences: 4, trained: 512 });
    expect(d.vocabulary).toMatchObject({
      size: tiny.metadata.vocabularySize,
      type: "spm",
      bos: "<s>",
      eos: "</s>",
    });
    expect(d.chatTemplate.present).toBe(false);
    expect(d.threads.source).toBe("default");
    expect(d.grammar.ok).toBe(true);
    expect(d.score.ok).toBe(true);
    expect(report.model.capabilities).toMatchObject({ grammar: true, score: true });
  });

  const broken: [string, (path: string) => Promise<void>, RegExp][] = [
    ["a missing file", async () => {}, /: no such file$/],
    ["100 random bytes", (path) => writeFile(path, randomBytes(100)), /: not a GGUF file \(/],
    [
      "a truncated GGUF",
      async (path) => writeFile(path, (await readFile(tiny.path)).subarray(0, 200_000)),
      /: not a valid GGUF file \(GGUF file is truncated: tensor "[^"]+" needs bytes up to \d+, the file has 200000\)$/,
    ],
  ];
  for (const [what, make, reason] of broken) {
    it(`ends with one line and exit code 2 on ${what}`, async () => {
      const path = join(dir, `${what.replaceAll(" ", "-")}.gguf`);
      await make(path);
      const out = bufferOutput();
      expect(await main(["doctor", "--model", `llamacpp:${path}`], out)).toBe(2);
      expect(out.stderr).toHaveLength(1);
      expect(out.stderr[0]).toContain(`bayesact: model file ${path}`);
      expect(out.stderr[0]).toMatch(reason);
      expect(out.stdout.join("\n")).not.toContain("grammar");
    });
  }
});
