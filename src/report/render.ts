import { writeFileAtomicAsync } from "../bench/files.ts";
/**
 * `report.html`: one self-contained page per run, or a comparison of runs (the first is the main one). Everything
 * but the search-tree explorer is static HTML and inline SVG, so the page reads fully with JavaScript off; the
 * page loads nothing from anywhere, and its CSP forbids it to.
 */
import type { EpisodeRecord, RunConfig, RunData } from "../bench/types.ts";
import { type Chart, type LabelledRun, renderCharts } from "./charts.ts";
import { EXPLORER_SCRIPT } from "./client.ts";
import { cspHash, type Html, html, jsonForScript, raw } from "./escape.ts";
import { buildExplorerData, DEFAULT_EXPLORER_LIMITS, type ExplorerLimits } from "./explorer.ts";
import {
  formatInt,
  formatInterval,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatUsd,
  wilsonFromRate,
} from "./format.ts";

export interface ReportOptions {
  readonly title?: string;
  /** Caps on the explorer's embedded data (see `DEFAULT_EXPLORER_LIMITS`). */
  readonly explorer?: Partial<ExplorerLimits>;
  /** Rows of the episodes table at most (the explorer and run.sqlite have the rest). */
  readonly maxEpisodeRows?: number;
}

export const DEFAULT_MAX_EPISODE_ROWS = 5_000;

/** Legend names: `agent · model`, made unique with the run id (and then the position) when runs share them. */
export function runLabels(runs: readonly RunData[]): string[] {
  const base = runs.map((r) => `${r.manifest.config.agent} · ${r.manifest.config.model}`);
  const count = (xs: readonly string[], x: string) => xs.filter((y) => y === x).length;
  const withId = base.map((b, i) => (count(base, b) > 1 ? `${b} · ${runs[i]?.manifest.runId ?? i}` : b));
  return withId.map((l, i) => (count(withId, l) > 1 ? `${l} (${i + 1})` : l));
}

export const CSS = `
:root { color-scheme: light; --fg: #1d2433; --muted: #5b6475; --line: #d9dde5; --accent: #2f6fb0; --chosen: #fff3c4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 "DejaVu Sans", system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--fg);
  margin: 0 auto; padding: 24px 32px 64px; max-width: 1280px; background: #fafbfc; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 36px 0 12px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 8px; }
.sub, .muted { color: var(--muted); } .note { color: #6b4e00; background: #fff8e1; border: 1px solid #f1dfa5; padding: 6px 10px; border-radius: 4px; }
table { border-collapse: collapse; background: white; margin: 8px 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f0f2f6; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
.ci { color: var(--muted); font-size: 12px; }
.scroll { overflow-x: auto; max-width: 100%; }
.scroll.tall { max-height: 640px; overflow-y: auto; }
code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 560px), 1fr)); gap: 16px; align-items: start; }
figure.chart { margin: 0; background: white; border: 1px solid var(--line); border-radius: 4px; padding: 8px; min-width: 0; }
/* Charts keep their size when they fit and shrink (the SVG has a viewBox) when they do not. */
figure.chart svg { display: block; max-width: 100%; height: auto; }
figure.chart figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
tr.ok td.outcome { color: #1a7f37; } tr.fail td.outcome { color: #b42318; }
tr[data-explorer] { cursor: pointer; } tr[data-explorer]:hover td { background: #f3f7fc; }
#explorer .ex-controls { display: flex; gap: 16px; flex-wrap: wrap; align-items: center; margin-bottom: 8px; }
#explorer select { max-width: 46ch; font: inherit; }
#explorer button { font: inherit; }
.ex-body { display: grid; grid-template-columns: minmax(0, 1.2fr) minmax(0, 1fr); gap: 16px; }
.ex-pane, .ex-calls { background: white; border: 1px solid var(--line); border-radius: 4px; padding: 8px 12px; min-width: 0; }
.ex-calls { margin-top: 16px; }
ul.tree, ul.tree ul { list-style: none; margin: 0; padding-left: 18px; border-left: 1px dotted #c5cbd6; }
ul.tree { padding-left: 0; border-left: none; }
li.node { margin: 4px 0; }
li.node > details > summary { cursor: pointer; }
li.node > details > summary .act { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-weight: 600; margin-right: 8px; }
.stat { color: var(--muted); margin-right: 8px; font-size: 12px; }
li.node.chosen > details > summary { background: var(--chosen); outline: 2px solid #e0b000; border-radius: 3px; }
.chosen-badge { background: #e0b000; color: #1d2433; border-radius: 3px; padding: 0 6px; font-size: 12px; font-weight: 600; }
pre.state { background: #f6f7f9; border: 1px solid #eceef2; padding: 4px 6px; margin: 4px 0 6px; display: inline-block; min-width: 12ch; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 12px; margin: 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
dl.facts pre.text { background: #f6f7f9; padding: 4px 6px; border: 1px solid #eceef2; }
details.call { border: 1px solid var(--line); border-radius: 4px; margin: 6px 0; padding: 4px 8px; }
details.call.failed { border-color: #e7a5a0; }
details.call > summary { cursor: pointer; font-size: 13px; }
.msg { margin: 6px 0; } .msg .role { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; }
.msg pre { background: #f6f7f9; padding: 4px 6px; border: 1px solid #eceef2; }
.msg.response pre { background: #eef6ee; }
@media (max-width: 900px) { .ex-body { grid-template-columns: minmax(0, 1fr); } body { padding: 12px; } }
`;

