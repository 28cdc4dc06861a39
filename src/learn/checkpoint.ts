/**
 * Training checkpoints: `checkpoint.bin` (every weight and both AdamW moments as float32, in `tensorLayout`
 * order) and `checkpoint.json` (what the run was, the step, and the SHA-256 of the binary). Both are written to
 * temporary names and renamed, the binary first, so a kill -9 at any moment leaves the previous checkpoint or the
 * new one — never a mixture: a JSON whose digest does not match its binary is refused in one line.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors.ts";
import type { OptimizerState } from "./trainer.ts";
import { type LlamaConfig, tensorLayout, type Weights } from "./transformer.ts";

export const CHECKPOINT_JSON = "checkpoint.json";
export const CHECKPOINT_BIN = "checkpoint.bin";
const FORMAT = "bayesact-checkpoint";
const VERSION = 1;

/** A model's shape (`LlamaConfig`), as checkpoints and run manifests store it. */
export const LlamaConfigSchema = z.strictObject({
  vocab: z.number().int().positive(),
  dim: z.number().int().positive(),
  layers: z.number().int().positive(),
  heads: z.number().int().positive(),
  ffn: z.number().int().positive(),
  context: z.number().int().positive(),
  ropeBase: z.number().positive(),
  eps: z.number().positive(),
});

const CheckpointSchema = z.strictObject({
  format: z.literal(FORMAT),
  version: z.literal(VERSION),
  step: z.number().int().min(0),
  model: LlamaConfigSchema,
  /** Identifies the run (data and optimiser settings): a checkpoint of another run is refused. */
  run: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number().int().positive(),
});

export interface Checkpoint {
  readonly step: number;
  readonly model: LlamaConfig;
  readonly run: string;
  readonly weights: Weights;
  readonly optimizer: OptimizerState;
}

function bad(dir: string, why: string): UserError {
  return new UserError(`${join(dir, CHECKPOINT_JSON)}: ${why}`, { category: "bad_checkpoint" });
}

export function writeCheckpoint(dir: string, c: Checkpoint): void {
  const layout = tensorLayout(c.model);
  const total = layout.reduce((n, t) => n + t.size, 0);
  const data = new Float32Array(3 * total);
  let offset = 0;
  for (const source of [c.weights, c.optimizer.m, c.optimizer.v]) {
    for (const t of layout) {
      const values = source.get(t.name);
      if (values === undefined || values.length !== t.size)
        throw new RangeError(`checkpoint: tensor ${t.name} is missing`);
      data.set(values, offset);
      offset += t.size;
    }
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const meta: z.infer<typeof CheckpointSchema> = {
    format: FORMAT,
    version: VERSION,
    step: c.step,
    model: { ...c.model },
    run: c.run,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    bytes: bytes.length,
  };
  const bin = join(dir, CHECKPOINT_BIN);
  const json = join(dir, CHECKPOINT_JSON);
  writeFileSync(`${bin}.tmp`, bytes);
  renameSync(`${bin}.tmp`, bin);
  writeFileSync(`${json}.tmp`, `${JSON.stringify(meta, null, 2)}\n`);
  renameSync(`${json}.tmp`, json);
}

/**
 * The checkpoint in `dir`, or undefined when there is none. Anything unreadable, of another run or another model
 * shape, or whose binary does not match is one `UserError` line.
 */
export function readCheckpoint(
  dir: string,
  expect: { run: string; model: LlamaConfig },
): Checkpoint | undefined {
  const json = join(dir, CHECKPOINT_JSON);
  if (!existsSync(json)) return undefined;
  let parsed: z.infer<typeof CheckpointSchema>;
  try {
    parsed = CheckpointSchema.parse(JSON.parse(readFileSync(json, "utf8")));
  } catch (error) {
    const why = error instanceof z.ZodError ? z.prettifyError(error).replaceAll("\n", " ") : String(error);
    throw bad(dir, `not a bayesact checkpoint (${why.slice(0, 200)})`);
  }
  if (parsed.run !== expect.run)
    throw bad(dir, "belongs to another training run (its data or settings differ)");
  if (JSON.stringify(parsed.model) !== JSON.stringify({ ...expect.model }))
    throw bad(dir, `was written for another model shape (${JSON.stringify(parsed.model)})`);
  const bin = join(dir, CHECKPOINT_BIN);
  if (!existsSync(bin)) throw bad(dir, `${CHECKPOINT_BIN} is missing`);
  const bytes = readFileSync(bin);
  if (bytes.length !== parsed.bytes || createHash("sha256").update(bytes).digest("hex") !== parsed.sha256)
    throw bad(dir, `${CHECKPOINT_BIN} does not match it (damaged, or from another checkpoint)`);
  const layout = tensorLayout(parsed.model);
  const total = layout.reduce((n, t) => n + t.size, 0);
  if (bytes.length !== 3 * total * 4) throw bad(dir, "its binary has the wrong size for the model");
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  const parts: Weights[] = [new Map(), new Map(), new Map()];
  let offset = 0;
  for (const part of parts) {
    for (const t of layout) {
      part.set(t.name, data.slice(offset, offset + t.size));
      offset += t.size;
    }
  }
  const [weights, m, v] = parts as [Weights, Weights, Weights];
  return {
    step: parsed.step,
    model: parsed.model,
    run: parsed.run,
    weights,
    optimizer: { step: parsed.step, m, v },
  };
}
