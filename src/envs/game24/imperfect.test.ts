import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { corruptCritic } from "../imperfect.ts";
import { answerLine, completionPlan, exactRoles, MAX_PROPOSALS, moves } from "./exact.ts";
import {
  arithmeticModel,
  ImperfectTwin,
  imperfectRoles,
  lineKey,
  numbersKey,
  predictLine,
} from "./imperfect.ts";
import { formatStep } from "./plan.ts";
import { formatNumbers, rational } from "./rational.ts";
import { ANSWER_REWARD, type Game24State, initialState, STEP_REWARD } from "./rules.ts";
import { solvable } from "./solver.ts";

const ctx = { rng: new Rng(1) };

/** Every multiset of four numbers 1…13 (1,820 of them), as states. */
function allPuzzles(): Game24State[] {
  const out: Game24State[] = [];
  for (let a = 1; a <= 13; a++)
    for (let b = a; b <= 13; b++)
      for (let c = b; c <= 13; c++) for (let d = c; d <= 13; d++) out.push(initialState([a, b, c, d]));
  return out;
}

describe("the arithmetic model", () => {
  const start = initialState([4, 5, 6, 10]);

  it("computes valid steps without judging reachability; the answer pays 10 and ends", async () => {
    const dead = predictLine(start, "4 + 5 = 9 (left: 6 9 10)");
    expect(dead.done).toBe(false);
    expect(dead.reward).toBe(STEP_REWARD);
    expect(solvable(dead.state.remaining)).toBe(false); // the exact model would pay 0 here
    expect((await exactRoles.model.predict(start, "4 + 5 = 9 (left: 6 9 10)", ctx)).reward).toBe(0);
    expect(formatNumbers(dead.state.remaining)).toBe("6 9 10");
    expect(dead.state.steps).toHaveLength(1);

    const plan = (completionPlan(start) ?? "").split("\n");
    let state = start;
    for (const line of plan.slice(0, -1)) {
      const p = await arithmeticModel.predict(state, line, ctx);
      expect(p).toMatchObject({ reward: STEP_REWARD, done: false });
      state = p.state;
    }
    expect(predictLine(state, plan.at(-1) ?? "")).toMatchObject({ reward: ANSWER_REWARD, done: true });
  });

  it("a line the checker rejects ends the attempt with nothing", () => {
    for (const bad of [
      "4 + 5 = 10 (left: 6 10 10)", // miscalculated
      "4 + 5 = 9 (left: 6 10)", // wrong left list
      "7 + 5 = 12 (left: 4 6 12)", // 7 is not there
      "four plus five",
      "Answer: (10 - 4) * 5 = 24",
    ]) {
      expect(predictLine(start, bad), bad).toEqual({ state: start, reward: 0, done: true });
    }
  });

  it("line keys are canonical", () => {
    expect(lineKey("4*6=24 (left: 24)")).toBe("4 * 6 = 24 (left: 24)");
    expect(lineKey("1. 4 + 5 = 9 (left: 6, 9, 10)")).toBe("4 + 5 = 9 (left: 6 9 10)");
    expect(lineKey("  not a step ")).toBe("not a step");
  });
});

describe("imperfect twins", () => {
  const puzzles = allPuzzles();

  it("the critic mislabels about `criticRate` of the number sets, consistently, as corruptCritic keys it", async () => {
    const twin = new ImperfectTwin({ seed: 11, criticRate: 0.3, eliteRate: 0 });
    const reference = corruptCritic<Game24State>(
      { value: async (s) => (solvable(s.remaining) ? 1 : 0) },
      { rate: 0.3, seed: 11, key: numbersKey, wrong: (v) => 1 - v },
    );
    let wrong = 0;
    for (const s of puzzles) {
      const v = twin.value(s);
      expect(v).toBe(await reference.value(s, ctx));
      if (v !== (solvable(s.remaining) ? 1 : 0)) wrong++;
    }
    const rate = wrong / puzzles.length;
    expect(rate).toBeGreaterThan(0.26);
    expect(rate).toBeLessThan(0.34);
    // Another episode (seed) gets another pattern; a single number is never mislabelled.
    const other = new ImperfectTwin({ seed: 12, criticRate: 0.3 });
    expect(puzzles.some((s) => other.value(s) !== twin.value(s))).toBe(true);
    const only = (n: number) => ({ puzzle: [], steps: [], remaining: [rational(n)] });
    const always = new ImperfectTwin({ seed: 1, criticRate: 1 });
    expect([always.value(only(24)), always.value(only(23))]).toEqual([1, 0]);
  });

  it("in a corrupted state the elite ranks every right move after the wrong ones; elsewhere it samples", () => {
    const twin = new ImperfectTwin({ seed: 3, eliteRate: 1, criticRate: 0 });
    const start = initialState([4, 5, 6, 10]);
    const ranked = twin.ranked(start, new Rng(2));
    const right = ranked.map((l) => solvable(predictLine(start, l).state.remaining));
    const firstRight = right.indexOf(true);
    expect(firstRight).toBeGreaterThan(0);
    expect(right.slice(firstRight).every(Boolean)).toBe(true);
    // Fewer proposals than wrong moves: it misses them all; the full budget still contains them.
    expect(twin.propose(start, firstRight, new Rng(2)).some((l) => right[ranked.indexOf(l)])).toBe(false);
    expect(twin.propose(start, MAX_PROPOSALS, new Rng(2))).toHaveLength(ranked.length);

    const clean = new ImperfectTwin({ seed: 3, eliteRate: 0 });
    const draws = new Set<string>();
    for (let i = 0; i < 20; i++) draws.add(clean.propose(start, 5, new Rng(i)).join("|"));
    expect(draws.size).toBeGreaterThan(1);
  });

  it("proposes the answer line when 24 is left, and miscalculates a modelRate fraction of lines", async () => {
    const roles = imperfectRoles({ seed: 5, eliteRate: 1, criticRate: 1, modelRate: 1 });
    const plan = (completionPlan(initialState([4, 5, 6, 10])) ?? "").split("\n");
    let state = initialState([4, 5, 6, 10]);
    for (const line of plan.slice(0, -1)) state = predictLine(state, line).state;
    expect(await roles.elite.propose(state, 10, ctx)).toEqual([answerLine(state)]);
    const step = "10 - 4 = 6 (left: 5 6 6)";
    const miscalculated = await roles.model.predict(initialState([4, 5, 6, 10]), step, ctx);
    expect(formatNumbers(miscalculated.state.remaining)).toBe("5 6 7");
    expect(miscalculated.reward).toBe(STEP_REWARD);
  });

  it("at rate 0 they answer as the exact critic and elite do", async () => {
    const roles = imperfectRoles({ seed: 9, criticRate: 0, eliteRate: 0 });
    for (const s of puzzles.slice(0, 300)) {
      expect(await roles.critic.value(s, ctx)).toBe(await exactRoles.critic.value(s, ctx));
      expect(await roles.elite.propose(s, MAX_PROPOSALS, ctx)).toEqual(moves(s.remaining).map(formatStep));
    }
  });

  it("rejects rates outside [0, 1]", () => {
    expect(() => new ImperfectTwin({ seed: 1, criticRate: 1.5 })).toThrow(RangeError);
    expect(() => new ImperfectTwin({ seed: 1, eliteRate: -0.1 })).toThrow(RangeError);
  });
});
