import type { EpisodeRecord, Interval, RunConfig, Summary } from "./types.ts";

/** Wilson score interval for k successes in n trials (95%, z = 1.96); [0, 1] when n = 0. */
export function wilson(k: number, n: number, z = 1.959963984540054): Interval {
  if (n === 0) return { low: 0, high: 1 };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At k = 0 and k = n the bound is exactly 0 or 1; floating point would give 1e-17 off.
  return { low: k === 0 ? 0 : Math.max(0, center - half), high: k === n ? 1 : Math.min(1, center + half) };
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((s, x) => s + x, 0) / xs.length;
}

/** Round to 12 significant digits so sums in a different order cannot change the bytes of summary.json. */
function tidy(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(12)) : x;
}

/**
 * Mean of the episodes' own curves, index by index; a shorter series counts with its last value (curves are
 * cumulative, e.g. solved within k tries), so every episode counts at every index.
 */
export function meanCurves(episodes: readonly EpisodeRecord[]): Record<string, number[]> {
  const names = new Set<string>();
  for (const e of episodes) for (const name of Object.keys(e.curves ?? {})) names.add(name);
  const out: Record<string, number[]> = {};
  for (const name of [...names].sort()) {
    const series = episodes.map((e) => e.curves?.[name] ?? []).filter((s) => s.length > 0);
    const length = Math.max(...series.map((s) => s.length));
    out[name] = Array.from({ length }, (_, i) =>
      tidy(series.reduce((sum, s) => sum + (s[Math.min(i, s.length - 1)] ?? 0), 0) / series.length),
    );
  }
  return out;
}

/**
 * `summary.json` from the finished episodes (in grid order, so the result does not depend on which episode finished
 * first). Everything except `wall_s` is a pure function of the config and the episodes.
 */
export function summarize(
  config: RunConfig,
  episodes: readonly EpisodeRecord[],
  wallMs: number,
  curves: Readonly<Record<string, readonly number[]>> = meanCurves(episodes),
): Summary {
  const n = episodes.length;
  const successes = episodes.filter((e) => e.success).length;
  const byInstance = config.instances.map((instance) => {
    const eps = episodes.filter((e) => e.instance === instance);
    return {
      instance,
      episodes: eps.length,
      success_rate: tidy(eps.length ? eps.filter((e) => e.success).length / eps.length : 0),
      mean_return: tidy(mean(eps.map((e) => e.totalReturn))),
      mean_steps: tidy(mean(eps.map((e) => e.steps))),
    };
  });
  const successByStep: number[] = [];
  for (let t = 1; t <= config.maxSteps; t++) {
    successByStep.push(tidy(n ? episodes.filter((e) => e.success && e.steps <= t).length / n : 0));
  }
  const ci = wilson(successes, n);
  return {
    env: config.env,
    agent: config.agent,
    model: config.model,
    split: config.split,
    options: config.options,
    episodes: n,
    success_rate: tidy(n ? successes / n : 0),
    success_ci95: { low: tidy(ci.low), high: tidy(ci.high) },
    mean_return: tidy(mean(episodes.map((e) => e.totalReturn))),
    mean_steps: tidy(mean(episodes.map((e) => e.steps))),
    llm: {
      calls: episodes.reduce((s, e) => s + e.llmCalls, 0),
      input_tokens: episodes.reduce((s, e) => s + e.inputTokens, 0),
      output_tokens: episodes.reduce((s, e) => s + e.outputTokens, 0),
      cost_usd: tidy(episodes.reduce((s, e) => s + e.costUsd, 0)),
      cache_hits: episodes.reduce((s, e) => s + e.cacheHits, 0),
      retries: episodes.reduce((s, e) => s + e.retries, 0),
      // Whole milliseconds: the waits are jittered, fractions of a millisecond mean nothing.
      retry_wait_ms: Math.round(episodes.reduce((s, e) => s + e.retryWaitMs, 0)),
      timeouts: episodes.reduce((s, e) => s + e.timeouts, 0),
    },
    wall_s: Math.round(wallMs) / 1000,
    success_by_step: successByStep,
    per_instance: byInstance,
    curves,
  };
}
