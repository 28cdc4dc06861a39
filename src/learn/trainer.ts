/**
 * Next-subgoal maximum likelihood (θ̂ = argmax Σ log LLM_θ(g | pt), Words-to-Actions §2) for the llama transformer:
 * AdamW (decoupled weight decay on matrices only), linear warm-up then cosine decay to a tenth, gradient-norm
 * clipping, loss on the answer tokens only. Gradients come from TensorFlow.js (`variableGrads`); the update rule
 * is AdamW's, applied with tensor operations so that its state can be checkpointed.
 *
 * Determinism: the batch of step s is a function of (seed, s) alone, and the WebAssembly backend runs single-
 * threaded, so a run resumed from a checkpoint after a kill -9 ends with exactly the weights of an uninterrupted
 * one (`trainer.test.ts`).
 */
import type { Tensor, Variable } from "@tensorflow/tfjs";
import { Rng } from "../core/rng.ts";
import { type Example, epochBatches } from "./batches.ts";
import type { Tf } from "./tf.ts";
import { type LlamaTransformer, tensorLayout, type Weights } from "./transformer.ts";

export interface OptimizerConfig {
  readonly steps: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly warmupSteps: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** Gradients are scaled down to this global norm when larger. */
  readonly clipNorm: number;
  readonly seed: number;
}

export const DEFAULT_OPTIMIZER: Omit<OptimizerConfig, "steps" | "seed"> = {
  batchSize: 16,
  learningRate: 3e-3,
  warmupSteps: 50,
  weightDecay: 0.01,
  beta1: 0.9,
  beta2: 0.98,
  epsilon: 1e-8,
  clipNorm: 1,
};

