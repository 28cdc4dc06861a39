/**
 * A small decoder-only transformer in the llama architecture — RMSNorm, rotary position embeddings (llama.cpp's
 * "normal" RoPE: adjacent dimension pairs), SwiGLU feed-forward, no biases, untied output — written in TensorFlow.js
 * so that its weights, exported by `export.ts` under the GGUF tensor names llama.cpp expects, give the same
 * next-token distribution in llama.cpp as here (`transformer.test.ts` checks it). Gradients are TensorFlow.js's.
 *
 * Weights are kept in GGUF's memory layout: a matrix with ggml dimensions [in, out] is a row-major [out, in] array,
 * so `y = x · Wᵀ`; the token embedding and the output matrix are [vocab, dim].
 */
import type { GradSaveFunc, Tensor, Tensor1D, Tensor2D, Variable } from "@tensorflow/tfjs";
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

/**
 * One training sequence: token ids and the first position whose next token is a target (the answer's start − 1;
 * every later position up to the last-but-one predicts the token after it). Sequences are computed one by one with
 * two-dimensional matrix products: on the WebAssembly backend a rank-3 (batched) product, or one with a transpose
 * flag, runs about ten times slower than a plain 2-D one (2.4 against 24 GFLOP/s on the development machine).
 */
export interface Sequence {
  readonly ids: Int32Array;
  readonly firstTarget: number;
}

/** The trainable model: one TensorFlow.js variable per GGUF tensor, in GGUF layout ([out, in] for matrices). */
export class LlamaTransformer {
  readonly config: LlamaConfig;
  readonly variables: Map<string, Variable>;
  private readonly tf: Tf;
  private readonly rope = new Map<number, { cos: Tensor2D; sin: Tensor2D }>();
  private readonly rotate: Tensor2D;
  private readonly mm: (a: Tensor2D, b: Tensor2D) => Tensor2D;
  private causalMask: Tensor2D | undefined;

  private static created = 0;

  constructor(tf: Tf, config: LlamaConfig, weights: Weights) {
    checkConfig(config);
    LlamaTransformer.created += 1;
    this.tf = tf;
    this.config = config;
    this.variables = new Map();
    for (const t of tensorLayout(config)) {
      const data = weights.get(t.name);
      if (data === undefined || data.length !== t.size)
        throw new RangeError(`model: tensor ${t.name} has ${data?.length ?? 0} values, expected ${t.size}`);
      // TensorFlow.js variable names are global to the engine: prefix them with this model's number.
      const unique = `m${LlamaTransformer.created}/${t.name}`;
      this.variables.set(t.name, tf.variable(tf.tensor(data, tfShape(t.dims), "float32"), true, unique));
    }
    // A matrix product whose gradient uses materialised transposes instead of transpose flags (the flagged
    // products take the WebAssembly backend's slow path). The gradient is still the textbook one of a product.
    this.mm = tf.customGrad(((a: Tensor, b: Tensor, save: GradSaveFunc) => {
      const x = a as Tensor2D;
      const y = b as Tensor2D;
      save([x, y]);
      return {
        value: tf.matMul(x, y),
        gradFunc: (dy: Tensor, saved: Tensor[]) => {
          const [sx, sy] = saved as [Tensor2D, Tensor2D];
          const g = dy as Tensor2D;
          return [tf.matMul(g, tf.transpose(sy)), tf.matMul(tf.transpose(sx), g)];
        },
      };
    }) as never) as unknown as (a: Tensor2D, b: Tensor2D) => Tensor2D;
    const headSize = config.dim / config.heads;
    const rotate = new Float32Array(headSize * headSize);
    for (let i = 0; i < headSize / 2; i++) {
      // (x·R)[2i] = −x[2i+1], (x·R)[2i+1] = x[2i]: RoPE's rotation of each adjacent pair, as a product.
      rotate[(2 * i + 1) * headSize + 2 * i] = -1;
      rotate[2 * i * headSize + 2 * i + 1] = 1;
    }
    this.rotate = tf.keep(tf.tensor2d(rotate, [headSize, headSize]));
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
    this.rotate.dispose();
    this.causalMask?.dispose();
  }

