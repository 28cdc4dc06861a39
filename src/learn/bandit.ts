/**
 * The DPT anchor (spec words-to-actions.md §9, CPU recipe): pretraining contexts for the Gaussian bandit, and the
 * learned planner against the classical rules on the same test bandits.
 *
 * Data: per sample a bandit μ ~ U[0, 1]^K, a context of n ~ U{0 … horizon} pulls from DPT's context policy
 * (`contextPolicy`), rendered as the Planner's prompt (`banditMessages`), label a* = argmax μ. DPT trains on every
 * prefix of one context with the same label; one uniformly drawn prefix per sample is the same distribution.
 *
 * Evaluation, as DPT's evals/eval_bandit.py:
 * - online: every policy plays each test bandit for `horizon` pulls from an empty history; pseudo-regret
 *   Σ_t (μ* − μ_{a_t}). The learned planner samples from its distribution (read through `score`); the others are
 *   DPT's baselines — Gaussian Thompson sampling (prior N(0.5, 1/12), σ known), UCB (ȳ + 1/√n, unpulled arms
 *   first), the empirical mean (unpulled first) — and exact posterior sampling, the Bayes target of the training
 *   (Thompson sampling under the true uniform prior).
 * - offline: one context of `horizon` pulls per test bandit from the context policy; each rule names one arm from
 *   the first L pulls (L on a grid); regret μ* − μ_â. Learned: its most likely arm; DPT's rules: empirical mean,
 *   LCB (ȳ − 0.8/√n), Thompson's most frequent argmax of 100 posterior draws; and exact BAIL's mode.
 * Every comparison is paired over the same bandits (standard error of the per-bandit difference).
 */
import { Rng } from "../core/rng.ts";
import {
  ArmStats,
  banditMessages,
  bestArmPosterior,
  contextPolicy,
  GaussianBandit,
  type GaussianBanditSpec,
} from "../envs/theory/gaussian-bandit.ts";
import { subgoalAnswer } from "../envs/theory/prompts.ts";
import { renderFallbackChat } from "../llm/providers/llamacpp.ts";
import type { LanguageModel } from "../llm/types.ts";
import { argmax, meanSe } from "../theory/stats.ts";
import type { PretrainSample } from "./data.ts";
import { servedSubgoalDistribution, totalVariation } from "./evaluate.ts";

/** A bandit context in the same record as the Planner's: z is the best arm (μ itself is continuous), `episodes` the
 * pulls in the context, `bail` exact BAIL P(a* = a | the summary shown). */
export type BanditSample = PretrainSample;

/** The Planner's prompt at a summary, rendered as the llama.cpp provider renders it. */
export function banditPrompt(spec: GaussianBanditSpec, stats: ArmStats): string {
  return renderFallbackChat(banditMessages(spec, stats));
}

export function banditSample(
  spec: GaussianBanditSpec,
  seed: number | string,
  index: number,
  horizon: number,
): BanditSample {
  const rng = new Rng(seed).stream(`pretrain ${spec.name} #${index}`);
  const bandit = GaussianBandit.sample(spec, rng);
  const policy = contextPolicy(spec.arms, rng);
  const n = rng.int(horizon + 1);
  const stats = new ArmStats(spec.arms);
  for (let t = 0; t < n; t++) {
    const a = rng.categorical(policy);
    stats.add(a, bandit.pull(a, rng));
  }
  return {
    index,
    z: bandit.best,
    episodes: n,
    prompt: banditPrompt(spec, stats),
    label: bandit.best,
    answer: subgoalAnswer(spec.subgoals[bandit.best] ?? ""),
    bail: bestArmPosterior(spec, stats),
  };
}

/** A rule that names the next arm from the summary (online) — the learned one is async. */
type OnlineRule = (stats: ArmStats, rng: Rng) => number | Promise<number>;

/** DPT's Gaussian Thompson sampling posterior per arm: N(m, v) from prior N(0.5, 1/12) and n pulls of sd σ. */
function gaussianPosterior(spec: GaussianBanditSpec, stats: ArmStats, a: number): { m: number; v: number } {
  const prior = { mean: 0.5, variance: 1 / 12 };
  const n = stats.counts[a] as number;
  if (n === 0) return { m: prior.mean, v: prior.variance };
  const noise = spec.sigma * spec.sigma;
  const w = noise / (noise + n * prior.variance);
  return { m: w * prior.mean + (1 - w) * stats.mean(a), v: 1 / (1 / prior.variance + n / noise) };
}

/** The first arm never pulled, or −1 (DPT's online rules pull each arm once first: argmin of the counts). */
function firstUnpulled(stats: ArmStats): number {
  for (let a = 0; a < stats.arms; a++) if (stats.counts[a] === 0) return a;
  return -1;
}

