import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { type Game24Data, loadGame24, splitPuzzles } from "./data.ts";
import { Game24Env, type Game24Observation } from "./env.ts";
import {
  answerLine,
  completionPlan,
  criticLabel,
  exactRoles,
  goldPlan,
  MAX_PROPOSALS,
  moves,
} from "./exact.ts";
import { formatStep } from "./plan.ts";
import { equals, format, type Rational, rational } from "./rational.ts";
import { applyStep, type Game24State, initialState } from "./rules.ts";
import { solvable } from "./solver.ts";

/** The shared data directory: `../shared/data` relative to the project root. */
const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

const ctx = { rng: new Rng(0) };

interface Info {
  lines: { text: string; kind: string; verdict: string; reward: number; left?: string }[];
  committed: number;
  remaining: string;
}
const infoOf = (r: { info?: Readonly<Record<string, unknown>> }) => r.info as unknown as Info;
const verdicts = (r: { info?: Readonly<Record<string, unknown>> }) => infoOf(r).lines.map((l) => l.verdict);

/**
 * A depth-1 planner on the exact twins (written here because an environment's tests may not import an agent):
 * the elite proposes every move, the model predicts, the critic scores; play argmax r + V(s′), first on ties.
 */
async function exactChoice(state: Game24State): Promise<string> {
  const proposals = await exactRoles.elite.propose(state, MAX_PROPOSALS, ctx);
  let best: string | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const action of proposals) {
    const p = await exactRoles.model.predict(state, action, ctx);
    const score = p.reward + (p.done ? 0 : await exactRoles.critic.value(p.state, ctx));
    if (score > bestScore) {
      bestScore = score;
      best = action;
    }
  }
  if (best === undefined) throw new Error("the exact elite proposed nothing");
  return best;
}

describe("Game24Env with the data set", () => {
  let data: Game24Data;
  beforeAll(() => {
    // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
    data = loadGame24(DATA_DIR);
  });

  it("accepts the gold plan of every test-split puzzle with reward 3 + 10 in one attempt", async () => {
    const test = splitPuzzles(data, "test");
    expect(test).toHaveLength(100);
    for (const p of test) {
      const plan = goldPlan(p.numbers);
      expect(plan, p.numbers.join(" ")).toBeDefined();
      const env = new Game24Env(p.numbers);
      await env.reset(0);
      const r = await env.step(plan ?? "");
      expect(r.reward, `${p.rank}: ${plan}\n${r.feedback}`).toBe(13);
      expect(r.done).toBe(true);
      expect(r.success).toBe(true);
      expect(verdicts(r)).toEqual(["correct", "correct", "correct", "correct"]);
    }
  });

  it("the exact twins solve 100/100 test-split puzzles, one step line per attempt", async () => {
    let solved = 0;
    for (const p of splitPuzzles(data, "test")) {
      const env = new Game24Env(p.numbers);
      let obs: Game24Observation = await env.reset(p.rank);
      let total = 0;
      let attempts = 0;
      for (;;) {
        const r = await env.step(await exactChoice(obs.state));
        attempts++;
        total += r.reward;
        obs = r.observation;
        if (r.done) {
          if (r.success) solved++;
          break;
        }
      }
      expect(total, p.numbers.join(" ")).toBe(13);
      expect(attempts).toBe(4);
    }
    expect(solved).toBe(100);
  });

  it("the elite's moves (no negative differences) keep every puzzle of the data set solvable", () => {
    const memo = new Map<string, boolean>();
    const eliteSolvable = (remaining: readonly Rational[]): boolean => {
      if (remaining.length === 1) return equals(remaining[0] as Rational, rational(24));
      const k = remaining.map(format).sort().join(" ");
      const hit = memo.get(k);
      if (hit !== undefined) return hit;
      const result = moves(remaining).some((m) => eliteSolvable(m.left));
      memo.set(k, result);
      return result;
    };
    const failing = data.puzzles.filter((p) => !eliteSolvable(p.numbers.map((n) => rational(n))));
    expect(failing.map((p) => p.rank)).toEqual([]);
  });
});

