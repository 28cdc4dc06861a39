/**
 * RAFA's Game-of-24 learner (spec §3.1): what the feedback so far says about the puzzle, as exact tables —
 *
 * - Critic memory: number sets known to reach 24 ("sure") or not ("impossible");
 * - Elite memory: step lines known good (correct, and 24 still reachable) or bad (leads to a dead end, illegal,
 *   miscalculated, unreadable), per number set;
 * - what the checker said about each line's arithmetic (for a model that miscalculates).
 *
 * The tables come from the environment's per-line verdicts (`Experience.info.lines`), which are exactly what its
 * feedback sentences say. `correctedRoles` layers them over any roles (imperfect twins or LLM roles); the LLM roles
 * also read them as reflections written into their prompts ("what has been learned about the puzzle").
 */
import { z } from "zod";
import type { Critic, Elite, Experience, Learner, Roles, WorldModel } from "../../core/roles.ts";
import { exactRoles } from "./exact.ts";
import { type CorruptionRates, imperfectRoles, lineKey, numbersKey, predictLine } from "./imperfect.ts";
import { formatNumbers, parseRational, type Rational } from "./rational.ts";
import type { Game24State } from "./rules.ts";

/** What one judged line teaches. */
export interface Lesson {
  /** The numbers the line was judged on. */
  readonly numbers: string;
  /** The line in canonical form (`lineKey`). */
  readonly line: string;
  /** `sure`: correct and 24 still reachable; `impossible`: calculated right but a dead end; `invalid`: rejected. */
  readonly label: "sure" | "impossible" | "invalid";
  /** The checker's verdict (e.g. `correct`, `unreachable`, `miscalculated`, `wrong_left`). */
  readonly verdict: string;
  /** The numbers the line leaves, when it was a valid move calculated right. */
  readonly left?: string;
}

export interface Game24Lessons {
  /** Critic memory: numbers key → label. */
  readonly values: ReadonlyMap<string, "sure" | "impossible">;
  /** Elite memory: numbers key → good / bad lines (canonical). */
  readonly good: ReadonlyMap<string, readonly string[]>;
  readonly bad: ReadonlyMap<string, readonly string[]>;
  /** `numbers\0line` → whether the checker found the line calculated right. */
  readonly arithmetic: ReadonlyMap<string, boolean>;
  /** Every judged line in order (for reflections). */
  readonly lessons: readonly Lesson[];
}

export const NO_LESSONS: Game24Lessons = {
  values: new Map(),
  good: new Map(),
  bad: new Map(),
  arithmetic: new Map(),
  lessons: [],
};

/** The shape of `Game24Env`'s `info.lines` (validated: `info` is typed `unknown` across the agent boundary). */
const InfoLines = z.object({
  lines: z.array(
    z.object({
      text: z.string(),
      kind: z.string(),
      verdict: z.string(),
      left: z.string().optional(),
    }),
  ),
});

function parseNumbers(text: string): Rational[] | undefined {
  const out: Rational[] = [];
  for (const item of text.split(/\s+/)) {
    if (item.length === 0) continue;
    const r = parseRational(item);
    if (!r.ok) return undefined;
    out.push(r.value);
  }
  return out;
}

/**
 * The lessons of one experience: its judged lines, walked from the state the agent acted in. Only feedback the
 * agent was given counts: without feedback (ToT's setting) the verdicts in `info` are for the journal, not for it.
 */
export function lessonsOf(e: Experience<Game24State, unknown>): Lesson[] {
  if (e.feedback.length === 0) return [];
  const info = InfoLines.safeParse(e.info);
  if (!info.success) return [];
  const out: Lesson[] = [];
  let numbers = e.state.remaining;
  for (const l of info.data.lines) {
    const key = formatNumbers(numbers);
    if (l.verdict === "correct" && l.kind === "answer") break;
    const line = lineKey(l.text);
    if (l.kind === "step" && (l.verdict === "correct" || l.verdict === "unreachable") && l.left) {
      const left = parseNumbers(l.left);
      if (!left) break;
      out.push({
        numbers: key,
        line,
        label: l.verdict === "correct" ? "sure" : "impossible",
        verdict: l.verdict,
        left: formatNumbers(left),
      });
      if (l.verdict !== "correct") break;
      numbers = left;
      continue;
    }
    // Illegal, miscalculated, unreadable or a wrong answer: the checker stopped here.
    if (line.length > 0) out.push({ numbers: key, line, label: "invalid", verdict: l.verdict });
    break;
  }
  return out;
}

