/**
 * `report.html` of a self-training run: API-Bank accuracy per iteration (a chart and a table), beside API-Bank's
 * published rows; per iteration the rollouts, the prefilter and critic decisions with their precision and recall
 * against the exact twin, the data set sizes and the trainer's result. Static HTML, everything escaped.
 */
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomicAsync } from "../bench/files.ts";
import { PUBLISHED, PUBLISHED_SOURCE } from "../envs/apibank/published.ts";
import type { TrainLoopSummary } from "../train/loop.ts";
import { baseConfig, renderSpecs } from "./charts.ts";
import { type Html, html, raw } from "./escape.ts";
import { formatPercent } from "./format.ts";
import { CSS } from "./render.ts";

export interface TrainReportInput {
  readonly runId: string;
  readonly createdAt: string;
  readonly bayesact: string;
  readonly summary: TrainLoopSummary;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : formatPercent(x));

function accuracySpec(s: TrainLoopSummary): TopLevelSpec {
  const values = s.iterations.flatMap((it) =>
    Object.entries(it.evaluation).map(([level, e]) => ({
      iteration: it.iteration,
      level: `level ${level}`,
      accuracy: e.call_accuracy,
    })),
  );
  return {
    config: baseConfig,
    width: 420,
    height: 220,
    data: { values },
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "iteration", type: "ordinal", title: "iteration (0 = base model)" },
      y: { field: "accuracy", type: "quantitative", title: "API call accuracy", axis: { format: "%" } },
      color: { field: "level", type: "nominal", title: null },
    },
  } as TopLevelSpec;
}

function iterationTable(s: TrainLoopSummary): Html {
  const levels = [...new Set(s.iterations.flatMap((it) => Object.keys(it.evaluation)))].sort();
  return html`<div class="scroll"><table><thead><tr><th>iteration</th><th>model</th>${levels.map(
    (l) => html`<th>level ${l} calls</th>`,
  )}<th>rollouts</th><th>prefilter passed</th><th>critic accepted</th><th>exact twin accepts</th><th>critic precision / recall</th><th>prefilter precision / recall</th><th>kept (instructions)</th><th>data set: trajectories / agent turns</th><th>mean steps</th><th>policy calls / tokens</th></tr></thead><tbody>${s.iterations.map(
    (it) => {
      const c = it.critic;
      const r = it.rollouts;
      const d = it.dataset;
      return html`<tr><td>${it.iteration}</td><td><code>${it.model}</code></td>${levels.map((l) => {
        const e = it.evaluation[l];
        return e ? html`<td>${e.call_correct}/${e.points} (${pct(e.call_accuracy)})</td>` : html`<td>–</td>`;
      })}<td>${r?.trajectories ?? "–"}${r?.simulatedResults ? ` (${r.simulatedResults} results simulated, ${r.simulatorErrors} unusable)` : ""}</td><td>${c ? `${c.prefilterPassed}` : "–"}</td><td>${c ? `${c.accepted} (${pct(c.acceptanceRate)})` : "–"}</td><td>${c?.truthAccepted ?? "–"}</td><td>${c ? `${pct(c.agreement.precision)} / ${pct(c.agreement.recall)}` : "–"}</td><td>${c ? `${pct(c.prefilterAgreement.precision)} / ${pct(c.prefilterAgreement.recall)}` : "–"}</td><td>${c ? `${c.kept} (${c.keptInstructions})` : "–"}</td><td>${d ? `${d.trajectories} / ${d.samples}` : "–"}</td><td>${r ? r.meanSteps.toFixed(2) : "–"}</td><td>${r ? `${r.policyCalls} / ${r.inputTokens + r.outputTokens}` : "–"}</td></tr>`;
    },
  )}</tbody></table></div>`;
}

function publishedTable(s: TrainLoopSummary): Html {
  const last = s.iterations[s.iterations.length - 1];
  const first = s.iterations[0];
  const row = (label: string, it: (typeof s.iterations)[number] | undefined) =>
    html`<tr class="this-run"><td>${label}</td>${([1, 2, 3] as const).map((l) => {
      const e = it?.evaluation[String(l)];
      return html`<td>${e ? pct(e.call_accuracy) : "–"}</td><td>${e ? e.rouge_l.toFixed(4) : "–"}</td>`;
    })}</tr>`;
  return html`<div class="scroll"><table><thead><tr><th>model</th><th>Call acc</th><th>Call R-L</th><th>Retr+Call acc</th><th>R+C R-L</th><th>Plan+Retr+Call acc</th><th>P+R+C R-L</th></tr></thead><tbody>${row(
    `this run, iteration 0 (${first?.model ?? ""})`,
    first,
  )}${row(`this run, iteration ${last?.iteration ?? ""} (${last?.model ?? ""})`, last)}${PUBLISHED.map(
    (p) =>
      html`<tr><td>${p.model}</td>${([1, 2, 3] as const).map(
        (l) => html`<td>${pct(p.levels[l].accuracy)}</td><td>${p.levels[l].rougeL.toFixed(4)}</td>`,
      )}</tr>`,
  )}</tbody></table></div><p class="muted">${PUBLISHED_SOURCE}. Level 3 published numbers are sample accuracy; this run's level-3 column is step accuracy.</p>`;
}

export async function renderTrainReport(input: TrainReportInput): Promise<string> {
  const { summary } = input;
  const [chart] = await renderSpecs([accuracySpec(summary)]);
  const title = `bayesact train — API-Bank self-training — ${summary.config.model}`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${title}</title>
<style>${raw(CSS)}tr.this-run td { background: #eef6ee; font-weight: 600; }</style>
</head>
<body>
<header>
<h1>${title}</h1>
<p class="sub">run <code>${input.runId}</code> · ${input.createdAt} · bayesact ${input.bayesact} · critic <code>${summary.config.critic}</code> · trainer <code>${summary.config.trainer}</code> · executor <code>${summary.config.executor ?? "replay"}</code> · ${summary.instructions.used} instructions × ${summary.config.samples} samples</p>
</header>
<section id="accuracy">
<h2>API-Bank accuracy by iteration</h2>
<figure class="chart" id="chart-accuracy">${raw(chart ?? "")}</figure>
${iterationTable(summary)}
<p class="muted">Critic precision and recall are measured against the exact twin (the execution-based match against the recorded gold chains), on the trajectories of that iteration; a critic accepts at score ≥ ${summary.config.threshold}. The data set is S, the union of what was kept so far${summary.config.from === "base" ? " (each model is fine-tuned from the base model on S)" : " of this iteration (each model continues from the previous one)"}.</p>
</section>
<section id="published">
<h2>Beside API-Bank's published results</h2>
${publishedTable(summary)}
</section>
<section id="settings">
<h2>Settings</h2>
<pre>${JSON.stringify(summary.config, null, 2)}</pre>
</section>
</body>
</html>
`;
  return page.value;
}

export async function writeTrainReport(path: string, input: TrainReportInput): Promise<void> {
  await writeFileAtomicAsync(path, await renderTrainReport(input));
}