describe("Game24Env judging (puzzle 4 5 6 10)", () => {
  const puzzle = [4, 5, 6, 10];
  const fresh = async (options = {}) => {
    const env = new Game24Env(puzzle, options);
    await env.reset(0);
    return env;
  };

  it("gives +1 per correct line and stops at the first bad one", async () => {
    const env = await fresh();
    const r = await env.step("10 - 4 = 6 (left: 5 6 6)\n6 * 6 = 30 (left: 5 30)\n30 - 5 = 25 (left: 25)");
    expect(r.reward).toBe(1);
    expect(verdicts(r)).toEqual(["correct", "miscalculated"]);
    expect(r.feedback).toContain("Step 1 (10 - 4 = 6) is correct");
    expect(r.feedback).toContain("Step 2 is miscalculated: 6 * 6 is 36, not 30.");
    expect(r.done).toBe(false);
    expect(r.success).toBeUndefined();
  });

  it("rejects each kind of mistake with its category and sentence", async () => {
    const cases: [string, string, RegExp][] = [
      ["10 - 4 = 7 (left: 5 6 7)", "miscalculated", /10 - 4 is 6, not 7/],
      // An exact decimal is calculated right (the check that fails is the next one).
      ["10 / 4 = 2.5 (left: 2.5 5 6)", "unreachable", /is calculated right, but 5\/2 5 6 cannot reach 24/],
      [
        "10 / 6 = 1.667 (left: 1.667 4 5)",
        "miscalculated",
        /10 \/ 6 is 5\/3, not 1667\/1000\. Write fractions/,
      ],
      ["10 - 4 = 6 (left: 5 6)", "wrong_left", /numbers left should be 5 6 6, not 5 6/],
      ["10 - 4 = 6 (left: 4 5 6 6)", "wrong_left", /should be 5 6 6, not 4 5 6 6/],
      ["7 + 5 = 12 (left: 4 6 10 12)", "unavailable_number", /7 is not among the current numbers 4 5 6 10/],
      [
        "5 + 5 = 10 (left: 4 6 10 10)",
        "unavailable_number",
        /uses 5 twice, but the current numbers 4 5 6 10 hold it once/,
      ],
      ["5 - 4 = 1 (left: 1 6 10)", "unreachable", /1 6 10 cannot reach 24 any more/],
      [
        "Answer: (10 - 4) * 4 = 24",
        "wrong_numbers",
        /must use 4 5 6 10 each exactly once, but it uses 4 4 10/,
      ],
      ["Answer: 4 * 6 * (10 / 10) = 24", "wrong_numbers", /but it uses 4 6 10 10/],
      ["Answer: 4 + 5 + 6 + 10 = 24", "not_24", /4 \+ 5 \+ 6 \+ 10 equals 25, not 24/],
      [
        "Answer: 4 + 5 + 6 + 10 = 25",
        "bad_answer_claim",
        /The answer line cannot be read \(bad_answer_claim\)/,
      ],
      ["Answer: (10 - 4) * (5 - 1) = 24", "wrong_numbers", /it uses 1 4 5 10/],
      ["Answer: (10 - 4) * (5 - 1", "unbalanced_parentheses", /cannot be read \(unbalanced_parentheses\)/],
      ["10 + y = 12 (left: 4 6 12)", "unexpected_token", /Step 1 cannot be read \(unexpected_token\)/],
      ["I would start with 10 and 4", "unrecognized_line", /Step 1 cannot be read \(unrecognized_line\)/],
      ["Let me think...", "empty_plan", /no step line and no answer line/],
      ["", "empty_plan", /no step line and no answer line/],
    ];
    for (const [action, verdict, sentence] of cases) {
      const env = await fresh();
      const r = await env.step(action);
      expect(verdicts(r), action).toEqual([verdict]);
      expect(r.feedback, action).toMatch(sentence);
      expect(r.reward).toBe(verdict === "correct" ? 1 : 0);
    }
  });

  it("a correct answer ends the episode with +10; an answer line is the last line read", async () => {
    const env = await fresh();
    const wrong = await env.step("Answer: (5 + 10 - 6) * 4 = 24\n10 - 4 = 6 (left: 5 6 6)");
    expect(verdicts(wrong)).toEqual(["not_24"]); // 9 × 4 = 36; the step after it is not read
    expect(wrong.reward).toBe(0);
    const right = await env.step("Here it is.\nAnswer: (10 - 4) * 5 - 6 = 24\n7 + 7 = 14 (left: 14)");
    expect(verdicts(right)).toEqual(["correct"]);
    expect(right.reward).toBe(10);
    expect(right.done).toBe(true);
    expect(right.success).toBe(true);
    expect(right.feedback).toBe("The answer (10 - 4) * 5 - 6 = 24 is correct.");
    await expect(env.step("Answer: 4 * 6")).rejects.toThrow(/after the episode ended/);
  });

  it("feedback mode commits correct steps; later attempts continue from them", async () => {
    const env = await fresh();
    const r1 = await env.step("10 - 4 = 6 (left: 5 6 6)\n6 + 6 = 12 (left: 5 12)");
    expect(verdicts(r1)).toEqual(["correct", "unreachable"]);
    expect(r1.reward).toBe(1);
    expect(r1.observation.state.steps).toHaveLength(1);
    expect(r1.observation.state.remaining.map(format).sort()).toEqual(["5", "6", "6"]);
    expect(infoOf(r1).committed).toBe(1);
    expect(r1.observation.text).toContain("Steps so far:\n1. 10 - 4 = 6 (left: 5 6 6)");
    expect(r1.observation.text).toContain("Numbers left: 5 6 6");
    expect(r1.observation.text).toContain("Attempts used: 1 of 20");
    // The next attempt is judged from 5 6 6 and numbered from step 2.
    const r2 = await env.step("10 - 4 = 6 (left: 5 6 6)");
    expect(verdicts(r2)).toEqual(["unavailable_number"]);
    expect(r2.feedback).toMatch(/^Step 2 is illegal: 10 is not among the current numbers 5 6 6\.$/);
    const rest = completionPlan(env.current);
    expect(rest?.split("\n")).toHaveLength(3);
    const r3 = await env.step(rest ?? "");
    expect(r3.reward).toBe(12);
    expect(r3.success).toBe(true);
    expect(r3.feedback).toMatch(/^Step 2 .* Step 3 .* The answer .* is correct\.$/);
  });

  it("without feedback mode nothing is committed and no feedback text is given", async () => {
    const env = await fresh({ feedback: false });
    const r1 = await env.step("10 - 4 = 6 (left: 5 6 6)\n6 + 6 = 12 (left: 5 12)");
    expect(r1.reward).toBe(1);
    expect(r1.feedback).toBe("");
    expect(verdicts(r1)).toEqual(["correct", "unreachable"]); // the journal still sees the verdicts
    expect(r1.observation.state.steps).toHaveLength(0);
    expect(env.render()).not.toContain("Steps so far");
    const r2 = await env.step("10 - 4 = 6 (left: 5 6 6)");
    expect(verdicts(r2)).toEqual(["correct"]); // judged from the four numbers again
    const r3 = await env.step(goldPlan(puzzle) ?? "");
    expect(r3.reward).toBe(13);
    expect(r3.success).toBe(true);
  });

  it("ends unsolved after 20 attempts and resets cleanly", async () => {
    const env = await fresh();
    for (let i = 1; i <= 20; i++) {
      expect(env.terminal).toBe(false);
      const r = await env.step("Answer: 4 + 5 + 6 + 10");
      expect(r.done).toBe(i === 20);
      if (i === 20) expect(r.success).toBe(false);
    }
    expect(env.terminal).toBe(true);
    await expect(env.step("Answer: (10 - 4) * 5 - 6")).rejects.toThrow();
    const obs = await env.reset(1);
    expect(obs.attempts).toBe(0);
    expect(env.terminal).toBe(false);
    const small = new Game24Env(puzzle, { maxAttempts: 2 });
    await small.reset(0);
    await small.step("10 - 4 = 6 (left: 5 6 6)");
    const last = await small.step("x");
    expect(last.done).toBe(true);
    expect(last.success).toBe(false);
    expect(() => new Game24Env(puzzle, { maxAttempts: 0 })).toThrow(RangeError);
  });

  it("is a free-text environment", async () => {
    const env = await fresh();
    expect(env.name).toBe("game24");
    expect(env.legalActions()).toBeUndefined();
    expect(env.parseAction("anything at all")).toEqual({ ok: true, value: "anything at all" });
    expect(env.formatAction("10 - 4 = 6 (left: 5 6 6)")).toBe("10 - 4 = 6 (left: 5 6 6)");
    expect(env.render()).toBe("Numbers: 4 5 6 10\nNumbers left: 4 5 6 10\nAttempts used: 0 of 20");
    const r = await env.step("10 - 4 = 6 (left: 5 6 6)");
    expect(JSON.parse(JSON.stringify(r.info))).toEqual(r.info); // journal-safe: no bigints
  });
});