/** The learning rate of step s (0-based). */
export function learningRateAt(c: OptimizerConfig, step: number): number {
  if (step < c.warmupSteps) return (c.learningRate * (step + 1)) / c.warmupSteps;
  const progress = Math.min(1, (step - c.warmupSteps) / Math.max(1, c.steps - c.warmupSteps));
  return c.learningRate * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

/** AdamW's moments, by tensor name, in GGUF layout (as the weights). */
export interface OptimizerState {
  readonly step: number;
  readonly m: Weights;
  readonly v: Weights;
}

export interface StepReport {
  readonly step: number;
  readonly loss: number;
  readonly learningRate: number;
  /** Tokens in the step's batch. */
  readonly tokens: number;
  readonly targets: number;
  readonly ms: number;
}

/**
 * Attention scores a micro-batch may hold, summed over its sequences, heads and layers (Σ L²·heads·layers).
 * The backward pass keeps a few copies of each, so 2²⁴ is a few hundred MB of the WebAssembly heap; the probe
 * trap's 16 prompts of ~420 tokens fit in one micro-batch.
 */
export const ATTENTION_BUDGET = 2 ** 24;

/**
 * Consecutive groups of the batch whose Σ L² stays within `budget` (a sequence longer than the budget is a group
 * of its own). Deterministic, so resumed runs split every step the same way.
 */
export function microBatches<T extends { readonly ids: { readonly length: number } }>(
  batch: readonly T[],
  budget: number,
): T[][] {
  const parts: T[][] = [];
  let current: T[] = [];
  let used = 0;
  for (const item of batch) {
    const cost = item.ids.length ** 2;
    if (current.length > 0 && used + cost > budget) {
      parts.push(current);
      current = [];
      used = 0;
    }
    current.push(item);
    used += cost;
  }
  if (current.length > 0) parts.push(current);
  return parts;
}

/** The batches of every step: epoch e is a permutation drawn from (seed, e). */
export class StepSchedule {
  private readonly lengths: number[];
  private readonly batchSize: number;
  private readonly seed: number;
  private readonly epochs = new Map<number, number[][]>();

  constructor(examples: readonly Example[], batchSize: number, seed: number) {
    if (examples.length === 0) throw new RangeError("trainer: no training examples");
    this.lengths = examples.map((e) => e.ids.length);
    this.batchSize = Math.min(batchSize, examples.length);
    this.seed = seed;
  }

  batch(step: number): number[] {
    const perEpoch = Math.ceil(this.lengths.length / this.batchSize);
    const epoch = Math.floor(step / perEpoch);
    let batches = this.epochs.get(epoch);
    if (batches === undefined) {
      batches = epochBatches(this.lengths, this.batchSize, new Rng(this.seed).stream(`epoch ${epoch}`));
      this.epochs.clear(); // one epoch at a time
      this.epochs.set(epoch, batches);
    }
    return batches[step % perEpoch] as number[];
  }
}

export class Trainer {
  readonly config: OptimizerConfig;
  private readonly tf: Tf;
  private readonly model: LlamaTransformer;
  private readonly examples: readonly Example[];
  private readonly schedule: StepSchedule;
  private readonly m = new Map<string, Variable>();
  private readonly v = new Map<string, Variable>();
  private readonly decayed: ReadonlySet<string>;
  private readonly attentionBudget: number;
  step = 0;

  constructor(
    tf: Tf,
    model: LlamaTransformer,
    examples: readonly Example[],
    config: OptimizerConfig,
    state?: OptimizerState,
    attentionBudget = ATTENTION_BUDGET,
  ) {
    this.attentionBudget = attentionBudget;
    this.tf = tf;
    this.model = model;
    this.examples = examples;
    this.config = config;
    this.schedule = new StepSchedule(examples, config.batchSize, config.seed);
    const layout = tensorLayout(model.config);
    this.decayed = new Set(layout.filter((t) => t.dims.length > 1).map((t) => t.name));
    for (const [name, variable] of model.variables) {
      const from = (w: Weights | undefined) => {
        const data = w?.get(name);
        return data === undefined ? tf.zerosLike(variable) : tf.tensor(data, variable.shape, "float32");
      };
      this.m.set(name, tf.variable(from(state?.m), false));
      this.v.set(name, tf.variable(from(state?.v), false));
    }
    if (state) this.step = state.step;
  }

  /** One optimisation step on the batch the schedule assigns to `this.step`. */
  trainStep(): StepReport {
    const tf = this.tf;
    const c = this.config;
    const started = performance.now();
    const batch = this.schedule.batch(this.step).map((i) => this.examples[i] as Example);
    const lr = learningRateAt(c, this.step);
    const t = this.step + 1;
    const loss = tf.tidy(() => {
      const { value, grads } = this.gradients(batch);
      // Global-norm clipping.
      const norms = Object.values(grads).map((g) => tf.sum(tf.square(g)));
      const norm = tf.sqrt(tf.addN(norms));
      const scale = tf.minimum(tf.scalar(1), tf.div(c.clipNorm, tf.maximum(norm, 1e-12)));
      const correction1 = 1 - c.beta1 ** t;
      const correction2 = 1 - c.beta2 ** t;
      for (const [name, variable] of this.model.variables) {
        const raw = grads[variable.name];
        if (raw === undefined) continue;
        const g = tf.mul(raw, scale);
        const m = this.m.get(name) as Variable;
        const v = this.v.get(name) as Variable;
        m.assign(tf.add(tf.mul(m, c.beta1), tf.mul(g, 1 - c.beta1)));
        v.assign(tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(g), 1 - c.beta2)));
        const update: Tensor = tf.div(
          tf.div(m, correction1),
          tf.add(tf.sqrt(tf.div(v, correction2)), c.epsilon),
        );
        const decay = this.decayed.has(name) ? tf.mul(variable, c.weightDecay) : tf.zerosLike(variable);
        variable.assign(tf.sub(variable, tf.mul(tf.add(update, decay), lr)));
      }
      return value;
    });
    this.step += 1;
    return {
      step: this.step,
      loss,
      learningRate: lr,
      tokens: batch.reduce((n, e) => n + e.ids.length, 0),
      targets: batch.reduce((n, e) => n + e.ids.length - 1 - e.firstTarget, 0),
      ms: performance.now() - started,
    };
  }

  /**
   * The batch's loss and its gradient, summed over micro-batches that each fit `ATTENTION_BUDGET` (the loss is a
   * mean over contexts, so micro-batch i weighs n_i / n). A batch that fits is one micro-batch, computed exactly
   * as before micro-batching existed; long contexts (the gridworld's 1–3 kB prompts) would otherwise exhaust the
   * WebAssembly heap, which ends the process with an `Aborted()` no caller can catch.
   */
  private gradients(batch: readonly Example[]): { value: number; grads: Record<string, Tensor> } {
    const tf = this.tf;
    const vars = [...this.model.variables.values()];
    const { heads, layers } = this.model.config;
    const parts = microBatches(batch, Math.floor(this.attentionBudget / (heads * layers)));
    if (parts.length === 1) {
      const { value, grads } = tf.variableGrads(() => this.model.loss(batch) as never, vars);
      return { value: value.dataSync()[0] as number, grads };
    }
    const counted = (xs: readonly Example[]) => xs.filter((e) => e.firstTarget < e.ids.length - 1).length;
    const total = counted(batch);
    let value = 0;
    let sum: Record<string, Tensor> = {};
    for (const part of parts) {
      const weight = counted(part) / total;
      if (weight === 0) continue;
      const next = tf.tidy(() => {
        const g = tf.variableGrads(() => this.model.loss(part) as never, vars);
        value += (g.value.dataSync()[0] as number) * weight;
        const out: Record<string, Tensor> = {};
        for (const [name, grad] of Object.entries(g.grads)) {
          const scaled = tf.mul(grad, weight);
          const prev = sum[name];
          out[name] = prev === undefined ? scaled : tf.add(prev, scaled);
        }
        return out;
      });
      for (const t of Object.values(sum)) t.dispose();
      sum = next;
    }
    return { value, grads: sum };
  }

  /** The optimiser's state, for a checkpoint. */
  async state(): Promise<OptimizerState> {
    const read = async (map: Map<string, Variable>) => {
      const out: Weights = new Map();
      for (const [name, v] of map) out.set(name, (await v.data()) as Float32Array);
      return out;
    };
    return { step: this.step, m: await read(this.m), v: await read(this.v) };
  }

  dispose(): void {
    for (const v of [...this.m.values(), ...this.v.values()]) v.dispose();
  }
}

/** Mean negative log-likelihood per answer (no update), in batches: the held-out loss. */
export function evaluateLoss(
  tf: Tf,
  model: LlamaTransformer,
  examples: readonly Example[],
  batchSize = 16,
): number {
  let total = 0;
  let count = 0;
  const budget = Math.floor(ATTENTION_BUDGET / (model.config.heads * model.config.layers));
  for (let i = 0; i < examples.length; i += batchSize) {
    for (const batch of microBatches(examples.slice(i, i + batchSize), budget)) {
      const loss = tf.tidy(() => model.loss(batch).dataSync()[0] as number);
      total += loss * batch.length;
      count += batch.length;
    }
  }
  return count === 0 ? Number.NaN : total / count;
}
