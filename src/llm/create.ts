import { UserError } from "../core/errors.ts";
import { type CacheMode, type LlmCache, withCache } from "./middleware/cache.ts";
import { type RateLimitOptions, withRateLimit } from "./middleware/rate-limit.ts";
import { type RetryOptions, withRetry } from "./middleware/retry.ts";
import { type PriceTable, UsageMeter, withBudget, withUsage } from "./middleware/usage.ts";
import { LlamaCppModel, type LlamaCppModelOptions } from "./providers/llamacpp.ts";
import { OpenAICompatibleModel } from "./providers/openai-compatible.ts";
import { ReplayModel, withRecorder } from "./providers/replay.ts";
import { type ModelSpec, parseModelSpec } from "./spec.ts";
import type { Capabilities, LanguageModel } from "./types.ts";

export interface CreateModelOptions {
  /** Where keys and hosts are read from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Usage and cost accounting shared by every model of a run (a new meter when absent). */
  meter?: UsageMeter;
  /** Price table for cost accounting and the budget. */
  prices?: PriceTable;
  /** Hard cost cap in USD across this model's calls (needs a price for paid models). */
  budgetUsd?: number;
  /** Response cache; `mode: "off"` is `--no-cache`, `cache-only` never calls the model. */
  cache?: { cache: LlmCache; mode?: CacheMode };
  /** Retry policy; `false` disables retries. */
  retry?: RetryOptions | false;
  /** Per-endpoint limits (default: 8 concurrent calls per endpoint). */
  rateLimit?: RateLimitOptions;
  /** Record every provider call into this cassette (for later `replay:` runs). */
  record?: string;
  /** Per-attempt timeout for HTTP providers, in milliseconds. */
  timeoutMs?: number;
  /** Known capabilities, skipping probes (HTTP providers). */
  capabilities?: Partial<Capabilities>;
}

/**
 * Turn a spec string into a ready model with the standard middleware stack, outermost first:
 *
 *   usage → cache → budget → retry → rate limit → [recorder] → provider
 *
 * Usage sits outside the cache so hits are counted; the cache outside the budget so hits cost nothing; the budget
 * outside retries so retried attempts share one reservation; the rate limit inside retries so every attempt takes
 * a slot; the recorder next to the provider so a cassette replaces exactly the provider.
 */
export function createModel(spec: string | ModelSpec, options: CreateModelOptions = {}): LanguageModel {
  const env = options.env ?? process.env;
  const parsed = typeof spec === "string" ? parseModelSpec(spec, env) : spec;
  let model = createProvider(parsed, options, env);
  if (options.record) model = withRecorder(model, { path: options.record });
  model = withRateLimit(model, { concurrency: 8, ...options.rateLimit });
  const meter = options.meter ?? new UsageMeter(options.prices ?? {});
  if (options.retry !== false) {
    const retry = options.retry ?? {};
    const modelId = model.id;
    model = withRetry(model, {
      ...retry,
      onRetry: (info) => {
        meter.recordRetry(modelId, info.attempt, info.delayMs, info.error.category);
        retry.onRetry?.(info);
      },
      onGiveUp: (info) => {
        meter.recordGiveUp(modelId, info.error.category);
        retry.onGiveUp?.(info);
      },
    });
  }
  if (options.budgetUsd !== undefined) {
    model = withBudget(model, {
      maxUsd: options.budgetUsd,
      prices: options.prices ?? meter.prices,
      events: meter.events,
    });
  }
  if (options.cache) model = withCache(model, options.cache);
  return withUsage(model, meter);
}

/** The provider options a `llamacpp:` spec stands for (shared with `doctor`, which measures the provider itself). */
export function llamaCppOptions(spec: Extract<ModelSpec, { kind: "llamacpp" }>): LlamaCppModelOptions {
  return {
    modelPath: spec.modelPath,
    id: spec.spec,
    gpu: spec.gpu,
    ...(spec.contextSize !== undefined ? { contextSize: spec.contextSize } : {}),
    ...(spec.parallel !== undefined ? { maxParallel: spec.parallel } : {}),
    ...(spec.threads !== undefined ? { threads: spec.threads } : {}),
    ...(spec.lora !== undefined ? { lora: spec.lora } : {}),
  };
}

function createProvider(
  spec: ModelSpec,
  options: CreateModelOptions,
  env: Readonly<Record<string, string | undefined>>,
): LanguageModel {
  switch (spec.kind) {
    case "exact":
      throw new UserError(
        '"exact" selects the exact twins, which are not a language model; use it as an agent\'s --model',
        {
          category: "bad_model_spec",
        },
      );
    case "openai-compatible": {
      const apiKey = spec.apiKeyVar ? env[spec.apiKeyVar] : undefined;
      if (spec.family === "openai" && !apiKey) {
        throw new UserError(`${spec.apiKeyVar} is not set; export it to use ${spec.spec}`, {
          category: "missing_key",
        });
      }
      return new OpenAICompatibleModel({
        baseURL: spec.baseURL,
        model: spec.model,
        id: spec.spec,
        ...(apiKey ? { apiKey } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.capabilities ? { capabilities: options.capabilities } : {}),
      });
    }
    case "llamacpp":
      return new LlamaCppModel(llamaCppOptions(spec));
    case "replay":
      return new ReplayModel({ path: spec.path });
    case "embedded":
      // The embedded learner reads API-Bank prompts; it lives with the training loop (train/embedded), above
      // this layer, and is opened by the commands that take it.
      throw new UserError(
        `${spec.spec} is the API-Bank embedded learner; use it with bayesact eval apibank or bayesact train apibank`,
        { category: "bad_model_spec" },
      );
  }
}
