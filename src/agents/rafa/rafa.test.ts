import { describe, expect, it } from "vitest";
import type { Env, StepResult } from "../../core/env.ts";
import { runEpisode } from "../../core/episode.ts";
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import type { Experience, Learner, Prediction, Roles } from "../../core/roles.ts";
import { correctedModel, corruptModel } from "../../envs/imperfect.ts";
import { createRafaAgent } from "./agent.ts";
import { treePlanner } from "./planners.ts";
import { everyStep, onMisprediction } from "./switch.ts";

/**
 * A fork: from S go to A or B, then "go". The truth: A→go leads back to S (reward 0), B→go reaches the goal G with
 * reward 0.8. The prior (a corrupted model) believes A→go reaches G with reward 1, so route A looks best until tried.
 */
type State = "S" | "A" | "B" | "G";
type Action = "toA" | "toB" | "go";
const TRUTH: Record<string, Prediction<State>> = {
  "S/toA": { state: "A", reward: 0, done: false },
  "S/toB": { state: "B", reward: 0, done: false },
  "A/go": { state: "S", reward: 0, done: false },
  "B/go": { state: "G", reward: 0.8, done: true },
};
const key = (s: State, a: Action) => `${s}/${a}`;

class ForkEnv implements Env<State, Action> {
  readonly name = "fork";
  terminal = false;
  private s: State = "S";
  async reset(): Promise<State> {
    this.s = "S";
    this.terminal = false;
    return this.s;
  }
  async step(a: Action): Promise<StepResult<State>> {
    const next = TRUTH[key(this.s, a)];
    if (!next) throw new Error(`illegal ${a} in ${this.s}`);
    this.s = next.state;
    this.terminal = next.done;
    return {
      observation: next.state,
      reward: next.reward,
      done: next.done,
      ...(next.done ? { success: true } : {}),
      feedback: `now in ${next.state}`,
    };
  }
  legalActions(): readonly Action[] {
    return this.s === "S" ? ["toA", "toB"] : this.s === "G" ? [] : ["go"];
  }
  render() {
    return this.s;
  }
  formatAction(a: Action) {
    return a;
  }
  parseAction(text: string): ParseResult<Action> {
    return text === "toA" || text === "toB" || text === "go" ? ok(text) : fail("invalid_action", text);
  }
}

const exact: Roles<State, Action> = {
  elite: { propose: async (s) => (s === "S" ? ["toA", "toB"] : s === "G" ? [] : ["go"]) },
  model: {
    predict: async (s, a) => {
      const p = TRUTH[key(s, a)];
      if (!p) throw new Error("no transition");
      return p;
    },
  },
  critic: { value: async () => 0 },
};
const prior: Roles<State, Action> = {
  ...exact,
  model: corruptModel(exact.model, {
    rate: 1,
    seed: 1,
    key,
    mispredict: (p, s, a) => (s === "A" && a === "go" ? { state: "G", reward: 1, done: true } : p),
  }),
};

/** Learns observed transitions; `remember: false` is the same planner without learning (ToT-like). */
function learner(remember: boolean): Learner<State, Action> & { calls: number } {
  return {
    calls: 0,
    learn(memory: readonly Experience<State, Action>[]) {
      this.calls += 1;
      if (!remember) return prior;
      const known = new Map(
        memory.map((e) => [key(e.state, e.action), { state: e.next, reward: e.reward, done: e.done }]),
      );
      return { ...prior, model: correctedModel(prior.model, known, key) };
    },
  };
}

const planner = treePlanner<State, Action>({ breadth: 2, depth: 2 });

describe("RAFA's loop", () => {
  it("acts, learns the real transition, replans and reaches the goal; without learning it never does", async () => {
    const learning = learner(true);
    const rafa = createRafaAgent<State, State, Action>({
      learner: learning,
      planner,
      switchRule: everyStep(),
      stateOf: (o) => o,
    });
    const t = await runEpisode(new ForkEnv(), rafa, { seed: 1, maxSteps: 10 });
    expect(t.success).toBe(true);
    expect(t.steps.map((s) => s.actionText)).toEqual(["toA", "go", "toB", "go"]);
    expect(rafa.switches).toBe(4); // every step relearns

    const blind = createRafaAgent<State, State, Action>({
      learner: learner(false),
      planner,
      switchRule: everyStep(),
      stateOf: (o) => o,
    });
    const stuck = await runEpisode(new ForkEnv(), blind, { seed: 1, maxSteps: 10 });
    expect(stuck.success).toBe(false);
    expect(stuck.end).toBe("max_steps");
  });

  it("switches on misprediction only when reality contradicts the model", async () => {
    const learning = learner(true);
    const rafa = createRafaAgent<State, State, Action>({
      learner: learning,
      planner,
      switchRule: onMisprediction((s) => s),
      stateOf: (o) => o,
    });
    const t = await runEpisode(new ForkEnv(), rafa, { seed: 2, maxSteps: 10 });
    expect(t.success).toBe(true);
    // The first epoch, then one switch after "go" from A surprised the model.
    expect(rafa.switches).toBe(2);
    const surprised = rafa.memory.filter((e) => e.predicted && e.predicted.state !== e.next);
    expect(surprised).toHaveLength(1);
  });

  it("publishes each decision's search tree", async () => {
    const { Emitter } = await import("../../core/events.ts");
    const events = new Emitter<import("../../core/episode.ts").CoreEvents>();
    const trees: number[] = [];
    events.on("planner.tree", (e) => trees.push(e.nodes.length));
    const rafa = createRafaAgent<State, State, Action>({
      learner: learner(true),
      planner,
      switchRule: everyStep(),
      stateOf: (o) => o,
    });
    await runEpisode(new ForkEnv(), rafa, { seed: 1, maxSteps: 10, events });
    expect(trees).toHaveLength(4);
    expect(trees.every((n) => n >= 2)).toBe(true);
  });
});
