import { describe, expect, it } from "vitest";
import type { Agent } from "./agent.ts";
import type { Env, StepResult } from "./env.ts";
import { type CoreEvents, runEpisode } from "./episode.ts";
import { fail, ok, type ParseResult } from "./errors.ts";
import { Emitter } from "./events.ts";
import { Memory } from "./memory.ts";

/** Walk right from 0 to `goal` on a line; each step costs −1, reaching the goal pays +10. */
class LineEnv implements Env<number, "left" | "right"> {
  readonly name = "line";
  terminal = false;
  private pos = 0;
  private readonly goal = 3;
  async reset(_seed: number): Promise<number> {
    this.pos = 0;
    this.terminal = false;
    return this.pos;
  }
  async step(action: "left" | "right"): Promise<StepResult<number>> {
    this.pos += action === "right" ? 1 : -1;
    this.terminal = this.pos === this.goal;
    return {
      observation: this.pos,
      reward: this.terminal ? 10 : -1,
      done: this.terminal,
      ...(this.terminal ? { success: true } : {}),
      feedback: `at ${this.pos}`,
    };
  }
  legalActions() {
    return ["left", "right"] as const;
  }
  render() {
    return `position ${this.pos}`;
  }
  formatAction(a: "left" | "right") {
    return a;
  }
  parseAction(text: string): ParseResult<"left" | "right"> {
    return text === "left" || text === "right" ? ok(text) : fail("invalid_action", `unknown action ${text}`);
  }
}

const rightAgent: Agent<number, "left" | "right"> = {
  name: "right",
  reset() {},
  async act() {
    return "right";
  },
};

describe("runEpisode", () => {
  it("runs until done and reports return, success and every step as events", async () => {
    const events = new Emitter<CoreEvents>();
    const seen: string[] = [];
    events.on("episode.start", () => seen.push("start"));
    events.on("step", (e) => seen.push(`step ${e.step.actionText}`));
    events.on("episode.end", (e) => seen.push(`end ${e.trajectory.end}`));
    const traj = await runEpisode(new LineEnv(), rightAgent, { seed: 1, maxSteps: 10, events });
    expect(traj.steps.map((s) => s.nextObservation)).toEqual([1, 2, 3]);
    expect(traj.totalReturn).toBe(8);
    expect(traj.success).toBe(true);
    expect(traj.end).toBe("done");
    expect(seen).toEqual(["start", "step right", "step right", "step right", "end done"]);
  });

  it("stops at maxSteps and on abort", async () => {
    const leftAgent = { ...rightAgent, act: async () => "left" as const };
    const capped = await runEpisode(new LineEnv(), leftAgent, { seed: 1, maxSteps: 4 });
    expect(capped.end).toBe("max_steps");
    expect(capped.success).toBe(false);
    expect(capped.steps).toHaveLength(4);
    const controller = new AbortController();
    const aborting = {
      ...rightAgent,
      act: async () => {
        controller.abort();
        return "left" as const;
      },
    };
    const aborted = await runEpisode(new LineEnv(), aborting, {
      seed: 1,
      maxSteps: 4,
      signal: controller.signal,
    });
    expect(aborted.end).toBe("aborted");
    expect(aborted.steps).toHaveLength(1);
  });

  it("gives the agent a seeded stream: same seed, same draws", async () => {
    const draws: number[] = [];
    const agent: Agent<number, "left" | "right"> = {
      name: "random",
      reset() {},
      async act(_o, legal, ctx) {
        draws.push(ctx.rng.float());
        return ctx.rng.pick(legal ?? ["right"]);
      },
    };
    await runEpisode(new LineEnv(), agent, { seed: 5, maxSteps: 3 });
    const first = draws.splice(0);
    await runEpisode(new LineEnv(), agent, { seed: 5, maxSteps: 3 });
    expect(draws).toEqual(first);
  });
});

describe("Memory", () => {
  it("views a frozen prefix while appending continues", () => {
    const m = new Memory<number>([1, 2]);
    const frozen = m.size;
    m.add(3);
    expect(m.view(frozen)).toEqual([1, 2]);
    expect(m.all()).toEqual([1, 2, 3]);
    expect(m.last(2)).toEqual([2, 3]);
    expect(m.last(0)).toEqual([]);
    expect(m.view(99)).toEqual([1, 2, 3]);
  });
});

describe("Emitter", () => {
  it("delivers to all listeners, unsubscribes, and rethrows a listener's error after the others ran", () => {
    const e = new Emitter<{ [k: string]: unknown; ping: number }>();
    const got: number[] = [];
    const off = e.on("ping", (n) => got.push(n));
    e.on("ping", () => {
      throw new Error("observer bug");
    });
    e.on("ping", (n) => got.push(n * 10));
    expect(() => e.emit("ping", 1)).toThrow("observer bug");
    expect(got).toEqual([1, 10]);
    off();
    expect(e.listenerCount("ping")).toBe(2);
  });
});
