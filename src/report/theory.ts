/**
 * The theory lab's report: one self-contained page per experiment (`report.html` beside `result.json`), with
 * log–log regret curves and their fitted slopes, Reg/√t, posterior mass on the true latent, probe and success
 * rates, parameter sweeps (the U-shape of final regret against ε), switches, and the acceptance checks as measured.
 * Same rendering and escaping machinery as the run report; no script at all.
 */
import type { TopLevelSpec } from "vega-lite";
import { writeFileAtomicAsync } from "../bench/files.ts";
import type { ArmResult, ExperimentResult, Series } from "../bench/theory/types.ts";
import { baseConfig, PALETTE, renderSpecs } from "./charts.ts";
import { html, raw } from "./escape.ts";
import { formatNumber } from "./format.ts";
import { CSS } from "./render.ts";

const THEORY_CSS = `
tr.fail td { background: #fde8e8; }
tr.pass td:last-child { color: #1a7f37; font-weight: 600; }
tr.fail td:last-child { color: #b42318; font-weight: 600; }
`;

interface Point {
  arm: string;
  t: number;
  mean: number;
  low: number;
  high: number;
}

function colors(arms: readonly string[]) {
  return { domain: [...arms], range: arms.map((_, i) => PALETTE[i % PALETTE.length] ?? "#4c78a8") };
}

/** Mean ± 1.96 s.e. points of a series; `positive` drops non-positive means (for log axes). */
function points(
  arm: string,
  s: Series,
  transform: (t: number, y: number) => number = (_t, y) => y,
  positive = false,
): Point[] {
  const out: Point[] = [];
  s.t.forEach((t, i) => {
    const m = s.mean[i] ?? Number.NaN;
    const se = s.se[i] ?? 0;
    if (!Number.isFinite(m) || (positive && m <= 0)) return;
    const low = transform(t, m - 1.96 * se);
    out.push({
      arm,
      t,
      mean: transform(t, m),
      low: positive ? Math.max(low, transform(t, m) / 100) : low,
      high: transform(t, m + 1.96 * se),
    });
  });
  return out;
}

function lineSpec(
  title: string,
  yTitle: string,
  values: Point[],
  arms: string[],
  logX: boolean,
  logY: boolean,
): TopLevelSpec {
  const x = {
    field: "t",
    type: "quantitative" as const,
    title: "t (episodes)",
    scale: logX ? { type: "log" as const } : {},
  };
  const color = { field: "arm", type: "nominal" as const, title: "arm", scale: colors(arms), sort: arms };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 460,
    height: 280,
    data: { values },
    layer: [
      {
        mark: { type: "area", opacity: 0.15 },
        encoding: {
          x,
          y: { field: "low", type: "quantitative", scale: logY ? { type: "log" } : {} },
          y2: { field: "high" },
          color,
        },
      },
      {
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          x,
          y: { field: "mean", type: "quantitative", title: yTitle, scale: logY ? { type: "log" } : {} },
          color,
        },
      },
    ],
    config: baseConfig,
  } as TopLevelSpec;
}

function sweepSpec(sweep: ExperimentResult["sweeps"][number]): TopLevelSpec {
  const values = sweep.points.map((p) => ({
    x: p.x,
    mean: p.mean,
    low: p.mean - 1.96 * p.se,
    high: p.mean + 1.96 * p.se,
  }));
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: sweep.name,
    width: 460,
    height: 280,
    data: { values },
    layer: [
      {
        mark: { type: "rule" },
        encoding: {
          x: { field: "x", type: "quantitative", title: sweep.x_label },
          y: { field: "low", type: "quantitative" },
          y2: { field: "high" },
        },
      },
      {
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "x", type: "quantitative" },
          y: { field: "mean", type: "quantitative", title: sweep.y_label },
        },
      },
    ],
    config: baseConfig,
  } as TopLevelSpec;
}

function barSpec(title: string, yTitle: string, values: { arm: string; value: number }[]): TopLevelSpec {
  const arms = values.map((v) => v.arm);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 460,
    height: 240,
    data: { values },
    mark: "bar",
    encoding: {
      x: {
        field: "arm",
        type: "nominal",
        sort: arms,
        title: "arm",
        axis: { labelAngle: -30, labelLimit: 200 },
      },
      y: { field: "value", type: "quantitative", title: yTitle },
      color: { field: "arm", type: "nominal", scale: colors(arms), legend: null },
    },
    config: baseConfig,
  } as TopLevelSpec;
}

/** Each arm's legend name carries its fitted slope, so a reader can check the theorem against the plot. */
export function armLabel(arm: ArmResult): string {
  return Number.isFinite(arm.slope)
    ? `${arm.name} (slope ${formatNumber(arm.slope, 2)})`
    : `${arm.name} (no regret)`;
}