/** Fold the memory buffer into the learner's tables (later lessons win; feedback never contradicts itself). */
export function learnLessons(memory: readonly Experience<Game24State, unknown>[]): Game24Lessons {
  const values = new Map<string, "sure" | "impossible">();
  const good = new Map<string, string[]>();
  const bad = new Map<string, string[]>();
  const arithmetic = new Map<string, boolean>();
  const lessons: Lesson[] = [];
  const push = (table: Map<string, string[]>, k: string, line: string) => {
    const list = table.get(k) ?? [];
    if (!list.includes(line)) list.push(line);
    table.set(k, list);
  };
  for (const e of memory) {
    for (const lesson of lessonsOf(e)) {
      lessons.push(lesson);
      arithmetic.set(`${lesson.numbers}\u0000${lesson.line}`, lesson.label !== "invalid");
      if (lesson.label === "sure") {
        push(good, lesson.numbers, lesson.line);
        values.set(lesson.numbers, "sure"); // a state with a move that can still reach 24 can reach 24
        if (lesson.left) values.set(lesson.left, "sure");
      } else {
        push(bad, lesson.numbers, lesson.line);
        if (lesson.label === "impossible" && lesson.left) values.set(lesson.left, "impossible");
      }
    }
  }
  return { values, good, bad, arithmetic, lessons };
}

/** The value a critic gives a label on its own scale (exact twins: 1 / 0; LLM critics: `VALUE_WEIGHTS`). */
export type LabelScale = Readonly<Record<"sure" | "impossible", number>>;
export const UNIT_SCALE: LabelScale = { sure: 1, impossible: 0 };

/** A critic that may also answer n samples in one request (structurally `SampledCritic` of reason/). */
export interface MaybeSampledCritic<S> extends Critic<S> {
  values?(state: S, n: number, ctx: Parameters<Critic<S>["value"]>[1]): Promise<readonly number[]>;
}

/** Known number sets are answered from the critic memory; the rest are asked. Keeps an n-sample method. */
export function correctedCritic(
  critic: MaybeSampledCritic<Game24State>,
  values: ReadonlyMap<string, "sure" | "impossible">,
  scale: LabelScale,
): MaybeSampledCritic<Game24State> {
  const known = (s: Game24State) => {
    const label = values.get(numbersKey(s));
    return label === undefined ? undefined : scale[label];
  };
  const out: MaybeSampledCritic<Game24State> = {
    async value(state, ctx) {
      return known(state) ?? critic.value(state, ctx);
    },
  };
  const sampled = critic.values;
  if (sampled) {
    out.values = async (state, n, ctx) => {
      const v = known(state);
      return v === undefined ? sampled.call(critic, state, n, ctx) : Array.from({ length: n }, () => v);
    };
  }
  return out;
}

/**
 * Known-bad lines are dropped and known-good lines proposed first; the elite is asked for as many more proposals
 * as lines were ruled out in that state, so ruling out wrong moves makes room for ones it ranked lower.
 */
export function correctedElite(
  elite: Elite<Game24State, string>,
  good: ReadonlyMap<string, readonly string[]>,
  bad: ReadonlyMap<string, readonly string[]>,
): Elite<Game24State, string> {
  return {
    async propose(state, breadth, ctx) {
      const k = numbersKey(state);
      const ruledOut = new Set(bad.get(k) ?? []);
      const proposed = await elite.propose(state, breadth + ruledOut.size, ctx);
      const out: string[] = [];
      const seen = new Set<string>();
      for (const line of [...(good.get(k) ?? []), ...proposed]) {
        const key = lineKey(line);
        if (seen.has(key) || ruledOut.has(key)) continue;
        seen.add(key);
        out.push(line);
        if (out.length >= breadth) break;
      }
      return out;
    },
  };
}

