import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeTinyLlamaGguf } from "../llm/llamacpp/tiny-model.ts";
import { BYTE_VOCAB, decodeBytes, encodeBytes } from "./tokenizer.ts";

const samples = [
  "",
  "Task: open door 3.",
  "  two spaces, a\ttab and a newline\n",
  '{"subgoal": "consult the probe"}',
  "ünïcödé → ✓ 🚪",
];

describe("the byte-level tokenizer", () => {
  it("tokenizes exactly as llama.cpp does with the project's byte vocabulary", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bayesact-tok-"));
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    try {
      const { path } = await writeTinyLlamaGguf(join(dir, "tiny.gguf"));
      const model = await llama.loadModel({ modelPath: path });
      for (const text of samples)
        expect(encodeBytes(text), JSON.stringify(text)).toEqual(model.tokenize(text, false));
      expect(model.tokens.bos).toBe(BYTE_VOCAB.bos);
      expect(model.tokens.eos).toBe(BYTE_VOCAB.eos);
    } finally {
      await llama.dispose();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("decodes what it encodes, dropping control tokens", () => {
    for (const text of samples)
      expect(decodeBytes([BYTE_VOCAB.bos, ...encodeBytes(text), BYTE_VOCAB.eos])).toBe(text);
  });
});
