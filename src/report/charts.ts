/**
 * The report's charts: vega-lite specs compiled by vega and rendered to SVG strings in Node, so the page needs
 * no JavaScript to show them. Untrusted strings (run labels, instance names, curve names) only ever go into data
 * values and titles, which vega writes as escaped SVG text; nothing untrusted becomes a field name or expression.
 */

import type { Loader } from "vega";
import { parse, resetSVGDefIds, View } from "vega";
import type { TopLevelSpec } from "vega-lite";
import { compile } from "vega-lite";
import type { RunData } from "../bench/types.ts";
import { wilsonFromRate } from "./format.ts";

/** A run with the label that names it in legends and tables (unique within a report). */
export interface LabelledRun {
  readonly label: string;
  readonly run: RunData;
}

export interface Chart {
  /** Stable identifier (`success-by-step`, `per-instance`, `cost-vs-success`, `curve-<n>`). */
  readonly id: string;
  readonly title: string;
  /** The series (run labels) drawn, in legend order. */
  readonly series: readonly string[];
  readonly svg: string;
  /** Something the chart leaves out, said under it. */
  readonly note?: string;
}

/** More instances than this make bars unreadable; the per-instance table lists them all. */
export const MAX_CHART_INSTANCES = 60;

type CompileOptions = NonNullable<Parameters<typeof compile>[1]>;
type VegaLogger = NonNullable<CompileOptions["logger"]>;

/** The library never prints (only `cli/` does), so vega's and vega-lite's warnings go nowhere. */
const silentLogger: VegaLogger = {
  level(_?: number) {
    return 0;
  },
  error() {
    return this;
  },
  warn() {
    return this;
  },
  info() {
    return this;
  },
  debug() {
    return this;
  },
};

const refuse = (what: string): Promise<never> =>
  Promise.reject(new Error(`report charts load nothing (${what} refused)`));

/** Every chart's data is inline; a spec that asked to load anything would be a bug, so loading fails. */
const noLoader: Loader = {
  load: (uri) => refuse(uri),
  sanitize: (uri) => refuse(uri),
  http: (uri) => refuse(uri),
  file: (filename) => refuse(filename),
};

const FONT = "DejaVu Sans, Helvetica, Arial, sans-serif";

export const baseConfig = {
  font: FONT,
  background: "white",
  padding: 8,
  title: { fontSize: 14, anchor: "start", offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#e6e6e6" },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 700, orient: "bottom", direction: "vertical" },
  view: { stroke: "#cccccc" },
} as const;

export const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#54a24b",
  "#e45756",
  "#72b7b2",
  "#b279a2",
  "#eeca3b",
  "#9d755d",
  "#ff9da6",
  "#bab0ac",
] as const;

/** Each run keeps its colour (by its position among all runs) in every chart, even one it is missing from. */
function colorScale(shown: readonly string[], all: readonly string[]) {
  return {
    domain: [...shown],
    range: shown.map((label) => PALETTE[Math.max(0, all.indexOf(label)) % PALETTE.length] ?? "#4c78a8"),
  };
}

/** Vega renders are serialised: SVG definition ids come from a process-wide counter that each report resets. */
let queue: Promise<unknown> = Promise.resolve();

async function renderSpec(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec, { logger: silentLogger }).spec;
  const view = new View(parse(vegaSpec), { renderer: "none", loader: noLoader, logger: silentLogger });
  try {
    const svg = await view.toSVG();
    assertInertSvg(svg);
    return svg;
  } finally {
    view.finalize();
  }
}

const ACTIVE_ELEMENT = /<(script|foreignObject|iframe|object|embed|image|a|use|animate|set)[\s/>]/i;

/** Defence in depth: vega emits only inert shapes and text; refuse anything that could load or run code. */
export function assertInertSvg(svg: string): void {
  const match = ACTIVE_ELEMENT.exec(svg);
  if (match) throw new Error(`chart SVG contains an unexpected <${match[1]}> element`);
}

