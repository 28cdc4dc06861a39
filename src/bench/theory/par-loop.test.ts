import { describe, expect, it } from "vitest";
import { BailPlanner, type Planner } from "../../agents/planners.ts";
import { Rng } from "../../core/rng.ts";
import { createGridworld } from "../../envs/theory/gridworld.ts";
import { createProbeTrap } from "../../envs/theory/probe-trap.ts";
import { mean, standardError } from "../../theory/stats.ts";
import {
  type ArmSpec,
  armResult,
  bailArm,
  epsBailArm,
  horizonArmResult,
  oracleArm,
  runArm,
  runJobs,
} from "./par-loop.ts";

const trap = createProbeTrap({ K: 4, p: 0.7 });

describe("the PAR episode loop", () => {
  it("BAIL in the trap: Reg(T) = (1 − 1/K)·T in expectation, posterior exactly at the prior", async () => {
    const T = 500;
    const run = await runArm(trap, bailArm(trap), { horizon: T, seeds: 200, rng: new Rng(1) });
    const finals = run.regret.finals();
    // Each episode's regret is Bernoulli(3/4) given the (stuck) posterior: mean 375, s.e. ≈ 0.7.
    expect(Math.abs(mean(finals) - 0.75 * T)).toBeLessThan(4 * standardError(finals));
    expect(standardError(finals)).toBeGreaterThan(0);
    expect(Math.abs(run.posteriorRange[0] - 0.25)).toBeLessThanOrEqual(1e-12);
    expect(Math.abs(run.posteriorRange[1] - 0.25)).toBeLessThanOrEqual(1e-12);
    expect(armResult(run).slope).toBeGreaterThan(0.95);
    expect(run.envSteps).toBe(200 * T);
    // BAIL never probes.
    expect(run.probeRate.curve().mean.every((x) => x === 0)).toBe(true);
  });

  it("is reproducible bit for bit, and arms share the latent of each seed", async () => {
    const options = { horizon: 300, seeds: 20, rng: new Rng(2) };
    const arm = epsBailArm(trap, "eps", { kind: "power", c: 2, power: 0.5 }, "probe");
    const a = await runArm(trap, arm, options);
    const b = await runArm(trap, arm, options);
    expect(armResult(b)).toEqual(armResult(a));
    const seen: number[][] = [[], []];
    const spy = (k: number): ArmSpec => ({
      name: `spy${k}`,
      create: ({ zStar, rng }) => {
        seen[k]?.push(zStar);
        return new BailPlanner(trap, rng);
      },
    });
    await runArm(trap, spy(0), options);
    await runArm(trap, spy(1), options);
    expect(seen[1]).toEqual(seen[0]);
    expect(new Set(seen[0]).size).toBeGreaterThan(1);
  });

  it("the oracle has zero regret; always probing costs 1 per episode and probes every time", async () => {
    const oracle = await runArm(trap, oracleArm(trap), { horizon: 100, seeds: 10, rng: new Rng(3) });
    expect([...oracle.regret.finals()]).toEqual(new Array(10).fill(0));
    expect(oracle.successRate.curve().mean.every((x) => x === 1)).toBe(true);
    const probe = await runArm(trap, epsBailArm(trap, "probe", { kind: "constant", epsilon: 1 }, "probe"), {
      horizon: 100,
      seeds: 10,
      rng: new Rng(3),
    });
    expect([...probe.regret.finals()]).toEqual(new Array(10).fill(100));
    expect(probe.probeRate.curve().mean.every((x) => x === 1)).toBe(true);
    // After 100 probes with p = 0.7 the posterior has concentrated on z* for every seed (it started at 1/4).
    expect(Math.min(...(probe.posterior?.finals() ?? []))).toBeGreaterThan(0.999);
    expect(probe.posteriorRange[0]).toBeLessThan(0.25);
  });

  it("records per-bucket rates and the tail: the probe rate of constant ε is ε", async () => {
    const run = await runArm(trap, epsBailArm(trap, "eps", { kind: "constant", epsilon: 0.2 }, "probe"), {
      horizon: 2000,
      seeds: 50,
      rng: new Rng(4),
    });
    const rate = run.probeRate.curve();
    const last = rate.mean.at(-1) ?? Number.NaN;
    // The last bucket spans ~400 episodes × 50 seeds: s.e. ≈ 0.0028.
    expect(Math.abs(last - 0.2)).toBeLessThan(0.015);
    expect(run.tailFrom).toBe(1601);
    // In the tail the posterior has concentrated: regret per episode ≈ ε·1.
    expect(Math.abs(mean(run.tailRegret) - 0.2)).toBeLessThan(0.015);
  });

  it("runs the full Planner/Actor/Reporter loop in the gridworld with primitive steps counted", async () => {
    const grid = createGridworld();
    const run = await runArm(grid, oracleArm(grid), { horizon: 10, seeds: 4, rng: new Rng(5) });
    // The oracle walks hallway → room z* (3 or 5 steps), then stays (0 steps) twice.
    expect(run.envSteps).toBeGreaterThanOrEqual(4 * 10 * 3);
    expect(run.envSteps).toBeLessThanOrEqual(4 * 10 * 5);
    expect(mean(run.success)).toBe(1);
  });

  it("drives asynchronous planners, concurrently across seeds, to the same numbers as the synchronous driver", async () => {
    const asyncArm: ArmSpec = {
      name: "bail",
      asynchronous: true,
      concurrency: 3,
      create: ({ rng }) => {
        const inner = new BailPlanner(trap, rng);
        const planner: Planner = {
          name: "async bail",
          seesReward: false,
          beginEpisode: () => inner.beginEpisode(),
          act: async (trace) => inner.act(trace),
          observe: (trace, g, o, r) => inner.observe(trace, g, o, r),
          endEpisode: () => inner.endEpisode(),
          posteriorMass: (z) => inner.posteriorMass(z),
        };
        return planner;
      },
    };
    const options = { horizon: 50, seeds: 7, rng: new Rng(6) };
    const viaAsync = await runArm(trap, asyncArm, options);
    const viaSync = await runArm(trap, bailArm(trap, "bail"), options);
    expect(armResult(viaAsync)).toEqual(armResult(viaSync));
    // A promise on a synchronous arm is a bug in the arm's declaration.
    await expect(runArm(trap, { ...asyncArm, asynchronous: false }, options)).rejects.toThrow(/asynchronous/);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(
      runArm(trap, bailArm(trap), { horizon: 10, seeds: 2, rng: new Rng(7), signal: controller.signal }),
    ).rejects.toThrow();
  });

  it("runs planned jobs with progress in episodes, and fits horizon-tuned slopes across runs", async () => {
    const rng = new Rng(8);
    const reports: number[] = [];
    const horizons = [100, 400, 1600];
    const jobs = horizons.map((h) => ({
      env: trap,
      arm: epsBailArm(trap, `tuned T=${h}`, { kind: "constant", epsilon: 1 }, "probe" as const),
      horizon: h,
      seeds: 5,
      rng,
    }));
    const runs = await runJobs(jobs, { onProgress: (done, total) => reports.push(done / total) });
    expect(reports.at(-1)).toBe(1);
    const result = horizonArmResult(
      "tuned",
      horizons.map((h) => runs.get(`tuned T=${h}`) ?? expect.unreachable()),
      [1, 1, 1],
    );
    // Always exploring: Reg(T) = T exactly, slope 1 across horizons.
    expect(result.slope).toBeCloseTo(1, 12);
    expect(result.horizon).toBe(1600);
    await expect(runJobs([...jobs, jobs[0] ?? expect.unreachable()], {})).rejects.toThrow(/duplicate/);
  });
});
