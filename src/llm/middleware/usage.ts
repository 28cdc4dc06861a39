import { readFileSync } from "node:fs";
import { z } from "zod";
import { UserError } from "../../core/errors.ts";
import { Emitter } from "../../core/events.ts";
import { LlmError, toLlmError, ZERO_USAGE } from "../errors.ts";
import type { LlmEvents } from "../events.ts";
import type { GenerateRequest, GenerateResult, LanguageModel, Usage } from "../types.ts";
import { wrapGenerate } from "./wrap.ts";

/** USD per million tokens. */
export const PriceSchema = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
});
export type Price = z.infer<typeof PriceSchema>;

/**
 * Price table from config, keyed by full model spec (`openai:gpt-4o-mini`) or bare model name (`gpt-4o-mini`).
 * bayesact ships no prices: they change, and a stale built-in table would print wrong costs.
 */
export const PriceTableSchema = z.record(z.string(), PriceSchema);
export type PriceTable = z.infer<typeof PriceTableSchema>;

/**
 * Read a price table from a JSON file, e.g. `{"gpt-4o-mini": {"inputPerMTok": 0.15, "outputPerMTok": 0.6}}`.
 * A missing or invalid file is a one-line `UserError`.
 */
export function loadPriceTable(path: string): PriceTable {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error);
    throw new UserError(`price table ${path}: ${reason}`, { category: "bad_config" });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`price table ${path} is not JSON: ${(error as Error).message}`, {
      category: "bad_config",
    });
  }
  const parsed = PriceTableSchema.safeParse(json);
  if (!parsed.success) {
    throw new UserError(
      `price table ${path} is invalid: ${z.prettifyError(parsed.error).replaceAll("\n", " ")}`,
      {
        category: "bad_config",
      },
    );
  }
  return parsed.data;
}

/** Providers that never bill: their cost is 0 whatever the table says. */
const FREE_PROVIDERS: ReadonlySet<string> = new Set(["llamacpp", "mock", "replay"]);

/** The bare model name of a spec: after `#` for `openai-compatible:URL#name`, else after the first `:`. */
export function modelName(modelId: string): string {
  const hash = modelId.lastIndexOf("#");
  if (hash >= 0) return modelId.slice(hash + 1);
  const colon = modelId.indexOf(":");
  return colon >= 0 ? modelId.slice(colon + 1) : modelId;
}

/** The price of a model, `0` for free providers, `undefined` when the table has no entry. */
export function priceFor(
  model: Pick<LanguageModel, "id" | "provider">,
  prices: PriceTable,
): Price | undefined {
  if (FREE_PROVIDERS.has(model.provider)) return { inputPerMTok: 0, outputPerMTok: 0 };
  return prices[model.id] ?? prices[modelName(model.id)];
}