describe("exact twins", () => {
  const start = initialState([4, 5, 6, 10]);

  it("elite: every move once, non-negative, division by zero dropped, answer at 24", async () => {
    const lines = await exactRoles.elite.propose(start, MAX_PROPOSALS, ctx);
    expect(lines).toHaveLength(30);
    expect(new Set(lines).size).toBe(30);
    expect(lines).toContain("10 - 4 = 6 (left: 5 6 6)");
    expect(lines).toContain("4 / 6 = 2/3 (left: 2/3 5 10)");
    expect(lines.some((l) => l.includes("-6") || l.includes("= -"))).toBe(false);
    const narrow = await exactRoles.elite.propose(start, 9, { rng: new Rng(5) });
    expect(narrow).toHaveLength(9);
    expect(new Set(narrow).size).toBe(9);
    for (const line of narrow) expect(lines).toContain(line);
    expect(await exactRoles.elite.propose(start, 9, { rng: new Rng(5) })).toEqual(narrow);
    expect(await exactRoles.elite.propose(start, 9, { rng: new Rng(6) })).not.toEqual(narrow);
    expect(await exactRoles.elite.propose(start, 0, ctx)).toEqual([]);
    // Repeated numbers: 5 5 with a = b gives + × − ÷ once each.
    expect(moves([rational(5), rational(5)]).map(formatStep)).toEqual([
      "5 + 5 = 10 (left: 10)",
      "5 * 5 = 25 (left: 25)",
      "5 - 5 = 0 (left: 0)",
      "5 / 5 = 1 (left: 1)",
    ]);
    expect(moves([rational(0), rational(3)]).map(formatStep)).toEqual([
      "3 + 0 = 3 (left: 3)",
      "3 * 0 = 0 (left: 0)",
      "3 - 0 = 3 (left: 3)",
      "0 / 3 = 0 (left: 0)",
    ]);
    let s = start;
    for (const line of ["10 - 4 = 6 (left: 5 6 6)", "6 - 5 = 1 (left: 1 6)", "6 * 1 = 6 (left: 6)"]) {
      const p = await exactRoles.model.predict(s, line, ctx);
      s = p.state;
    }
    expect(s.remaining.map(format)).toEqual(["6"]);
    expect(await exactRoles.elite.propose(s, MAX_PROPOSALS, ctx)).toEqual([]);
    const done = then(then(then(start, 10, "-", 4), 6, "*", 5), 30, "-", 6);
    expect(answerLine(done)).toBe("Answer: (10 - 4) * 5 - 6 = 24");
    expect(await exactRoles.elite.propose(done, MAX_PROPOSALS, ctx)).toEqual([
      "Answer: (10 - 4) * 5 - 6 = 24",
    ]);
  });

  it("model: arithmetic with the environment's rewards; critic: exact solvability", async () => {
    const good = await exactRoles.model.predict(start, "10 - 4 = 6 (left: 5 6 6)", ctx);
    expect(good.reward).toBe(1);
    expect(good.done).toBe(false);
    expect(good.state.remaining.map(format)).toEqual(["5", "6", "6"]);
    expect(good.state.steps).toHaveLength(1);
    expect(await exactRoles.critic.value(good.state, ctx)).toBe(1);
    expect(criticLabel(good.state)).toBe("sure");

    const dead = await exactRoles.model.predict(start, "5 - 4 = 1 (left: 1 6 10)", ctx);
    expect(dead.reward).toBe(0);
    expect(dead.state.remaining.map(format)).toEqual(["1", "6", "10"]); // sorted // the imagined state follows the step
    expect(await exactRoles.critic.value(dead.state, ctx)).toBe(0);
    expect(criticLabel(dead.state)).toBe("impossible");

    for (const bad of ["10 - 4 = 7 (left: 5 6 7)", "7 + 5 = 12 (left: 4 6 10 12)", "nonsense 1"]) {
      const p = await exactRoles.model.predict(start, bad, ctx);
      expect(p.reward, bad).toBe(0);
      expect(p.state, bad).toBe(start);
    }
    const answer = await exactRoles.model.predict(start, "Answer: (10 - 4) * 5 - 6 = 24", ctx);
    expect(answer).toMatchObject({ reward: 10, done: true });
    const whole = await exactRoles.model.predict(start, goldPlan([4, 5, 6, 10]) ?? "", ctx);
    expect(whole).toMatchObject({ reward: 13, done: true });
  });

  it("completion plans start from any solvable committed prefix and fail on a dead end", () => {
    const after = then(start, 10, "-", 4);
    const plan = completionPlan(after);
    expect(plan?.split("\n")).toHaveLength(3);
    expect(plan?.split("\n").at(-1)).toMatch(/^Answer: .* = 24$/);
    const dead = then(start, 5, "-", 4);
    expect(solvable(dead.remaining)).toBe(false);
    expect(completionPlan(dead)).toBeUndefined();
    expect(goldPlan([1, 1, 1, 1])).toBeUndefined();
  });
});

/** The state after `a op b` (a valid move), computed by the rules. */
function then(state: Game24State, a: number, op: "+" | "-" | "*" | "/", b: number): Game24State {
  const next = applyStep(state, { a: rational(a), op, b: rational(b), result: rational(0), left: [] });
  if (!next.ok) throw new Error(next.message);
  return next.value;
}