export async function renderTheoryReport(result: ExperimentResult): Promise<string> {
  const labels = result.arms.map(armLabel);
  const specs: { id: string; spec: TopLevelSpec }[] = [];
  const regret = result.arms.flatMap((a, i) => points(labels[i] ?? a.name, a.curve, undefined, true));
  specs.push({
    id: "regret",
    spec: lineSpec("Cumulative regret (log–log)", "Reg(t)", regret, labels, true, true),
  });
  const rootT = result.arms.flatMap((a, i) =>
    points(labels[i] ?? a.name, a.curve, (t, y) => y / Math.sqrt(t)),
  );
  specs.push({ id: "regret-root", spec: lineSpec("Reg(t) / √t", "Reg(t)/√t", rootT, labels, true, false) });
  for (const [key, title, y] of [
    ["posterior_true", "Posterior mass on the true latent z*", "P(z* | history)"],
    ["probe_rate", "Probe / exploration rate", "fraction of episodes"],
    ["success_rate", "Success rate", "success"],
  ] as const) {
    const withSeries = result.arms
      .map((a, i) => [a, labels[i] ?? a.name] as const)
      .filter(([a]) => a[key] !== undefined);
    if (withSeries.length === 0) continue;
    const values = withSeries.flatMap(([a, label]) => points(label, a[key] as Series));
    specs.push({
      id: key,
      spec: lineSpec(
        title,
        y,
        values,
        withSeries.map(([, l]) => l),
        true,
        false,
      ),
    });
  }
  for (const [i, sweep] of result.sweeps.entries()) specs.push({ id: `sweep-${i}`, spec: sweepSpec(sweep) });
  const mis = result.arms.filter((a) => a.miscoordination_rate !== undefined);
  if (mis.length > 0) {
    specs.push({
      id: "miscoordination",
      spec: barSpec(
        "Miscoordination rate",
        "rate",
        mis.map((a) => ({ arm: a.name, value: a.miscoordination_rate ?? 0 })),
      ),
    });
  }
  const svgs = await renderSpecs(specs.map((s) => s.spec));
  const passed = result.checks.filter((c) => c.pass).length;
  const switched = result.arms.filter((a) => a.switches);
  const explored = result.arms.filter((a) => a.exploit);

  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>bayesact theory — ${result.experiment}</title>
<style>${raw(CSS)}${raw(THEORY_CSS)}</style>
</head>
<body>
<header>
<h1>bayesact theory — ${result.experiment}</h1>
<p class="sub">${result.theorem}</p>
<p class="sub">${result.seeds} seeds · ${formatNumber(result.env_steps, 3)} environment steps · ${formatNumber(result.wall_s, 3)} s · checks passed: ${passed} / ${result.checks.length}</p>
</header>
<section id="checks">
<h2>What the theory predicts, and what this run measured</h2>
<table id="checks-table"><thead><tr><th>claim</th><th>measured</th><th>holds</th></tr></thead>
<tbody>${result.checks.map((c) => html`<tr class="${c.pass ? "pass" : "fail"}"><td>${c.claim}</td><td>${c.measured}</td><td>${c.pass ? "yes" : "NO"}</td></tr>`)}</tbody></table>
</section>
<section id="arms">
<h2>Arms</h2>
<table id="arms-table"><thead><tr><th>arm</th><th>horizon</th><th>final regret (mean ± s.e.)</th><th>slope [95% CI: seed bootstrap, or (fit) residuals]</th><th>parameters</th></tr></thead>
<tbody>${result.arms.map(
    (a) =>
      html`<tr><td>${a.name}</td><td class="num">${a.horizon}</td><td class="num">${formatNumber(a.final_regret_mean, 4)} ± ${formatNumber(a.final_regret_se, 2)}</td><td class="num">${formatNumber(a.slope, 3)} [${formatNumber(a.slope_ci95[0], 3)}, ${formatNumber(a.slope_ci95[1], 3)}]${a.slope_interval === "fit-residuals" ? " (fit)" : ""}</td><td>${Object.entries(
        a.info ?? {},
      )
        .map(([k, v]) => `${k}=${typeof v === "number" ? formatNumber(v, 4) : v}`)
        .join(", ")}</td></tr>`,
  )}</tbody></table>
${
  explored.length === 0
    ? ""
    : html`<h3>What BAIL learns and what exploring costs: Reg(T) = exploit-only regret + exploration cost</h3>
<table id="exploit-table"><thead><tr><th>arm</th><th>exploit-only Reg(T)</th><th>its slope [95% CI]</th><th>exploring episodes</th><th>exploration cost</th></tr></thead>
<tbody>${explored.map((a) => html`<tr><td>${a.name}</td><td class="num">${formatNumber(a.exploit?.final_mean ?? 0, 4)} ± ${formatNumber(a.exploit?.final_se ?? 0, 2)}</td><td class="num">${formatNumber(a.exploit?.slope ?? 0, 3)} [${formatNumber(a.exploit?.slope_ci95[0] ?? 0, 3)}, ${formatNumber(a.exploit?.slope_ci95[1] ?? 0, 3)}]</td><td class="num">${formatNumber(a.exploit?.exploration_episodes_mean ?? 0, 4)}</td><td class="num">${formatNumber(a.exploit?.exploration_cost_mean ?? 0, 4)} ± ${formatNumber(a.exploit?.exploration_cost_se ?? 0, 2)}</td></tr>`)}</tbody></table>`
}
${
  switched.length === 0
    ? ""
    : html`<h3>Switches (RAFA): the theory bounds them by 1 + (H₀ − H_T)/log 2</h3>
<table id="switches-table"><thead><tr><th>arm</th><th>switches (mean ± s.e.)</th><th>(H₀ − H_T)/log 2</th></tr></thead>
<tbody>${switched.map((a) => html`<tr><td>${a.name}</td><td class="num">${formatNumber(a.switches?.mean ?? 0, 4)} ± ${formatNumber(a.switches?.se ?? 0, 2)}</td><td class="num">${formatNumber(a.switches?.entropy_drop_bits ?? 0, 4)}</td></tr>`)}</tbody></table>`
}
</section>
<section id="charts">
<h2>Charts</h2>
<div class="charts">${specs.map((s, i) => html`<figure class="chart" id="chart-${s.id}">${raw(svgs[i] ?? "")}</figure>`)}</div>
</section>
<section id="params">
<h2>Parameters</h2>
<pre>${JSON.stringify(result.params, null, 2)}</pre>
</section>
</body>
</html>
`;
  return page.value;
}

/** Render and write atomically. */
export async function writeTheoryReport(path: string, result: ExperimentResult): Promise<void> {
  const text = await renderTheoryReport(result);
  await writeFileAtomicAsync(path, text);
}
