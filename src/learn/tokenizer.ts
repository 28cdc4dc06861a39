/**
 * The byte-level vocabulary of the project's GGUF models (`llm/llamacpp/tiny-model.ts`), as llama.cpp tokenizes
 * with it: SentencePiece with only single-byte tokens and `▁`, scores all 0, no space prefix. So a space becomes
 * `▁` (id 259), every other byte `b` becomes id `b + 3`, and a BOS (id 1) starts a text. Training and serving must
 * tokenize alike; `tokenizer.test.ts` checks this against node-llama-cpp's own tokenizer.
 */
export const BYTE_VOCAB = {
  size: 260,
  unk: 0,
  bos: 1,
  eos: 2,
  byteOffset: 3,
  space: 259,
} as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Token ids of `text` (no BOS). */
export function encodeBytes(text: string): number[] {
  const bytes = encoder.encode(text);
  const out = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    out[i] = b === 0x20 ? BYTE_VOCAB.space : b + BYTE_VOCAB.byteOffset;
  }
  return out;
}

/** The text of token ids; control tokens (BOS, EOS, UNK) are dropped. */
export function decodeBytes(ids: readonly number[]): string {
  const bytes: number[] = [];
  for (const id of ids) {
    if (id === BYTE_VOCAB.space) bytes.push(0x20);
    else if (id >= BYTE_VOCAB.byteOffset && id < BYTE_VOCAB.byteOffset + 256)
      bytes.push(id - BYTE_VOCAB.byteOffset);
  }
  return decoder.decode(new Uint8Array(bytes));
}
