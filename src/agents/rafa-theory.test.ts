import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { BetaBernoulli } from "../theory/beta.ts";
import { LinearGaussian } from "../theory/gaussian.ts";
import {
  entropyDrop,
  everyEpisode,
  everyStep,
  never,
  RafaTheory,
  type SwitchRule,
  type TheoryPosterior,
} from "./rafa-theory.ts";

/** A scripted posterior: entropy falls by `rate` nats per observation; models are labelled by when they were taken. */
function scripted(rate: number) {
  let n = 0;
  let version = 0;
  const calls = { mean: 0, sample: 0 };
  const posterior: TheoryPosterior<string, number> = {
    learn: (info) => {
      n += 1;
      if (info > 0) version += 1;
    },
    entropy: () => -rate * n,
    mean: () => {
      calls.mean += 1;
      return `mean@${n}`;
    },
    sample: () => {
      calls.sample += 1;
      return `sample@${n}`;
    },
    version: () => version,
  };
  return { posterior, calls };
}

function run(rule: SwitchRule, model: "mean" | "sample", steps: number, rate = 0.3, informative = 1) {
  const { posterior, calls } = scripted(rate);
  let plans = 0;
  const actions: string[] = [];
  const agent = new RafaTheory<string, number, string, number, string>({
    posterior,
    model,
    switchRule: rule,
    plan: (m) => {
      plans += 1;
      return m;
    },
    act: (policy, state) => `${policy}/s${state}`,
    rng: new Rng(1),
  });
  for (let t = 0; t < steps; t++) {
    actions.push(agent.reason(t));
    agent.learn(informative);
  }
  return { agent, plans, actions, calls };
}

describe("RAFA theory agent: epochs and switch rules", () => {
  it("plans only at switches and keeps acting on the model frozen at the last switch", () => {
    // 0.3 nats per step: the entropy has fallen by ≥ log 2 after 3 steps, so epochs start at t = 0, 3, 6, 9.
    const { agent, plans, actions } = run(entropyDrop(), "sample", 10);
    expect(agent.switches).toBe(4);
    expect(plans).toBe(4);
    expect(actions.slice(0, 4)).toEqual(["sample@0/s0", "sample@0/s1", "sample@0/s2", "sample@3/s3"]);
    expect(actions[9]).toBe("sample@9/s9");
    expect(agent.tk).toBe(9);
  });
  it("every step, every episode, never", () => {
    expect(run(everyStep, "sample", 12).agent.switches).toBe(12);
    expect(run(everyEpisode(5), "sample", 12).agent.switches).toBe(3);
    const frozen = run(never, "sample", 12);
    expect(frozen.agent.switches).toBe(1);
    expect(new Set(frozen.actions.map((a) => a.split("/")[0])).size).toBe(1);
  });
  it("a mean-model agent does not re-plan an unchanged posterior, but still counts the switch", () => {
    const unchanged = run(everyStep, "mean", 8, 0.3, 0);
    expect(unchanged.agent.switches).toBe(8);
    expect(unchanged.plans).toBe(1);
    const changing = run(everyStep, "mean", 8, 0.3, 1);
    expect(changing.plans).toBe(8);
    expect(changing.calls.sample).toBe(0);
  });
  it("a posterior that learns nothing never triggers the entropy rule: the first sample is kept for good", () => {
    const stalled = run(entropyDrop(), "sample", 1000, 0);
    expect(stalled.agent.switches).toBe(1);
    expect(stalled.calls.sample).toBe(1);
  });
});

describe("entropy-drop switching obeys K ≤ 1 + (H0 − H_T)/log 2", () => {
  it("linear-Gaussian posteriors (entropy never rises): on every run, for several thresholds", () => {
    const rng = new Rng(21);
    let totalSwitches = 0;
    let totalBudget = 0;
    for (let run = 0; run < 40; run++) {
      const d = 1 + rng.int(5);
      const bits = [0.5, 1, 2][run % 3] as number;
      const post = new LinearGaussian({ dim: d, noiseSd: 0.5 + rng.float() });
      const x = new Float64Array(d);
      const posterior: TheoryPosterior<number, number> = {
        learn: (y) => post.update(x, y),
        entropy: () => post.entropy(),
        mean: () => 0,
        sample: () => 0,
      };
      const agent = new RafaTheory<number, number, number, undefined, number>({
        posterior,
        model: "sample",
        switchRule: entropyDrop(bits * Math.LN2),
        plan: () => 0,
        act: () => 0,
        rng,
      });
      const steps = 50 + rng.int(2000);
      for (let t = 0; t < steps; t++) {
        agent.reason(undefined);
        for (let i = 0; i < d; i++) x[i] = rng.normal();
        agent.learn(rng.normal());
      }
      const dropBits = (agent.initialEntropy - agent.entropy()) / Math.LN2;
      expect(agent.switches).toBeLessThanOrEqual(1 + dropBits / bits + 1e-9);
      totalSwitches += agent.switches - 1;
      totalBudget += dropBits / bits;
    }
    // Not vacuous: the rule does switch, most of the times the bound allows (one early observation can carry
    // several bits, so not every bit becomes a switch).
    expect(totalSwitches).toBeGreaterThan(0.5 * totalBudget);
  });
  it("Beta posteriors (entropy can rise after an observation): always with H at the last switch", () => {
    const rng = new Rng(5);
    for (let run = 0; run < 30; run++) {
      const post = new BetaBernoulli(3);
      const buffer = new Float64Array(3);
      const means = [rng.float(), rng.float(), rng.float()];
      const posterior: TheoryPosterior<Float64Array, { arm: number; success: boolean }> = {
        learn: (f) => post.update(f.arm, f.success),
        entropy: () => post.entropy(),
        mean: () => post.means(buffer),
        sample: (r) => post.sample(r, buffer),
      };
      const agent = new RafaTheory<
        Float64Array,
        { arm: number; success: boolean },
        number,
        undefined,
        number
      >({
        posterior,
        model: "sample",
        switchRule: entropyDrop(),
        plan: (m) => m.indexOf(Math.max(...m)),
        act: (arm) => arm,
        rng,
      });
      for (let t = 0; t < 500; t++) {
        const arm = agent.reason(undefined);
        agent.learn({ arm, success: rng.bernoulli(means[arm] as number) });
      }
      expect(agent.switches).toBeLessThanOrEqual(
        1 + (agent.initialEntropy - agent.entropyAtSwitch) / Math.LN2 + 1e-9,
      );
      expect(agent.switches).toBeGreaterThan(1);
    }
  });
});
