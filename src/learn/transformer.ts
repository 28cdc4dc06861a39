/**
 * A small decoder-only transformer in the llama architecture — RMSNorm, rotary position embeddings (llama.cpp's
 * "normal" RoPE: adjacent dimension pairs), SwiGLU feed-forward, no biases, untied output — written in TensorFlow.js
 * so that its weights, exported by `export.ts` under the GGUF tensor names llama.cpp expects, give the same
 * next-token distribution in llama.cpp as here (`transformer.test.ts` checks it). Gradients are TensorFlow.js's.
 *
 * Weights are kept in GGUF's memory layout: a matrix with ggml dimensions [in, out] is a row-major [out, in] array,
 * so `y = x · Wᵀ`; the token embedding and the output matrix are [vocab, dim].
 */
import type { Tensor, Tensor1D, Tensor2D, Variable } from "@tensorflow/tfjs";
import { Rng } from "../core/rng.ts";
import type { Tf } from "./tf.ts";

export interface LlamaConfig {
  readonly vocab: number;
  /** Embedding width. */
  readonly dim: number;
  readonly layers: number;
  /** Attention heads (the head size dim / heads must be even, for RoPE). */
  readonly heads: number;
  /** SwiGLU hidden width. */
  readonly ffn: number;
  /** Longest sequence the model is trained and served with (written as `llama.context_length`). */
  readonly context: number;
  readonly ropeBase: number;
  readonly eps: number;
}

/** Tensor data by GGUF tensor name, in GGUF's layout. */
export type Weights = Map<string, Float32Array>;

/** Every tensor of a config: its GGUF name, its ggml dimensions (input size first) and its element count. */
export function tensorLayout(config: LlamaConfig): { name: string; dims: number[]; size: number }[] {
  const { vocab, dim, ffn } = config;
  const entry = (name: string, dims: number[]) => ({ name, dims, size: dims.reduce((a, b) => a * b, 1) });
  const out = [entry("token_embd.weight", [dim, vocab])];
  for (let b = 0; b < config.layers; b++) {
    const p = `blk.${b}`;
    out.push(
      entry(`${p}.attn_norm.weight`, [dim]),
      entry(`${p}.attn_q.weight`, [dim, dim]),
      entry(`${p}.attn_k.weight`, [dim, dim]),
      entry(`${p}.attn_v.weight`, [dim, dim]),
      entry(`${p}.attn_output.weight`, [dim, dim]),
      entry(`${p}.ffn_norm.weight`, [dim]),
      entry(`${p}.ffn_gate.weight`, [dim, ffn]),
      entry(`${p}.ffn_up.weight`, [dim, ffn]),
      entry(`${p}.ffn_down.weight`, [ffn, dim]),
    );
  }
  out.push(entry("output_norm.weight", [dim]), entry("output.weight", [dim, vocab]));
  return out;
}

export function checkConfig(config: LlamaConfig): void {
  for (const key of ["vocab", "dim", "layers", "heads", "ffn", "context"] as const) {
    const v = config[key];
    if (!(Number.isInteger(v) && v > 0))
      throw new RangeError(`model: ${key} must be a positive integer, got ${v}`);
  }
  if (config.dim % config.heads !== 0) throw new RangeError("model: heads must divide dim");
  if ((config.dim / config.heads) % 2 !== 0) throw new RangeError("model: the head size must be even (RoPE)");
  if (!(config.ropeBase > 0 && config.eps > 0)) throw new RangeError("model: ropeBase and eps must be > 0");
}

/**
 * Seeded initial weights: matrices ~ N(0, 1/fan_in), the output matrix scaled down by √(2·layers) as in GPT-2's
 * residual scaling, norms 1, embeddings N(0, 1). One stream per tensor, so a change of one shape never shifts the
 * others.
 */
export function initWeights(config: LlamaConfig, seed: number | string): Weights {
  checkConfig(config);
  const rng = new Rng(seed);
  const weights: Weights = new Map();
  for (const t of tensorLayout(config)) {
    const data = new Float32Array(t.size);
    if (t.dims.length === 1) data.fill(1);
    else {
      const r = rng.stream(t.name);
      const fanIn = t.name === "token_embd.weight" ? 1 : (t.dims[0] as number);
      let sd = 1 / Math.sqrt(fanIn);
      if (t.name.endsWith("attn_output.weight") || t.name.endsWith("ffn_down.weight"))
        sd /= Math.sqrt(2 * config.layers);
      for (let i = 0; i < t.size; i++) data[i] = r.normal(0, sd);
    }
    weights.set(t.name, data);
  }
  return weights;
}

