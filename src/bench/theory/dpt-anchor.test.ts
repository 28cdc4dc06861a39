import { describe, expect, it } from "vitest";
import { gaussianBanditSpec } from "../../envs/theory/gaussian-bandit.ts";
import { type BanditAnchorReport, evaluateBanditAnchor } from "../../learn/bandit.ts";
import { BanditConfigSchema, type PretrainSummary } from "../../learn/pretrain.ts";
import { scoringModel } from "../../llm/testing/mock.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { banditAnchorResult } from "./dpt-anchor.ts";

const config = BanditConfigSchema.parse({
  experiment: "bandit",
  arms: 5,
  sigma: 0.3,
  horizon: 30,
  testBandits: 40,
  samples: 1000,
  heldout: 10,
  seed: 1,
  model: { vocab: 259, dim: 16, layers: 1, heads: 1, ffn: 48, context: 512, ropeBase: 10000, eps: 1e-5 },
  optimizer: {
    steps: 1,
    batchSize: 1,
    learningRate: 1e-3,
    warmupSteps: 0,
    weightDecay: 0,
    beta1: 0.9,
    beta2: 0.98,
    epsilon: 1e-8,
    clipNorm: 1,
    seed: 1,
  },
  checkpointEvery: 1,
  servedEval: 0,
});

/** A model that answers with fixed probabilities, whatever the context. */
function fixed(probs: number[]): LanguageModel {
  return scoringModel((_prefix, continuation) => {
    const arm = Number(/arm (\d+)/.exec(continuation)?.[1]);
    return Math.log(probs[arm - 1] ?? 0);
  });
}

function summary(anchor: BanditAnchorReport): PretrainSummary {
  return {
    experiment: "bandit",
    env: "gaussian-bandit",
    samples: config.samples,
    steps: 1,
    heldoutLoss: 1,
    heldoutTv: { mean: 0.3, contexts: 10 },
    servedTv: undefined,
    deployment: [],
    anchor,
    trainTokensPerSecond: 1,
    trainSeconds: 1,
    lossCurve: [{ step: 1, loss: 1 }],
  };
}

describe("the DPT anchor's checks", () => {
  it("fail for a planner that ignores its context, and name what they measured", async () => {
    const anchor = await evaluateBanditAnchor(fixed([0.2, 0.2, 0.2, 0.2, 0.2]), gaussianBanditSpec(), {
      bandits: config.testBandits,
      horizon: config.horizon,
      seed: 1,
    });
    const result = banditAnchorResult([{ dir: "/runs/x", config, summary: summary(anchor) }]);
    expect(result.checks).toHaveLength(4);
    for (const c of result.checks) expect(c.pass, c.claim).toBe(false);
    expect(result.arms.map((a) => a.name)).toContain("exact posterior sampling");
    expect(result.sweeps.some((s) => s.name.startsWith("offline regret"))).toBe(true);
  });
});
