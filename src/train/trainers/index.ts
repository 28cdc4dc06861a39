/** `--trainer KIND`: `embedded` (with options `embedded:lr=…,…`), `openai`, or `command:"…"`. */
import { UserError } from "../../core/errors.ts";
import { commandTrainer } from "./command.ts";
import { embeddedTrainer, parseEmbeddedOptions } from "./embedded.ts";
import { openaiTrainer } from "./openai.ts";
import type { Trainer } from "./types.ts";

export {
  COMMAND_PLACEHOLDERS,
  type CommandTrainerOptions,
  commandTrainer,
  MODEL_SPEC_FILE,
} from "./command.ts";
export {
  EMBEDDED_TRAINER_DEFAULTS,
  type EmbeddedTrainerOptions,
  embeddedTrainer,
  parseEmbeddedOptions,
} from "./embedded.ts";
export { OPENAI_JOB_FILE, type OpenAITrainerOptions, openaiTrainer } from "./openai.ts";
export { type TrainDataset, type Trainer, TrainerError, type TrainJob, type TrainOutcome } from "./types.ts";

export const TRAINER_KINDS = 'embedded[:lr=…,epochs=…,l2=…,average=on|off], openai, command:"…"';

export function createTrainer(
  spec: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Trainer {
  const s = spec.trim();
  if (s === "embedded") return embeddedTrainer();
  if (s.startsWith("embedded:")) return embeddedTrainer(parseEmbeddedOptions(s.slice("embedded:".length)));
  if (s === "openai") return openaiTrainer({ env });
  if (s.startsWith("command:")) {
    const template = s.slice("command:".length).trim();
    if (template === "")
      throw new UserError("--trainer command: needs a command after the colon", { category: "bad_trainer" });
    return commandTrainer(template);
  }
  throw new UserError(`bad --trainer "${spec}" (expected one of: ${TRAINER_KINDS})`, {
    category: "bad_trainer",
  });
}
