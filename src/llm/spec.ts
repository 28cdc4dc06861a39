import { z } from "zod";
import { UserError } from "../core/errors.ts";
import { redactUrlCredentials } from "../core/redact.ts";

/**
 * Model spec strings (DESIGN.md, "Contracts worth keeping stable"):
 *
 *   exact                                          the exact twins (no language model)
 *   openai:gpt-4o-mini                             api.openai.com, key from OPENAI_API_KEY
 *   openai-compatible:http://127.0.0.1:8000/v1#m   any OpenAI-compatible server (vLLM, llama.cpp server, …);
 *                                                  optional key from BAYESACT_API_KEY
 *   ollama:qwen2.5:7b                              Ollama's OpenAI endpoint at OLLAMA_HOST (default 127.0.0.1:11434)
 *   llamacpp:/path/model.gguf[?ctx=4096&parallel=4&threads=2&gpu=auto&lora=/path/adapter.gguf]   local GGUF through node-llama-cpp
 *   replay:/path/cassette.jsonl                    recorded calls, no model needed
 *   embedded:base | embedded:/path/model.json      the API-Bank embedded learner (train/embedded), in process
 *
 * Keys are read from the environment at construction and never written anywhere. Credentials in a URL
 * (`openai-compatible:http://user:pw@host/v1#m`) are sent as HTTP Basic authentication; `spec` — the form that is
 * shown, journaled and used as the model id — has them replaced by `***` (`core/redact.ts`), and only `baseURL`
 * keeps them.
 */
export type ModelSpec =
  | { kind: "exact"; spec: string }
  | {
      kind: "openai-compatible";
      spec: string;
      baseURL: string;
      model: string;
      apiKeyVar: string | undefined;
      family: "openai" | "openai-compatible" | "ollama";
    }
  | {
      kind: "llamacpp";
      spec: string;
      modelPath: string;
      contextSize?: number;
      parallel?: number;
      threads?: number;
      /** A LoRA adapter GGUF applied on top of the model. */
      lora?: string;
      gpu: false | "auto";
    }
  | { kind: "replay"; spec: string; path: string }
  | { kind: "embedded"; spec: string; path: string | undefined };

const KINDS =
  "exact, openai:MODEL, openai-compatible:URL#MODEL, ollama:MODEL, llamacpp:PATH.gguf, replay:PATH.jsonl, embedded:base|PATH.json";

const LlamaQuery = z.strictObject({
  ctx: z.coerce.number().int().min(16).optional(),
  parallel: z.coerce.number().int().min(1).max(64).optional(),
  threads: z.coerce.number().int().min(1).optional(),
  gpu: z.enum(["auto", "false"]).optional(),
  lora: z.string().min(1).optional(),
});

function bad(spec: string, why: string): UserError {
  return new UserError(
    `bad model spec "${redactUrlCredentials(spec)}": ${redactUrlCredentials(why)} (expected one of: ${KINDS})`,
    {
      category: "bad_model_spec",
    },
  );
}

export function parseModelSpec(
  spec: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): ModelSpec {
  const s = spec.trim();
  if (s === "exact") return { kind: "exact", spec: s };
  const colon = s.indexOf(":");
  if (colon <= 0) throw bad(spec, "no provider prefix");
  const prefix = s.slice(0, colon);
  const rest = s.slice(colon + 1);
  if (rest === "") throw bad(spec, `nothing after "${prefix}:"`);
  switch (prefix) {
    case "openai": {
      // OPENAI_BASE_URL may carry credentials too: the spec string never does (it names no URL).
      const base = env.OPENAI_BASE_URL ?? "https://api.openai.com/v1";
      return {
        kind: "openai-compatible",
        family: "openai",
        spec: s,
        baseURL: base,
        model: rest,
        apiKeyVar: "OPENAI_API_KEY",
      };
    }
    case "openai-compatible": {
      const hash = rest.lastIndexOf("#");
      if (hash < 0) throw bad(spec, "missing #MODEL after the URL");
      const url = rest.slice(0, hash);
      const model = rest.slice(hash + 1);
      if (model === "") throw bad(spec, "empty model name after #");
      let parsed: URL;
      try {
        parsed = new URL(url);
      } catch {
        throw bad(spec, `"${url}" is not a URL`);
      }
      if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
        throw bad(spec, "the URL must be http or https");
      return {
        kind: "openai-compatible",
        family: "openai-compatible",
        spec: redactUrlCredentials(s),
        baseURL: url.replace(/\/+$/, ""),
        model,
        apiKeyVar: "BAYESACT_API_KEY",
      };
    }
    case "ollama": {
      const host = (env.OLLAMA_HOST ?? "http://127.0.0.1:11434").replace(/\/+$/, "");
      const base = /^https?:\/\//.test(host) ? host : `http://${host}`;
      return {
        kind: "openai-compatible",
        family: "ollama",
        spec: s,
        baseURL: `${base}/v1`,
        model: rest,
        apiKeyVar: undefined,
      };
    }
    case "llamacpp": {
      const q = rest.indexOf("?");
      const modelPath = q >= 0 ? rest.slice(0, q) : rest;
      if (modelPath === "") throw bad(spec, "empty model path");
      const query = LlamaQuery.safeParse(
        q >= 0 ? Object.fromEntries(new URLSearchParams(rest.slice(q + 1))) : {},
      );
      if (!query.success)
        throw bad(spec, `bad llamacpp option: ${z.prettifyError(query.error).replaceAll("\n", " ")}`);
      const o = query.data;
      return {
        kind: "llamacpp",
        spec: s,
        modelPath,
        gpu: o.gpu === "auto" ? "auto" : false,
        ...(o.ctx !== undefined ? { contextSize: o.ctx } : {}),
        ...(o.parallel !== undefined ? { parallel: o.parallel } : {}),
        ...(o.threads !== undefined ? { threads: o.threads } : {}),
        ...(o.lora !== undefined ? { lora: o.lora } : {}),
      };
    }
    case "replay":
      return { kind: "replay", spec: s, path: rest };
    case "embedded":
      return { kind: "embedded", spec: s, path: rest === "base" ? undefined : rest };
    default:
      throw bad(spec, `unknown provider "${prefix}"`);
  }
}