function specSuccessByStep(runs: readonly LabelledRun[], series: readonly string[]): TopLevelSpec {
  const values = runs.flatMap(({ label, run }) =>
    run.summary.success_by_step.map((rate, i) => {
      const ci = wilsonFromRate(rate, run.summary.episodes);
      return { run: label, t: i + 1, rate, low: ci.low, high: ci.high };
    }),
  );
  const x = {
    field: "t",
    type: "quantitative",
    title: "steps t",
    axis: { tickMinStep: 1, format: "d" },
    scale: { domainMin: 1 },
  } as const;
  const color = { field: "run", type: "nominal", title: "run", scale: colorScale(series, series) } as const;
  return {
    title: "Episodes solved within t steps (95% Wilson band)",
    width: 460,
    height: 260,
    data: { values },
    layer: [
      {
        mark: { type: "area", opacity: 0.18 },
        encoding: {
          x,
          y: { field: "low", type: "quantitative" },
          y2: { field: "high" },
          // The legend comes from the lines: the bands' pale swatches are hard to tell apart.
          color: { ...color, legend: null },
        },
      },
      {
        mark: { type: "line", point: true, strokeWidth: 2 },
        encoding: {
          x,
          y: {
            field: "rate",
            type: "quantitative",
            title: "success rate",
            axis: { format: "%" },
            scale: { domain: [0, 1] },
          },
          color: { ...color, legend: { symbolType: "stroke" } },
        },
      },
    ],
    // Independent legends, so the band's `legend: null` does not hide the lines' legend.
    resolve: { legend: { color: "independent" } },
    config: baseConfig,
  };
}

function specPerInstance(
  runs: readonly LabelledRun[],
  series: readonly string[],
  instances: readonly string[],
): TopLevelSpec {
  const shown = new Set(instances);
  const values = runs.flatMap(({ label, run }) =>
    run.summary.per_instance
      .filter((p) => shown.has(p.instance))
      .map((p) => {
        const ci = wilsonFromRate(p.success_rate, p.episodes);
        return {
          run: label,
          runOrder: series.indexOf(label),
          instance: p.instance,
          instanceOrder: instances.indexOf(p.instance),
          rate: p.success_rate,
          low: ci.low,
          high: ci.high,
        };
      }),
  );
  const x = {
    field: "instance",
    type: "nominal",
    title: "instance",
    // Sorting by a numeric field, not by a list of names, keeps untrusted names out of vega expressions.
    sort: { field: "instanceOrder", op: "min" },
    axis: { labelAngle: -35, labelLimit: 180 },
  } as const;
  const xOffset = { field: "run", type: "nominal", sort: { field: "runOrder", op: "min" } } as const;
  return {
    title: "Success rate per instance (95% Wilson interval)",
    width: { step: Math.max(14, 10 * series.length) },
    height: 260,
    data: { values },
    layer: [
      {
        mark: { type: "bar", opacity: 0.85 },
        encoding: {
          x,
          xOffset,
          y: {
            field: "rate",
            type: "quantitative",
            title: "success rate",
            axis: { format: "%" },
            scale: { domain: [0, 1] },
          },
          color: { field: "run", type: "nominal", title: "run", scale: colorScale(series, series) },
        },
      },
      {
        mark: { type: "rule", color: "#333333", strokeWidth: 1.5 },
        encoding: {
          x,
          xOffset,
          y: { field: "low", type: "quantitative" },
          y2: { field: "high" },
        },
      },
    ],
    config: baseConfig,
  };
}

function specCostVsSuccess(runs: readonly LabelledRun[], series: readonly string[]): TopLevelSpec {
  const values = runs.map(({ label, run }) => {
    const s = run.summary;
    return {
      run: label,
      cost: s.episodes > 0 ? s.llm.cost_usd / s.episodes : 0,
      rate: s.success_rate,
      low: s.success_ci95.low,
      high: s.success_ci95.high,
    };
  });
  const x = {
    field: "cost",
    type: "quantitative",
    title: "LLM cost per episode (USD)",
    scale: { zero: true, nice: true },
    axis: { format: "$.2~g", tickCount: 5 },
  } as const;
  const color = { field: "run", type: "nominal", title: "run", scale: colorScale(series, series) } as const;
  return {
    title: "Cost against success rate (one point per run, 95% interval)",
    width: 400,
    height: 260,
    data: { values },
    layer: [
      {
        mark: { type: "rule", strokeWidth: 2 },
        encoding: { x, y: { field: "low", type: "quantitative" }, y2: { field: "high" }, color },
      },
      {
        mark: { type: "point", filled: true, size: 90 },
        encoding: {
          x,
          y: {
            field: "rate",
            type: "quantitative",
            title: "success rate",
            axis: { format: "%" },
            scale: { domain: [0, 1] },
          },
          color,
        },
      },
      {
        mark: { type: "text", align: "left", dx: 8, dy: -8, fontSize: 11, limit: 260 },
        encoding: { x, y: { field: "rate", type: "quantitative" }, text: { field: "run" } },
      },
    ],
    config: baseConfig,
  };
}