function num(text: string): Html {
  return html`<td class="num">${text}</td>`;
}

function runInfo(runs: readonly LabelledRun[]): Html {
  const row = (name: string, cell: (r: RunData) => Html | string) =>
    html`<tr><th scope="row">${name}</th>${runs.map(({ run }) => html`<td>${cell(run)}</td>`)}</tr>`;
  const config = (r: RunData) => r.manifest.config;
  return html`<div class="scroll"><table class="run-info">
<thead><tr><th></th>${runs.map(
    ({ label }, i) => html`<th scope="col">${label}${i === 0 ? " (main)" : ""}</th>`,
  )}</tr></thead>
<tbody>
${row("environment", (r) => config(r).env)}
${row("agent", (r) => config(r).agent)}
${row("model", (r) => html`<code>${config(r).model}</code>`)}
${row("split", (r) => config(r).split)}
${row("run id", (r) => html`<code>${r.manifest.runId}</code>`)}
${row("folder", (r) => html`<code>${r.dir}</code>`)}
${row("created at", (r) => r.manifest.createdAt)}
${row("bayesact", (r) => r.manifest.bayesact)}
${row("Node", (r) => `${r.manifest.node} (${r.manifest.platform})`)}
${row("git commit", (r) => html`<code>${r.manifest.gitCommit ?? "not a git checkout"}</code>`)}
${row("seeds", (r) => config(r).seeds.join(", "))}
${row("instances", (r) => formatInt(config(r).instances.length))}
${row("max steps", (r) => formatInt(config(r).maxSteps))}
${row("concurrency", (r) => formatInt(config(r).concurrency))}
${row("budget", (r) => (config(r).budgetUsd === undefined ? "none" : formatUsd(config(r).budgetUsd ?? 0)))}
${row("LLM cache", (r) => html`${config(r).cache.mode}${config(r).cache.mode === "off" ? "" : html` · <code>${config(r).cache.path}</code>`}`)}
${row("data folder", (r) => html`<code>${config(r).dataDir}</code>`)}
${row("prices (USD per million tokens in / out)", (r) => prices(config(r).prices))}
${row("options", (r) => html`<pre>${JSON.stringify(config(r).options, null, 2) ?? "{}"}</pre>`)}
</tbody></table></div>`;
}

function prices(table: RunConfig["prices"]): Html | string {
  const entries = Object.entries(table);
  if (entries.length === 0) return "none";
  return html`${entries.map(
    ([model, p], i) =>
      html`${i > 0 ? html`<br>` : ""}<code>${model}</code>: ${formatNumber(p.inputPerMTok, 4)} / ${formatNumber(p.outputPerMTok, 4)}`,
  )}`;
}

function capabilities(run: RunData): Html {
  const models = Object.entries(run.manifest.models);
  if (models.length === 0) return html`<p class="muted">No language model (the exact twins).</p>`;
  const flags = ["jsonSchema", "grammar", "logprobs", "multipleSamples", "seed", "score"] as const;
  return html`<div class="scroll"><table class="capabilities"><thead><tr><th>model</th>${flags.map(
    (f) => html`<th>${f}</th>`,
  )}<th>notes</th></tr></thead><tbody>${models.map(
    ([spec, caps]) =>
      html`<tr><td><code>${spec}</code></td>${flags.map((f) => html`<td>${caps[f] ? "yes" : "no"}</td>`)}<td>${(
        caps.notes ?? []
      ).join("; ")}</td></tr>`,
  )}</tbody></table></div>`;
}

