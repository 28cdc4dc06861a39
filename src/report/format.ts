/** Numbers as the report shows them, and the Wilson interval its charts draw. */
import { wilson } from "../bench/summary.ts";
import type { Interval } from "../bench/types.ts";

/** Wilson score interval for `successes` out of `n` at 95%; [0, 1] when there are no trials. */
export { wilson } from "../bench/summary.ts";

/** Wilson interval from a rate over `n` trials (the success count is recovered by rounding). */
export function wilsonFromRate(rate: number, n: number): Interval {
  return wilson(Math.round(rate * n), n);
}

/** Integer with thousands separators, independent of the host's locale. */
export function formatInt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const sign = n < 0 ? "-" : "";
  const digits = String(Math.round(Math.abs(n)));
  return sign + digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A number with at most `digits` decimals, trailing zeros dropped. */
export function formatNumber(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return String(n);
  const fixed = n.toFixed(digits);
  const trimmed = fixed.includes(".") ? fixed.replace(/\.?0+$/, "") : fixed;
  return trimmed === "-0" ? "0" : trimmed;
}

export function formatPercent(rate: number, digits = 1): string {
  return `${(rate * 100).toFixed(digits)}%`;
}

export function formatInterval(ci: Interval): string {
  return `${formatPercent(ci.low)}–${formatPercent(ci.high)}`;
}

/** US dollars: four decimals below a dollar, where LLM costs usually sit, two above. */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return String(usd);
  return Math.abs(usd) < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds < 60) return `${formatNumber(seconds, 1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