/** The tf shape of a tensor: a row-major [out, in] for matrices (ggml [in, out]). */
function tfShape(dims: readonly number[]): number[] {
  return dims.length === 1 ? [dims[0] as number] : [dims[1] as number, dims[0] as number];
}

export interface Batch {
  /** Token ids, `rows × length`, right-padded (causal attention: padding never reaches earlier positions). */
  readonly ids: Int32Array;
  readonly rows: number;
  readonly length: number;
  /** Flat positions (row · length + t) whose next token is predicted, and the tokens they must predict. */
  readonly positions: Int32Array;
  readonly targets: Int32Array;
}

/** The trainable model: one TensorFlow.js variable per GGUF tensor. */
export class LlamaTransformer {
  readonly config: LlamaConfig;
  readonly variables: Map<string, Variable>;
  private readonly tf: Tf;
  private readonly rope = new Map<number, { cos: Tensor; sin: Tensor }>();

  constructor(tf: Tf, config: LlamaConfig, weights: Weights) {
    checkConfig(config);
    this.tf = tf;
    this.config = config;
    this.variables = new Map();
    for (const t of tensorLayout(config)) {
      const data = weights.get(t.name);
      if (data === undefined || data.length !== t.size)
        throw new RangeError(`model: tensor ${t.name} has ${data?.length ?? 0} values, expected ${t.size}`);
      this.variables.set(t.name, tf.variable(tf.tensor(data, tfShape(t.dims), "float32"), true, t.name));
    }
  }

  private v(name: string): Variable {
    const found = this.variables.get(name);
    if (found === undefined) throw new Error(`model: no tensor ${name}`);
    return found;
  }

  /** Current weights, copied out of TensorFlow.js, in GGUF layout. */
  async weights(): Promise<Weights> {
    const out: Weights = new Map();
    for (const [name, v] of this.variables) out.set(name, (await v.data()) as Float32Array);
    return out;
  }

  /** Replace every weight (e.g. from a checkpoint). */
  assign(weights: Weights): void {
    for (const t of tensorLayout(this.config)) {
      const data = weights.get(t.name);
      if (data === undefined || data.length !== t.size)
        throw new RangeError(`model: tensor ${t.name} has ${data?.length ?? 0} values, expected ${t.size}`);
      this.tf.tidy(() => this.v(t.name).assign(this.tf.tensor(data, tfShape(t.dims), "float32")));
    }
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
    for (const r of this.rope.values()) {
      r.cos.dispose();
      r.sin.dispose();
    }
    this.rope.clear();
  }

  /** cos / sin of θ = position · base^(−2i/headSize) for the L positions and the headSize/2 pairs, [L, 1, pairs]. */
  private ropeTables(length: number): { cos: Tensor; sin: Tensor } {
    let r = this.rope.get(length);
    if (r === undefined) {
      const pairs = this.config.dim / this.config.heads / 2;
      const cos = new Float32Array(length * pairs);
      const sin = new Float32Array(length * pairs);
      for (let p = 0; p < length; p++) {
        for (let i = 0; i < pairs; i++) {
          // As ggml computes it: theta_scale = base^(−2/n_dims), θ = p · theta_scale^i.
          const theta = p * Math.fround(this.config.ropeBase ** (-2 / (2 * pairs))) ** i;
          cos[p * pairs + i] = Math.cos(theta);
          sin[p * pairs + i] = Math.sin(theta);
        }
      }
      r = {
        cos: this.tf.keep(this.tf.tensor(cos, [length, 1, pairs])),
        sin: this.tf.keep(this.tf.tensor(sin, [length, 1, pairs])),
      };
      this.rope.set(length, r);
    }
    return r;
  }

