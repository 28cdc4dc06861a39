/**
 * Write a trained transformer as a GGUF file with the project's own writer, under the tensor names and metadata
 * llama.cpp's llama architecture reads, with the byte-level vocabulary (`tokenizer.ts`). The result runs as
 * `llamacpp:<file>` through the same provider, middleware and journal as a user's model.
 */

import type { PlannerMemory, PlannerStyle } from "../envs/theory/prompts.ts";
import { type GgufTensorInput, gguf, readGgufFile, writeGgufFile } from "../llm/llamacpp/gguf.ts";
import { byteLlamaMetadata } from "../llm/llamacpp/tiny-model.ts";
import { type LlamaConfig, tensorLayout, type Weights } from "./transformer.ts";

export async function exportGguf(
  path: string,
  config: LlamaConfig,
  weights: Weights,
  options: { name?: string; planner?: { memory: PlannerMemory; style: PlannerStyle } } = {},
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
  // The prompt format the planner was trained on, so the theory lab can serve it the same one.
  if (options.planner) {
    metadata.set(PLANNER_MEMORY_KEY, gguf.string(options.planner.memory));
    metadata.set(PLANNER_STYLE_KEY, gguf.string(options.planner.style));
  }
  return writeGgufFile(path, { metadata, tensors });
}

export const PLANNER_MEMORY_KEY = "bayesact.planner.memory";
export const PLANNER_STYLE_KEY = "bayesact.planner.style";

/** The planner prompt format a GGUF file records (`exportGguf`), or undefined when it records none. */
export async function plannerFormatOf(
  path: string,
): Promise<{ memory: PlannerMemory; style: PlannerStyle } | undefined> {
  const file = await readGgufFile(path);
  const memory = file.metadata.get(PLANNER_MEMORY_KEY);
  const style = file.metadata.get(PLANNER_STYLE_KEY);
  if (memory?.type !== "string" || style?.type !== "string") return undefined;
  const m = memory.value;
  const st = style.value;
  if ((m !== "summary" && m !== "episodes") || (st !== "compact" && st !== "full")) return undefined;
  return { memory: m, style: st };
}
