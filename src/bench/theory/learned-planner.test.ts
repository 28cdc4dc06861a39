import { describe, expect, it } from "vitest";
import type { DeploymentReport } from "../../learn/deploy.ts";
import { type PretrainSummary, ProbeTrapConfigSchema } from "../../learn/pretrain.ts";
import { type LearnedRun, learnedPlannerResult } from "./learned-planner.ts";

const K = 4;
const config = ProbeTrapConfigSchema.parse({
  experiment: "probe-trap",
  K,
  p: 1,
  samples: 1000,
  heldout: 100,
  maxEpisodes: 30,
  seed: 1,
  model: { vocab: 260, dim: 64, layers: 2, heads: 2, ffn: 168, context: 1024, ropeBase: 10000, eps: 1e-5 },
  optimizer: {
    steps: 10,
    batchSize: 16,
    learningRate: 0.003,
    warmupSteps: 5,
    weightDecay: 0.01,
    beta1: 0.9,
    beta2: 0.98,
    epsilon: 1e-8,
    clipNorm: 1,
    seed: 1,
  },
  checkpointEvery: 10,
  servedEval: 10,
  deployRuns: 20,
  deployEpisodes: 30,
});

/** A deployment report whose cumulative regret grows as a·t^slope. */
function loop(kind: "naive" | "eps", a: number, slope: number, tv: number, share: number): DeploymentReport {
  const t = [1, 2, 3, 5, 8, 13, 20, 30];
  const mean = t.map((x) => a * x ** slope);
  const regret = Array.from({ length: 30 }, (_, i) => a * ((i + 1) ** slope - i ** slope));
  return {
    loop: kind,
    runs: 20,
    episodes: 30,
    decisions: 400,
    tv,
    agreement: { share, decisions: kind === "eps" ? 300 : 0, chance: 1 / K },
    regret,
    curve: { t, mean, se: t.map(() => 0.3) },
    tail: {
      from: 25,
      regret: 0.2,
      regretSe: 0.03,
      epsilon: 0.2,
      tv,
      bailRegret: 0,
      predicted: 0.2 + 0.8 * tv,
    },
    calls: 2000,
    seconds: 10,
  };
}

function run(heldout: number, deployment: DeploymentReport[]): LearnedRun {
  const summary: PretrainSummary = {
    experiment: "probe-trap",
    env: "probe-trap",
    samples: config.samples,
    steps: 10,
    heldoutLoss: 0.1,
    heldoutTv: { mean: heldout, contexts: 100 },
    servedTv: { mean: heldout, contexts: 10, maxGapToTf: 1e-4 },
    deployment,
    trainTokensPerSecond: 1000,
    trainSeconds: 10,
    lossCurve: [{ step: 10, loss: 0.1 }],
  };
  return { dir: "/runs/x", config, summary };
}

describe("the learned planner's checks", () => {
  it("pass for a planner close to BAIL: linear naive, slower ε-greedy, tail within the floor", () => {
    const r = learnedPlannerResult([
      run(0.02, [loop("naive", 0.75, 1, 0.01, Number.NaN), loop("eps", 1, 0.5, 0.02, 0.97)]),
    ]);
    expect(r.checks.map((c) => [c.claim.slice(0, 30), c.pass])).toEqual(
      r.checks.map((c) => [c.claim.slice(0, 30), true]),
    );
    expect(r.arms).toHaveLength(2);
    expect(r.sweeps.some((s) => s.name.startsWith("held-out TV"))).toBe(true);
  });

  it("fail for a planner far from BAIL (each check can flip)", () => {
    const bad = loop("eps", 0.75, 1, 0.6, 0.3);
    const r = learnedPlannerResult([
      run(0.3, [loop("naive", 0.3, 1, 0.01, Number.NaN), { ...bad, tail: { ...bad.tail, regret: 0.9 } }]),
    ]);
    const failed = r.checks.filter((c) => !c.pass).map((c) => c.claim);
    expect(failed.some((c) => c.includes("held-out TV"))).toBe(true);
    expect(failed.some((c) => c.includes("agree"))).toBe(true);
    expect(failed.some((c) => c.includes("naive learned BAIL is linear"))).toBe(true);
    expect(failed.some((c) => c.includes("grows slower"))).toBe(true);
    expect(failed.some((c) => c.includes("floor"))).toBe(true);
  });
});
