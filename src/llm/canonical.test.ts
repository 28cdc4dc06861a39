import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalRequest, requestKey } from "./canonical.ts";
import type { GenerateRequest } from "./types.ts";

const base: GenerateRequest = { messages: [{ role: "user", content: "hi" }] };

describe("canonicalRequest", () => {
  it("treats undefined fields as absent", () => {
    // Plain JavaScript callers (and spreads of optional values) can pass explicit undefined despite the types.
    const loose = { ...base, temperature: undefined, stop: undefined } as unknown as GenerateRequest;
    expect(requestKey("m", loose)).toBe(requestKey("m", base));
  });

  it("ignores n, signal and timeoutMs but not sampling parameters", () => {
    const key = requestKey("m", base, 0);
    expect(requestKey("m", { ...base, n: 5, signal: new AbortController().signal, timeoutMs: 10 }, 0)).toBe(
      key,
    );
    expect(requestKey("m", { ...base, temperature: 0.5 }, 0)).not.toBe(key);
    expect(requestKey("m", { ...base, seed: 1 }, 0)).not.toBe(key);
    expect(requestKey("m", { ...base, logprobs: { top: 0 } }, 0)).not.toBe(key);
    expect(requestKey("other", base, 0)).not.toBe(key);
  });

  it("keys each sample index separately, and the request without an index differently again", () => {
    const keys = new Set([requestKey("m", base, 0), requestKey("m", base, 1), requestKey("m", base)]);
    expect(keys.size).toBe(3);
  });

  it("sorts keys at every depth, so schema key order does not matter", () => {
    const a = canonicalRequest("m", {
      ...base,
      responseFormat: {
        type: "json_schema",
        name: "x",
        schema: { type: "object", properties: { b: {}, a: {} } },
      },
    });
    const b = canonicalRequest("m", {
      ...base,
      responseFormat: {
        type: "json_schema",
        name: "x",
        schema: { properties: { a: {}, b: {} }, type: "object" },
      },
    });
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toMatch(
      /^\{"messages":.*"model":"m","responseFormat":\{"name":"x","schema":\{"properties":\{"a"/,
    );
  });

  it("drops extra runtime properties of messages", () => {
    const extra = { role: "user" as const, content: "hi", note: "ignored" };
    expect(requestKey("m", { messages: [extra] })).toBe(requestKey("m", base));
  });

  it("refuses non-finite numbers instead of merging them into null", () => {
    expect(() => canonicalRequest("m", { ...base, temperature: Number.NaN })).toThrow(/finite/);
  });
});
