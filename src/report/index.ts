/** `report/`: a self-contained `report.html` for a run, or a comparison of runs. */
export type { ExplorerLimits } from "./explorer.ts";
export { DEFAULT_EXPLORER_LIMITS } from "./explorer.ts";
export type { ReportOptions } from "./render.ts";
export { renderReport, runLabels, writeReport } from "./render.ts";