export const baselineRules = {
  /** Thompson sampling as DPT runs it (Gaussian prior, `sample=True`). */
  thompson:
    (spec: GaussianBanditSpec): OnlineRule =>
    (stats, rng) =>
      argmax(
        Array.from({ length: spec.arms }, (_, a) => {
          const { m, v } = gaussianPosterior(spec, stats, a);
          return rng.normal(m, Math.sqrt(v));
        }),
      ),
  /** UCB with constant 1: ȳ_a + 1/max(1, √n_a), unpulled arms first. */
  ucb: (): OnlineRule => (stats) => {
    const u = firstUnpulled(stats);
    if (u >= 0) return u;
    return argmax(
      Array.from(
        { length: stats.arms },
        (_, a) => stats.mean(a) + 1 / Math.max(1, Math.sqrt(stats.counts[a] as number)),
      ),
    );
  },
  /** The empirical mean, unpulled arms first (greedy). */
  emp: (): OnlineRule => (stats) => {
    const u = firstUnpulled(stats);
    if (u >= 0) return u;
    return argmax(Array.from({ length: stats.arms }, (_, a) => stats.mean(a)));
  },
  /** Exact posterior sampling: draw a from P(a* = · | summary). */
  posterior:
    (spec: GaussianBanditSpec): OnlineRule =>
    (stats, rng) =>
      rng.categorical(bestArmPosterior(spec, stats)),
};

export const OFFLINE_RULES = ["learned", "bail", "thompson", "emp", "lcb"] as const;
export const ONLINE_RULES = ["learned", "posterior", "thompson", "ucb", "emp"] as const;
export type OfflineRule = (typeof OFFLINE_RULES)[number];
export type OnlineRuleName = (typeof ONLINE_RULES)[number];

export interface MeanSe {
  readonly mean: number;
  readonly se: number;
}

export interface BanditAnchorReport {
  readonly bandits: number;
  readonly horizon: number;
  readonly online: {
    /** Cumulative pseudo-regret after t pulls, t = 1 … horizon: mean and s.e. over the bandits, per rule. */
    readonly curves: Record<OnlineRuleName, { mean: number[]; se: number[] }>;
    /** learned − rule at the horizon, paired over bandits. */
    readonly learnedMinus: Record<OnlineRuleName, MeanSe>;
    /** Mean TV between the learned distribution and exact BAIL along the learned planner's own plays. */
    readonly tv: number;
  };
  readonly offline: {
    /** Context lengths L evaluated. */
    readonly lengths: number[];
    /** μ* − μ_â per rule and L: mean and s.e. over the bandits. */
    readonly regret: Record<OfflineRule, MeanSe[]>;
    /** learned − rule at each L, paired. */
    readonly learnedMinus: Record<OfflineRule, MeanSe[]>;
    /** Mean TV between the learned distribution and exact BAIL on the offline contexts (all L). */
    readonly tv: number;
  };
  /** `score` calls made. */
  readonly calls: number;
  readonly seconds: number;
}

export interface BanditAnchorOptions {
  readonly bandits: number;
  readonly horizon: number;
  readonly seed: number | string;
  readonly signal?: AbortSignal;
  /** After each learned decision (progress). */
  readonly onDecision?: () => void;
}

/** Offline context lengths: a few points up to the horizon (DPT plots 50; each costs |arms| score calls a bandit). */
export function offlineLengths(horizon: number): number[] {
  return [...new Set([1, 5, 10, 25, 50, 100, 200, 500].filter((l) => l < horizon).concat(horizon))];
}

/** The test bandits: their own seed stream, never a training draw. */
export function testBandits(
  spec: GaussianBanditSpec,
  count: number,
  seed: number | string,
): GaussianBandit[] {
  const rng = new Rng(seed).stream(`test bandits ${spec.name}`);
  return Array.from({ length: count }, () => GaussianBandit.sample(spec, rng));
}

