import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import type { Critic, Experience, Roles } from "../../core/roles.ts";
import { Game24Env, type Game24Observation } from "./env.ts";
import { arithmeticModel, ImperfectTwin, imperfectRoles, numbersKey } from "./imperfect.ts";
import {
  correctedRoles,
  countRoles,
  learnLessons,
  lessonsOf,
  newRoleCounts,
  twinLearner,
  UNIT_SCALE,
} from "./learner.ts";
import { formatNumbers, rational } from "./rational.ts";
import type { Game24State } from "./rules.ts";

const ctx = { rng: new Rng(1) };

/** Submit `plans` in turn to a feedback-mode environment and record them as a learner sees them. */
async function play(puzzle: number[], plans: string[]): Promise<Experience<Game24State, string>[]> {
  const env = new Game24Env(puzzle);
  let obs: Game24Observation = await env.reset(0);
  const out: Experience<Game24State, string>[] = [];
  for (const [t, plan] of plans.entries()) {
    const r = await env.step(plan);
    out.push({
      t,
      state: obs.state,
      action: plan.split("\n")[0] ?? "",
      actionText: plan,
      next: r.observation.state,
      reward: r.reward,
      done: r.done,
      feedback: r.feedback,
      ...(r.info ? { info: r.info } : {}),
    });
    obs = r.observation;
  }
  return out;
}

const numbers = (...ns: number[]) => formatNumbers(ns.map((n) => rational(n)));
const state = (...ns: number[]): Game24State => ({
  puzzle: [],
  steps: [],
  remaining: ns.map((n) => rational(n)),
});