  /**
   * cos / sin of θ = position · base^(−2i/headSize) for positions 0 … n − 1, repeated over each pair, [n, headSize]
   * (computed as ggml does: theta_scale = base^(−2/n_dims), θ = p · theta_scale^i).
   */
  private ropeTables(n: number): { cos: Tensor2D; sin: Tensor2D } {
    let r = this.rope.get(n);
    if (r === undefined) {
      const headSize = this.config.dim / this.config.heads;
      const cos = new Float32Array(n * headSize);
      const sin = new Float32Array(n * headSize);
      const thetaScale = Math.fround(this.config.ropeBase ** (-2 / headSize));
      for (let p = 0; p < n; p++) {
        for (let i = 0; i < headSize / 2; i++) {
          const theta = p * thetaScale ** i;
          cos[p * headSize + 2 * i] = cos[p * headSize + 2 * i + 1] = Math.cos(theta);
          sin[p * headSize + 2 * i] = sin[p * headSize + 2 * i + 1] = Math.sin(theta);
        }
      }
      r = {
        cos: this.tf.keep(this.tf.tensor2d(cos, [n, headSize])),
        sin: this.tf.keep(this.tf.tensor2d(sin, [n, headSize])),
      };
      if (this.rope.size > 64) {
        for (const old of this.rope.values()) {
          old.cos.dispose();
          old.sin.dispose();
        }
        this.rope.clear();
      }
      this.rope.set(n, r);
    }
    return r;
  }