function dataFiles(run: RunData): Html {
  const files = Object.entries(run.manifest.dataFiles);
  if (files.length === 0) return html`<p class="muted">No data file was read.</p>`;
  return html`<div class="scroll"><table class="data-files"><thead><tr><th>path</th><th>sha256</th></tr></thead><tbody>${files.map(
    ([path, sha]) => html`<tr><td><code>${path}</code></td><td><code>${sha}</code></td></tr>`,
  )}</tbody></table></div>`;
}

function manifestDetails(runs: readonly LabelledRun[]): Html {
  return html`${runs.map(
    ({ label, run }, i) => html`<details class="manifest"${raw(i === 0 ? " open" : "")}>
<summary>Models and data files — ${label}</summary>
<h3>Model capabilities</h3>${capabilities(run)}
<h3>Data files</h3>${dataFiles(run)}
</details>`,
  )}`;
}

function summaryTable(runs: readonly LabelledRun[]): Html {
  const row = (metric: string, name: string, cell: (r: RunData) => Html) =>
    html`<tr data-metric="${metric}"><th scope="row">${name}</th>${runs.map(({ run }) => cell(run))}</tr>`;
  const s = (r: RunData) => r.summary;
  return html`<div class="scroll"><table class="summary" id="summary-table">
<thead><tr><th></th>${runs.map(({ label }, i) => html`<th scope="col">${label}${i === 0 ? " (main)" : ""}</th>`)}</tr></thead>
<tbody>
${row("episodes", "episodes", (r) => num(formatInt(s(r).episodes)))}
${row(
  "success_rate",
  "success rate (95% interval)",
  (r) =>
    html`<td class="num">${formatPercent(s(r).success_rate)} <span class="ci">(${formatInterval(s(r).success_ci95)})</span></td>`,
)}
${row("mean_return", "mean return", (r) => num(formatNumber(s(r).mean_return)))}
${row("mean_steps", "mean steps", (r) => num(formatNumber(s(r).mean_steps, 2)))}
${row("llm_calls", "LLM calls", (r) => num(formatInt(s(r).llm.calls)))}
${row("input_tokens", "input tokens", (r) => num(formatInt(s(r).llm.input_tokens)))}
${row("output_tokens", "output tokens", (r) => num(formatInt(s(r).llm.output_tokens)))}
${row("cost_usd", "cost", (r) => num(formatUsd(s(r).llm.cost_usd)))}
${row("cache_hits", "cache hits", (r) => num(formatInt(s(r).llm.cache_hits)))}
${row("retries", "LLM retries", (r) => num(formatInt(s(r).llm.retries ?? 0)))}
${row("retry_wait", "retry wait", (r) => num(formatSeconds((s(r).llm.retry_wait_ms ?? 0) / 1000)))}
${row("timeouts", "LLM timeouts", (r) => num(formatInt(s(r).llm.timeouts ?? 0)))}
${row("wall_s", "wall time", (r) => num(formatSeconds(s(r).wall_s)))}
</tbody></table></div>`;
}

function chartFigure(chart: Chart): Html {
  return html`<figure class="chart" data-chart="${chart.id}" data-series="${jsonForScript(chart.series)}">
${raw(chart.svg)}
<figcaption>${chart.note ?? ""}</figcaption>
</figure>`;
}

function perInstanceTable(runs: readonly LabelledRun[]): Html {
  const [main, ...others] = runs;
  if (!main) return html``;
  const lookup = others.map(({ run }) => new Map(run.summary.per_instance.map((p) => [p.instance, p])));
  return html`<div class="scroll tall"><table class="per-instance" id="per-instance-table">
<thead><tr><th>instance</th><th>episodes</th><th>success rate (95% interval)</th><th>mean return</th><th>mean steps</th>${others.map(
    ({ label }) => html`<th>success rate — ${label}</th>`,
  )}</tr></thead>
<tbody>${main.run.summary.per_instance.map(
    (p) =>
      html`<tr><td>${p.instance}</td>${num(formatInt(p.episodes))}<td class="num">${formatPercent(p.success_rate)} <span class="ci">(${formatInterval(
        wilsonFromRate(p.success_rate, p.episodes),
      )})</span></td>${num(formatNumber(p.mean_return))}${num(formatNumber(p.mean_steps, 2))}${lookup.map(
        (m) => {
          const q = m.get(p.instance);
          return num(q ? formatPercent(q.success_rate) : "—");
        },
      )}</tr>`,
  )}</tbody></table></div>`;
}