describe("the Game-of-24 learner", () => {
  it("reads the checker's verdicts line by line into critic and elite memory", async () => {
    const memory = await play(
      [4, 5, 6, 10],
      [
        "4 + 5 = 9 (left: 6 9 10)", // calculated right, but 6 9 10 cannot make 24
        "10 - 4 = 6 (left: 5 6 6)\n5*6=31 (left: 6 31)", // first line good, second miscalculated
      ],
    );
    expect(memory[1]?.feedback).toContain("miscalculated");
    const lessons = learnLessons(memory);
    expect(lessons.lessons.map((l) => [l.numbers, l.line, l.label])).toEqual([
      ["4 5 6 10", "4 + 5 = 9 (left: 6 9 10)", "impossible"],
      ["4 5 6 10", "10 - 4 = 6 (left: 5 6 6)", "sure"],
      ["5 6 6", "5 * 6 = 31 (left: 6 31)", "invalid"],
    ]);
    expect(Object.fromEntries(lessons.values)).toEqual({
      "6 9 10": "impossible",
      "4 5 6 10": "sure",
      "5 6 6": "sure",
    });
    expect(lessons.good.get("4 5 6 10")).toEqual(["10 - 4 = 6 (left: 5 6 6)"]);
    expect(lessons.bad.get("4 5 6 10")).toEqual(["4 + 5 = 9 (left: 6 9 10)"]);
    expect(lessons.bad.get("5 6 6")).toEqual(["5 * 6 = 31 (left: 6 31)"]);
    expect(lessons.arithmetic.get(`5 6 6\u00005 * 6 = 31 (left: 6 31)`)).toBe(false);
  });

  it("ignores experiences without the environment's verdicts", async () => {
    const [e] = await play([4, 5, 6, 10], ["4 + 5 = 9 (left: 6 9 10)"]);
    if (!e) throw new Error("no experience");
    expect(lessonsOf({ ...e, info: { lines: "garbled" } })).toEqual([]);
    const { info: _dropped, ...bare } = e;
    expect(lessonsOf(bare)).toEqual([]);
    // Feedback the agent was not given (ToT's setting: verdicts only in the journal) teaches nothing.
    expect(lessonsOf(e)).toHaveLength(1);
    expect(lessonsOf({ ...e, feedback: "" })).toEqual([]);
  });

  it("memory overrides the corrupted roles: known sets, known lines, known arithmetic", async () => {
    const seed = 4;
    // A critic wrong everywhere and an elite that hides the right moves everywhere.
    const wrong = imperfectRoles({ seed, criticRate: 1, eliteRate: 1, modelRate: 1 });
    const memory = await play([4, 5, 6, 10], ["4 + 5 = 9 (left: 6 9 10)", "5 - 4 = 1 (left: 1 6 10)"]);
    const lessons = learnLessons(memory);
    const fixed = correctedRoles(wrong, lessons, UNIT_SCALE);
    expect(await wrong.critic.value(state(6, 9, 10), ctx)).toBe(1);
    expect(await fixed.critic.value(state(6, 9, 10), ctx)).toBe(0);
    expect(await fixed.critic.value(state(4, 5, 6, 10), ctx)).toBe(0); // unknown: still the corrupted answer

    // The elite is asked for two more lines than the breadth, so ruling two out makes room for others.
    const start = memory[0]?.state ?? state(4, 5, 6, 10);
    const asked: number[] = [];
    const spy: Roles<Game24State, string> = {
      ...wrong,
      elite: {
        propose: (s, breadth, c) => {
          asked.push(breadth);
          return wrong.elite.propose(s, breadth, c);
        },
      },
    };
    const proposals = await correctedRoles(spy, lessons, UNIT_SCALE).elite.propose(start, 5, {
      rng: new Rng(3),
    });
    expect(asked).toEqual([7]);
    expect(proposals).toHaveLength(5);
    expect(proposals).not.toContain("4 + 5 = 9 (left: 6 9 10)");
    expect(proposals).not.toContain("5 - 4 = 1 (left: 1 6 10)");

    // The miscalculating model predicts a judged line as the checker judged it.
    const line = "4 + 5 = 9 (left: 6 9 10)";
    expect(formatNumbers((await wrong.model.predict(start, line, ctx)).state.remaining)).toBe("6 10 10");
    expect(formatNumbers((await fixed.model.predict(start, line, ctx)).state.remaining)).toBe("6 9 10");
  });

  it("draws the corruption once per episode; without memory the errors stay", async () => {
    const memory = await play([4, 5, 6, 10], ["4 + 5 = 9 (left: 6 9 10)"]);
    const rates = { criticRate: 1, eliteRate: 0 };
    const learner = twinLearner({ roles: "imperfect", rates, remember: true });
    const blind = twinLearner({ roles: "imperfect", rates, remember: false });
    const episodeRng = new Rng(8);
    const first = await learner.learn([], { rng: episodeRng });
    const later = await learner.learn(memory, { rng: episodeRng });
    const blindLater = await blind.learn(memory, { rng: new Rng(8) });
    const probe = state(1, 2, 3, 4);
    expect(await later.critic.value(probe, ctx)).toBe(await first.critic.value(probe, ctx));
    expect(await first.critic.value(state(6, 9, 10), ctx)).toBe(1);
    expect(await later.critic.value(state(6, 9, 10), ctx)).toBe(0);
    expect(await blindLater.critic.value(state(6, 9, 10), ctx)).toBe(1);

    // The seed comes from the episode's stream: the same stream gives the same pattern.
    const twinSeed = new Rng(8).nextUint32();
    const twin = new ImperfectTwin({ seed: twinSeed, criticRate: 0.5, eliteRate: 0 });
    const half = await twinLearner({ roles: "imperfect", rates: { criticRate: 0.5 }, remember: false }).learn(
      [],
      {
        rng: new Rng(8),
      },
    );
    for (const ns of [
      [1, 2, 3, 4],
      [2, 3, 5, 12],
      [1, 1, 1, 1],
      [3, 3, 8, 8],
    ]) {
      const s = state(...ns);
      expect(await half.critic.value(s, ctx)).toBe(twin.value(s));
    }
  });

  it("counts the questions that reach the roles, not those memory answers", async () => {
    const counts = newRoleCounts();
    const memory = await play([4, 5, 6, 10], ["4 + 5 = 9 (left: 6 9 10)"]);
    const base: Roles<Game24State, string> = {
      elite: { propose: async () => [] },
      model: arithmeticModel,
      critic: { value: async () => 0.5 } satisfies Critic<Game24State>,
    };
    const roles = correctedRoles(countRoles(base, counts), learnLessons(memory), UNIT_SCALE);
    await roles.critic.value(state(6, 9, 10), ctx); // known
    await roles.critic.value(state(1, 2, 3), ctx);
    await roles.elite.propose(state(1, 2, 3), 3, ctx);
    expect(counts).toEqual({ elite: 1, critic: 1, criticSamples: 1 });
    expect(numbersKey(state(3, 1, 2))).toBe(numbers(1, 2, 3));
  });
});
