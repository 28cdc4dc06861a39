/**
 * The `embedded` trainer: supervised fine-tuning of the embedded learner (train/embedded) in process, from the
 * TRL messages export, starting from the base model's weights. Writes `model.json` in the output folder and
 * returns `embedded:<that path>`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeFileAtomic } from "../../bench/files.ts";
import { UserError } from "../../core/errors.ts";
import { parseModelSpec } from "../../llm/spec.ts";
import { datasetExamples, sft, weightsFile } from "../embedded/model.ts";
import { EmbeddedModel } from "../embedded/provider.ts";
import type { Trainer, TrainJob, TrainOutcome } from "./types.ts";

const Message = z.object({ role: z.enum(["system", "user", "assistant"]), content: z.string() });
const ChatRecord = z.object({ messages: z.array(Message) });

export interface EmbeddedTrainerOptions {
  readonly epochs?: number;
  readonly learningRate?: number;
  readonly l2?: number;
  readonly seed?: number;
}

export function readChatJsonl(path: string): z.infer<typeof ChatRecord>[] {
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  return lines.map((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UserError(`${path}:${i + 1}: not JSON`, { category: "bad_data" });
    }
    const r = ChatRecord.safeParse(value);
    if (!r.success)
      throw new UserError(`${path}:${i + 1}: not a {messages: [...]} record`, { category: "bad_data" });
    return r.data;
  });
}

export function embeddedTrainer(options: EmbeddedTrainerOptions = {}): Trainer {
  const { epochs = 4, learningRate = 0.1, l2 = 0.03, seed = 0 } = options;
  return {
    kind: "embedded",
    spec: "embedded",
    async train(job: TrainJob): Promise<TrainOutcome> {
      if (parseModelSpec(job.baseModel).kind !== "embedded") {
        throw new UserError(`the embedded trainer fine-tunes embedded: models, not ${job.baseModel}`, {
          category: "bad_trainer",
        });
      }
      const started = performance.now();
      const base = EmbeddedModel.open(job.baseModel).weights;
      const { examples, stats } = datasetExamples(readChatJsonl(job.dataset.trl));
      const result = sft(base, examples, {
        epochs,
        learningRate,
        l2,
        seed: seed + job.iteration,
        ...(job.signal === undefined ? {} : { signal: job.signal }),
      });
      const training = {
        baseModel: job.baseModel,
        iteration: job.iteration,
        dataset: job.dataset.trl,
        ...stats,
        epochs,
        learningRate,
        l2,
        lossBefore: result.loss[0] ?? null,
        lossAfter: result.averagedLoss,
      };
      const path = join(job.outputDir, "model.json");
      writeFileAtomic(path, `${JSON.stringify(weightsFile(result.weights, training), null, 1)}\n`);
      job.log?.(
        `embedded: ${stats.decisions - stats.unreachable} decisions from ${stats.turns} agent turns, loss ${training.lossBefore?.toFixed(3)} → ${training.lossAfter?.toFixed(3)}`,
      );
      return {
        model: `embedded:${path}`,
        details: { ...training, modelFile: path, wallMs: performance.now() - started },
      };
    },
  };
}