/** `score_by_game` reads as y = score, x = game; other names keep x = index. */
function curveAxes(name: string): { x: string; y: string } {
  const m = /^(.+)_by_(.+)$/.exec(name);
  if (m?.[1] && m[2]) return { x: m[2].replace(/_/g, " "), y: m[1].replace(/_/g, " ") };
  return { x: "index", y: name.replace(/_/g, " ") };
}

function specCurve(name: string, runs: readonly LabelledRun[], all: readonly string[]): TopLevelSpec {
  const shown = runs.map((r) => r.label);
  const values = runs.flatMap(({ label, run }) =>
    (run.summary.curves[name] ?? []).map((value, i) => ({ run: label, x: i + 1, value })),
  );
  const axes = curveAxes(name);
  const few = values.length <= 200;
  return {
    title: name,
    width: 460,
    height: 260,
    data: { values },
    mark: { type: "line", point: few, strokeWidth: 2 },
    encoding: {
      x: { field: "x", type: "quantitative", title: axes.x, axis: { tickMinStep: 1, format: "d" } },
      y: { field: "value", type: "quantitative", title: axes.y },
      color: { field: "run", type: "nominal", title: "run", scale: colorScale(shown, all) },
    },
    config: baseConfig,
  };
}

/** Render vega-lite specs to inert SVG strings, serialised with every other render (shared SVG id counter). */
export async function renderSpecs(specs: readonly TopLevelSpec[]): Promise<string[]> {
  const job = queue.then(async () => {
    resetSVGDefIds();
    const out: string[] = [];
    for (const spec of specs) out.push(await renderSpec(spec));
    return out;
  });
  queue = job.catch(() => undefined);
  return job;
}

/** Render every chart of a report. `runs[0]` is the main run. */
export async function renderCharts(runs: readonly LabelledRun[]): Promise<Chart[]> {
  const job = queue.then(() => renderChartsNow(runs));
  queue = job.catch(() => undefined);
  return job;
}

async function renderChartsNow(runs: readonly LabelledRun[]): Promise<Chart[]> {
  resetSVGDefIds();
  const series = runs.map((r) => r.label);
  const charts: Chart[] = [];

  charts.push({
    id: "success-by-step",
    title: "Success within t steps",
    series,
    svg: await renderSpec(specSuccessByStep(runs, series)),
  });

  // Instances in the main run's order, then any only a compared run has.
  const allInstances: string[] = [];
  const seen = new Set<string>();
  for (const { run } of runs) {
    for (const p of run.summary.per_instance) {
      if (!seen.has(p.instance)) {
        seen.add(p.instance);
        allInstances.push(p.instance);
      }
    }
  }
  const instances = allInstances.slice(0, MAX_CHART_INSTANCES);
  charts.push({
    id: "per-instance",
    title: "Success rate per instance",
    series,
    svg: await renderSpec(specPerInstance(runs, series, instances)),
    ...(allInstances.length > instances.length
      ? {
          note: `The chart shows the first ${instances.length} of ${allInstances.length} instances; the table below lists all.`,
        }
      : {}),
  });

  charts.push({
    id: "cost-vs-success",
    title: "Cost against success rate",
    series,
    svg: await renderSpec(specCostVsSuccess(runs, series)),
  });

  const curveNames: string[] = [];
  for (const { run } of runs) {
    for (const name of Object.keys(run.summary.curves)) if (!curveNames.includes(name)) curveNames.push(name);
  }
  for (const [i, name] of curveNames.entries()) {
    const having = runs.filter((r) => (r.run.summary.curves[name]?.length ?? 0) > 0);
    if (having.length === 0) continue;
    const curveSeries = having.map((r) => r.label);
    charts.push({
      id: `curve-${i}`,
      title: name,
      series: curveSeries,
      svg: await renderSpec(specCurve(name, having, series)),
    });
  }
  return charts;
}