function episodesTable(run: RunData, maxRows: number, embedded: number): Html {
  const rows = [...run.episodes].sort((a, b) => a.index - b.index);
  const shown = rows.slice(0, maxRows);
  const row = (e: EpisodeRecord, i: number) =>
    html`<tr class="${e.success ? "ok" : "fail"}"${raw(i < embedded ? ` data-explorer="${i}"` : "")}>
<td><code>${e.id}</code></td>${num(String(e.seed))}<td class="outcome">${e.success ? "yes" : "no"}</td>${num(
      formatNumber(e.totalReturn),
    )}${num(formatInt(e.steps))}<td>${e.end}</td>${num(formatInt(e.llmCalls))}${num(
      `${formatInt(e.inputTokens)} / ${formatInt(e.outputTokens)}`,
    )}${num(formatUsd(e.costUsd))}</tr>`;
  return html`${
    shown.length < rows.length
      ? html`<p class="note">The table lists the first ${formatInt(shown.length)} of ${formatInt(rows.length)} episodes.</p>`
      : ""
  }<div class="scroll tall"><table class="episodes" id="episodes-table">
<thead><tr><th>id</th><th>seed</th><th>success</th><th>return</th><th>steps</th><th>end</th><th>LLM calls</th><th>tokens in / out</th><th>cost</th></tr></thead>
<tbody>${shown.map(row)}</tbody></table></div>`;
}

/** Render the report of `runs[0]`, compared with the other runs. */
export async function renderReport(runs: readonly RunData[], options: ReportOptions = {}): Promise<string> {
  const main = runs[0];
  if (!main) throw new TypeError("renderReport needs at least one run");
  const labels = runLabels(runs);
  const labelled: LabelledRun[] = runs.map((run, i) => ({ run, label: labels[i] ?? `run ${i + 1}` }));
  const charts = await renderCharts(labelled);
  const limits: ExplorerLimits = { ...DEFAULT_EXPLORER_LIMITS, ...options.explorer };
  const explorer = buildExplorerData(main, limits);
  const cfg = main.manifest.config;
  const title =
    options.title ??
    `bayesact report — ${cfg.env} · ${cfg.agent} · ${cfg.model}${runs.length > 1 ? ` (compared with ${runs.length - 1} run${runs.length > 2 ? "s" : ""})` : ""}`;
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(EXPLORER_SCRIPT)}`,
    "style-src 'unsafe-inline'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");

  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${raw(CSS)}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="sub">Run <code>${main.manifest.runId}</code> · ${cfg.split} split · ${formatInt(main.summary.episodes)} episodes · created ${main.manifest.createdAt}</p>
</header>

<section id="run">
<h2>Run</h2>
${runInfo(labelled)}
${manifestDetails(labelled)}
</section>

<section id="summary">
<h2>Summary</h2>
${summaryTable(labelled)}
</section>

<section id="charts">
<h2>Charts</h2>
<div class="charts">${charts.map(chartFigure)}</div>
</section>

<section id="instances">
<h2>Per instance</h2>
${perInstanceTable(labelled)}
</section>

<section id="episodes">
<h2>Episodes${runs.length > 1 ? html` — ${labelled[0]?.label ?? ""}` : ""}</h2>
${episodesTable(main, options.maxEpisodeRows ?? DEFAULT_MAX_EPISODE_ROWS, explorer.episodes.length)}
</section>

<section id="explorer">
<h2>Search-tree explorer${runs.length > 1 ? html` — ${labelled[0]?.label ?? ""}` : ""}</h2>
<p class="muted">Pick an episode and a step: the tree the planner built at that step (the chosen first action highlighted), what actually happened, and the LLM calls made meanwhile.</p>
${explorer.note === null ? "" : html`<p class="note" id="ex-note">${explorer.note}</p>`}
<div id="ex-root"><p class="note" id="ex-nojs">The explorer needs JavaScript; everything else in this report is complete without it.</p></div>
<script type="application/json" id="bayesact-data">${raw(jsonForScript(explorer))}</script>
<script>${raw(EXPLORER_SCRIPT)}</script>
</section>
</body>
</html>
`;
  return page.value;
}

/** Render and write the report; the file appears whole or not at all. */
export async function writeReport(
  path: string,
  runs: readonly RunData[],
  options: ReportOptions = {},
): Promise<void> {
  const text = await renderReport(runs, options);
  await writeFileAtomicAsync(path, text);
}
