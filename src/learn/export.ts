/**
 * Write a trained transformer as a GGUF file with the project's own writer, under the tensor names and metadata
 * llama.cpp's llama architecture reads, with the byte-level vocabulary (`tokenizer.ts`). The result runs as
 * `llamacpp:<file>` through the same provider, middleware and journal as a user's model.
 */

import { type GgufTensorInput, writeGgufFile } from "../llm/llamacpp/gguf.ts";
import { byteLlamaMetadata } from "../llm/llamacpp/tiny-model.ts";
import { type LlamaConfig, tensorLayout, type Weights } from "./transformer.ts";

export async function exportGguf(
  path: string,
  config: LlamaConfig,
  weights: Weights,
  options: { name?: string } = {},
): Promise<number> {
  const tensors: GgufTensorInput[] = tensorLayout(config).map((t) => {
    const data = weights.get(t.name);
    if (data === undefined || data.length !== t.size)
      throw new RangeError(`export: tensor ${t.name} has ${data?.length ?? 0} values, expected ${t.size}`);
    return { name: t.name, dims: t.dims, type: "F32", data };
  });
  const metadata = byteLlamaMetadata({
    name: options.name ?? "bayesact-planner",
    contextLength: config.context,
    embeddingLength: config.dim,
    blockCount: config.layers,
    feedForwardLength: config.ffn,
    headCount: config.heads,
    headCountKv: config.heads,
    ropeBase: config.ropeBase,
    rmsEps: config.eps,
  });
  return writeGgufFile(path, { metadata, tensors });
}
