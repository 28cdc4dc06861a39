/** llm/: one `LanguageModel` interface, its providers, middleware and structured output. See docs/llm.md. */
export { canonicalJson, canonicalRequest, requestKey } from "./canonical.ts";
export { type CreateModelOptions, createModel } from "./create.ts";
export {
  isLlmError,
  LlmError,
  type LlmErrorCategory,
  parseRetryAfter,
  sumUsage,
  ZERO_USAGE,
} from "./errors.ts";
export type { LlmEvents } from "./events.ts";
export { type GgufFile, readGgufFile, writeGgufFile } from "./llamacpp/gguf.ts";
export { type TinyModelOptions, writeTinyLlamaGguf } from "./llamacpp/tiny-model.ts";
export { type CacheMode, LlmCache, withCache } from "./middleware/cache.ts";
export { LimiterRegistry, type RateLimitOptions, withRateLimit } from "./middleware/rate-limit.ts";
export { type RetryOptions, withRetry } from "./middleware/retry.ts";
export {
  loadPriceTable,
  type Price,
  type PriceTable,
  PriceTableSchema,
  priceFor,
  UsageMeter,
  type UsageSnapshot,
  withBudget,
  withUsage,
} from "./middleware/usage.ts";
export { wrapGenerate } from "./middleware/wrap.ts";
export { LlamaCppModel, type LlamaCppModelOptions } from "./providers/llamacpp.ts";
export { OpenAICompatibleModel, type OpenAICompatibleOptions } from "./providers/openai-compatible.ts";
export { ReplayModel, withRecorder } from "./providers/replay.ts";
export { type ModelSpec, parseModelSpec } from "./spec.ts";
export { generateObject, type ObjectResult, parseJsonAnswer, toJsonSchema } from "./structured.ts";
export { MockLanguageModel } from "./testing/mock.ts";
export type * from "./types.ts";
