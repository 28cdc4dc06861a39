/**
 * Tokenized training examples, `[BOS] prompt answer [EOS]`, with the loss on the answer's tokens and the EOS only
 * (the prompt is context, not a target), and the order in which a training run visits them.
 */
import type { Rng } from "../core/rng.ts";
import { BYTE_VOCAB, encodeBytes } from "./tokenizer.ts";
import type { Sequence } from "./transformer.ts";

export type Example = Sequence;

export function toExample(prompt: string, answer: string): Example {
  const p = encodeBytes(prompt);
  const a = encodeBytes(answer);
  const ids = Int32Array.from([BYTE_VOCAB.bos, ...p, ...a, BYTE_VOCAB.eos]);
  // Position 1 + |prompt| − 1 (the prompt's last token) predicts the answer's first token.
  return { ids, firstTarget: p.length };
}

/**
 * The order of one epoch: a seeded permutation cut into batches of `batchSize`, examples sorted by length inside
 * windows of 16 batches (batches of similar cost, still shuffled across windows). Deterministic in (rng, lengths).
 */
export function epochBatches(lengths: readonly number[], batchSize: number, rng: Rng): number[][] {
  const order = rng.shuffle(Array.from(lengths.keys()));
  const window = batchSize * 16;
  const batches: number[][] = [];
  for (let start = 0; start < order.length; start += window) {
    const chunk = order
      .slice(start, start + window)
      .sort((a, b) => (lengths[a] as number) - (lengths[b] as number));
    for (let i = 0; i < chunk.length; i += batchSize) batches.push(chunk.slice(i, i + batchSize));
  }
  // Batches of a window come out shortest first: shuffle them so lengths do not drift through an epoch.
  return rng.shuffle(batches);
}
