/**
 * Where the BlocksWorld tests find the shared data: `../shared/data` relative to the project root. Missing data
 * fails the test files with one clear message (never a silent skip).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const DATA_DIR = fileURLToPath(new URL("../../../../../shared/data", import.meta.url));

export function requireData(root: string = DATA_DIR): string {
  const dir = join(root, "blocksworld");
  if (!existsSync(join(dir, "step_4.json"))) {
    throw new Error(
      `BlocksWorld test data not found at ${dir} (expected ../shared/data beside the project root)`,
    );
  }
  return root;
}
