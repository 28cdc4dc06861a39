import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunData } from "../bench/types.ts";
import { EXPLORER_SCRIPT } from "./client.ts";
import { cspHash, escapeHtml } from "./escape.ts";
import type { ExplorerData } from "./explorer.ts";
import { type FixtureTextField, makeRunData } from "./fixture.ts";
import {
  formatInt,
  formatInterval,
  formatNumber,
  formatPercent,
  formatSeconds,
  formatUsd,
} from "./format.ts";
import { renderReport, runLabels, writeReport } from "./render.ts";

const HOSTILE = [
  "<script>window.__pwned = 1</script>",
  '"><img src=x onerror="window.__pwned=2">',
  "</script><script>window.__pwned=3</script>",
  "line\u2028separator\u2029paragraph",
] as const;

/** Every fixture text gets one hostile string appended, cycling through them. */
function hostileText(): (field: FixtureTextField, text: string) => string {
  let i = 0;
  return (_field, text) => `${text} ${HOSTILE[i++ % HOSTILE.length]}`;
}

function figure(page: string, id: string): string {
  const m = new RegExp(`<figure class="chart" data-chart="${id}"[^>]*>([\\s\\S]*?)</figure>`).exec(page);
  if (!m?.[1]) throw new Error(`no chart ${id}`);
  return m[1];
}

/** The run named by each line path of a chart (vega describes every line in its aria-label). */
function linePaths(svg: string): string[] {
  return [
    ...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="line mark"/g),
  ].map((m) => /run: (.*)$/.exec(m[1] ?? "")?.[1] ?? "");
}

function summaryCells(page: string, metric: string): string[] {
  const row = new RegExp(`<tr data-metric="${metric}">([\\s\\S]*?)</tr>`).exec(page)?.[1];
  if (row === undefined) throw new Error(`no summary row ${metric}`);
  return [...row.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => (m[1] ?? "").replace(/<[^>]+>/g, ""));
}

function dataBlock(page: string): string {
  const open = '<script type="application/json" id="bayesact-data">';
  const start = page.indexOf(open);
  expect(start).toBeGreaterThan(0);
  const from = start + open.length;
  // The block ends at the first `</script` after it, as an HTML parser sees it.
  const end = page.toLowerCase().indexOf("</script", from);
  return page.slice(from, end);
}

let plain: RunData;
let other: RunData;
let single: string;
let compared: string;

beforeAll(async () => {
  plain = makeRunData();
  other = makeRunData({
    runId: "20250102-080000-react",
    agent: "react",
    seed: 99,
    curves: ["success_by_episode"],
  });
  single = await renderReport([plain]);
  compared = await renderReport([plain, other]);
});

