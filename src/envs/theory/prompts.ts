/**
 * The Words-to-Actions Planner's prompt (spec §8, "Real-agent mapping"): the task ω, the subgoals G, the memory of
 * past episodes (step by step, or summarised as counts), the current partial episode, and an instruction to answer
 * with ONE subgoal as JSON. It lives with the environments because two sides must write it identically: the LLM
 * Planner at deployment (`agents/llm-planner.ts`) and the pretraining data of the project's own planner models
 * (`learn/`).
 */
import type { ChatMessage } from "../../llm/types.ts";

/** The language side of a PAR environment: all an LLM Planner is shown. */
export interface LanguageTask {
  /** ω. */
  readonly task: string;
  readonly H: number;
  /** G. */
  readonly subgoals: readonly string[];
  /** The Reporter's texts, indexed by observation. */
  readonly observations: readonly string[];
}

export type PlannerMemory = "episodes" | "summary";
export type PlannerStyle = "full" | "compact";

/** One finished step of an episode, as text. */
export interface StepText {
  readonly observation: string;
  readonly subgoal: string;
}

/** One episode in the Planner's memory. */
export interface EpisodeText {
  /** 1-based episode number. */
  readonly index: number;
  readonly steps: readonly StepText[];
  /** The observation after the last subgoal. */
  readonly outcome: string;
  /** The episode's return, when rewards are visible. */
  readonly reward?: number;
}

const SYSTEM =
  "You are the Planner of an agent that acts through language subgoals. An Actor carries out each subgoal you " +
  "choose and a Reporter tells you, in words, what it sees afterwards. Use what past episodes revealed.";

/**
 * The Planner prompt for the next subgoal (exported so tests, docs and cassettes can show it).
 * `memory` is already windowed; `total` is the number of past episodes (to say how many are not shown).
 */
export interface PlannerPromptOptions {
  env: LanguageTask;
  memory: readonly EpisodeText[];
  total: number;
  current: readonly StepText[];
  observation: string;
  episode: number;
  seesReward: boolean;
  memoryMode?: PlannerMemory;
  style?: PlannerStyle;
}

export function plannerMessages(options: PlannerPromptOptions): ChatMessage[] {
  const { env, memory, total, current, observation, episode, seesReward } = options;
  if ((options.style ?? "full") === "compact") return compactMessages(options);
  const lines: string[] = [`Task: ${env.task}`, ""];
  lines.push(
    seesReward ? "Each past episode shows its reward (1 = task done)." : "Rewards are not shown to you.",
  );
  lines.push("", "Subgoals (choose exactly one, written as listed):");
  for (const g of env.subgoals) lines.push(`- ${g}`);
  lines.push("");
  if (total === 0) {
    lines.push("Past episodes: none yet.");
  } else if (options.memoryMode === "summary") {
    const hidden = total - memory.length;
    lines.push(
      `Past episodes: ${total}${hidden > 0 ? ` (the last ${memory.length} counted)` : ""}. How often each step led to each observation:`,
    );
    for (const line of summaryLines(env, memory, seesReward)) lines.push(`- ${line}`);
  } else {
    const hidden = total - memory.length;
    lines.push(
      hidden > 0
        ? `Past episodes (the last ${memory.length} of ${total}, oldest first):`
        : "Past episodes (oldest first):",
    );
    for (const e of memory) {
      lines.push(`Episode ${e.index}:`);
      e.steps.forEach((s, i) => {
        lines.push(`  ${i + 1}. observation: ${s.observation} | subgoal: ${s.subgoal}`);
      });
      lines.push(`  outcome: ${e.outcome}${e.reward === undefined ? "" : ` | reward: ${e.reward}`}`);
    }
  }
  lines.push("", `Current episode ${episode}, step ${current.length + 1} of ${env.H}:`);
  current.forEach((s, i) => {
    lines.push(`  ${i + 1}. observation: ${s.observation} | subgoal: ${s.subgoal}`);
  });
  lines.push(`  ${current.length + 1}. observation: ${observation} | subgoal: ?`);
  lines.push(
    "",
    `Choose ONE subgoal for step ${current.length + 1} from the list. Answer with JSON: {"subgoal": "<one of the subgoals>"}.`,
  );
  return [
    { role: "system", content: SYSTEM },
    { role: "user", content: lines.join("\n") },
  ];
}