export function costOf(usage: Usage, price: Price | undefined): number {
  if (!price) return 0;
  return (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1_000_000;
}

export interface ModelUsage {
  calls: number;
  failedCalls: number;
  /** Retried attempts, of calls and of capability probes. */
  retries: number;
  /** Time spent in the waits before those retries. */
  retryWaitMs: number;
  /** Attempts that ended in category `timeout` (retried or not). */
  timeouts: number;
  /** Choices served from the cache. */
  cacheHits: number;
  samples: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  /** Summed wall time of calls that reached the provider. */
  latencyMs: number;
  /** Output tokens per second of provider time (local models report this instead of a cost). */
  tokensPerSecond: number;
  /** True when the model had no price: its cost is reported as 0 but is unknown. */
  unpriced: boolean;
}

export interface UsageSnapshot extends Omit<ModelUsage, "unpriced"> {
  byModel: Record<string, ModelUsage>;
  unpricedModels: string[];
}

function emptyUsage(): ModelUsage {
  return {
    calls: 0,
    failedCalls: 0,
    retries: 0,
    retryWaitMs: 0,
    timeouts: 0,
    cacheHits: 0,
    samples: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    latencyMs: 0,
    tokensPerSecond: 0,
    unpriced: false,
  };
}

/**
 * Usage and cost accounting across every model of a run. Middleware reports to it; it emits `llm.call` events
 * (for the run journal and progress bar) and gives snapshots for `summary.json`.
 */
export class UsageMeter {
  readonly events = new Emitter<LlmEvents>();
  readonly prices: PriceTable;
  private readonly models = new Map<string, ModelUsage>();

  constructor(prices: PriceTable = {}) {
    this.prices = prices;
  }

  private entry(modelId: string): ModelUsage {
    let e = this.models.get(modelId);
    if (!e) {
      e = emptyUsage();
      this.models.set(modelId, e);
    }
    return e;
  }

  recordCall(
    model: Pick<LanguageModel, "id" | "provider">,
    call: {
      usage: Usage;
      latencyMs: number;
      cacheHits: number;
      samples: number;
      errorCategory?: LlmError["category"];
    },
  ): number {
    const price = priceFor(model, this.prices);
    const cost = costOf(call.usage, price);
    const e = this.entry(model.id);
    e.calls += 1;
    if (call.errorCategory) e.failedCalls += 1;
    e.cacheHits += call.cacheHits;
    e.samples += call.samples;
    e.inputTokens += call.usage.inputTokens;
    e.outputTokens += call.usage.outputTokens;
    e.costUsd += cost;
    if (call.cacheHits < call.samples) e.latencyMs += call.latencyMs;
    e.tokensPerSecond = e.latencyMs > 0 ? e.outputTokens / (e.latencyMs / 1000) : 0;
    if (!price) e.unpriced = true;
    this.events.emit("llm.call", {
      modelId: model.id,
      provider: model.provider,
      ok: call.errorCategory === undefined,
      ...(call.errorCategory ? { errorCategory: call.errorCategory } : {}),
      usage: call.usage,
      costUsd: cost,
      latencyMs: call.latencyMs,
      cacheHits: call.cacheHits,
      samples: call.samples,
    });
    return cost;
  }

  /** A failed attempt that is retried after `delayMs` (from the retry middleware's `onRetry`). */
  recordRetry(modelId: string, attempt: number, delayMs: number, errorCategory: LlmError["category"]): void {
    const e = this.entry(modelId);
    e.retries += 1;
    e.retryWaitMs += delayMs;
    if (errorCategory === "timeout") e.timeouts += 1;
    this.events.emit("llm.retry", { modelId, attempt, delayMs, errorCategory });
  }

  /** A failed attempt that is not retried (from `onGiveUp`): counted when it timed out. */
  recordGiveUp(modelId: string, errorCategory: LlmError["category"]): void {
    if (errorCategory === "timeout") this.entry(modelId).timeouts += 1;
  }

  get costUsd(): number {
    let total = 0;
    for (const e of this.models.values()) total += e.costUsd;
    return total;
  }

  snapshot(): UsageSnapshot {
    const total = emptyUsage();
    const byModel: Record<string, ModelUsage> = {};
    const unpricedModels: string[] = [];
    for (const [id, e] of [...this.models].sort(([a], [b]) => a.localeCompare(b))) {
      byModel[id] = { ...e };
      if (e.unpriced) unpricedModels.push(id);
      total.calls += e.calls;
      total.failedCalls += e.failedCalls;
      total.retries += e.retries;
      total.retryWaitMs += e.retryWaitMs;
      total.timeouts += e.timeouts;
      total.cacheHits += e.cacheHits;
      total.samples += e.samples;
      total.inputTokens += e.inputTokens;
      total.outputTokens += e.outputTokens;
      total.costUsd += e.costUsd;
      total.latencyMs += e.latencyMs;
    }
    total.tokensPerSecond = total.latencyMs > 0 ? total.outputTokens / (total.latencyMs / 1000) : 0;
    const { unpriced: _unpriced, ...rest } = total;
    return { ...rest, byModel, unpricedModels };
  }
}

/**
 * Count every logical call (after retries, so put it outside `withRetry`, which folds failed attempts' tokens into
 * what it returns) and, outside the cache, every cache hit. Failed calls count their billed tokens too.
 */
export function withUsage(model: LanguageModel, meter: UsageMeter): LanguageModel {
  return wrapGenerate(model, async (request) => {
    const started = performance.now();
    const samples = request.n ?? 1;
    try {
      const result = await model.generate(request);
      meter.recordCall(model, {
        usage: result.usage,
        latencyMs: result.latencyMs,
        cacheHits: result.cacheHits ?? 0,
        samples,
      });
      return result;
    } catch (thrown) {
      const error = toLlmError(thrown, request.signal);
      meter.recordCall(model, {
        usage: error.usage ?? ZERO_USAGE,
        latencyMs: performance.now() - started,
        cacheHits: 0,
        samples,
        errorCategory: error.category,
      });
      throw error;
    }
  });
}

export interface BudgetOptions {
  maxUsd: number;
  prices: PriceTable;
  /** Output tokens assumed per sample when a request sets no `maxTokens` (default 4096). */
  defaultMaxTokens?: number;
  events?: Emitter<LlmEvents>;
}

/**
 * A hard cost cap. Before each call the worst case is reserved: input tokens bounded by the UTF-8 byte count of
 * the messages (+8 per message for the chat template; byte-level BPE never makes more tokens than bytes) and
 * output by `maxTokens × n`. A call whose reservation would cross the cap is refused with
 * `LlmError("budget_exceeded")` before anything is sent, so spend never exceeds the cap; callers stop cleanly on
 * that category. Actual usage replaces the reservation when the call returns.
 *
 * Place it inside the cache (hits cost nothing) and outside retries (retried attempts share one reservation).
 */
export function withBudget(model: LanguageModel, options: BudgetOptions): LanguageModel {
  const price = priceFor(model, options.prices);
  if (!price) {
    throw new UserError(
      `no price for model ${model.id}: add it to the price table, or run without a budget`,
      { category: "bad_config" },
    );
  }
  const defaultMaxTokens = options.defaultMaxTokens ?? 4096;
  let spent = 0;
  let reserved = 0;
  return wrapGenerate(model, async (request: GenerateRequest): Promise<GenerateResult> => {
    const reservation = costOf(worstCaseUsage(request, defaultMaxTokens), price);
    if (spent + reserved + reservation > options.maxUsd) {
      options.events?.emit("llm.budget", { modelId: model.id, spentUsd: spent, maxUsd: options.maxUsd });
      throw new LlmError(
        "budget_exceeded",
        `budget of $${options.maxUsd} reached ($${spent.toFixed(4)} spent, this call could cost up to $${reservation.toFixed(4)})`,
      );
    }
    reserved += reservation;
    try {
      const result = await model.generate(request);
      spent += costOf(result.usage, price);
      return result;
    } catch (thrown) {
      const error = toLlmError(thrown, request.signal);
      spent += costOf(error.usage ?? ZERO_USAGE, price);
      throw error;
    } finally {
      reserved -= reservation;
    }
  });
}

export function worstCaseUsage(request: GenerateRequest, defaultMaxTokens: number): Usage {
  let inputTokens = 0;
  for (const m of request.messages) inputTokens += Buffer.byteLength(m.content, "utf8") + 8;
  const n = request.n ?? 1;
  return {
    inputTokens: inputTokens * Math.max(n, 1),
    outputTokens: (request.maxTokens ?? defaultMaxTokens) * n,
  };
}

/** A meter's totals as the `llm` block of a `summary.json` (snake_case, like the bench summary's). */
export interface LlmTotals {
  readonly calls: number;
  readonly failed_calls: number;
  readonly input_tokens: number;
  readonly output_tokens: number;
  readonly cost_usd: number;
  readonly cache_hits: number;
  readonly retries: number;
  readonly retry_wait_ms: number;
  readonly timeouts: number;
}

export function llmTotals(usage: UsageSnapshot): LlmTotals {
  return {
    calls: usage.calls,
    failed_calls: usage.failedCalls,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cost_usd: usage.costUsd,
    cache_hits: usage.cacheHits,
    retries: usage.retries,
    // Whole milliseconds: the waits are jittered, fractions of a millisecond mean nothing.
    retry_wait_ms: Math.round(usage.retryWaitMs),
    timeouts: usage.timeouts,
  };
}