describe("renderReport: one run", () => {
  it("has one <svg> per chart, each with the run as its series", () => {
    const [label] = runLabels([plain]);
    const ids = ["success-by-step", "per-instance", "cost-vs-success", "curve-0", "curve-1"];
    expect(single.match(/<svg/g)?.length).toBe(ids.length);
    for (const id of ids) {
      const svg = figure(single, id);
      expect(svg.match(/<svg/g)?.length, id).toBe(1);
      expect(svg, id).toContain(`>${escapeHtml(label ?? "")}</text>`);
    }
    // Curves are titled by their names.
    expect(figure(single, "curve-0")).toContain(">success_by_episode</text>");
    expect(figure(single, "curve-1")).toContain(">cumulative_regret</text>");
    // One line per run in the success-by-step chart, with its band.
    expect(linePaths(figure(single, "success-by-step"))).toEqual([label]);
    expect(figure(single, "success-by-step").match(/class="mark-area role-mark/g)?.length).toBe(1);
  });

  it("shows the summary's numbers", () => {
    const s = plain.summary;
    const episodes = plain.episodes;
    // The fixture's summary agrees with its episodes, so the table can be checked against either.
    expect(s.episodes).toBe(episodes.length);
    expect(summaryCells(single, "episodes")).toEqual([formatInt(episodes.length)]);
    expect(summaryCells(single, "success_rate")).toEqual([
      `${formatPercent(episodes.filter((e) => e.success).length / episodes.length)} (${formatInterval(s.success_ci95)})`,
    ]);
    expect(summaryCells(single, "mean_return")).toEqual([formatNumber(s.mean_return)]);
    expect(summaryCells(single, "mean_steps")).toEqual([formatNumber(s.mean_steps, 2)]);
    expect(summaryCells(single, "llm_calls")).toEqual([
      formatInt(episodes.reduce((n, e) => n + e.llmCalls, 0)),
    ]);
    expect(summaryCells(single, "input_tokens")).toEqual([formatInt(s.llm.input_tokens)]);
    expect(summaryCells(single, "output_tokens")).toEqual([formatInt(s.llm.output_tokens)]);
    expect(summaryCells(single, "cost_usd")).toEqual([formatUsd(s.llm.cost_usd)]);
    expect(summaryCells(single, "cache_hits")).toEqual([formatInt(s.llm.cache_hits)]);
    expect(summaryCells(single, "retries")).toEqual([formatInt(episodes.reduce((n, e) => n + e.retries, 0))]);
    expect(summaryCells(single, "retry_wait")).toEqual([
      formatSeconds(episodes.reduce((n, e) => n + e.retryWaitMs, 0) / 1000),
    ]);
    expect(summaryCells(single, "timeouts")).toEqual([
      formatInt(episodes.reduce((n, e) => n + e.timeouts, 0)),
    ]);
    expect(summaryCells(single, "wall_s")).toEqual(["12.5 s"]);
    // Sanity of the fixture itself: it has calls, tokens and cost, so the cells above are not all zeros.
    expect(s.llm.calls).toBeGreaterThan(20);
    expect(s.llm.cost_usd).toBeGreaterThan(0);
    expect(s.llm.timeouts).toBeGreaterThan(0);
  });

  it("lists every instance and every episode", () => {
    for (const p of plain.summary.per_instance)
      expect(single).toContain(`<tr><td>${escapeHtml(p.instance)}</td>`);
    const rows = single.match(/<tr class="(ok|fail)"/g) ?? [];
    expect(rows.length).toBe(plain.episodes.length);
    for (const e of plain.episodes) expect(single).toContain(`<code>${escapeHtml(e.id)}</code>`);
  });

  it("shows the header: ids, versions, seeds, capabilities and data files", () => {
    const m = plain.manifest;
    for (const text of [m.runId, m.createdAt, m.gitCommit ?? "", m.bayesact, m.node, "1, 2, 3"]) {
      expect(single).toContain(text);
    }
    expect(single).toMatch(/<td><code>openai:gpt-4o-mini<\/code><\/td>(<td>(yes|no)<\/td>){6}/);
    const [path, sha] = Object.entries(m.dataFiles)[0] ?? ["", ""];
    expect(single).toContain(`<td><code>${escapeHtml(path)}</code></td><td><code>${sha}</code></td>`);
  });

  it("allows exactly its own inline script by hash, and nothing from the network", () => {
    const attr = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(single)?.[1] ?? "";
    const csp = attr.replaceAll("&#39;", "'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'unsafe-inline'");
    expect(csp).toContain("img-src data:");
    const inline = [...single.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
    expect(inline).toHaveLength(1);
    expect(inline[0]).toBe(EXPLORER_SCRIPT);
    expect(csp).toContain(`script-src ${cspHash(inline[0] ?? "")}`);
    expect(single).not.toMatch(/\b(src|href)="(https?:)?\/\//);
  });

  it("is deterministic", async () => {
    expect(await renderReport([plain])).toBe(single);
  });

  it("embeds every step, tree and call of the fixture for the explorer", () => {
    const data = JSON.parse(dataBlock(single)) as ExplorerData;
    const s = (ref: number) => (ref < 0 ? null : data.strings[ref]);
    expect(data.episodes.map((e) => s(e.id))).toEqual(plain.episodes.map((e) => e.id));
    expect(data.note).toBeNull();
    let withoutTree = 0;
    let deepest = 0;
    for (const ep of data.episodes) {
      const id = s(ep.id) ?? "";
      const steps = plain.steps(id);
      expect(ep.steps.map((st) => st.t)).toEqual(steps.map((st) => st.t));
      for (const [i, st] of ep.steps.entries()) {
        const want = steps[i];
        expect(want).toBeDefined();
        if (!want) continue;
        expect([s(st.observation), s(st.action), s(st.feedback), st.reward, st.done]).toEqual([
          want.observation,
          want.action,
          want.feedback,
          want.reward,
          want.done,
        ]);
        const tree = plain.trees(id).find((tr) => tr.t === st.t);
        if (!tree) {
          expect(st.tree).toBeNull();
          withoutTree++;
        } else {
          expect(st.tree?.chosen).toBe(tree.chosen);
          expect(st.tree?.nodes.map((n) => [n[0], n[1], s(n[2]), s(n[3]), n[4], n[5]])).toEqual(
            tree.nodes.map((n) => [n.id, n.parent ?? -1, n.action, n.state, n.value, n.visits]),
          );
          const depth = (nodeId: number): number => {
            const node = tree.nodes.find((n) => n.id === nodeId);
            return node?.parent == null ? 0 : 1 + depth(node.parent);
          };
          deepest = Math.max(deepest, ...tree.nodes.map((n) => depth(n.id)));
        }
        const calls = plain.llmCalls(id).filter((c) => c.t === st.t);
        expect(
          st.calls.map((c) => [c.seq, c.messages.map(([r, m]) => [s(r), s(m)]), c.responses.map(s)]),
        ).toEqual(calls.map((c) => [c.seq, c.messages.map((m) => [m.role, m.content]), c.responses]));
        expect(st.calls.map((c) => [c.retries, c.retryWaitMs, c.timeouts])).toEqual(
          calls.map((c) => [c.retries, c.retryWaitMs, c.timeouts]),
        );
      }
    }
    // The fixture exercises steps without a tree and trees deeper than two.
    expect(withoutTree).toBeGreaterThan(0);
    expect(deepest).toBeGreaterThanOrEqual(3);
  });
});

describe("renderReport: comparison", () => {
  it("shows both runs in the header, the summary and every shared chart", () => {
    const labels = runLabels([plain, other]);
    expect(labels).toEqual(["rafa · openai:gpt-4o-mini", "react · openai:gpt-4o-mini"]);
    for (const label of labels) {
      expect(compared).toContain(`<th scope="col">${escapeHtml(label)}`);
      for (const id of ["success-by-step", "per-instance", "cost-vs-success", "curve-0"]) {
        expect(figure(compared, id), id).toContain(`>${escapeHtml(label)}</text>`);
      }
    }
    expect(linePaths(figure(compared, "success-by-step"))).toEqual(labels);
    expect(figure(compared, "success-by-step").match(/class="mark-area role-mark/g)?.length).toBe(2);
    expect(linePaths(figure(compared, "curve-0"))).toEqual(labels);
    // Only the main run has cumulative_regret: that chart has one series.
    expect(figure(compared, "curve-1")).toContain(">cumulative_regret</text>");
    expect(figure(compared, "curve-1")).not.toContain(`>${escapeHtml(labels[1] ?? "")}</text>`);
    expect(summaryCells(compared, "episodes")).toEqual([
      formatInt(plain.summary.episodes),
      formatInt(other.summary.episodes),
    ]);
    expect(summaryCells(compared, "cost_usd")).toEqual([
      formatUsd(plain.summary.llm.cost_usd),
      formatUsd(other.summary.llm.cost_usd),
    ]);
    expect(summaryCells(compared, "success_rate")[1]).toBe(
      `${formatPercent(other.summary.success_rate)} (${formatInterval(other.summary.success_ci95)})`,
    );
    expect(compared).toContain(other.manifest.runId);
  });

  it("tells runs with the same agent and model apart", () => {
    const twin = makeRunData({ runId: "second", seed: 5 });
    expect(runLabels([plain, twin])).toEqual([
      "rafa · openai:gpt-4o-mini · 20250101-120000-rafa",
      "rafa · openai:gpt-4o-mini · second",
    ]);
    expect(runLabels([plain, plain])).toEqual([
      "rafa · openai:gpt-4o-mini · 20250101-120000-rafa (1)",
      "rafa · openai:gpt-4o-mini · 20250101-120000-rafa (2)",
    ]);
  });

  it("renders a run without episodes or language model", async () => {
    const empty = makeRunData({ instances: [], model: "exact", usdPer1kTokens: 0 });
    const page = await renderReport([empty]);
    expect(page).toContain("No language model (the exact twins).");
    expect(summaryCells(page, "episodes")).toEqual(["0"]);
    // Curves with no points are left out; the three standard charts remain.
    expect(page.match(/<svg/g)?.length).toBe(3);
    const data = JSON.parse(dataBlock(page)) as ExplorerData;
    expect(data.episodes).toEqual([]);
  });

  it("needs a run", async () => {
    await expect(renderReport([])).rejects.toThrow(/at least one run/);
  });
});

describe("renderReport: hostile content", () => {
  let hostile: RunData;
  let page: string;
  beforeAll(async () => {
    hostile = makeRunData({ text: hostileText(), agent: HOSTILE[0], model: HOSTILE[1] });
    page = await renderReport([hostile, makeRunData({ agent: HOSTILE[2], runId: HOSTILE[1] })]);
  });

  it("never writes a hostile string as markup", () => {
    for (const h of HOSTILE.slice(0, 3)) expect(page).not.toContain(h);
    expect(page).not.toContain("<img");
    expect(page).not.toMatch(/<script>window/);
    // Two script elements: the data block and the explorer.
    expect(page.match(/<script/g)?.length).toBe(2);
    expect(page.match(/<\/script>/g)?.length).toBe(2);
    // Escaped, the texts are there.
    expect(page).toContain(escapeHtml(HOSTILE[0] ?? ""));
    expect(figure(page, "per-instance")).toContain("&lt;script&gt;");
  });

  it("keeps the data block closed: it parses back to exactly the texts that went in", () => {
    const text = dataBlock(page);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    const data = JSON.parse(text) as ExplorerData;
    const everything = hostile.episodes.flatMap((e) => [
      e.id,
      ...hostile.steps(e.id).flatMap((st) => [st.observation, st.action, st.feedback]),
      ...hostile
        .trees(e.id)
        .flatMap((tr) => tr.nodes.flatMap((n) => [n.state, ...(n.action ? [n.action] : [])])),
      ...hostile.llmCalls(e.id).flatMap((c) => [...c.messages.map((m) => m.content), ...c.responses]),
    ]);
    for (const h of HOSTILE) expect(data.strings.some((s) => s.includes(h))).toBe(true);
    for (const s of everything) expect(data.strings).toContain(s);
  });
});

describe("renderReport: limits for big runs", () => {
  it("embeds the first episodes only, and says so", async () => {
    const run = makeRunData();
    const page = await renderReport([run], { explorer: { maxEpisodes: 2 } });
    const data = JSON.parse(dataBlock(page)) as ExplorerData;
    expect(data.episodes).toHaveLength(2);
    expect(data.episodes.map((e) => data.strings[e.id])).toEqual(run.episodes.slice(0, 2).map((e) => e.id));
    expect(data.note).toMatch(/first 2 of 12 episodes/);
    expect(page).toContain('<p class="note" id="ex-note">The explorer holds the first 2 of 12 episodes');
    // Only embedded episodes link to the explorer from the episodes table.
    expect(page.match(/data-explorer="/g)?.length).toBe(2);
  });

  it("stops at the size budget, cuts long texts and trims big trees breadth-first", async () => {
    const run = makeRunData({
      text: (field, text) => (field === "observation" ? text + "x".repeat(5000) : text),
    });
    const page = await renderReport([run], {
      explorer: { maxChars: 60_000, maxTextLength: 1000, maxNodesPerTree: 4 },
    });
    const data = JSON.parse(dataBlock(page)) as ExplorerData;
    expect(data.episodes.length).toBeGreaterThan(0);
    expect(data.episodes.length).toBeLessThan(run.episodes.length);
    expect(dataBlock(page).length).toBeLessThan(60_000 + 20_000);
    expect(data.strings.every((s) => s.length < 1100)).toBe(true);
    expect(data.strings.some((s) => s.includes("more characters not included"))).toBe(true);
    const trees = data.episodes.flatMap((e) => e.steps.flatMap((s) => (s.tree ? [s.tree] : [])));
    expect(trees.length).toBeGreaterThan(0);
    for (const tree of trees) {
      // Breadth-first: the root, then nodes whose parents came before them, at non-decreasing depth.
      expect(tree.nodes).toHaveLength(4);
      expect(tree.nodes[0]?.[1]).toBe(-1);
      const depth = new Map<number, number>();
      let last = 0;
      for (const [id, parent] of tree.nodes) {
        const d = parent < 0 ? 0 : (depth.get(parent) ?? Number.NaN) + 1;
        expect(d).toBeGreaterThanOrEqual(last);
        depth.set(id, d);
        last = d;
      }
      expect(tree.omitted).toBeGreaterThan(0);
    }
    expect(data.note).toMatch(/size budget/);
    expect(data.note).toMatch(/more than 4 nodes/);
    expect(data.note).toMatch(/longer than 1000 characters were cut/);
  });

  it("keeps a report of 10,000 steps to a few megabytes", async () => {
    const instances = Array.from({ length: 300 }, (_, i) => `instance-${i}`);
    const run = makeRunData({ instances, seeds: [1, 2, 3, 4, 5, 6, 7, 8], maxSteps: 8 });
    const steps = run.episodes.reduce((n, e) => n + e.steps, 0);
    expect(steps).toBeGreaterThanOrEqual(10_000);
    const page = await renderReport([run]);
    expect(Buffer.byteLength(page)).toBeLessThan(10_000_000);
    const data = JSON.parse(dataBlock(page)) as ExplorerData;
    expect(data.episodes.length).toBeLessThan(run.episodes.length);
    expect(data.note).not.toBeNull();
    // The per-instance chart caps its bars and says so.
    expect(page).toContain("The chart shows the first 60 of 300 instances");
  });
});

describe("writeReport", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "bayesact-report-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the rendered report and leaves no temporary file", async () => {
    const path = join(dir, "report.html");
    await writeReport(path, [plain]);
    expect(await readFile(path, "utf8")).toBe(single);
    expect(await readdir(dir)).toEqual(["report.html"]);
  });
});
