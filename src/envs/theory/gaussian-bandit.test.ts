import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import {
  ArmStats,
  banditMessages,
  bestArmPosterior,
  contextPolicy,
  GaussianBandit,
  gaussianBanditSpec,
} from "./gaussian-bandit.ts";

const spec = gaussianBanditSpec();

/** Calibration of P(a* = a | summary): predicted probability against how often a was the best arm, in 10 bins. */
function calibration(posteriorSigma: number, samples: number): number {
  const rng = new Rng("calibration");
  const believed = gaussianBanditSpec({ sigma: posteriorSigma });
  const sum = new Float64Array(10);
  const hits = new Float64Array(10);
  const n = new Float64Array(10);
  for (let i = 0; i < samples; i++) {
    const bandit = GaussianBandit.sample(spec, rng);
    const policy = contextPolicy(spec.arms, rng);
    const stats = new ArmStats(spec.arms);
    const pulls = rng.int(21);
    for (let t = 0; t < pulls; t++) {
      const a = rng.categorical(policy);
      stats.add(a, bandit.pull(a, rng));
    }
    bestArmPosterior(believed, stats).forEach((q, a) => {
      const b = Math.min(9, Math.floor(q * 10));
      sum[b] = (sum[b] as number) + q;
      n[b] = (n[b] as number) + 1;
      if (a === bandit.best) hits[b] = (hits[b] as number) + 1;
    });
  }
  // The largest gap between predicted and observed frequency, in standard errors of the observed one.
  let worst = 0;
  for (let b = 0; b < 10; b++) {
    const count = n[b] as number;
    if (count < 100) continue;
    const predicted = (sum[b] as number) / count;
    const observed = (hits[b] as number) / count;
    const se = Math.sqrt(Math.max(predicted * (1 - predicted), 1e-4) / count);
    worst = Math.max(worst, Math.abs(observed - predicted) / se);
  }
  return worst;
}

describe("DPT's Gaussian bandit", () => {
  it("the posterior of the best arm is uniform with no pulls and sums to 1", () => {
    const stats = new ArmStats(spec.arms);
    const p = bestArmPosterior(spec, stats);
    for (const q of p) expect(q).toBeCloseTo(1 / spec.arms, 6);
    stats.add(2, 0.9);
    stats.add(2, 0.8);
    const q = bestArmPosterior(spec, stats);
    expect(q.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(Math.max(...q)).toBe(q[2]);
  });

  it("agrees with Monte Carlo over truncated-normal posteriors", () => {
    const stats = new ArmStats(2);
    for (const r of [0.6, 0.5, 0.7]) stats.add(0, r);
    for (const r of [0.5, 0.55, 0.45, 0.6, 0.5]) stats.add(1, r);
    const two = gaussianBanditSpec({ arms: 2 });
    const exact = bestArmPosterior(two, stats)[0] as number;
    const rng = new Rng("mc");
    const draw = (a: number) => {
      const sd = 0.3 / Math.sqrt(stats.counts[a] as number);
      for (;;) {
        const x = rng.normal(stats.shownMean(a), sd);
        if (x >= 0 && x <= 1) return x;
      }
    };
    let wins = 0;
    const N = 200_000;
    for (let i = 0; i < N; i++) if (draw(0) > draw(1)) wins++;
    expect(Math.abs(wins / N - exact)).toBeLessThan(0.005);
  });

  it("is calibrated on DPT's context distribution, and the check fails for a posterior with the wrong noise", () => {
    expect(calibration(0.3, 6000)).toBeLessThan(4);
    // Believing the rewards ten times less noisy makes the posterior overconfident.
    expect(calibration(0.03, 6000)).toBeGreaterThan(8);
  });

  it("the context policy is a distribution, from spread out to all on one arm", () => {
    const rng = new Rng(1);
    let concentrated = 0;
    for (let i = 0; i < 500; i++) {
      const p = contextPolicy(5, rng);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      if (Math.max(...p) === 1) concentrated++;
    }
    // ω = 1 in one case of eleven.
    expect(concentrated).toBeGreaterThan(20);
    expect(concentrated).toBeLessThan(80);
  });

  it("the prompt shows pulls and the rounded mean per arm, and the posterior reads only what it shows", () => {
    const stats = new ArmStats(spec.arms);
    stats.add(0, 0.123);
    stats.add(0, 0.5);
    stats.add(3, -0.2);
    const text = banditMessages(spec, stats)[0]?.content ?? "";
    expect(text).toContain("Memory: 3 past pulls, summarised per arm.");
    expect(text).toContain("arm 1: 2 pulls, mean 0.31");
    expect(text).toContain("arm 2: never pulled");
    expect(text).toContain("arm 4: 1 pulls, mean -0.20");
    expect(text).toContain("Now: pull 4 | ?");
    const nearby = new ArmStats(spec.arms);
    nearby.add(0, 0.624);
    nearby.add(3, -0.2);
    nearby.add(0, 0.0);
    expect(Array.from(bestArmPosterior(spec, nearby))).toEqual(Array.from(bestArmPosterior(spec, stats)));
  });
});