/**
 * Lines the checker judged are predicted as it judged them: a rejected line ends the attempt; a line calculated
 * right leads to the numbers exact arithmetic gives (the model's own reward is kept).
 */
export function correctedModel(
  model: WorldModel<Game24State, string>,
  arithmetic: ReadonlyMap<string, boolean>,
): WorldModel<Game24State, string> {
  return {
    async predict(state, action, ctx) {
      const right = arithmetic.get(`${numbersKey(state)}\u0000${lineKey(action)}`);
      if (right === false) return { state, reward: 0, done: true };
      const predicted = await model.predict(state, action, ctx);
      if (right === undefined) return predicted;
      const truth = predictLine(state, action);
      return truth.done ? predicted : { ...predicted, state: truth.state };
    },
  };
}

/** The learned tables layered over `roles` (RAFA's learner output for one epoch). */
export function correctedRoles(
  roles: Roles<Game24State, string>,
  lessons: Game24Lessons,
  scale: LabelScale,
): Roles<Game24State, string> {
  return {
    elite: correctedElite(roles.elite, lessons.good, lessons.bad),
    model: correctedModel(roles.model, lessons.arithmetic),
    critic: correctedCritic(roles.critic, lessons.values, scale),
  };
}

/** Questions asked of the base roles (what an LLM would have been asked; memory answers are not counted). */
export interface RoleCounts {
  elite: number;
  critic: number;
  criticSamples: number;
}

export function newRoleCounts(): RoleCounts {
  return { elite: 0, critic: 0, criticSamples: 0 };
}

/** Count the elite and critic questions that reach `roles` (the model is exact arithmetic in every mode). */
export function countRoles(
  roles: Roles<Game24State, string>,
  counts: RoleCounts,
): Roles<Game24State, string> {
  const critic: MaybeSampledCritic<Game24State> = roles.critic;
  const counted: MaybeSampledCritic<Game24State> = {
    async value(state, ctx) {
      counts.critic += 1;
      counts.criticSamples += 1;
      return critic.value(state, ctx);
    },
  };
  const sampled = critic.values;
  if (sampled) {
    counted.values = async (state, n, ctx) => {
      counts.critic += 1;
      counts.criticSamples += n;
      return sampled.call(critic, state, n, ctx);
    };
  }
  return {
    elite: {
      async propose(state, breadth, ctx) {
        counts.elite += 1;
        return roles.elite.propose(state, breadth, ctx);
      },
    },
    model: roles.model,
    critic: counted,
  };
}

export interface TwinLearnerOptions {
  /** `exact`: the exact twins; `imperfect`: the exact roles corrupted at `rates`. */
  readonly roles: "exact" | "imperfect";
  readonly rates?: CorruptionRates;
  /** Layer what the memory teaches over the roles (RAFA, Reflexion); false for baselines without memory. */
  readonly remember: boolean;
  /** Counts the questions that reach the (uncorrected) roles. */
  readonly counts?: RoleCounts;
  /**
   * When the corruption seed is drawn: once per `episode` (default: errors are beliefs that persist until feedback
   * repairs them) or at every learning, i.e. every `step` (errors are fresh noise, as independent samples would be).
   */
  readonly reseed?: "episode" | "step";
}

/**
 * The learner of the twins. The corruption seed is drawn from `ctx.rng` once per episode — at its first learning,
 * when the memory is still empty — so the same episode seed gives every agent the same imperfect roles, and the
 * errors stay put across attempts until feedback repairs them.
 */
export function twinLearner(options: TwinLearnerOptions): Learner<Game24State, string> {
  let base: Roles<Game24State, string> | undefined;
  return {
    learn(memory, ctx) {
      if (base === undefined || memory.length === 0 || options.reseed === "step") {
        const roles =
          options.roles === "exact"
            ? exactRoles
            : imperfectRoles({ ...options.rates, seed: ctx.rng.nextUint32() });
        base = options.counts ? countRoles(roles, options.counts) : roles;
      }
      return options.remember ? correctedRoles(base, learnLessons(memory), UNIT_SCALE) : base;
    },
  };
}
