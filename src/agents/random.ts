import type { Agent } from "../core/agent.ts";

/** Uniformly random legal actions: the floor every other agent should beat. */
export function createRandomAgent<O, A>(): Agent<O, A> {
  return {
    name: "random",
    reset() {},
    async act(_observation, legal, ctx) {
      if (!legal || legal.length === 0)
        throw new Error("random agent: the environment does not enumerate actions");
      return ctx.rng.pick(legal);
    },
  };
}
