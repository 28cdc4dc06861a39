/**
 * What a planner model learned: its distribution over the subgoals G at a context, read from the log-likelihood of
 * each answer `{"subgoal": "g"}` (up to its closing brace: raw-text scoring through llama.cpp cannot name the EOS
 * token), normalised over G; and the total-variation distance to exact BAIL. The same quantity is read through llama.cpp's `score` once
 * the model is exported (`evaluateServed`), which is what the theory lab's learned planner uses.
 */
import type { Tensor2D } from "@tensorflow/tfjs";
import { subgoalAnswer } from "../envs/theory/prompts.ts";
import type { LanguageModel } from "../llm/types.ts";
import { toExample } from "./batches.ts";
import type { Tf } from "./tf.ts";
import type { LlamaTransformer } from "./transformer.ts";

export interface SubgoalDistribution {
  /** P(g | context) normalised over G. */
  readonly probs: Float64Array;
  /** Σ_g P(answer g) before normalising: the mass the model puts on valid answers. */
  readonly validMass: number;
}

/** Normalise log-likelihoods of the |G| answers (log-sum-exp). */
export function normalise(logliks: readonly number[]): SubgoalDistribution {
  const max = Math.max(...logliks);
  const w = logliks.map((l) => Math.exp(l - max));
  const total = w.reduce((a, b) => a + b, 0);
  return { probs: Float64Array.from(w, (x) => x / total), validMass: Math.exp(max) * total };
}

export { totalVariation } from "../theory/stats.ts";

/** The model's distribution over `subgoals` after `prompt`, computed in TensorFlow.js. */
export function subgoalDistribution(
  tf: Tf,
  model: LlamaTransformer,
  prompt: string,
  subgoals: readonly string[],
): SubgoalDistribution {
  const logliks = tf.tidy(() => {
    const wt = model.transposedWeights();
    return subgoals.map((g) => {
      const e = toExample(prompt, subgoalAnswer(g));
      const n = e.ids.length;
      const logits = tf.slice(
        model.logits(e.ids, e.firstTarget, wt),
        [0, 0],
        [n - 1 - e.firstTarget, model.config.vocab],
      );
      const picked = tf.sum(
        tf.mul(
          tf.logSoftmax(logits as Tensor2D),
          tf.oneHot(tf.tensor1d(e.ids.subarray(e.firstTarget + 1), "int32"), model.config.vocab),
        ),
      );
      return picked.dataSync()[0] as number;
    });
  });
  return normalise(logliks);
}

/** The same distribution read from a served model's `score` (raw text: the prompt as rendered, then the answer). */
export async function servedSubgoalDistribution(
  model: LanguageModel,
  prompt: string,
  subgoals: readonly string[],
  signal?: AbortSignal,
): Promise<SubgoalDistribution> {
  const score = model.score;
  if (score === undefined) throw new RangeError(`${model.id} cannot score text`);
  const logliks: number[] = [];
  for (const g of subgoals) {
    const r = await score.call(model, prompt, subgoalAnswer(g), signal ? { signal } : {});
    logliks.push(r.logprob);
  }
  return normalise(logliks);
}