export async function evaluateBanditAnchor(
  model: LanguageModel,
  spec: GaussianBanditSpec,
  options: BanditAnchorOptions,
): Promise<BanditAnchorReport> {
  const started = performance.now();
  const bandits = testBandits(spec, options.bandits, options.seed);
  let calls = 0;
  const learnedDist = async (stats: ArmStats) => {
    const d = await servedSubgoalDistribution(
      model,
      banditPrompt(spec, stats),
      spec.subgoals,
      options.signal,
    );
    calls += spec.arms;
    options.onDecision?.();
    return d.probs;
  };

  // —— online ——
  let onlineTv = 0;
  let onlineDecisions = 0;
  const rules: Record<OnlineRuleName, OnlineRule> = {
    learned: async (stats, rng) => {
      const probs = await learnedDist(stats);
      onlineTv += totalVariation(probs, bestArmPosterior(spec, stats));
      onlineDecisions += 1;
      return rng.categorical(probs);
    },
    posterior: baselineRules.posterior(spec),
    thompson: baselineRules.thompson(spec),
    ucb: baselineRules.ucb(),
    emp: baselineRules.emp(),
  };
  // cumulative[rule][bandit][t]
  const cumulative = Object.fromEntries(
    ONLINE_RULES.map((r) => [r, bandits.map(() => new Float64Array(options.horizon))]),
  ) as Record<OnlineRuleName, Float64Array[]>;
  for (const [i, bandit] of bandits.entries()) {
    for (const name of ONLINE_RULES) {
      const rng = new Rng(options.seed).stream(`online ${name} #${i}`);
      const stats = new ArmStats(spec.arms);
      const row = cumulative[name][i] as Float64Array;
      let total = 0;
      for (let t = 0; t < options.horizon; t++) {
        const a = await rules[name](stats, rng);
        total += bandit.gap(a);
        row[t] = total;
        stats.add(a, bandit.pull(a, rng));
      }
    }
  }
  const curves = Object.fromEntries(
    ONLINE_RULES.map((r) => {
      const mean: number[] = [];
      const se: number[] = [];
      for (let t = 0; t < options.horizon; t++) {
        const s = meanSe(cumulative[r].map((row) => row[t] as number));
        mean.push(s.mean);
        se.push(s.se);
      }
      return [r, { mean, se }];
    }),
  ) as BanditAnchorReport["online"]["curves"];
  const final = (r: OnlineRuleName) => cumulative[r].map((row) => row[options.horizon - 1] as number);
  const onlineMinus = Object.fromEntries(
    ONLINE_RULES.map((r) => [r, pairedDiff(final("learned"), final(r))]),
  ) as Record<OnlineRuleName, MeanSe>;

  // —— offline ——
  const lengths = offlineLengths(options.horizon);
  const offlineRegret = Object.fromEntries(
    OFFLINE_RULES.map((r) => [r, lengths.map(() => [] as number[])]),
  ) as Record<OfflineRule, number[][]>;
  let offlineTv = 0;
  let offlineDecisions = 0;
  for (const [i, bandit] of bandits.entries()) {
    const rng = new Rng(options.seed).stream(`offline context #${i}`);
    const policy = contextPolicy(spec.arms, rng);
    const stats = new ArmStats(spec.arms);
    let pulled = 0;
    for (const [j, L] of lengths.entries()) {
      while (pulled < L) {
        const a = rng.categorical(policy);
        stats.add(a, bandit.pull(a, rng));
        pulled += 1;
      }
      const probs = await learnedDist(stats);
      const bail = bestArmPosterior(spec, stats);
      offlineTv += totalVariation(probs, bail);
      offlineDecisions += 1;
      const chosen: Record<OfflineRule, number> = {
        learned: argmax(probs),
        bail: argmax(bail),
        thompson: thompsonMode(spec, stats, rng),
        emp: argmax(Array.from({ length: spec.arms }, (_, a) => stats.mean(a))),
        lcb: argmax(
          Array.from(
            { length: spec.arms },
            (_, a) => stats.mean(a) - 0.8 / Math.max(1, Math.sqrt(stats.counts[a] as number)),
          ),
        ),
      };
      for (const r of OFFLINE_RULES) offlineRegret[r][j]?.push(bandit.gap(chosen[r]));
    }
  }
  const regret = Object.fromEntries(OFFLINE_RULES.map((r) => [r, offlineRegret[r].map(meanSe)])) as Record<
    OfflineRule,
    MeanSe[]
  >;
  const offlineMinus = Object.fromEntries(
    OFFLINE_RULES.map((r) => [
      r,
      lengths.map((_, j) => pairedDiff(offlineRegret.learned[j] ?? [], offlineRegret[r][j] ?? [])),
    ]),
  ) as Record<OfflineRule, MeanSe[]>;

  return {
    bandits: options.bandits,
    horizon: options.horizon,
    online: { curves, learnedMinus: onlineMinus, tv: onlineTv / Math.max(1, onlineDecisions) },
    offline: {
      lengths,
      regret,
      learnedMinus: offlineMinus,
      tv: offlineTv / Math.max(1, offlineDecisions),
    },
    calls,
    seconds: (performance.now() - started) / 1000,
  };
}

/** DPT's offline Thompson rule (`sample=False`): the most frequent argmax among 100 posterior draws. */
function thompsonMode(spec: GaussianBanditSpec, stats: ArmStats, rng: Rng): number {
  const freq = new Float64Array(spec.arms);
  const posts = Array.from({ length: spec.arms }, (_, a) => gaussianPosterior(spec, stats, a));
  for (let s = 0; s < 100; s++) {
    const draw = posts.map(({ m, v }) => rng.normal(m, Math.sqrt(v)));
    const a = argmax(draw);
    freq[a] = (freq[a] as number) + 1;
  }
  return argmax(freq);
}

function pairedDiff(a: readonly number[], b: readonly number[]): MeanSe {
  return meanSe(a.map((x, i) => x - (b[i] as number)));
}
