/**
 * Canonical request identity, shared by the cache (one key per sample) and the replay cassettes (one key per
 * call). Two requests that would make a provider produce the same distribution of answers get the same key;
 * everything that only changes *how* we wait for the answer (`signal`, `timeoutMs`) or *how many* samples we
 * ask for at once (`n`) is left out.
 */
import { createHash } from "node:crypto";
import type { GenerateRequest } from "./types.ts";

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/**
 * The identity of `request` sent to `modelId`, as a plain JSON value with sorted keys. `sampleIndex` (when
 * given) names one sample: the cache keys each sample separately so that asking for samples 0..2 and later
 * for 1..4 shares samples 1 and 2. Undefined fields are omitted, so `{}` and `{ temperature: undefined }` agree.
 */
export function canonicalRequest(modelId: string, request: GenerateRequest, sampleIndex?: number): JsonValue {
  const value: Record<string, unknown> = {
    model: modelId,
    // Only role and content: extra runtime properties on a message object must not change the key.
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
    temperature: request.temperature,
    topP: request.topP,
    maxTokens: request.maxTokens,
    stop: request.stop,
    seed: request.seed,
    responseFormat: request.responseFormat,
    logprobs: request.logprobs === undefined ? undefined : { top: request.logprobs.top },
    sampleIndex,
  };
  return toCanonical(value, "request");
}

/** `JSON.stringify` with object keys sorted at every depth and undefined object fields dropped. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(toCanonical(value, "value"));
}

/** SHA-256 (hex) of the canonical JSON of `value`. */
export function hashCanonical(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** The cache key of one sample (or of the whole request when `sampleIndex` is absent). */
export function requestKey(modelId: string, request: GenerateRequest, sampleIndex?: number): string {
  return hashCanonical(canonicalRequest(modelId, request, sampleIndex));
}

/** A short single-line excerpt of the last message, for error messages. */
export function lastMessageExcerpt(request: GenerateRequest, max = 60): string {
  const text = (request.messages.at(-1)?.content ?? "").replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function toCanonical(value: unknown, path: string): JsonValue {
  if (value === null) return null;
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      // JSON has no NaN/Infinity; silently writing `null` would merge distinct requests under one key.
      if (!Number.isFinite(value)) throw new TypeError(`${path} is not a finite number: ${value}`);
      return value;
    case "object": {
      if (Array.isArray(value)) {
        return value.map((v: unknown, i) => (v === undefined ? null : toCanonical(v, `${path}[${i}]`)));
      }
      const out: Record<string, JsonValue> = {};
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record).sort()) {
        const v = record[key];
        if (v !== undefined) out[key] = toCanonical(v, `${path}.${key}`);
      }
      return out;
    }
    default:
      throw new TypeError(`${path} is not JSON-serialisable (${typeof value})`);
  }
}
