import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama, LlamaLogLevel, type LlamaModel, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGgufFile } from "./gguf.ts";
import { type TinyModel, writeTinyLlamaGguf } from "./tiny-model.ts";

let dir: string;
let tiny: TinyModel;
let llama: Llama;
let model: LlamaModel;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "bayesact-tiny-"));
  tiny = await writeTinyLlamaGguf(join(dir, "tiny.gguf"), { seed: 42 });
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 1 });
  model = await llama.loadModel({ modelPath: tiny.path });
});

afterAll(async () => {
  await llama?.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe("tiny llama GGUF", () => {
  it("is byte-identical for the same seed and differs for another", async () => {
    const again = await writeTinyLlamaGguf(join(dir, "again.gguf"), { seed: 42 });
    const other = await writeTinyLlamaGguf(join(dir, "other.gguf"), { seed: 43 });
    const [a, b, c] = await Promise.all([tiny.path, again.path, other.path].map((p) => readFile(p)));
    expect(a?.equals(b ?? Buffer.alloc(0))).toBe(true);
    expect(c?.length).toBe(a?.length);
    expect(a?.equals(c ?? Buffer.alloc(0))).toBe(false);
  });

  it("has the documented layout: about half a megabyte of F32 llama tensors", async () => {
    expect(tiny.sizeBytes).toBeGreaterThan(400_000);
    expect(tiny.sizeBytes).toBeLessThan(600_000);
    const file = await readGgufFile(tiny.path);
    expect(file.fileSize).toBe(tiny.sizeBytes);
    const dims = Object.fromEntries(file.tensors.map((t) => [t.name, t.dims]));
    expect(dims["token_embd.weight"]).toEqual([64, 260]);
    expect(dims["output.weight"]).toEqual([64, 260]);
    expect(dims["output_norm.weight"]).toEqual([64]);
    expect(dims["blk.1.ffn_down.weight"]).toEqual([128, 64]);
    expect(dims["blk.1.ffn_up.weight"]).toEqual([64, 128]);
    expect(file.tensors).toHaveLength(3 + 2 * 9);
    expect(new Set(file.tensors.map((t) => t.typeName))).toEqual(new Set(["F32"]));
    const tokens = file.metadata.get("tokenizer.ggml.tokens");
    const types = file.metadata.get("tokenizer.ggml.token_type");
    const list = tokens?.type === "array" && tokens.itemType === "string" ? tokens.value : [];
    const typeList = types?.type === "array" && types.itemType === "int32" ? types.value : [];
    expect(list.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(list[3 + 0xff]).toBe("<0xFF>");
    expect(list.at(-1)).toBe("\u2581");
    expect(typeList.slice(3, 259).every((t) => t === 6)).toBe(true);
    expect(file.metadata.get("tokenizer.ggml.bos_token_id")).toEqual({ type: "uint32", value: 1 });
  });

  it("is understood by node-llama-cpp's own GGUF reader", async () => {
    const info = await readGgufFileInfo(tiny.path, { logWarnings: false });
    expect(info.metadata.general.architecture).toBe("llama");
    expect(info.metadata.tokenizer.ggml.model).toBe("llama");
    expect(info.tensorInfo).toHaveLength(21);
  });

  it("tokenizes any UTF-8 text to one token per byte, with ▁ for a space", () => {
    const { byteTokenOffset: b, spaceTokenId } = tiny.metadata;
    expect(model.tokenize("a b", false)).toEqual([b + 0x61, spaceTokenId, b + 0x62]);
    expect(model.tokenize("é", false)).toEqual([b + 0xc3, b + 0xa9]);
    expect(model.tokens.bos).toBe(tiny.metadata.bosTokenId);
    expect(model.tokens.eos).toBe(tiny.metadata.eosTokenId);
    const text = "Which way? → left";
    expect(model.detokenize(model.tokenize(text, false))).toBe(text);
  });

  it("generates varied, non-degenerate tokens", async () => {
    const context = await model.createContext({ contextSize: 256, threads: 1 });
    try {
      const sequence = context.getSequence();
      const bos = model.tokens.bos;
      if (bos === null) throw new Error("the tiny model must have a BOS token");
      const prompt = [bos, ...model.tokenize("Which way?", false)];
      const sampled: number[] = [];
      for await (const token of sequence.evaluate(prompt, {
        temperature: 1,
        topK: 0,
        topP: 1,
        seed: 3,
        yieldEogToken: true,
      })) {
        sampled.push(token);
        if (sampled.length >= 40) break;
      }
      expect(sampled).toHaveLength(40);
      expect(new Set(sampled).size).toBeGreaterThanOrEqual(15);

      // The next-token distribution has clear favourites yet is far from one-hot.
      await sequence.clearHistory();
      const [out] = await sequence.controlledEvaluate([[bos, { generateNext: { probabilities: true } }]]);
      const probs = [...(out?.next.probabilities?.values() ?? [])];
      expect(probs).toHaveLength(260);
      const top = Math.max(...probs);
      expect(top).toBeGreaterThan(5 / 260);
      expect(top).toBeLessThan(0.9);
    } finally {
      await context.dispose();
    }
  });

  it("rejects impossible shapes", async () => {
    await expect(
      writeTinyLlamaGguf(join(dir, "bad.gguf"), { embeddingLength: 60, headCount: 8 }),
    ).rejects.toThrow(/headCount must divide/);
  });
});
