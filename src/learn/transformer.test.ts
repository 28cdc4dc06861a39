import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Scalar } from "@tensorflow/tfjs";
import type { Token } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaCppModel } from "../llm/providers/llamacpp.ts";
import { toExample } from "./batches.ts";
import { exportGguf } from "./export.ts";
import { loadTf, type Tf } from "./tf.ts";
import { BYTE_VOCAB, encodeBytes } from "./tokenizer.ts";
import { initWeights, type LlamaConfig, LlamaTransformer } from "./transformer.ts";

const config: LlamaConfig = {
  vocab: BYTE_VOCAB.size,
  dim: 32,
  layers: 2,
  heads: 2,
  ffn: 48,
  context: 128,
  ropeBase: 10000,
  eps: 1e-5,
};

let tf: Tf;
let dir: string;
beforeAll(async () => {
  tf = await loadTf("wasm");
  dir = mkdtempSync(join(tmpdir(), "bayesact-learn-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function logSoftmaxRow(row: Float32Array): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of row) max = Math.max(max, v);
  let sum = 0;
  for (const v of row) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  return Array.from(row, (v) => v - lse);
}

describe("the llama transformer in TensorFlow.js", () => {
  it("gives llama.cpp's logits once exported as GGUF: every position, to float precision", async () => {
    const weights = initWeights(config, "parity");
    // Scale the weights up so the distribution is far from uniform and a wrong rotation or layout shows.
    for (const [name, w] of weights) {
      if (!name.includes("norm")) for (let i = 0; i < w.length; i++) w[i] = (w[i] as number) * 3;
    }
    const model = new LlamaTransformer(tf, config, weights);
    const text = "Task: open door 3 | probe says: door 2.\n";
    const ids = [BYTE_VOCAB.bos, ...encodeBytes(text)];
    const logits = tf.tidy(() => model.logits(Int32Array.from(ids)));
    const ours = (await logits.data()) as Float32Array;
    logits.dispose();
    model.dispose();
    const path = join(dir, "parity.gguf");
    await exportGguf(path, config, weights);

    // node-llama-cpp directly, with a float32 KV cache (its default F16 cache rounds keys and values).
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    try {
      const gguf = await llama.loadModel({ modelPath: path });
      const context = await gguf.createContext({
        contextSize: 128,
        threads: 1,
        flashAttention: false,
        experimentalKvCacheKeyType: "F32",
        experimentalKvCacheValueType: "F32",
      });
      const results = await context
        .getSequence()
        .controlledEvaluate(ids.map((t) => [t as Token, { generateNext: { logits: true } }]));
      let worst = 0;
      results.forEach((r, position) => {
        for (const [id, v] of r?.next?.logits ?? []) {
          worst = Math.max(worst, Math.abs(v - (ours[position * config.vocab + id] as number)));
        }
      });
      expect(results.every((r) => r?.next?.logits?.size === config.vocab)).toBe(true);
      expect(worst).toBeLessThan(5e-4);
    } finally {
      await llama.dispose();
    }

    // And through the project's provider (F16 cache): the same distribution to a few thousandths.
    const lm = new LlamaCppModel({ modelPath: path, threads: 1, contextSize: 128, maxParallel: 1 });
    try {
      for (const cut of [1, 5, 17, text.length]) {
        const dist = await lm.nextTokenDistribution(text.slice(0, cut));
        const theirs = new Float64Array(config.vocab);
        for (const e of dist) theirs[e.id] = e.logprob;
        const row = logSoftmaxRow(ours.subarray(cut * config.vocab, (cut + 1) * config.vocab));
        let worst = 0;
        for (let v = 0; v < config.vocab; v++) {
          worst = Math.max(worst, Math.abs((row[v] as number) - (theirs[v] as number)));
        }
        expect(worst, `prefix of ${cut} characters`).toBeLessThan(2e-2);
      }
    } finally {
      await lm.close();
    }
  });

  it("learns: the loss of a fixed batch falls under gradient steps", async () => {
    const model = new LlamaTransformer(tf, config, initWeights(config, 1));
    const batch = [toExample("abc", "abcabcabcabc"), toExample("abcabc", "abcabc")];
    const optimizer = tf.train.adam(1e-2);
    const first = tf.tidy(() => model.loss(batch).dataSync()[0] as number);
    for (let i = 0; i < 30; i++) {
      tf.tidy(() => {
        optimizer.minimize(() => model.loss(batch) as Scalar);
      });
    }
    const last = tf.tidy(() => model.loss(batch).dataSync()[0] as number);
    expect(last).toBeLessThan(first / 3);
    model.dispose();
    optimizer.dispose();
  });
});

describe("the transformer's gradients", () => {
  it("match central finite differences of the loss for every kind of weight (a wrong gradient path fails)", () => {
    const small: LlamaConfig = { ...config, dim: 16, ffn: 24, context: 64 };
    const weights = initWeights(small, 7);
    const model = new LlamaTransformer(tf, small, weights);
    try {
      const ids = Int32Array.from({ length: 30 }, (_, i) => ((i * 37 + 11) % 250) + 3);
      const batch = [{ ids, firstTarget: 20 }];
      const { grads } = tf.variableGrads(() => model.loss(batch) as Scalar);
      const lossWith = (name: string, data: Float32Array) => {
        model.assign(new Map(weights).set(name, data));
        return tf.tidy(() => model.loss(batch).dataSync()[0] as number);
      };
      const names = [
        "token_embd.weight",
        "blk.0.attn_q.weight",
        "blk.0.attn_k.weight",
        "blk.0.attn_v.weight",
        "blk.1.attn_output.weight",
        "blk.1.ffn_gate.weight",
        "blk.1.ffn_down.weight",
        "output.weight",
      ];
      for (const name of names) {
        const variable = model.variables.get(name);
        const grad = variable ? grads[variable.name]?.dataSync() : undefined;
        const base = weights.get(name);
        if (grad === undefined || base === undefined) throw new Error(`no ${name}`);
        let worst = 0;
        let largest = 0;
        for (const index of [0, 5, 17, 40, 77]) {
          const e = 1e-2;
          const plus = Float32Array.from(base);
          plus[index] = (plus[index] as number) + e;
          const minus = Float32Array.from(base);
          minus[index] = (minus[index] as number) - e;
          const fd = (lossWith(name, plus) - lossWith(name, minus)) / (2 * e);
          worst = Math.max(worst, Math.abs(fd - (grad[index] as number)));
          largest = Math.max(largest, Math.abs(fd));
        }
        model.assign(weights);
        expect(largest, name).toBeGreaterThan(1e-3);
        expect(worst, name).toBeLessThan(2e-3);
      }
      for (const g of Object.values(grads)) g.dispose();
    } finally {
      model.dispose();
    }
  });
});
