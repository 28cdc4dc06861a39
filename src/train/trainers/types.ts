import { BayesactError } from "../../core/errors.ts";

/**
 * Trainer adapters (issue 6, step 5): the self-training loop hands a trainer the exported data set of one
 * iteration and gets back the spec of the next agent model. Three kinds implement this interface:
 *
 *   command:"…"   the user's own trainer as a shell command (TRL, Axolotl, llama.cpp LoRA, …)
 *   openai        OpenAI's fine-tuning API (or a compatible server): upload, job, polling, new model id
 *   embedded      the in-process log-linear learner, so the loop runs offline
 */

/** The data set of one iteration, in the three export formats (JSONL files, absolute paths). */
export interface TrainDataset {
  /** OpenAI chat fine-tuning JSONL (`{"messages": [...]}`, `weight: 1` on the agent's turns). */
  readonly openai: string;
  /** TRL conversational `{"messages": [...]}` JSONL (train with `assistant_only_loss=True`). */
  readonly trl: string;
  /** API-Bank `{instruction, input, output}` JSONL (loss on `output`). */
  readonly apibank: string;
  /** Trajectories in the data set (chat records) and API-Bank samples (agent turns). */
  readonly trajectories: number;
  readonly samples: number;
}

export interface TrainJob {
  /** The iteration whose data this is: 0 trains π₁ from the data of π₀'s rollouts. */
  readonly iteration: number;
  readonly dataset: TrainDataset;
  /** The model spec fine-tuning starts from (the base model, π₀, unless the loop continues from π_it). */
  readonly baseModel: string;
  /** A fresh folder for this iteration's weights, logs and the trainer's own files (absolute path, exists). */
  readonly outputDir: string;
  readonly signal?: AbortSignal;
  /** Progress lines for the user (stderr); never model output or keys. */
  readonly log?: (line: string) => void;
}

export interface TrainOutcome {
  /** The spec of the trained model, usable as `--model` (e.g. `openai:ft:gpt-4o-mini:org::abc`). */
  readonly model: string;
  /** Trainer-specific facts for the run journal (job id, exit code, log file, epochs, loss …). JSON-safe. */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface Trainer {
  /** `command`, `openai` or `embedded`, for manifests and reports. */
  readonly kind: string;
  /** The trainer as the user wrote it (`--trainer`), for the manifest; never holds a key. */
  readonly spec: string;
  train(job: TrainJob): Promise<TrainOutcome>;
}

/**
 * A training run that failed (non-zero exit, a failed or cancelled fine-tuning job, no model reported). User-facing:
 * the CLI prints its one line and the loop can be resumed at the training step once the cause is fixed.
 */
export class TrainerError extends BayesactError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super("trainer_failed", message, { ...options, userFacing: true });
    this.name = "TrainerError";
  }
}
