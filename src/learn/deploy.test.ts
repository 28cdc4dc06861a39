import { describe, expect, it } from "vitest";
import { createProbeTrap } from "../envs/theory/probe-trap.ts";
import { scoringModel } from "../llm/testing/mock.ts";
import type { LanguageModel } from "../llm/types.ts";
import { PRETRAIN_FORMAT } from "./data.ts";
import { evaluateDeployment } from "./deploy.ts";

const K = 3;
const p = 0.8;
const env = createProbeTrap({ K, p });

/**
 * A scoring model from the prompt's text alone: `posterior` turns the probe counts it reads into a distribution
 * over the doors. With the exact formula it is BAIL read off the summary, a check that the prompt carries the
 * sufficient statistics and that the loop compares against the right BAIL.
 */
function textModel(posterior: (counts: number[]) => number[]): LanguageModel {
  return scoringModel((prefix, continuation) => {
    const counts = Array.from({ length: K }, () => 0);
    for (const m of prefix.matchAll(/^(\d+)× consult the probe -> The probe says: door (\d+)\.$/gm)) {
      counts[Number(m[2]) - 1] = Number(m[1]);
    }
    const probs = posterior(counts);
    const door = /open door (\d+)/.exec(continuation);
    const q = door ? (probs[Number(door[1]) - 1] ?? 0) : 0;
    return Math.log(q);
  });
}

const exact = textModel((counts) => {
  const ratio = Math.log((p * (K - 1)) / (1 - p));
  const w = counts.map((n) => Math.exp(n * ratio));
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
});
const memoryless = textModel(() => Array.from({ length: K }, () => 1 / K));

const options = { runs: 6, episodes: 40, seed: 3, format: PRETRAIN_FORMAT };

describe("the learned planner at deployment", () => {
  it("a model that reads BAIL off the prompt meets TV 0 and always agrees with BAIL's clear choice", async () => {
    const r = await evaluateDeployment(exact, env, { ...options, loop: "eps" });
    expect(r.tv).toBeLessThan(1e-9);
    expect(r.agreement.decisions).toBeGreaterThan(50);
    expect(r.agreement.share).toBe(1);
    expect(r.agreement.chance).toBeCloseTo(1 / K, 12);
    // ε-greedy learns the door: the last episodes cost far less than the first.
    const late = r.regret.slice(-10).reduce((a, b) => a + b, 0) / 10;
    expect(late).toBeLessThan(0.4);
    // The S1b floor with δ = TV = 0 is ε-BAIL's own tail regret; it predicts the measured one.
    expect(r.tail.tv).toBeLessThan(1e-9);
    expect(Math.abs(r.tail.predicted - r.tail.regret)).toBeLessThan(0.15);
  });

  it("a model that ignores the memory is far from BAIL at deployment and agrees only by chance", async () => {
    const r = await evaluateDeployment(memoryless, env, { ...options, loop: "eps" });
    expect(r.tv).toBeGreaterThan(0.3);
    expect(r.agreement.share).toBeLessThan(0.6);
    // Its extra regret is what its TV predicts, far above exact ε-BAIL's tail.
    expect(r.tail.tv).toBeGreaterThan(0.3);
    expect(r.tail.regret).toBeGreaterThan(0.3);
    expect(r.tail.regret).toBeLessThan(r.tail.predicted + 0.15);
  });

  it("naive BAIL never probes: its contexts are the prior's, where both models are exact, and regret stays 1 − 1/K", async () => {
    for (const model of [exact, memoryless]) {
      const r = await evaluateDeployment(model, env, { ...options, loop: "naive" });
      expect(r.tv).toBeLessThan(1e-9);
      expect(r.agreement.decisions).toBe(0);
      const mean = r.regret.reduce((a, b) => a + b, 0) / r.regret.length;
      expect(Math.abs(mean - (1 - 1 / K))).toBeLessThan(0.12);
      expect(r.tail.epsilon).toBe(0);
      expect(r.tail.bailRegret).toBeCloseTo(1 - 1 / K, 9);
    }
  });
});