/** The answer a Planner gives for subgoal `g`, exactly as pretraining labels write it. */
export function subgoalAnswer(subgoal: string): string {
  return `{"subgoal": ${JSON.stringify(subgoal)}}`;
}

/**
 * The memory as counts of transitions "observation | subgoal -> next observation" (with the step when H > 1, and
 * the episode's reward on its last step when rewards are visible), in a canonical order: step, subgoal, next
 * observation, observation, as the environment lists them. An observation that is the same at that step in every
 * remembered episode is left out.
 */
export function summaryLines(
  env: LanguageTask,
  memory: readonly EpisodeText[],
  seesReward: boolean,
): string[] {
  const counts = new Map<string, { n: number; order: number[] }>();
  const index = (list: readonly string[], text: string) => {
    const i = list.indexOf(text);
    return i < 0 ? list.length : i;
  };
  // A step whose observation is the same in every episode (the start of the probe trap) is written without it:
  // dropping a constant loses nothing.
  const constant = (h: number) => {
    const first = memory[0]?.steps[h]?.observation;
    return memory.every((e) => e.steps[h]?.observation === first);
  };
  const fixed = Array.from({ length: env.H }, (_, h) => constant(h));
  for (const e of memory) {
    e.steps.forEach((s, h) => {
      const next = h + 1 < e.steps.length ? (e.steps[h + 1]?.observation ?? "") : e.outcome;
      const last = h === e.steps.length - 1;
      const reward = seesReward && last && e.reward !== undefined ? `, reward ${e.reward}` : "";
      const step = env.H > 1 ? `step ${h + 1}: ` : "";
      const seen = fixed[h] ? "" : `${s.observation} | `;
      const key = `${step}${seen}${s.subgoal} -> ${next}${reward}`;
      const entry = counts.get(key);
      if (entry) entry.n += 1;
      else
        counts.set(key, {
          n: 1,
          order: [
            h,
            index(env.subgoals, s.subgoal),
            index(env.observations, next),
            index(env.observations, s.observation),
            seesReward && last ? (e.reward ?? 0) : 0,
          ],
        });
    });
  }
  const byOrder = (a: number[], b: number[]) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
    return 0;
  };
  return (
    [...counts]
      .sort((a, b) => byOrder(a[1].order, b[1].order) || (a[0] < b[0] ? -1 : 1))
      // The count first: a reader (a small model above all) knows how much a line weighs before it reads it.
      .map(([key, { n }]) => `${n}× ${key}`)
  );
}

/**
 * The compact prompt: one user message, no system text, the subgoals on one line. What the project's small
 * pretrained planners (`learn/`) are trained on and served with.
 */
function compactMessages(options: PlannerPromptOptions): ChatMessage[] {
  const { env, memory, total, current, observation, episode, seesReward } = options;
  const lines = [`Task: ${env.task}`, `Subgoals: ${env.subgoals.join("; ")}`];
  const hidden = total - memory.length;
  const shown = hidden > 0 ? `, the last ${memory.length} shown` : "";
  lines.push(`Memory: ${total} past episodes${shown}, rewards ${seesReward ? "shown" : "hidden"}.`);
  if (options.memoryMode === "summary") {
    for (const line of summaryLines(env, memory, seesReward)) lines.push(line);
  } else {
    for (const e of memory) {
      const steps = e.steps.map((s) => `${s.observation} | ${s.subgoal}`).join(" ; ");
      lines.push(
        `${e.index}: ${steps} -> ${e.outcome}${e.reward === undefined ? "" : `, reward ${e.reward}`}`,
      );
    }
  }
  const done = current.map((s) => `${s.observation} | ${s.subgoal} ; `).join("");
  lines.push(`Now: episode ${episode}, step ${current.length + 1} of ${env.H}: ${done}${observation} | ?`);
  lines.push('Answer {"subgoal": "<one of the subgoals>"}');
  return [{ role: "user", content: lines.join("\n") }];
}
