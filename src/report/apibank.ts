/**
 * `report.html` of an API-Bank evaluation: the run's API-call accuracy and ROUGE-L beside API-Bank's published
 * table (each published number marked with how far it was checked), the offline/internet split, ToolSearcher's
 * retriever, the error distribution beside the published taxonomies, and the failed points with their answers.
 * Same machinery as the run report: static HTML and inline SVG, everything untrusted escaped, nothing loaded.
 */
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomicAsync } from "../bench/files.ts";
import {
  type ApiBankSummary,
  ERROR_CATEGORIES,
  type EvalManifest,
  OFFICIAL_BUCKET,
  type PointRecord,
} from "../envs/apibank/evaluate.ts";
import {
  PUBLISHED,
  PUBLISHED_DENOMINATORS,
  PUBLISHED_ERRORS,
  PUBLISHED_SOURCE,
} from "../envs/apibank/published.ts";
import { baseConfig, renderSpecs } from "./charts.ts";
import { type Html, html, raw } from "./escape.ts";
import { formatInt, formatPercent } from "./format.ts";
import { CSS } from "./render.ts";

const EXTRA_CSS = `
tr.this-run td { background: #eef6ee; font-weight: 600; }
td.answer pre, td.expected pre { max-width: 56ch; }
.badge { font-size: 12px; padding: 0 5px; border-radius: 3px; background: #e8eef6; color: #2f4f76; white-space: nowrap; }
`;

/** Failed points listed at most (the journal holds all). */
export const MAX_FAILURE_ROWS = 300;

const LEVEL_NAME: Readonly<Record<1 | 2 | 3, string>> = {
  1: "Call",
  2: "Retrieve+Call",
  3: "Plan+Retrieve+Call",
};

function pct(x: number): string {
  return formatPercent(x, 2);
}

function comparisonTable(summary: ApiBankSummary): Html {
  const level = summary.level;
  const accuracyOfRun = level === 3 ? (summary.samples?.accuracy ?? 0) : summary.call_accuracy;
  const runCount =
    level === 3
      ? `${summary.samples?.correct ?? 0} / ${summary.samples?.total ?? 0} samples`
      : `${summary.call_correct} / ${summary.points} calls`;
  const denominator = PUBLISHED_DENOMINATORS[level];
  return html`<div class="scroll"><table id="comparison">
<thead><tr><th>model</th><th>${LEVEL_NAME[level]} accuracy</th><th>ROUGE-L</th><th>count</th><th>checked</th></tr></thead>
<tbody>
<tr class="this-run"><td>${summary.model} (this run)</td><td class="num">${pct(accuracyOfRun)}</td><td class="num">${summary.rouge_l.toFixed(4)}</td><td class="num">${runCount}</td><td>measured in this run</td></tr>
${PUBLISHED.map((row) => {
  const k = row.counts?.[level];
  const cell = row.levels[level];
  return html`<tr><td>${row.model}</td><td class="num">${pct(cell.accuracy)}</td><td class="num">${cell.rougeL.toFixed(4)}</td><td class="num">${k === undefined ? "—" : `${k} / ${denominator}`}</td><td>${k === undefined ? html`<span class="badge">quoted</span> ${row.note ?? "no integer count fits"}` : html`<span class="badge">verified</span> paper's number; k/${denominator} rounds to it`}</td></tr>`;
})}
</tbody></table></div>
<p class="muted">Published rows: ${PUBLISHED_SOURCE}. Levels 1–2 count API calls (399 / 135 points); level 3 counts samples whose every step is right (of 50). The published "Total" columns cannot be recomputed from the level columns and are not shown.</p>`;
}

function splitTable(summary: ApiBankSummary): Html {
  const rows: [string, string][] = [
    ["call points", formatInt(summary.points)],
    ["call accuracy", `${pct(summary.call_accuracy)} (${summary.call_correct} / ${summary.points})`],
    [
      "without internet-dependent points",
      `${pct(summary.offline.call_accuracy)} (${summary.offline.correct} / ${summary.offline.points})`,
    ],
    [
      "internet-dependent points (answered from recorded results)",
      summary.internet.points === 0
        ? "none at this level"
        : `${summary.internet.correct} / ${summary.internet.points} correct (${summary.internet.apis.join(", ")})`,
    ],
    [
      "ToolSearcher points",
      summary.toolsearcher.points === 0
        ? "none at this level"
        : `${summary.toolsearcher.correct} / ${summary.toolsearcher.points} correct (retriever: ${summary.toolsearcher.retriever})`,
    ],
    ["response points", formatInt(summary.response_points)],
    ["mean ROUGE-L", summary.rouge_l.toFixed(4)],
    ["answers lost to model errors", formatInt(summary.llm_errors)],
    [
      "scoring (state / reference)",
      `${summary.settings.scoring} (${summary.settings.state} / ${summary.settings.reference})${summary.settings.scoring === "official" ? ": API-Bank's evaluator, comparable with the published table" : ": not API-Bank's scoring, see docs/apibank.md"}`,
    ],
  ];
  if (summary.samples) {
    rows.splice(2, 0, [
      "sample accuracy (level 3)",
      `${pct(summary.samples.accuracy)} (${summary.samples.correct} / ${summary.samples.total})`,
    ]);
  }
  return html`<table id="split"><tbody>${rows.map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v}</td></tr>`)}</tbody></table>`;
}

function errorTable(summary: ApiBankSummary): Html {
  const failed = summary.points - summary.call_correct;
  const published = PUBLISHED_ERRORS;
  return html`<div class="scroll"><table id="errors">
