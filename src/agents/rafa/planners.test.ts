import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import type { Roles } from "../../core/roles.ts";
import { mctsPlanner } from "./planners.ts";

describe("mctsPlanner", () => {
  it("starts a new try when the try ended in a state equal to the initial one", async () => {
    // Depth 1: every try is one step; "loop" leads back to S, so the finished try's node has the initial state.
    const roles: Roles<string, string> = {
      elite: { propose: async () => ["loop"] },
      model: { predict: async () => ({ state: "S", reward: 0, done: false }) },
      critic: { value: async () => 0 },
    };
    const planner = mctsPlanner<string, string>({
      breadth: 1,
      depth: 1,
      rolloutsPerStep: 1,
      stateKey: (s) => s,
    });
    const ctx = { rng: new Rng(1) };
    const first = await planner.plan(roles, "S", ctx);
    expect(first.action).toBe("loop");
    await planner.observe?.(
      {
        t: 0,
        state: "S",
        action: "loop",
        actionText: "loop",
        next: "S",
        reward: 0,
        done: false,
        feedback: "",
      },
      ctx,
    );
    const second = await planner.plan(roles, "S", ctx);
    expect(second.action).toBe("loop");
  });
});
