/**
 * A tiny llama-architecture GGUF model with seeded random weights, written from scratch.
 *
 * No model hub is reachable from the machines this project builds on, yet the llama.cpp provider must be tested
 * against a real engine. This model is real to llama.cpp (it loads, tokenizes, samples under grammars, returns
 * logits) and meaningless as a language model. Its vocabulary is byte-level SentencePiece: `<unk>`, `<s>`, `</s>`,
 * the 256 byte tokens `<0x00>`…`<0xFF>` and `▁` (the SentencePiece space), all scores 0, so any UTF-8 text
 * tokenizes to one token per byte (a space becomes `▁`); `add_space_prefix` is off so no space is invented in
 * front of a text. There is no chat template unless one is given. Same options ⇒ byte-identical file.
 */
import { Rng } from "../../core/rng.ts";
import { type GgufTensorInput, type GgufValue, gguf, writeGgufFile } from "./gguf.ts";

export interface TinyModelOptions {
  /** Weight seed (default 0). */
  readonly seed?: number | string;
  /** Embedding width (default 64). */
  readonly embeddingLength?: number;
  /** Transformer blocks (default 2). */
  readonly blockCount?: number;
  /** Hidden width of the feed-forward layers (default 2 × embedding width). */
  readonly feedForwardLength?: number;
  /** Attention heads (default 4); must divide the embedding width. */
  readonly headCount?: number;
  /** Key/value heads (default `headCount`); must divide `headCount`. */
  readonly headCountKv?: number;
  /** Trained context length recorded in the file (default 512). */
  readonly contextLength?: number;
  /** `general.name` (default `bayesact-tiny`). */
  readonly name?: string;
  /**
   * Standard deviation of the output logits for a normalised hidden state (default 2): large enough that the
   * next-token distribution has clear favourites, small enough that sampling still varies.
   */
  readonly logitScale?: number;
  /** A Jinja chat template to store as `tokenizer.chat_template` (default: none). */
  readonly chatTemplate?: string;
}

export interface TinyModelMetadata {
  readonly seed: number | string;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly contextLength: number;
  readonly name: string;
  readonly logitScale: number;
  readonly chatTemplate: string | undefined;
  readonly vocabularySize: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
  readonly unkTokenId: number;
  /** Token id of the byte `b` is `byteTokenOffset + b`. */
  readonly byteTokenOffset: number;
  /** Token id of `▁`. */
  readonly spaceTokenId: number;
}

export interface TinyModel {
  readonly path: string;
  readonly sizeBytes: number;
  readonly metadata: TinyModelMetadata;
}

/** SentencePiece token types as llama.cpp numbers them. */
const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;

/** `<unk>`, `<s>`, `</s>`, 256 bytes, `▁`. */
export function tinyVocabulary(): { tokens: string[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TOKEN_TYPE.byte);
  }
  tokens.push("\u2581");
  types.push(TOKEN_TYPE.normal);
  return { tokens, types };
}

function resolveOptions(options: TinyModelOptions): TinyModelMetadata {
  const embeddingLength = options.embeddingLength ?? 64;
  const headCount = options.headCount ?? 4;
  const headCountKv = options.headCountKv ?? headCount;
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v <= 0)
      throw new RangeError(`tiny model: ${name} must be a positive integer, got ${v}`);
  };
  const resolved: TinyModelMetadata = {
    seed: options.seed ?? 0,
    embeddingLength,
    blockCount: options.blockCount ?? 2,
    feedForwardLength: options.feedForwardLength ?? 2 * embeddingLength,
    headCount,
    headCountKv,
    contextLength: options.contextLength ?? 512,
    name: options.name ?? "bayesact-tiny",
    logitScale: options.logitScale ?? 2,
    chatTemplate: options.chatTemplate,
    vocabularySize: 260,
    unkTokenId: 0,
    bosTokenId: 1,
    eosTokenId: 2,
    byteTokenOffset: 3,
    spaceTokenId: 259,
  };
  positive("embeddingLength", resolved.embeddingLength);
  positive("blockCount", resolved.blockCount);
  positive("feedForwardLength", resolved.feedForwardLength);
  positive("headCount", headCount);
  positive("headCountKv", headCountKv);
  positive("contextLength", resolved.contextLength);
  if (embeddingLength % headCount !== 0)
    throw new RangeError("tiny model: headCount must divide embeddingLength");
  if (headCount % headCountKv !== 0) throw new RangeError("tiny model: headCountKv must divide headCount");
  // RoPE rotates pairs of dimensions.
  if ((embeddingLength / headCount) % 2 !== 0) throw new RangeError("tiny model: the head size must be even");
  if (!(resolved.logitScale > 0)) throw new RangeError("tiny model: logitScale must be > 0");
  return resolved;
}

/** The architecture of a llama model with the byte-level vocabulary (see `byteLlamaMetadata`). */
export interface ByteLlamaArchitecture {
  readonly name: string;
  readonly contextLength: number;
  readonly embeddingLength: number;
  readonly blockCount: number;
  readonly feedForwardLength: number;
  readonly headCount: number;
  readonly headCountKv: number;
  readonly ropeBase: number;
  readonly rmsEps: number;
  readonly chatTemplate?: string;
}

/**
 * GGUF metadata of a llama model with the byte-level SentencePiece vocabulary: shared by the random tiny model and
 * the models the project trains (`learn/export.ts`), so both tokenize and run alike in llama.cpp.
 */
