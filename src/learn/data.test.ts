import { describe, expect, it } from "vitest";
import { BailPlanner } from "../agents/planners.ts";
import { Rng } from "../core/rng.ts";
import { createGridworld } from "../envs/theory/gridworld.ts";
import { EpisodeTrace } from "../envs/theory/par.ts";
import { createProbeTrap } from "../envs/theory/probe-trap.ts";
import { plannerMessages } from "../envs/theory/prompts.ts";
import { renderFallbackChat } from "../llm/providers/llamacpp.ts";
import { episodeTexts, exactBail, type HistoryEpisode, plannerPrompt, pretrainSample } from "./data.ts";

const env = createProbeTrap({ K: 4, p: 0.7 });

describe("pretraining data (Variant A)", () => {
  it("is a pure function of (seed, index)", () => {
    const a = pretrainSample(env, 7, 3, { maxEpisodes: 20 });
    const b = pretrainSample(env, 7, 3, { maxEpisodes: 20 });
    expect(b).toEqual(a);
    expect(pretrainSample(env, 7, 4, { maxEpisodes: 20 }).prompt).not.toBe(a.prompt);
  });

  it("labels with the expert of the sample's latent, and carries exact BAIL over G", () => {
    for (let i = 0; i < 50; i++) {
      const s = pretrainSample(env, 1, i, { maxEpisodes: 30 });
      expect(s.label).toBe(s.z); // π*_z opens door z, never probes
      expect(s.answer).toBe(`{"subgoal": "open door ${s.z + 1}"}`);
      expect(s.bail.reduce((x, y) => x + y, 0)).toBeCloseTo(1, 12);
      expect(s.bail[env.subgoals.length - 1]).toBe(0); // no expert probes
    }
  });

  it("exact BAIL equals the theory lab's BAIL planner fed the same history", () => {
    const rng = new Rng(5);
    const history: HistoryEpisode[] = [];
    for (let t = 0; t < 12; t++) {
      const g = rng.int(env.subgoals.length);
      const o = g === 4 ? 2 + rng.int(4) : 1;
      history.push({ observations: [0, o], subgoals: [g] });
    }
    const planner = new BailPlanner(env, new Rng(0));
    const trace = new EpisodeTrace(1);
    for (const e of history) {
      trace.start(e.observations[0] as number);
      planner.observe(trace, e.subgoals[0] as number, e.observations[1] as number, Number.NaN);
      trace.push(e.subgoals[0] as number, e.observations[1] as number, Number.NaN);
    }
    const current = new EpisodeTrace(1);
    current.start(0);
    const expected = new Float64Array(env.subgoals.length);
    planner.policy(current, expected);
    const ours = exactBail(env, history, current);
    ours.forEach((p, g) => {
      expect(p).toBeCloseTo(expected[g] as number, 12);
    });
  });

  it("writes the context exactly as the LLM Planner writes its prompt, rendered by the llama.cpp provider", () => {
    const history: HistoryEpisode[] = [
      { observations: [0, 3], subgoals: [4] },
      { observations: [0, 1], subgoals: [0] },
      { observations: [0, 3], subgoals: [4] },
    ];
    const start = new EpisodeTrace(env.H);
    start.start(0);
    const prompt = plannerPrompt(env, history, start, { memory: "summary", style: "compact" });
    const messages = plannerMessages({
      env,
      memory: episodeTexts(env, history),
      total: 3,
      current: [],
      observation: env.observations[0] ?? "",
      episode: 4,
      seesReward: false,
      memoryMode: "summary",
      style: "compact",
    });
    expect(prompt).toBe(renderFallbackChat(messages));
    expect(prompt).toContain(
      "1× open door 1 -> Nothing happened.\n2× consult the probe -> The probe says: door 2.\n",
    );
    expect(prompt.endsWith("### Assistant:\n")).toBe(true);
  });
});

describe("gridworld pretraining contexts (H = 3)", () => {
  const grid = createGridworld({ p: 0.7 });

  it("end at a uniformly drawn step of the episode, label the expert's room, BAIL the posterior of the signs read", () => {
    const steps = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const s = pretrainSample(grid, 2, i, { maxEpisodes: 4 });
      const step = Number(/step (\d) of 3/.exec(s.prompt)?.[1]);
      steps.add(step);
      // The expert goes straight to room z at every step.
      expect(s.label).toBe(s.z);
      // Independent of exactBail: P(z | signs) ∝ Π_readings (p if the sign points to z else (1 − p)/3). The summary
      // counts every reading "… The sign points to room j." once per line with its count.
      const counts = [0, 0, 0, 0];
      for (const m of s.prompt.matchAll(
        /^(\d+)× .*-> You are at the info desk\. The sign points to room (\d)\.$/gm,
      )) {
        counts[Number(m[2]) - 1] = (counts[Number(m[2]) - 1] ?? 0) + Number(m[1]);
      }
      const done = /Now: episode \d+, step \d of 3: (.*\| \?)$/m.exec(s.prompt)?.[1] ?? "";
      for (const m of done.matchAll(/The sign points to room (\d)\. \| /g))
        counts[Number(m[1]) - 1] = (counts[Number(m[1]) - 1] ?? 0) + 1;
      const total = counts.reduce((a, b) => a + b, 0);
      const w = counts.map((c) => 0.7 ** c * 0.1 ** (total - c));
      const sum = w.reduce((a, b) => a + b, 0);
      w.forEach((x, z) => {
        expect(s.bail[z]).toBeCloseTo(x / sum, 9);
      });
      expect(s.bail[4]).toBe(0);
    }
    expect([...steps].sort()).toEqual([1, 2, 3]);
  });
});
