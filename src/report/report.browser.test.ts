/**
 * The report in a real browser: Debian's Chromium, driven by playwright-core over a `file://` URL. Hostile strings
 * sit in every kind of untrusted text; the test uses the explorer on them and checks that nothing ran, nothing was
 * fetched, the texts show literally, and the charts drew their series.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunData } from "../bench/types.ts";
import { makeRunData } from "./fixture.ts";
import { renderReport, runLabels } from "./render.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const H1 = "<script>window.__pwned = 1</script>";
const H2 = '"><img src=x onerror="window.__pwned=2">';
const H3 = "</script><script>window.__pwned=3</script>";
const LS = "line\u2028separator";

/** Where each hostile string goes, so the test knows what to look for where. */
const INJECT = {
  observation: `\n${H1}`,
  action: ` ${H2}`,
  feedback: ` ${H3}`,
  state: `\n${LS} ${H1}`,
  response: ` ${H3} ${LS}`,
  message: ` ${H2}`,
  config: ` ${H1}`,
  instance: "",
} as const;

const SCREENSHOT = join(tmpdir(), "bayesact-report.png");
const SCREENSHOT_EXPLORER = join(tmpdir(), "bayesact-report-explorer.png");

/** What the test reads and writes on the page's global object (the project is typed without the DOM library). */
interface PageGlobals {
  __pwned?: unknown;
  __violations?: string[];
  document: {
    scripts: { length: number };
    querySelectorAll(selector: string): { length: number };
    addEventListener(
      type: "securitypolicyviolation",
      listener: (e: { violatedDirective: string; blockedURI: string; sample: string }) => void,
    ): void;
  };
}

interface PageLog {
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
  requests: string[];
}

let browser: Browser;
let dir: string;
let url: string;
let main: RunData;
let compared: RunData;
let labels: string[];

const haveChromium = existsSync(CHROMIUM);

it("finds Debian's Chromium", () => {
  // One clear failure instead of a silently skipped browser suite.
  if (!haveChromium) {
    throw new Error(
      `${CHROMIUM} is missing: the report's browser test needs Debian's Chromium. Install it with: apt-get install chromium`,
    );
  }
});

beforeAll(async () => {
  if (!haveChromium) return;
  main = makeRunData({
    instances: [H1, H2, "plain-instance"],
    seeds: [1, 2],
    text: (field, text) => `${text}${INJECT[field]}`,
  });
  compared = makeRunData({ runId: "hostile-compared", agent: H3, seed: 11, curves: ["success_by_episode"] });
  labels = runLabels([main, compared]);
  dir = await mkdtemp(join(tmpdir(), "bayesact-browser-"));
  const path = join(dir, "report.html");
  await writeFile(path, await renderReport([main, compared]), "utf8");
  url = pathToFileURL(path).href;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});

