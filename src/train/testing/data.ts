/**
 * Where the self-training tests find API-Bank: `../shared/data` relative to the project root. Missing data fails
 * the test file with one clear message (never a silent skip).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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
