import type { LlmErrorCategory } from "./errors.ts";
import type { Usage } from "./types.ts";

/** Events of the LLM layer (combined with `CoreEvents` by higher layers). */
export interface LlmEvents {
  [key: string]: unknown;
  /** One logical call finished (after retries), successfully or not. */
  "llm.call": {
    modelId: string;
    provider: string;
    ok: boolean;
    errorCategory?: LlmErrorCategory;
    usage: Usage;
    costUsd: number;
    latencyMs: number;
    /** Choices served from the cache. */
    cacheHits: number;
    samples: number;
  };
  "llm.retry": { modelId: string; attempt: number; delayMs: number; errorCategory: LlmErrorCategory };
  "llm.budget": { modelId: string; spentUsd: number; maxUsd: number };
}
