import { requestKey } from "../llm/canonical.ts";
import { toLlmError, ZERO_ATTEMPTS } from "../llm/errors.ts";
import { costOf, type PriceTable, priceFor } from "../llm/middleware/usage.ts";
import { wrapGenerate } from "../llm/middleware/wrap.ts";
import type { Attempts, LanguageModel } from "../llm/types.ts";
import type { LlmCallRecord } from "./types.ts";

/** Per-episode LLM accounting, filled by `withJournal`. */
export interface EpisodeLlmTally {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  cacheHits: number;
  /** Retried attempts, the time waited before them, and attempts that timed out (from each call's `attempts`). */
  retries: number;
  retryWaitMs: number;
  timeouts: number;
}

/** A tally with nothing counted yet. */
export function emptyLlmTally(): EpisodeLlmTally {
  return {
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    cacheHits: 0,
    retries: 0,
    retryWaitMs: 0,
    timeouts: 0,
  };
}

/** Add a call's attempts to the episode's tally; what is journaled per call. */
function countAttempts(tally: EpisodeLlmTally, attempts: Attempts | undefined) {
  const a = attempts ?? ZERO_ATTEMPTS;
  tally.retries += a.retries;
  tally.retryWaitMs += a.retryWaitMs;
  tally.timeouts += a.timeouts;
  return { retries: a.retries, retryWaitMs: a.retryWaitMs, timeouts: a.timeouts };
}

/**
 * Record every call an episode's agent makes: the request (messages), the responses, tokens, latency, cost,
 * cache hits and the attempts it took (retries, retry waits, timeouts), tagged with the episode and the step during which it happened. Wraps the run's shared model stack
 * once per episode, so concurrent episodes are attributed correctly.
 */
export function withJournal(
  model: LanguageModel,
  options: {
    episodeId: string;
    /** The current step index (read at call time). */
    step: () => number;
    prices: PriceTable;
    record: (call: LlmCallRecord) => void;
    tally: EpisodeLlmTally;
  },
): LanguageModel {
  let seq = 0;
  const price = priceFor(model, options.prices);
  const journaled = wrapGenerate(model, async (request) => {
    const t = options.step();
    const mySeq = seq++;
    const started = performance.now();
    const base = {
      episodeId: options.episodeId,
      t,
      seq: mySeq,
      requestHash: requestKey(model.id, request),
      model: model.id,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      samples: request.n ?? 1,
    };
    try {
      const result = await model.generate(request);
      const costUsd = costOf(result.usage, price);
      const tally = options.tally;
      tally.calls += 1;
      tally.inputTokens += result.usage.inputTokens;
      tally.outputTokens += result.usage.outputTokens;
      tally.costUsd += costUsd;
      tally.cacheHits += result.cacheHits ?? 0;
      options.record({
        ...base,
        responses: result.choices.map((c) => c.text),
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        latencyMs: result.latencyMs,
        costUsd,
        cacheHits: result.cacheHits ?? 0,
        ...countAttempts(tally, result.attempts),
        ok: true,
      });
      return result;
    } catch (thrown) {
      const error = toLlmError(thrown, request.signal);
      const usage = error.usage ?? { inputTokens: 0, outputTokens: 0 };
      const costUsd = costOf(usage, price);
      const tally = options.tally;
      tally.calls += 1;
      tally.inputTokens += usage.inputTokens;
      tally.outputTokens += usage.outputTokens;
      tally.costUsd += costUsd;
      options.record({
        ...base,
        responses: error.raw === undefined ? [] : [error.raw],
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        latencyMs: performance.now() - started,
        costUsd,
        cacheHits: 0,
        ...countAttempts(tally, error.attempts),
        ok: false,
        errorCategory: error.category,
      });
      throw error;
    }
  });
  const score = model.score;
  if (!score) return journaled;
  // Exact log-likelihoods (RAP's prior r₀ on local models) are model calls too: journal and count them.
  return {
    ...journaled,
    score: async (prefix: string, continuation: string, o?: { signal?: AbortSignal }) => {
      const t = options.step();
      const mySeq = seq++;
      const started = performance.now();
      const base = {
        episodeId: options.episodeId,
        t,
        seq: mySeq,
        requestHash: requestKey(model.id, { messages: [{ role: "user", content: prefix }], maxTokens: 0 }),
        model: model.id,
        messages: [{ role: "score:prefix", content: prefix }],
        samples: 1,
        outputTokens: 0,
        costUsd: 0,
        cacheHits: 0,
        // Scoring is local and not retried.
        retries: 0,
        retryWaitMs: 0,
        timeouts: 0,
      };
      try {
        const result = await score.call(model, prefix, continuation, o);
        options.tally.calls += 1;
        options.record({
          ...base,
          // The provider reports no prompt token count for scoring: the scored tokens go into the text instead.
          responses: [
            `${continuation} (log-likelihood ${result.logprob}, ${result.tokens.length} tokens scored)`,
          ],
          inputTokens: 0,
          latencyMs: performance.now() - started,
          ok: true,
        });
        return result;
      } catch (thrown) {
        const error = toLlmError(thrown, o?.signal);
        options.tally.calls += 1;
        options.record({
          ...base,
          responses: [],
          inputTokens: 0,
          latencyMs: performance.now() - started,
          ok: false,
          errorCategory: error.category,
        });
        throw error;
      }
    },
  };
}
