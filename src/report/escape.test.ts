import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { cspHash, escapeHtml, html, jsonForScript, raw } from "./escape.ts";

const HOSTILE = [
  "<script>window.__pwned = 1</script>",
  '"><img src=x onerror="window.__pwned=2">',
  "</script><script>window.__pwned=3</script>",
  "a\u2028b\u2029c",
  "<!-- <script>",
  "it's & <b>bold</b>",
  "nul\u0000byte",
  "lone \ud800 surrogate",
];

describe("escapeHtml", () => {
  it("escapes the five HTML metacharacters", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
  });

  it("leaves no character that could open a tag or leave an attribute", () => {
    for (const s of HOSTILE) {
      const out = escapeHtml(s);
      expect(out).not.toMatch(/[<>"']/);
      expect(out).not.toContain("\u0000");
    }
  });

  it("keeps ordinary text, newlines and non-ASCII as they are", () => {
    expect(escapeHtml("X | O\n---\nπ ≈ 3.14 · ✓")).toBe("X | O\n---\nπ ≈ 3.14 · ✓");
  });
});

describe("html template", () => {
  it("escapes interpolated strings and numbers but not nested html", () => {
    const inner = html`<b>${"<i>"}</b>`;
    const out = html`<p title="${'"x"'}">${inner}${[html`<br>`, "<br>"]}${42}${null}${false}</p>`;
    expect(out.value).toBe('<p title="&quot;x&quot;"><b>&lt;i&gt;</b><br>&lt;br&gt;42</p>');
  });

  it("passes raw markup through unchanged", () => {
    expect(html`${raw("<svg></svg>")}`.value).toBe("<svg></svg>");
  });
});

describe("jsonForScript", () => {
  it("round-trips through JSON.parse for hostile strings", () => {
    const value = { list: HOSTILE, nested: { "</script>": HOSTILE[0] }, n: 1.5, b: true, z: null };
    const text = jsonForScript(value);
    expect(JSON.parse(text)).toEqual(value);
  });

  it("writes no <, >, &, U+2028 or U+2029 literally", () => {
    const text = jsonForScript(HOSTILE);
    expect(text).not.toMatch(/[<>&\u2028\u2029]/);
    expect(text).toContain("\\u003c/script\\u003e");
    expect(text).toContain("\\u2028");
  });

  it("refuses values JSON cannot represent", () => {
    expect(() => jsonForScript(undefined)).toThrow(TypeError);
  });
});

describe("cspHash", () => {
  it("is the base64 sha256 of the UTF-8 text in CSP syntax", () => {
    const script = 'console.log("é")';
    const digest = createHash("sha256").update(Buffer.from(script, "utf8")).digest("base64");
    expect(cspHash(script)).toBe(`'sha256-${digest}'`);
    expect(cspHash("a")).toBe("'sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs='");
  });
});
