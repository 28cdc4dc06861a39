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
  /** Polyak–Ruppert averaging over epochs (default on). */
  readonly average?: boolean;
  readonly seed?: number;
}

/** The loop's defaults: chosen while developing, on the splits docs/self-training.md names. */
export const EMBEDDED_TRAINER_DEFAULTS = { epochs: 4, learningRate: 0.1, l2: 0.03, average: true } as const;

const OnOff = z.enum(["on", "off"]).transform((v) => v === "on");
const Positive = z.coerce.number().positive();
/** `embedded:lr=…,epochs=…,l2=…,average=on|off`: the spec's option keys and their readings. */
const SPEC_OPTIONS = z
  .object({
    lr: Positive.optional(),
    epochs: z.coerce.number().int().min(0).max(1000).optional(),
    l2: z.coerce.number().min(0).optional(),
    average: OnOff.optional(),
  })
  .strict();

/**
 * The options of `--trainer embedded:lr=0.3,epochs=8,average=off` (after the colon). The spec, options and all,
 * is what the run manifest records, so a resumed run trains with the same options.
 */
export function parseEmbeddedOptions(text: string): EmbeddedTrainerOptions {
  const entries: [string, string][] = [];
  for (const part of text.split(",")) {
    const [key, value, ...rest] = part.split("=").map((s) => s.trim());
    if (key === undefined || key === "" || value === undefined || value === "" || rest.length > 0) {
      throw new UserError(`--trainer embedded: expected key=value[,key=value…], got "${part.trim()}"`, {
        category: "bad_trainer",
      });
    }
    entries.push([key, value]);
  }
  const r = SPEC_OPTIONS.safeParse(Object.fromEntries(entries));
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    throw new UserError(
      `--trainer embedded: ${where}${issue?.message ?? "bad options"} (keys: lr, epochs, l2, average=on|off)`,
      { category: "bad_trainer" },
    );
  }
  const { lr, epochs, l2, average } = r.data;
  return {
    ...(lr === undefined ? {} : { learningRate: lr }),
    ...(epochs === undefined ? {} : { epochs }),
    ...(l2 === undefined ? {} : { l2 }),
    ...(average === undefined ? {} : { average }),
  };
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
  const {
    epochs = EMBEDDED_TRAINER_DEFAULTS.epochs,
    learningRate = EMBEDDED_TRAINER_DEFAULTS.learningRate,
    l2 = EMBEDDED_TRAINER_DEFAULTS.l2,
    average = EMBEDDED_TRAINER_DEFAULTS.average,
    seed = 0,
  } = options;
  const given = [
    options.learningRate === undefined ? "" : `lr=${options.learningRate}`,
    options.epochs === undefined ? "" : `epochs=${options.epochs}`,
    options.l2 === undefined ? "" : `l2=${options.l2}`,
    options.average === undefined ? "" : `average=${options.average ? "on" : "off"}`,
  ].filter((s) => s !== "");
  return {
    kind: "embedded",
    spec: given.length === 0 ? "embedded" : `embedded:${given.join(",")}`,
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
        average,
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
        average,
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
