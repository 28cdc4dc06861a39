import { beforeAll, describe, expect, it } from "vitest";
import { type Example, toExample } from "./batches.ts";
import { loadTf, type Tf } from "./tf.ts";
import { BYTE_VOCAB } from "./tokenizer.ts";
import { DEFAULT_OPTIMIZER, microBatches, Trainer } from "./trainer.ts";
import { initWeights, type LlamaConfig, LlamaTransformer } from "./transformer.ts";

const config: LlamaConfig = {
  vocab: BYTE_VOCAB.size,
  dim: 16,
  layers: 2,
  heads: 2,
  ffn: 24,
  context: 128,
  ropeBase: 10000,
  eps: 1e-5,
};

let tf: Tf;
beforeAll(async () => {
  tf = await loadTf("wasm");
});

describe("micro-batches", () => {
  const seq = (n: number) => ({ ids: { length: n } });
  it("groups consecutive sequences within the Σ L² budget, a long one alone", () => {
    const parts = microBatches([seq(3), seq(3), seq(3), seq(10), seq(1)], 20);
    expect(parts.map((p) => p.map((s) => s.ids.length))).toEqual([[3, 3], [3], [10], [1]]);
    expect(microBatches([seq(3), seq(3)], 1000)).toHaveLength(1);
  });

  it("a step split into micro-batches updates the weights as the whole batch does", async () => {
    const examples: Example[] = [
      "door 1 | probe: 3 ->",
      "door 22 | probe: 1 -> x",
      "ab ->",
      "open the door 4 ->",
    ].map((prompt, i) => toExample(prompt, ` {"subgoal": "${i}"}`));
    const run = async (budget: number | undefined) => {
      const model = new LlamaTransformer(tf, config, initWeights(config, "micro"));
      const optimizer = { ...DEFAULT_OPTIMIZER, batchSize: 4, steps: 3, seed: 1 };
      const trainer =
        budget === undefined
          ? new Trainer(tf, model, examples, optimizer)
          : new Trainer(tf, model, examples, optimizer, undefined, budget);
      const losses = [trainer.trainStep().loss, trainer.trainStep().loss];
      const weights = new Map<string, Float32Array>();
      for (const [name, v] of model.variables) weights.set(name, (await v.data()) as Float32Array);
      trainer.dispose();
      model.dispose();
      return { losses, weights };
    };
    const whole = await run(undefined);
    const split = await run(4 * 40 * 40); // one or two sequences per micro-batch
    expect(split.losses[0]).toBeCloseTo(whole.losses[0] as number, 4);
    expect(split.losses[1]).toBeCloseTo(whole.losses[1] as number, 4);
    let worst = 0;
    for (const [name, w] of whole.weights) {
      const v = split.weights.get(name) as Float32Array;
      for (let i = 0; i < w.length; i++)
        worst = Math.max(worst, Math.abs((w[i] as number) - (v[i] as number)));
    }
    // Adam is blind to a common scale, so the loss checks the weighting's scale and the weights its direction.
    expect(worst).toBeLessThan(1e-5);
  });
});
