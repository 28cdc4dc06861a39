/**
 * Where the self-training tests find API-Bank: `../shared/data` relative to the project root. Missing data fails
 * the test file with one clear message (never a silent skip).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TrainLoopConfig } from "../loop.ts";

export const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

export function requireApiBankData(root: string = DATA_DIR): string {
  const file = join(root, "api-bank", "training-data", "lv3-train.json");
  if (!existsSync(file)) {
    throw new Error(
      `API-Bank data not found at ${join(root, "api-bank")} (expected ../shared/data beside the project root)`,
    );
  }
  return root;
}

/** The CLI's defaults as a loop configuration (offline: embedded model and trainer, exact critic, replay). */
export function defaultLoopConfig(overrides: Partial<TrainLoopConfig> = {}): TrainLoopConfig {
  return {
    model: "embedded:base",
    critic: "exact",
    trainer: "embedded",
    executor: "replay",
    iterations: 3,
    samples: 8,
    instructions: 0,
    threshold: 8,
    perInstruction: 2,
    temperature: 0.8,
    maxSteps: 8,
    evalLevels: [1],
    evalLimit: null,
    scoring: "official",
    recordedSearch: true,
    from: "base",
    seed: 0,
    concurrency: 4,
    dataDir: DATA_DIR,
    ...overrides,
  };
}
