import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import {
  exactTwinCritic,
  goldTrajectory,
  type Instruction,
  loadInstructions,
  prefilter,
  systemPrompt,
} from "./index.ts";
import { goldPolicy, llmPolicy, type Policy, rollout, rolloutMany } from "./rollout.ts";
import { ReplaySimulator } from "./simulator.ts";
import { fixture } from "./testing/fixture.ts";

const DATA = "/work/shared/data";
const hasData = existsSync(`${DATA}/api-bank/training-data/lv3-train.json`);
const needData = () => {
  if (!hasData) throw new Error(`API-Bank data missing: ${DATA}/api-bank (these tests need it)`);
};

const all = fixture();
const weather = all[0] as Instruction;
const sim = new ReplaySimulator(all);
const rng = new Rng(7);

/** A mock model answering step s (agent turns so far) with `steps[s]`, the last one forever after. */
function scripted(steps: readonly string[]) {
  return new MockLanguageModel({
    respond: (request) => {
      const step = request.messages.filter((m) => m.role === "assistant").length;
      return steps[Math.min(step, steps.length - 1)] ?? "";
    },
  });
}

describe("rollout", () => {
  it("an LLM policy sees the export's rendering and reaches a final reply", async () => {
    const model = scripted([
      "Let me look. API-Request: [ToolSearcher(keywords='weather')]",
      "API-Request: [Weather(city='Paris')]",
      "It is 20 degrees in Paris.",
    ]);
    const r = await rollout(llmPolicy(model), weather, sim, { rng });
    expect(r.stop).toBe("reply");
    expect(r.policyCalls).toBe(3);
    expect(prefilter(weather, r.trajectory)).toEqual({ ok: true });
    expect(exactTwinCritic(weather, r.trajectory).score).toBe(10);
    const first = model.calls[0]?.request;
    expect(first?.messages).toEqual([
      { role: "system", content: systemPrompt(weather) },
      { role: "user", content: "Weather in Paris?" },
    ]);
    expect(first?.temperature).toBe(0.8);
    const last = model.calls[2]?.request.messages ?? [];
    expect(last[2]).toEqual({
      role: "assistant",
      content: "API-Request: [ToolSearcher(keywords='weather')]",
    });
    expect(last[5]).toEqual({ role: "user", content: "->{'t': 20}" });
    expect(r.usage.inputTokens).toBeGreaterThan(0);
  });

  it("garbage from the model yields trajectories the prefilter rejects for the right reason", async () => {
    const cases: [string[], string, string][] = [
      [["API-Request: [ToolSearcher(keywords='weather'"], "parse_error", "parse_error"],
      [["API-Request: [Forecast(city='Paris')]", "ok"], "unknown_api", "reply"],
      [["API-Request: [ToolSearcher(query='weather')]", "ok"], "invalid_parameter", "reply"],
      [["API-Request: [ToolSearcher()]", "ok"], "missing_parameter", "reply"],
      [
        ["API-Request: [ToolSearcher(keywords='weather')]", "API-Request: [Weather(city='Rome')]", "ok"],
        "unresolved_exception",
        "reply",
      ],
      [[""], "no_final_reply", "reply"],
      [["API-Request: [ToolSearcher(keywords='weather')]"], "repeated_call", "max_steps"],
    ];
    for (const [steps, reason, stop] of cases) {
      const r = await rollout(llmPolicy(scripted(steps)), weather, sim, { rng, maxSteps: 3 });
      expect(r.stop, steps.join(" | ")).toBe(stop);
      expect(prefilter(weather, r.trajectory), steps.join(" | ")).toMatchObject({ ok: false, reason });
    }
  });

  it("respects maxSteps: at most maxSteps calls run, the next request is recorded unexecuted", async () => {
    let n = 0;
    const endless: Policy = {
      name: "endless",
      act: async () => ({ text: `API-Request: [ToolSearcher(keywords='weather w${n++}')]` }),
    };
    for (const maxSteps of [0, 1, 3, 8]) {
      n = 0;
      const r = await rollout(endless, weather, sim, { rng, maxSteps });
      expect(r.stop).toBe("max_steps");
      expect(r.policyCalls).toBe(maxSteps + 1);
      expect(r.trajectory.turns.filter((t) => t.role === "api")).toHaveLength(maxSteps);
      expect(prefilter(weather, r.trajectory)).toMatchObject({ ok: false, reason: "no_final_reply" });
    }
  });

  it("K samples use distinct sample indexes, seeds are reproducible, results come back in order", async () => {
    const run = async () => {
      const model = scripted(["It is sunny."]);
      const results = await rolloutMany(llmPolicy(model), all.slice(0, 2), 3, sim, { rng, concurrency: 2 });
      return { model, results };
    };
    const a = await run();
    expect(a.results.map((r) => [r.trajectory.instructionId, r.sampleIndex])).toEqual(
      all.slice(0, 2).flatMap((i) => [0, 1, 2].map((k) => [i.id, k])),
    );
    const byPrompt = new Map<string, number[]>();
    for (const c of a.model.calls) {
      const key = c.request.messages.map((m) => m.content).join("\n");
      byPrompt.set(key, [...(byPrompt.get(key) ?? []), c.request.sampleIndex ?? -1]);
    }
    expect([...byPrompt.values()].map((v) => [...v].sort())).toEqual([
      [0, 1, 2],
      [0, 1, 2],
    ]);
    const seeds = (m: MockLanguageModel) =>
      m.calls
        .map((c) => `${c.request.messages[1]?.content}#${c.request.sampleIndex}:${c.request.seed}`)
        .sort();
    const b = await run();
    expect(seeds(b.model)).toEqual(seeds(a.model));
    expect(new Set(a.model.calls.map((c) => c.request.seed)).size).toBe(6);
  });

  it("runs at most `concurrency` rollouts at once", async () => {
    let inFlight = 0;
    let peak = 0;
    const slow: Policy = {
      name: "slow",
      act: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        return { text: "done" };
      },
    };
    const results = await rolloutMany(slow, all, 3, sim, { rng, concurrency: 3 });
    expect(results).toHaveLength(all.length * 3);
    expect(peak).toBe(3);
  });

  it("on the real data the gold policy's rollouts pass the prefilter where the gold does and score 10", async () => {
    needData();
    const set = loadInstructions(DATA);
    const real = new ReplaySimulator(set.instructions);
    const withGold = set.instructions.filter((i) => i.golds.length > 0);
    let rollouts = 0;
    let prefilterPass = 0;
    for (const ins of withGold) {
      for (const [k, chain] of ins.golds.entries()) {
        const r = await rollout(goldPolicy(), ins, real, { rng, sampleIndex: k });
        expect(r.stop, ins.id).toBe("reply");
        expect(prefilter(ins, r.trajectory).ok, ins.id).toBe(prefilter(ins, goldTrajectory(ins, chain)).ok);
        expect(exactTwinCritic(ins, r.trajectory).score, ins.id).toBe(10);
        if (prefilter(ins, r.trajectory).ok) prefilterPass++;
        rollouts++;
      }
    }
    expect(rollouts).toBe(337);
    expect(prefilterPass).toBeGreaterThan(0);
  });
});