export function byteLlamaMetadata(a: ByteLlamaArchitecture): Map<string, GgufValue> {
  const { tokens, types } = tinyVocabulary();
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", gguf.string("llama")],
    ["general.name", gguf.string(a.name)],
    ["general.alignment", gguf.uint32(32)],
    ["general.file_type", gguf.uint32(0)], // all F32
    ["llama.context_length", gguf.uint32(a.contextLength)],
    ["llama.embedding_length", gguf.uint32(a.embeddingLength)],
    ["llama.block_count", gguf.uint32(a.blockCount)],
    ["llama.feed_forward_length", gguf.uint32(a.feedForwardLength)],
    ["llama.attention.head_count", gguf.uint32(a.headCount)],
    ["llama.attention.head_count_kv", gguf.uint32(a.headCountKv)],
    ["llama.attention.layer_norm_rms_epsilon", gguf.float32(a.rmsEps)],
    ["llama.rope.dimension_count", gguf.uint32(a.embeddingLength / a.headCount)],
    ["llama.rope.freq_base", gguf.float32(a.ropeBase)],
    ["llama.vocab_size", gguf.uint32(tokens.length)],
    ["tokenizer.ggml.model", gguf.string("llama")],
    ["tokenizer.ggml.tokens", gguf.strings(tokens)],
    ["tokenizer.ggml.scores", gguf.numbers("float32", new Array<number>(tokens.length).fill(0))],
    ["tokenizer.ggml.token_type", gguf.numbers("int32", types)],
    ["tokenizer.ggml.unknown_token_id", gguf.uint32(0)],
    ["tokenizer.ggml.bos_token_id", gguf.uint32(1)],
    ["tokenizer.ggml.eos_token_id", gguf.uint32(2)],
    ["tokenizer.ggml.add_bos_token", gguf.bool(true)],
    ["tokenizer.ggml.add_eos_token", gguf.bool(false)],
    ["tokenizer.ggml.add_space_prefix", gguf.bool(false)],
  ]);
  if (a.chatTemplate !== undefined) metadata.set("tokenizer.chat_template", gguf.string(a.chatTemplate));
  return metadata;
}

/** The metadata and tensors of the tiny model (pure; `writeTinyLlamaGguf` writes them). */
export function tinyLlamaGguf(options: TinyModelOptions = {}): {
  metadata: Map<string, GgufValue>;
  tensors: GgufTensorInput[];
  resolved: TinyModelMetadata;
} {
  const m = resolveOptions(options);
  const headSize = m.embeddingLength / m.headCount;
  const kvWidth = headSize * m.headCountKv;

  const metadata = byteLlamaMetadata({
    name: m.name,
    contextLength: m.contextLength,
    embeddingLength: m.embeddingLength,
    blockCount: m.blockCount,
    feedForwardLength: m.feedForwardLength,
    headCount: m.headCount,
    headCountKv: m.headCountKv,
    ropeBase: 10000,
    rmsEps: 1e-5,
    ...(m.chatTemplate !== undefined ? { chatTemplate: m.chatTemplate } : {}),
  });

  // One stream per tensor, so changing one tensor's shape never shifts the others' weights.
  const rng = new Rng(m.seed);
  const normal = (name: string, n: number, sd: number): Float32Array => {
    const r = rng.stream(name);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = r.normal(0, sd);
    return out;
  };
  const ones = (n: number) => new Float32Array(n).fill(1);
  // Matrices ~ N(0, 1/fan_in) keep activations at unit scale through the blocks.
  const matrix = (name: string, fanIn: number, fanOut: number): GgufTensorInput => ({
    name,
    dims: [fanIn, fanOut],
    type: "F32",
    data: normal(name, fanIn * fanOut, 1 / Math.sqrt(fanIn)),
  });
  const norm = (name: string): GgufTensorInput => ({
    name,
    dims: [m.embeddingLength],
    type: "F32",
    data: ones(m.embeddingLength),
  });

  const E = m.embeddingLength;
  const tensors: GgufTensorInput[] = [
    {
      name: "token_embd.weight",
      dims: [E, m.vocabularySize],
      type: "F32",
      data: normal("token_embd", E * m.vocabularySize, 1),
    },
  ];
  for (let b = 0; b < m.blockCount; b++) {
    const p = `blk.${b}`;
    tensors.push(
      norm(`${p}.attn_norm.weight`),
      matrix(`${p}.attn_q.weight`, E, E),
      matrix(`${p}.attn_k.weight`, E, kvWidth),
      matrix(`${p}.attn_v.weight`, E, kvWidth),
      matrix(`${p}.attn_output.weight`, E, E),
      norm(`${p}.ffn_norm.weight`),
      matrix(`${p}.ffn_gate.weight`, E, m.feedForwardLength),
      matrix(`${p}.ffn_up.weight`, E, m.feedForwardLength),
      matrix(`${p}.ffn_down.weight`, m.feedForwardLength, E),
    );
  }
  tensors.push(norm("output_norm.weight"), {
    name: "output.weight",
    dims: [E, m.vocabularySize],
    type: "F32",
    // The final RMS norm makes the hidden state unit-scale, so logits have sd ≈ logitScale.
    data: normal("output", E * m.vocabularySize, m.logitScale / Math.sqrt(E)),
  });
  return { metadata, tensors, resolved: m };
}

/** Write the tiny model to `path`; returns the path, the file size and the metadata used. */
export async function writeTinyLlamaGguf(path: string, options: TinyModelOptions = {}): Promise<TinyModel> {
  const { metadata, tensors, resolved } = tinyLlamaGguf(options);
  const sizeBytes = await writeGgufFile(path, { metadata, tensors });
  return { path, sizeBytes, metadata: resolved };
}
