import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { UserError } from "../core/errors.ts";
import { readManifest, SUMMARY } from "./files.ts";
import { RunStore } from "./store.ts";
import { summarize } from "./summary.ts";
import type { RunData, Summary } from "./types.ts";

/**
 * Open a run folder for reading (the report). An unfinished run gets a summary of its finished episodes, computed
 * on the spot. Call `close` when done.
 */
export function loadRunData(
  dirArg: string,
): RunData & { readonly complete: boolean; close(): Promise<void> } {
  const dir = resolve(dirArg);
  const store = RunStore.open(dir);
  try {
    const manifest = readManifest(dir);
    if (manifest.runId !== store.runId) {
      throw new UserError(`${dir}: manifest.json and run.sqlite belong to different runs`, {
        category: "bad_run",
      });
    }
    const episodes = store.episodes();
    const summaryPath = join(dir, SUMMARY);
    const complete = existsSync(summaryPath);
    const summary = complete
      ? (JSON.parse(readFileSync(summaryPath, "utf8")) as Summary)
      : summarize(manifest.config, episodes, store.wallMs());
    return {
      dir,
      manifest,
      summary,
      episodes,
      complete,
      steps: (id) => store.steps(id),
      trees: (id) => store.trees(id),
      llmCalls: (id) => store.llmCalls(id),
      close: () => store.close(),
    };
  } catch (error) {
    void store.close();
    throw error;
  }
}
