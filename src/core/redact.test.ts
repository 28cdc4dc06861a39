import { describe, expect, it } from "vitest";
import { hasRedactedCredentials, redactUrlCredentials } from "./redact.ts";

describe("redactUrlCredentials", () => {
  it("removes user and password from every URL in a text", () => {
    const text =
      "openai-compatible:http://alice:s3cr%40t@127.0.0.1:8080/v1#m and https://tok3n@example.com/x?a=b@c";
    const out = redactUrlCredentials(text);
    expect(out).toBe("openai-compatible:http://***@127.0.0.1:8080/v1#m and https://***@example.com/x?a=b@c");
    expect(out).not.toContain("s3cr");
    expect(out).not.toContain("tok3n");
    expect(hasRedactedCredentials(out)).toBe(true);
  });

  it("leaves URLs without credentials, e-mail addresses and plain text alone", () => {
    const text = "http://127.0.0.1:8080/v1#m, mail bob@example.com, a@b";
    expect(redactUrlCredentials(text)).toBe(text);
    expect(hasRedactedCredentials(text)).toBe(false);
  });
});