  private rmsNorm(x: Tensor, weight: Tensor1D): Tensor {
    const tf = this.tf;
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.config.eps))), weight);
  }

  /** Rotate adjacent pairs of x [B, L, H, headSize] by the position's angles. */
  private applyRope(x: Tensor, rows: number, length: number): Tensor {
    const tf = this.tf;
    const { heads } = this.config;
    const pairs = this.config.dim / heads / 2;
    const { cos, sin } = this.ropeTables(length);
    const pairsView = tf.reshape(x, [rows, length, heads, pairs, 2]);
    const [a, b] = tf.split(pairsView, 2, 4) as [Tensor, Tensor];
    const x0 = tf.reshape(a, [rows, length, heads, pairs]);
    const x1 = tf.reshape(b, [rows, length, heads, pairs]);
    const r0 = tf.sub(tf.mul(x0, cos), tf.mul(x1, sin));
    const r1 = tf.add(tf.mul(x0, sin), tf.mul(x1, cos));
    return tf.reshape(tf.stack([r0, r1], 4), [rows, length, heads, 2 * pairs]);
  }

  /** Final hidden states (after the output norm), [rows·length, dim]. */
  hidden(ids: Int32Array, rows: number, length: number): Tensor2D {
    const tf = this.tf;
    const { dim, heads, vocab } = this.config;
    const headSize = dim / heads;
    const n = rows * length;
    // Embedding lookup as a one-hot product: its gradient is a matrix product, which every backend has (the
    // gather gradient needs UnsortedSegmentSum, which the WebAssembly backend lacks).
    let x: Tensor = tf.matMul(tf.oneHot(tf.tensor1d(ids, "int32"), vocab), this.v("token_embd.weight"));
    const causal = tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([length, length]), -1, 0)), -1e9);
    const scale = 1 / Math.sqrt(headSize);
    const project = (h: Tensor, name: string) =>
      tf.matMul(h as Tensor2D, this.v(name) as Tensor2D, false, true);
    for (let b = 0; b < this.config.layers; b++) {
      const p = `blk.${b}`;
      const h = this.rmsNorm(x, this.v(`${p}.attn_norm.weight`) as Tensor1D);
      const split = (t: Tensor) => tf.reshape(t, [rows, length, heads, headSize]);
      const q = tf.transpose(
        this.applyRope(split(project(h, `${p}.attn_q.weight`)), rows, length),
        [0, 2, 1, 3],
      );
      const k = tf.transpose(
        this.applyRope(split(project(h, `${p}.attn_k.weight`)), rows, length),
        [0, 2, 1, 3],
      );
      const v = tf.transpose(split(project(h, `${p}.attn_v.weight`)), [0, 2, 1, 3]);
      const scores = tf.add(tf.mul(tf.matMul(q, k, false, true), scale), causal);
      const attended = tf.matMul(tf.softmax(scores), v);
      const merged = tf.reshape(tf.transpose(attended, [0, 2, 1, 3]), [n, dim]);
      x = tf.add(x, project(merged, `${p}.attn_output.weight`));
      const f = this.rmsNorm(x, this.v(`${p}.ffn_norm.weight`) as Tensor1D);
      const gate = project(f, `${p}.ffn_gate.weight`);
      const swiglu = tf.mul(tf.mul(gate, tf.sigmoid(gate)), project(f, `${p}.ffn_up.weight`));
      x = tf.add(x, project(swiglu, `${p}.ffn_down.weight`));
    }
    return this.rmsNorm(x, this.v("output_norm.weight") as Tensor1D) as Tensor2D;
  }

  /** Logits at the given flat positions, [positions, vocab]. */
  logitsAt(ids: Int32Array, rows: number, length: number, positions: Int32Array): Tensor2D {
    const tf = this.tf;
    const h = this.hidden(ids, rows, length);
    // Row selection as a one-hot product (its gradient, unlike gather's, exists on the WebAssembly backend).
    const select = tf.oneHot(tf.tensor1d(positions, "int32"), rows * length) as Tensor2D;
    return tf.matMul(tf.matMul(select, h), this.v("output.weight") as Tensor2D, false, true);
  }

  /** Mean negative log-likelihood of the batch's targets (nats per target token). */
  loss(batch: Batch): Tensor {
    const tf = this.tf;
    const logits = this.logitsAt(batch.ids, batch.rows, batch.length, batch.positions);
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(
      tf.mul(logp, tf.oneHot(tf.tensor1d(batch.targets, "int32"), this.config.vocab)),
      -1,
    );
    return tf.neg(tf.mean(picked));
  }
}
