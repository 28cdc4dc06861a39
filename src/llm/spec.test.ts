import { describe, expect, it } from "vitest";
import { UserError } from "../core/errors.ts";
import { parseModelSpec } from "./spec.ts";

describe("parseModelSpec", () => {
  it("parses every documented form", () => {
    expect(parseModelSpec("exact")).toEqual({ kind: "exact", spec: "exact" });
    expect(parseModelSpec("openai:gpt-4o-mini", {})).toMatchObject({
      kind: "openai-compatible",
      family: "openai",
      baseURL: "https://api.openai.com/v1",
      model: "gpt-4o-mini",
      apiKeyVar: "OPENAI_API_KEY",
    });
    expect(parseModelSpec("openai-compatible:http://127.0.0.1:8000/v1/#my-model", {})).toMatchObject({
      baseURL: "http://127.0.0.1:8000/v1",
      model: "my-model",
      family: "openai-compatible",
    });
    expect(parseModelSpec("ollama:qwen2.5:7b", {})).toMatchObject({
      baseURL: "http://127.0.0.1:11434/v1",
      model: "qwen2.5:7b",
    });
    expect(parseModelSpec("ollama:llama3", { OLLAMA_HOST: "10.0.0.2:11434" })).toMatchObject({
      baseURL: "http://10.0.0.2:11434/v1",
    });
    expect(parseModelSpec("llamacpp:/m/tiny.gguf?ctx=1024&parallel=3", {})).toEqual({
      kind: "llamacpp",
      spec: "llamacpp:/m/tiny.gguf?ctx=1024&parallel=3",
      modelPath: "/m/tiny.gguf",
      contextSize: 1024,
      parallel: 3,
      gpu: false,
    });
    expect(parseModelSpec("llamacpp:/m/base.gguf?lora=/runs/it0/adapter.gguf", {})).toMatchObject({
      modelPath: "/m/base.gguf",
      lora: "/runs/it0/adapter.gguf",
    });
    expect(parseModelSpec("embedded:base")).toEqual({
      kind: "embedded",
      spec: "embedded:base",
      path: undefined,
    });
    expect(parseModelSpec("embedded:/r/model.json")).toMatchObject({
      kind: "embedded",
      path: "/r/model.json",
    });
    expect(parseModelSpec("replay:runs/a.jsonl")).toEqual({
      kind: "replay",
      spec: "replay:runs/a.jsonl",
      path: "runs/a.jsonl",
    });
  });

  it("rejects bad specs with one user-facing line", () => {
    const cases: [string, RegExp][] = [
      ["gpt-4o", /no provider prefix/],
      ["openai:", /nothing after "openai:"/],
      ["openai-compatible:http://x/v1", /missing #MODEL/],
      ["openai-compatible:notaurl#m", /is not a URL/],
      ["openai-compatible:ftp://x/v1#m", /http or https/],
      ["openai-compatible:http://x/v1#", /empty model name/],
      ["llamacpp:/m.gguf?ctx=abc", /bad llamacpp option/],
      ["llamacpp:/m.gguf?color=red", /bad llamacpp option/],
      ["anthropic:claude", /unknown provider "anthropic"/],
    ];
    for (const [spec, why] of cases) {
      let error: unknown;
      try {
        parseModelSpec(spec, {});
      } catch (e) {
        error = e;
      }
      expect(error, spec).toBeInstanceOf(UserError);
      const message = (error as UserError).message;
      expect(message, spec).toMatch(why);
      expect(message.includes("\n"), spec).toBe(false);
      expect((error as UserError).category).toBe("bad_model_spec");
    }
  });
});

describe("credentials in a spec's URL", () => {
  it("keeps them in baseURL only; the spec string, used as the model id, has them redacted", () => {
    const parsed = parseModelSpec("openai-compatible:http://alice:pa55w0rd@127.0.0.1:8080/v1#m");
    expect(parsed).toMatchObject({
      kind: "openai-compatible",
      spec: "openai-compatible:http://***@127.0.0.1:8080/v1#m",
      baseURL: "http://alice:pa55w0rd@127.0.0.1:8080/v1",
    });
  });

  it("never repeats them in a bad-spec message", () => {
    expect(() => parseModelSpec("openai-compatible:ftp://alice:pa55w0rd@host/v1#m")).toThrow(
      /^(?!.*pa55w0rd).*the URL must be http or https/,
    );
  });
});