<thead><tr><th>category</th><th>API-Bank bucket</th><th>count</th><th>share of failed calls</th>${published.map((p) => html`<th>${p.model} (${p.table})</th>`)}</tr></thead>
<tbody>${ERROR_CATEGORIES.map(
    (c) =>
      html`<tr data-category="${c}"><td><code>${c}</code></td><td>${OFFICIAL_BUCKET[c]}</td><td class="num">${summary.errors[c]}</td><td class="num">${failed === 0 ? "—" : pct(summary.errors[c] / failed)}</td>${published.map(
        (p) => {
          const share = p.shares[c];
          return html`<td class="num">${share === undefined ? "—" : pct(share)}</td>`;
        },
      )}</tr>`,
  )}</tbody></table></div>
<p class="muted">Published shares are API-Bank's Tables 4–6 (spec §2.8); their categories are the paper's, mapped by name (GPT-4's "failed API retrieval" is <code>failed_retrieval</code>, Lynx's "has exception" is <code>exception</code>).</p>`;
}

function errorSpec(summary: ApiBankSummary): TopLevelSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: "Failed calls by category",
    width: 460,
    height: 220,
    data: { values: ERROR_CATEGORIES.map((c) => ({ category: c, count: summary.errors[c] })) },
    mark: { type: "bar" },
    encoding: {
      y: { field: "category", type: "nominal", sort: [...ERROR_CATEGORIES], title: null },
      x: { field: "count", type: "quantitative", title: "failed call points" },
    },
    config: baseConfig,
  } as TopLevelSpec;
}

function failures(records: readonly PointRecord[]): Html {
  const failed = records.filter((r) => r.call && !r.call.correct);
  const shown = failed.slice(0, MAX_FAILURE_ROWS);
  if (failed.length === 0) return html`<p>No call point failed.</p>`;
  return html`<p class="muted">${failed.length} failed call points${failed.length > shown.length ? `; the first ${shown.length} are listed (journal.jsonl has every point)` : ""}.</p>
<div class="scroll tall"><table id="failures"><thead><tr><th>point</th><th>gold API</th><th>category</th><th>detail</th><th>answer</th><th>expected</th></tr></thead>
<tbody>${shown.map(
    (r) =>
      html`<tr><td><code>${r.key}</code></td><td>${r.goldApi ?? ""}</td><td><code>${r.call?.category ?? ""}</code></td><td>${r.call?.detail ?? ""}${r.llmError ? html`<br><span class="badge">model error</span> ${r.llmError}` : ""}</td><td class="answer"><pre>${r.answer}</pre></td><td class="expected"><pre>${r.expected}</pre></td></tr>`,
  )}</tbody></table></div>`;
}

function lowResponses(records: readonly PointRecord[]): Html {
  const scored = records
    .filter((r) => r.response)
    .sort((a, b) => (a.response?.rougeL ?? 0) - (b.response?.rougeL ?? 0));
  const shown = scored.slice(0, 50);
  if (shown.length === 0) return html``;
  return html`<h3>Lowest-scoring responses (up to 50)</h3>
<div class="scroll tall"><table id="responses"><thead><tr><th>point</th><th>ROUGE-L</th><th>answer</th><th>expected</th></tr></thead>
<tbody>${shown.map(
    (r) =>
      html`<tr><td><code>${r.key}</code></td><td class="num">${(r.response?.rougeL ?? 0).toFixed(4)}</td><td class="answer"><pre>${r.answer}</pre></td><td class="expected"><pre>${r.expected}</pre></td></tr>`,
  )}</tbody></table></div>`;
}

export interface ApiBankReportInput {
  readonly manifest: EvalManifest;
  readonly summary: ApiBankSummary;
  readonly records: readonly PointRecord[];
}

export async function renderApiBankReport({
  manifest,
  summary,
  records,
}: ApiBankReportInput): Promise<string> {
  const [chart] = await renderSpecs([errorSpec(summary)]);
  const title = `bayesact eval — API-Bank level ${summary.level} (${LEVEL_NAME[summary.level]}) — ${summary.model}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${raw(CSS)}${raw(EXTRA_CSS)}</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="sub">run <code>${manifest.runId}</code> · ${manifest.createdAt} · bayesact ${manifest.bayesact} · Node ${manifest.node}</p>
</header>
<section id="comparison-section">
<h2>This run beside API-Bank's published results</h2>
${comparisonTable(summary)}
</section>
<section id="details">
<h2>How the points scored</h2>
${splitTable(summary)}
<p class="muted">ToolSearcher: API-Bank used an embedding model that cannot be fetched offline; the retriever named above replaces it (<code>recorded+…</code>: keywords the data recorded find what API-Bank's model found, other keywords go to BM25 or to the embeddings endpoint given), and a ToolSearcher call is right when it finds what the gold keywords find. Dictionary and Translate called web services; offline they answer from the results recorded in the dialogues and are counted apart.</p>
</section>
<section id="errors-section">
<h2>Error distribution</h2>
<figure class="chart" id="chart-errors">${raw(chart ?? "")}</figure>
${errorTable(summary)}
</section>
<section id="points">
<h2>Points</h2>
${failures(records)}
${lowResponses(records)}
</section>
<section id="manifest">
<h2>Settings and data</h2>
<pre>${JSON.stringify(manifest.config, null, 2)}</pre>
<div class="scroll"><table class="data-files"><thead><tr><th>path</th><th>sha256</th></tr></thead><tbody>${Object.entries(
    manifest.dataFiles,
  ).map(
    ([path, sha]) => html`<tr><td><code>${path}</code></td><td><code>${sha}</code></td></tr>`,
  )}</tbody></table></div>
</section>
</body>
</html>
`;
  return page.value;
}

/** Render and write atomically. */
export async function writeApiBankReport(path: string, input: ApiBankReportInput): Promise<void> {
  const text = await renderApiBankReport(input);
  await writeFileAtomicAsync(path, text);
}
