import type { GenerateRequest, GenerateResult, LanguageModel } from "../types.ts";

/**
 * Build a middleware's model: everything delegates to `inner` except `generate`. Keeps every middleware a
 * one-function change, like hono's `(c, next)`.
 */
export function wrapGenerate(
  inner: LanguageModel,
  generate: (request: GenerateRequest) => Promise<GenerateResult>,
): LanguageModel {
  const score = inner.score;
  const close = inner.close;
  return {
    id: inner.id,
    provider: inner.provider,
    endpoint: inner.endpoint,
    generate,
    capabilities: (options) => inner.capabilities(options),
    ...(score
      ? {
          score: (prefix: string, continuation: string, o?: { signal?: AbortSignal }) =>
            score.call(inner, prefix, continuation, o),
        }
      : {}),
    ...(close ? { close: () => close.call(inner) } : {}),
  };
}