  /** −1e9 above the diagonal, [n, n] (a slice of one cached mask as long as the context). */
  private causal(n: number): Tensor2D {
    const tf = this.tf;
    if (this.causalMask === undefined || (this.causalMask.shape[0] as number) < n) {
      this.causalMask?.dispose();
      const size = Math.max(n, this.config.context);
      this.causalMask = tf.keep(
        tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([size, size]), -1, 0)), -1e9) as Tensor2D),
      );
    }
    return tf.slice(this.causalMask, [0, 0], [n, n]);
  }

  private rmsNorm(x: Tensor2D, weight: Tensor1D): Tensor2D {
    const tf = this.tf;
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, this.config.eps))), weight);
  }

  /** RoPE of x [n, headSize] at positions from … from + n − 1: x ⊙ C + (x·R) ⊙ S. */
  private applyRope(x: Tensor2D, from: number, total: number): Tensor2D {
    const tf = this.tf;
    const headSize = this.config.dim / this.config.heads;
    const n = x.shape[0] as number;
    const { cos, sin } = this.ropeTables(total);
    const c = from === 0 && n === total ? cos : tf.slice(cos, [from, 0], [n, headSize]);
    const s = from === 0 && n === total ? sin : tf.slice(sin, [from, 0], [n, headSize]);
    return tf.add(tf.mul(x, c), tf.mul(this.mm(x, this.rotate), s));
  }

  /**
   * Final hidden states (after the output norm) of positions `from` … n − 1 of one sequence, [n − from, dim]. The
   * last block computes only those positions' queries; its keys and values still come from every position.
   */
  hidden(ids: Int32Array, from = 0, transposed?: Map<string, Tensor2D>): Tensor2D {
    const tf = this.tf;
    const { dim, heads, vocab, layers } = this.config;
    const n = ids.length;
    const headSize = dim / heads;
    // Weights transposed once per batch ([in, out]), so every product is a plain x·W.
    const wt = transposed ?? this.transposedWeights();
    const w = (name: string) => wt.get(name) as Tensor2D;
    // Embedding lookup as a one-hot product: its gradient is a product too, which every backend has (gather's
    // needs UnsortedSegmentSum, which the WebAssembly backend lacks).
    let x = this.mm(
      tf.oneHot(tf.tensor1d(ids, "int32"), vocab) as Tensor2D,
      this.v("token_embd.weight") as Tensor2D,
    );
    const scale = 1 / Math.sqrt(headSize);
    for (let b = 0; b < layers; b++) {
      const p = `blk.${b}`;
      const start = b === layers - 1 ? from : 0;
      const m = n - start;
      const h = this.rmsNorm(x, this.v(`${p}.attn_norm.weight`) as Tensor1D);
      const hq = start === 0 ? h : tf.slice(h, [start, 0], [m, dim]);
      const mask = start === 0 ? this.causal(n) : tf.slice(this.causal(n), [start, 0], [m, n]);
      let attention: Tensor2D | undefined;
      for (let head = 0; head < heads; head++) {
        const cols = (name: string) =>
          heads === 1 ? w(name) : tf.slice(w(name), [0, head * headSize], [dim, headSize]);
        const q = this.applyRope(this.mm(hq, cols(`${p}.attn_q.weight`)), start, n);
        const k = this.applyRope(this.mm(h, cols(`${p}.attn_k.weight`)), 0, n);
        const v = this.mm(h, cols(`${p}.attn_v.weight`));
        const scores = tf.add(tf.mul(this.mm(q, tf.transpose(k)), scale), mask);
        const o = this.mm(tf.softmax(scores) as Tensor2D, v);
        // Each head's share of the output projection: the rows of Woᵀ that read this head (no concatenation).
        const wo =
          heads === 1
            ? w(`${p}.attn_output.weight`)
            : tf.slice(w(`${p}.attn_output.weight`), [head * headSize, 0], [headSize, dim]);
        const out = this.mm(o, wo);
        attention = attention === undefined ? out : (tf.add(attention, out) as Tensor2D);
      }
      const residual = start === 0 ? x : tf.slice(x, [start, 0], [m, dim]);
      x = tf.add(residual, attention as Tensor2D);
      const f = this.rmsNorm(x, this.v(`${p}.ffn_norm.weight`) as Tensor1D);
      const gate = this.mm(f, w(`${p}.ffn_gate.weight`));
      const swiglu = tf.mul(tf.mul(gate, tf.sigmoid(gate)), this.mm(f, w(`${p}.ffn_up.weight`)));
      x = tf.add(x, this.mm(swiglu as Tensor2D, w(`${p}.ffn_down.weight`)));
    }
    return this.rmsNorm(x, this.v("output_norm.weight") as Tensor1D);
  }

  /** Every matrix as [in, out] (a transpose of a variable, so gradients flow to it). */
  transposedWeights(): Map<string, Tensor2D> {
    const out = new Map<string, Tensor2D>();
    for (const t of tensorLayout(this.config)) {
      if (t.dims.length === 2 && t.name !== "token_embd.weight")
        out.set(t.name, this.tf.transpose(this.v(t.name) as Tensor2D));
    }
    return out;
  }

  /** Logits of positions `from` … n − 1 of one sequence, [n − from, vocab]. */
  logits(ids: Int32Array, from = 0, transposed?: Map<string, Tensor2D>): Tensor2D {
    const wt = transposed ?? this.transposedWeights();
    return this.mm(this.hidden(ids, from, wt), wt.get("output.weight") as Tensor2D);
  }

  /**
   * Mean over sequences of each sequence's negative log-likelihood of its targets (nats per answer): the MLE
   * objective Σ log LLM(g | pt) of Words-to-Actions §2, per context. A per-token mean would scale the one token
   * that decides the subgoal down by the answer's length. Each position from `firstTarget` to the last-but-one
   * predicts the token after it.
   */
  loss(batch: readonly Sequence[]): Tensor {
    const tf = this.tf;
    const vocab = this.config.vocab;
    const wt = this.transposedWeights();
    let total: Tensor | undefined;
    let count = 0;
    for (const seq of batch) {
      const n = seq.ids.length;
      const from = seq.firstTarget;
      if (from >= n - 1) continue;
      const logits = tf.slice(this.logits(seq.ids, from, wt), [0, 0], [n - 1 - from, vocab]);
      const targets = tf.oneHot(tf.tensor1d(seq.ids.subarray(from + 1), "int32"), vocab);
      const picked = tf.sum(tf.mul(tf.logSoftmax(logits), targets));
      total = total === undefined ? picked : tf.add(total, picked);
      count += 1;
    }
    if (total === undefined || count === 0) throw new RangeError("model: the batch has no targets");
    return tf.div(tf.neg(total), count);
  }
}
