import { describe, expect, it } from "vitest";
import { createProbeTrap } from "../envs/theory/probe-trap.ts";
import { contextLimit } from "./context.ts";

const env = createProbeTrap({ K: 4, p: 1 });

describe("the context limit", () => {
  it("the summarised prompt stays short while the episode-by-episode one outgrows a 1024-token window", () => {
    const points = contextLimit(env, { contextTokens: 1024, checkpoints: [0, 10, 100], runs: 8, seed: 1 });
    const [none, ten, hundred] = points;
    expect(none?.summaryTokens).toBe(none?.episodesTokens);
    expect(hundred?.summaryTokens).toBeLessThan(600);
    expect(hundred?.episodesTokens).toBeGreaterThan(3000);
    expect(ten?.window).toBeLessThan(10);
    // Cutting the memory to the window loses what early probes revealed.
    expect(hundred?.windowTv).toBeGreaterThan(0.2);
  });

  it("with a window that holds everything the cut changes nothing (the check can fail)", () => {
    const points = contextLimit(env, { contextTokens: 1_000_000, checkpoints: [10, 60], runs: 8, seed: 1 });
    for (const p of points) {
      expect(p.window).toBe(p.episodes);
      expect(p.windowTv).toBe(0);
    }
  });
});
