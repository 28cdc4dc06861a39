import { join } from "node:path";
import { REPORT } from "../bench/files.ts";
import { loadRunData } from "../bench/load.ts";
import { writeReport } from "../report/index.ts";
import type { Output } from "./output.ts";

/** Write `<dir>/report.html` for a run, comparing it with other runs if given. */
export async function reportCommand(
  dir: string,
  compare: readonly string[],
  output: Output,
): Promise<number> {
  const runs = [dir, ...compare].map((d) => loadRunData(d));
  try {
    const main = runs[0];
    if (!main) return 2;
    const path = join(main.dir, REPORT);
    await writeReport(path, runs);
    if (!main.complete)
      output.err(
        `note: ${main.dir} is unfinished; the report covers its ${main.episodes.length} finished episodes`,
      );
    output.out(`report: ${path}`);
    return 0;
  } finally {
    await Promise.all(runs.map((r) => r.close()));
  }
}