afterAll(async () => {
  await browser?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function open(javaScriptEnabled = true): Promise<{ page: Page; log: PageLog }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, javaScriptEnabled });
  const page = await context.newPage();
  const log: PageLog = { consoleErrors: [], pageErrors: [], dialogs: [], requests: [] };
  page.on("console", (m) => {
    if (m.type() === "error") log.consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => log.pageErrors.push(e.message));
  page.on("dialog", (d) => {
    log.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on("request", (r) => {
    if (r.url() !== url && !r.url().startsWith("data:")) log.requests.push(r.url());
  });
  if (javaScriptEnabled) {
    // Runs before the page's own script (outside its CSP): records every policy violation.
    await page.addInitScript(() => {
      const g = globalThis as unknown as PageGlobals;
      const violations: string[] = [];
      g.__violations = violations;
      g.document.addEventListener("securitypolicyviolation", (e) => {
        violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
      });
    });
  }
  await page.goto(url, { waitUntil: "load" });
  return { page, log };
}

const pwned = (page: Page) => page.evaluate(() => (globalThis as unknown as PageGlobals).__pwned);

describe.runIf(haveChromium)("report.html in Chromium", () => {
  it("runs nothing injected while the explorer shows hostile texts literally", async () => {
    const { page, log } = await open();
    // The script replaced the no-JavaScript note with the explorer.
    expect(await page.locator("#ex-nojs").count()).toBe(0);
    // An episode of the second hostile instance, past the first, with a tree and calls at step 1.
    const index = main.episodes.findIndex(
      (e) => e.instance.startsWith(H2) && e.seed === 2 && main.trees(e.id).some((t) => t.t === 1),
    );
    expect(index).toBeGreaterThan(0);
    const episode = main.episodes[index];
    if (!episode) throw new Error("fixture has no suitable episode");
    const step = main.steps(episode.id)[1];
    const tree = main.trees(episode.id).find((t) => t.t === 1);
    const calls = main.llmCalls(episode.id).filter((c) => c.t === 1);
    if (!step || !tree || calls.length === 0) throw new Error("fixture episode lacks step 1");

    await page.selectOption("#ex-episode", String(index));
    await page.selectOption("#ex-step", "1");

    const info = await page.locator("#ex-episode-info").textContent();
    expect(info).toContain(`Instance ${episode.instance}`);
    const actual = (await page.locator("#ex-actual").textContent()) ?? "";
    for (const text of [step.observation, step.action, step.feedback]) expect(actual).toContain(text);
    expect(actual).toContain(step.nextObservation);

    // The tree: every node's predicted state and action, with U+2028 kept, and the chosen node highlighted.
    const treeText = (await page.locator("#ex-tree").textContent()) ?? "";
    for (const node of tree.nodes) {
      expect(treeText).toContain(node.state);
      if (node.action) expect(treeText).toContain(node.action);
    }
    expect(treeText).toContain(LS);
    const chosen = tree.nodes.find((n) => n.id === tree.chosen);
    const chosenSummary = page.locator("#ex-tree li.node.chosen > details > summary");
    expect(await chosenSummary.count()).toBe(1);
    expect(await chosenSummary.locator(".act").textContent()).toBe(chosen?.action);
    expect(await page.getByText(H1).first().isVisible()).toBe(true);
    expect(await page.locator("#ex-actual").getByText(H2).first().isVisible()).toBe(true);
    expect(await page.locator("#ex-actual").getByText(H3).first().isVisible()).toBe(true);

    // LLM calls start collapsed; opened, they show messages and responses as text.
    const details = page.locator("#ex-calls details.call");
    expect(await details.count()).toBe(calls.length);
    expect(await details.first().getAttribute("open")).toBeNull();
    await details.first().locator("summary").click();
    expect(await details.first().getAttribute("open")).toBe("");
    const first = calls[0];
    const response = first?.responses[0];
    if (!first || response === undefined) throw new Error("fixture call has no response");
    expect(await details.first().getByText(H3).first().isVisible()).toBe(true);
    const callText = (await details.first().textContent()) ?? "";
    expect(callText).toContain(response);
    for (const m of first.messages) expect(callText).toContain(m.content);

    // Instance names, in the tables and as chart labels.
    expect(await page.locator("#per-instance-table").getByText(H1).isVisible()).toBe(true);
    expect(await page.locator("#per-instance-table").getByText(H2).isVisible()).toBe(true);

    // Screenshots of this state (a tree, a call opened) for a person to look at.
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.locator("#explorer").screenshot({ path: SCREENSHOT_EXPLORER });

    // Walk every step of the episode, including one without a tree.
    for (let i = 0; i < main.steps(episode.id).length; i++) await page.selectOption("#ex-step", String(i));
    await page.click("#ex-prev");

    expect(await pwned(page)).toBeUndefined();
    // Functions passed to evaluate run in the page: they can use nothing from this module's scope.
    const active = await page.evaluate(
      () =>
        (globalThis as unknown as PageGlobals).document.querySelectorAll("img, iframe, object, embed").length,
    );
    expect(active).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.scripts.length)).toBe(2);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__violations)).toEqual([]);
    expect(log.dialogs).toEqual([]);
    expect(log.pageErrors).toEqual([]);
    expect(log.consoleErrors).toEqual([]);
    expect(log.requests).toEqual([]);

    await page.context().close();
  });

  it("shows a step without a tree, and what happened at it", async () => {
    const { page, log } = await open();
    const index = main.episodes.findIndex((e) => main.steps(e.id).length >= 3);
    const episode = main.episodes[index];
    if (!episode) throw new Error("fixture has no episode of three steps");
    expect(main.trees(episode.id).some((t) => t.t === 2)).toBe(false);
    await page.selectOption("#ex-episode", String(index));
    await page.selectOption("#ex-step", "2");
    expect(await page.locator("#ex-tree").textContent()).toContain(
      "No search tree was recorded at this step.",
    );
    expect(await page.locator("#ex-actual").textContent()).toContain(
      main.steps(episode.id)[2]?.feedback ?? "?",
    );
    // Clicking an episode's row in the table opens it in the explorer.
    await page.locator('tr[data-explorer="0"]').click();
    expect(await page.locator("#ex-episode").inputValue()).toBe("0");
    expect(await pwned(page)).toBeUndefined();
    expect(log.consoleErrors).toEqual([]);
    await page.context().close();
  });

  it("draws every chart with its series", async () => {
    const { page } = await open();
    const figures = page.locator("figure.chart");
    const ids = await figures.evaluateAll((fs) => fs.map((f) => f.getAttribute("data-chart") ?? ""));
    expect(ids).toEqual(["success-by-step", "per-instance", "cost-vs-success", "curve-0", "curve-1"]);
    for (const id of ids) {
      const figure = page.locator(`figure.chart[data-chart="${id}"]`);
      const svg = figure.locator("svg");
      expect(await svg.count(), id).toBe(1);
      const box = await svg.boundingBox();
      expect(box?.width ?? 0, id).toBeGreaterThan(100);
      expect(box?.height ?? 0, id).toBeGreaterThan(100);
      const series = JSON.parse((await figure.getAttribute("data-series")) ?? "[]") as string[];
      expect(series, id).toEqual(id === "curve-1" ? labels.slice(0, 1) : labels);
      const legend = await svg.locator(".role-legend-label text").allTextContents();
      expect(legend, id).toEqual(series);
    }
    // Lines: one path per run, each drawn (non-empty geometry).
    for (const id of ["success-by-step", "curve-0"]) {
      const paths = page.locator(`figure.chart[data-chart="${id}"] path[aria-roledescription="line mark"]`);
      expect(await paths.count(), id).toBe(labels.length);
      for (const box of await Promise.all((await paths.all()).map((p) => p.boundingBox()))) {
        expect((box?.width ?? 0) + (box?.height ?? 0), id).toBeGreaterThan(0);
      }
    }
    // Bars per run and instance, points per run labelled with the run.
    const bars = page.locator('figure.chart[data-chart="per-instance"] path[aria-roledescription="bar"]');
    // The runs have different instances: each run has a bar for each of its own.
    expect(await bars.count()).toBe(main.summary.per_instance.length + compared.summary.per_instance.length);
    const pointLabels = await page
      .locator('figure.chart[data-chart="cost-vs-success"] .role-mark text')
      .allTextContents();
    // Long names are cut with an ellipsis next to the point (the legend has them whole).
    expect(pointLabels).toHaveLength(labels.length);
    pointLabels.forEach((text, i) => {
      expect(labels[i]?.startsWith(text.replace(/…$/, ""))).toBe(true);
      expect(text.length).toBeGreaterThan(10);
    });
    expect(await pwned(page)).toBeUndefined();
    await page.context().close();
  });

  it("reads completely without JavaScript, with a note instead of the explorer", async () => {
    const { page, log } = await open(false);
    expect(await page.locator("#ex-nojs").isVisible()).toBe(true);
    expect(await page.locator("#ex-episode").count()).toBe(0);
    expect(await page.locator("figure.chart svg").count()).toBe(5);
    expect(await page.locator("#summary-table tr[data-metric]").count()).toBe(13); // 10 + LLM retries, retry wait, LLM timeouts
    expect(await page.locator("#episodes-table tbody tr").count()).toBe(main.episodes.length);
    expect(log.requests).toEqual([]);
    await page.context().close();
  });
});
