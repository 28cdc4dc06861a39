import { describe, expect, it } from "vitest";
import { assertInertSvg, renderCharts } from "./charts.ts";
import { makeRunData } from "./fixture.ts";

const H1 = "<script>window.__pwned = 1</script>";
const H2 = '"><img src=x onerror="window.__pwned=2">';

/** How vega writes text content: `&`, `<` and `>` escaped (quotes need no escaping there). */
const svgText = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

describe("renderCharts", () => {
  it("writes untrusted curve names, run labels and instances as escaped SVG text", async () => {
    const base = makeRunData({ instances: [H2, "b"] });
    const run = { ...base, summary: { ...base.summary, curves: { [H1]: [1, 2, 3], "a.b[0]": [3, 2, 1] } } };
    const charts = await renderCharts([{ label: H2, run }]);
    expect(charts.map((c) => c.id)).toEqual([
      "success-by-step",
      "per-instance",
      "cost-vs-success",
      "curve-0",
      "curve-1",
    ]);
    const curve = charts[3]?.svg ?? "";
    expect(curve).toContain(`>${svgText(H1)}</text>`);
    // A name with field-path syntax is a title, not a field reference: its line is drawn with all its points.
    expect(charts[4]?.svg).toContain(">a.b[0]</text>");
    expect(charts[4]?.svg).toMatch(/aria-roledescription="line mark" d="M[^"]+L[^"]+L/);
    for (const chart of charts) {
      expect(chart.svg).not.toContain("<script");
      expect(chart.svg).not.toContain("<img");
      expect(chart.svg).toContain(`>${svgText(H2)}</text>`);
    }
    expect(charts[1]?.svg).toContain("&lt;img src=x");
  });
});

describe("assertInertSvg", () => {
  it("accepts shapes and text, refuses elements that load or run things", () => {
    expect(() =>
      assertInertSvg('<svg><g><path d="M0,0"/><text>&lt;script&gt; onerror=</text></g></svg>'),
    ).not.toThrow();
    for (const bad of [
      "<script>x</script>",
      '<a href="x">',
      "<foreignObject>",
      '<image href="x"/>',
      "<use href='#a'/>",
    ]) {
      expect(() => assertInertSvg(`<svg>${bad}</svg>`), bad).toThrow(/unexpected/);
    }
  });
});
