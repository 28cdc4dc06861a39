import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import { buildTestGuard, loadInstructions } from "./instructions.ts";
import { chooseInstructions, runTrainLoop, validationCalls, validationSplit } from "./loop.ts";
import { ReplaySimulator } from "./simulator.ts";
import { TrainStore } from "./store.ts";
import { defaultLoopConfig, requireApiBankData } from "./testing/data.ts";
import { embeddedTrainer } from "./trainers/embedded.ts";
import { type Trainer, TrainerError } from "./trainers/types.ts";

const DATA = requireApiBankData();
const root = mkdtempSync(join(tmpdir(), "bayesact-loop-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = defaultLoopConfig({
  iterations: 2,
  samples: 4,
  instructions: 40,
  evalLimit: 40,
  concurrency: 2,
  dataDir: DATA,
});

describe("the self-training loop", () => {
  it("journals every stage, and a run stopped at training resumes there without rolling out again", async () => {
    const dir = join(root, "run");
    const store = TrainStore.create(dir, "t1");
    const failing: Trainer = {
      kind: "failing",
      spec: "failing",
      train: async () => {
        throw new TrainerError("the GPU caught fire");
      },
    };
    await expect(runTrainLoop(config, { store, dir, trainer: failing })).rejects.toThrow(/GPU caught fire/);
    const before = store.stages().map((s) => `${s.iteration}:${s.stage}`);
    expect(before).toEqual(["0:evaluate", "0:validate", "0:rollout", "0:critic", "0:dataset"]);
    const rollouts = store.trajectories(0);
    expect(rollouts).toHaveLength(160);
    store.close();

    const reopened = TrainStore.open(dir);
    const lines: string[] = [];
    const summary = await runTrainLoop(config, {
      store: reopened,
      dir,
      trainer: embeddedTrainer(),
      log: (l) => lines.push(l),
    });
    // The first iteration's rollouts were not redone: same rows, and no rollout progress for iteration 0.
    expect(reopened.trajectories(0)).toEqual(rollouts);
    expect(lines.some((l) => l.startsWith("iteration 0:") && l.includes("rollouts"))).toBe(false);
    expect(reopened.stages().map((s) => `${s.iteration}:${s.stage}`)).toEqual([
      "0:evaluate",
      "0:validate",
      "0:rollout",
      "0:critic",
      "0:dataset",
      "0:train",
      "1:evaluate",
      "1:validate",
      "1:rollout",
      "1:critic",
      "1:dataset",
      "1:train",
      "2:evaluate",
      "2:validate",
    ]);
    expect(summary.iterations).toHaveLength(3);
    const [it0, it1, it2] = summary.iterations;
    expect(it0?.model).toBe("embedded:base");
    expect(it1?.model).toMatch(/^embedded:.*it0[/\\]train[/\\]model\.json$/);
    expect(it2?.evaluation["1"]?.points).toBe(40);
    for (const it of [it0, it1]) {
      const c = it?.critic;
      if (!c || !it.dataset) throw new Error("missing stage results");
      // The exact critic is the ground truth: precision and recall 1 whenever it accepted anything.
      expect(c.agreement.fp + c.agreement.fn).toBe(0);
      expect(c.kept).toBeLessThanOrEqual(c.accepted);
      expect(c.keptInstructions * config.perInstruction).toBeGreaterThanOrEqual(c.kept);
      expect(c.prefilterAgreement.recall === null || c.prefilterAgreement.recall === 1).toBe(true);
      expect(existsSync(it.dataset.files.trl.path)).toBe(true);
    }
    // S grows: the second data set holds the first.
    expect(it1?.dataset?.trajectories ?? 0).toBeGreaterThanOrEqual(it0?.dataset?.trajectories ?? 0);
    const verdicts = reopened.verdicts(0);
    expect(verdicts).toHaveLength(160);
    expect(verdicts.filter((v) => v.kept)).toHaveLength(it0?.critic?.kept ?? -1);
    expect(reopened.model(1)?.spec).toBe(it1?.model);
    expect(reopened.evaluations().map((e) => e.iteration)).toEqual([0, 1, 2]);
    reopened.close();

    // No test dialogue enters the training data: every user text of every exported data set passes the guard.
    const guard = buildTestGuard(DATA);
    for (const it of [it0, it1]) {
      const text = readFileSync(it?.dataset?.files.trl.path ?? "", "utf8");
      for (const line of text.split("\n").filter(Boolean)) {
        const record = JSON.parse(line) as { messages: { role: string; content: string }[] };
        for (const m of record.messages) {
          if (m.role === "user" && !m.content.startsWith("->")) expect(guard.has(m.content)).toBe(false);
        }
      }
    }
  });

  it("a second run with the same settings produces the same data sets and models", async () => {
    const run = async (name: string) => {
      const dir = join(root, name);
      const store = TrainStore.create(dir, name);
      try {
        const s = await runTrainLoop(
          { ...config, iterations: 1, evalLevels: [] },
          { store, dir, trainer: embeddedTrainer() },
        );
        const model = s.iterations[1]?.model.replace(/^embedded:/, "") ?? "";
        return {
          sha: s.iterations[0]?.dataset?.files.trl.sha256,
          weights: JSON.parse(readFileSync(model, "utf8")).weights,
        };
      } finally {
        store.close();
      }
    };
    const a = await run("a");
    const b = await run("b");
    expect(a).toEqual(b);
  });

  it("--validation holds training requests out of the rollouts and scores them every iteration", async () => {
    const all = chooseInstructions(loadInstructions(DATA), 0);
    const split = validationSplit(all, 20);
    expect(split.validation).toHaveLength(20);
    expect(split.train).toHaveLength(all.length - 20);
    const held = new Set(split.validation.map((i) => i.id));
    expect(split.train.some((i) => held.has(i.id))).toBe(false);
    // The same requests whatever the seed or the order they come in.
    expect(
      validationSplit([...all].reverse(), 20)
        .validation.map((i) => i.id)
        .sort(),
    ).toEqual([...held].sort());

    const dir = join(root, "validation");
    const store = TrainStore.create(dir, "v");
    try {
      const s = await runTrainLoop(
        { ...config, iterations: 1, evalLevels: [], validation: 20 },
        { store, dir, trainer: embeddedTrainer() },
      );
      const rolled = new Set(store.trajectories(0).map((t) => t.instruction));
      expect([...rolled].some((id) => held.has(id))).toBe(false);
      expect(rolled.size).toBe(40);
      for (const it of s.iterations) {
        expect(it.validation?.requests).toBe(20);
        expect(it.validation?.solved).toBeGreaterThanOrEqual(0);
        expect(it.validation?.accuracy).toBe((it.validation?.solved ?? 0) / 20);
        expect(it.validation?.calls).toBeGreaterThan(20);
        expect(it.validation?.callsCorrect).toBeLessThanOrEqual(it.validation?.calls ?? 0);
      }
    } finally {
      store.close();
    }
  });

  it("validation calls: the gold call at each step of the gold dialogue is correct, a changed argument is not", async () => {
    const all = chooseInstructions(loadInstructions(DATA), 0);
    const held = validationSplit(all, 20).validation;
    const replay = new ReplaySimulator(held);
    const byRequest = new Map(held.map((i) => [i.request, i]));
    /** Answers call t of the request's first gold chain, t = the agent turns in the prompt; `edit` spoils it. */
    const oracle = (edit: (call: string) => string) =>
      new MockLanguageModel({
        respond: (request) => {
          const user = request.messages.find((m) => m.role === "user")?.content ?? "";
          const instruction = [...byRequest].find(([text]) => user.includes(text))?.[1];
          const t = request.messages.filter((m) => m.role === "assistant").length;
          return edit(instruction?.golds[0]?.calls[t]?.request ?? "no call");
        },
      });
    const total = held.reduce((n, i) => n + (i.golds[0]?.calls.length ?? 0), 0);
    expect(total).toBeGreaterThan(held.length);
    const gold = await validationCalls(
      oracle((c) => c),
      held,
      replay,
      2,
    );
    expect(gold).toEqual({ calls: total, correct: total });
    // ToolSearcher is judged by the API it finds, so other keywords for the same search still count.
    const searches = held.reduce(
      (n, i) => n + (i.golds[0]?.calls.filter((c) => c.request.includes("ToolSearcher")).length ?? 0),
      0,
    );
    expect(searches).toBeGreaterThan(0);
    const spoilt = await validationCalls(
      oracle((c) => (c.includes("ToolSearcher") ? c : c.replace(/='([^']*)'/, "='$1 x'"))),
      held,
      replay,
      2,
    );
    expect(spoilt.calls).toBe(total);
    expect(spoilt.correct).toBeLessThan(total);
    expect(spoilt.correct).toBeGreaterThanOrEqual(searches);
    const silent = await validationCalls(
      oracle(() => "I cannot help."),
      held,
      replay,
      2,
    );
    expect(silent.correct).toBe(0);
  });
});
