/**
 * RAFA's Game-of-24 roles played by a language model (spec §3.1), at step granularity:
 *
 * - Elite: asks for up to n next steps with `proposePrompt` and reads them with `parseProposals` (unreadable lines
 *   are dropped and counted). With `elite: "choose"` it instead picks among the valid moves under structured output
 *   (a JSON array of enum members), so even a model that cannot write a step line proposes valid ones. When the
 *   numbers left are 24 it asks for the answer line with `answerPrompt`.
 * - Critic: asks whether the numbers left can reach 24 and turns each label into the official weight
 *   (`VALUE_WEIGHTS`: sure 20, likely 1, impossible 0.001). All n samples come from ONE request (`n`); providers
 *   without native n split it themselves. With structured output the label is an enum; otherwise it is the last
 *   line of a short free-text answer. A single number is 24 or not by arithmetic and is not asked.
 * - Model: exact arithmetic even here (`arithmeticModel`): a step's result and numbers left are computed, not
 *   predicted, so no call is spent on them and a miscalculated proposal is recognised as such.
 * - Learner: the lessons of the feedback (learner.ts) are written in front of the prompts as reflections, and the
 *   number sets and lines they settle are answered from memory without asking again.
 *
 * Model output is untrusted: every reply is parsed; a reply that stays unusable after one repair round is a named
 * failure (`elite_format_error`, `answer_missing`, `critic_label_missing`, `schema_violation`, `truncated`), counted,
 * and becomes no proposal or a neutral ("likely") value — never an exception that ends the episode. Errors of the
 * model call itself (connection, budget, abort) are not the model's answer and propagate.
 */
import { z } from "zod";
import type { Learner, RoleContext, Roles } from "../../core/roles.ts";
import { isLlmError } from "../../llm/errors.ts";
import { chooseStructuredMode, generateObject, parseJsonAnswer, toJsonSchema } from "../../llm/structured.ts";
import type { ChatMessage, GenerateRequest, GenerateResult, LanguageModel } from "../../llm/types.ts";
import { MAX_PROPOSALS, moves, type ValueLabel } from "./exact.ts";
import { arithmeticModel, predictLine } from "./imperfect.ts";
import {
  correctedRoles,
  countRoles,
  type Game24Lessons,
  type LabelScale,
  learnLessons,
  type MaybeSampledCritic,
  NO_LESSONS,
  type RoleCounts,
} from "./learner.ts";
import { formatStep, isAnswerLine, parsePlanLine, planLines } from "./plan.ts";
import {
  answerPrompt,
  choosePrompt,
  type LearnedLine,
  learnedPrompt,
  parseProposals,
  parseValueLabel,
  proposePrompt,
  TASK,
  VALUE_WEIGHTS,
  valueChoicePrompt,
  valuePrompt,
} from "./prompts.ts";
import { equals, formatNumbers, TWENTY_FOUR } from "./rational.ts";
import type { Game24State } from "./rules.ts";

/** What the LLM roles asked and what went wrong (for reports and the cost benchmark). */
export interface LlmRoleStats {
  /** Questions to the elite (proposals or an answer line), repair rounds not included. */
  eliteQuestions: number;
  /** Questions to the critic (one request for all samples of a state). */
  criticQuestions: number;
  criticSamples: number;
  /** Repair rounds sent after an unusable reply. */
  repairs: number;
  /** Unreadable lines dropped from elite replies. */
  droppedLines: number;
  /** Readable proposals the arithmetic rejects (illegal or miscalculated). */
  invalidProposals: number;
  /** Critic samples without a label (dropped; the others are averaged). */
  droppedSamples: number;
  /** Questions that stayed unusable after the repair round, by named category. */
  failures: Record<string, number>;
}

export function newLlmRoleStats(): LlmRoleStats {
  return {
    eliteQuestions: 0,
    criticQuestions: 0,
    criticSamples: 0,
    repairs: 0,
    droppedLines: 0,
    invalidProposals: 0,
    droppedSamples: 0,
    failures: {},
  };
}

function failed(stats: LlmRoleStats, category: string): void {
  stats.failures[category] = (stats.failures[category] ?? 0) + 1;
}

/** The critic's weights as a learner scale (memory answers on the same scale as the model's samples). */
export const VALUE_SCALE: LabelScale = { sure: VALUE_WEIGHTS.sure, impossible: VALUE_WEIGHTS.impossible };

/** The value of a question that stayed unanswered: "likely", neither pursued first nor ruled out. */
export const NEUTRAL_VALUE = VALUE_WEIGHTS.likely;

export interface LlmRolesOptions {
  readonly model: LanguageModel;
  readonly stats: LlmRoleStats;
  /** `lines` (default): the model writes step lines; `choose`: it picks among the valid moves (structured). */
  readonly elite?: "lines" | "choose";
  /** Reflections to write in front of the prompts (none for agents without memory). */
  readonly lessons?: Game24Lessons;
  /** Sampling temperatures of the official code: 0.7 for proposals, 0.3 for values. */
  readonly eliteTemperature?: number;
  readonly criticTemperature?: number;
}

const LabelSchema = z.object({ label: z.enum(["sure", "likely", "impossible"]) });
const LABEL_JSON_SCHEMA = toJsonSchema(LabelSchema);

/** Output limits: a list of ten step lines, an answer line, a short check ending with a label, a JSON label. */
const MAX_TOKENS = { propose: 400, answer: 120, value: 300, label: 24 } as const;

/** The reflections for the elite (lines and number sets) and for the critic (number sets). */
function reflections(lessons: Game24Lessons): { elite: string; critic: string } {
  const seen = new Set<string>();
  const steps: LearnedLine[] = [];
  for (const l of lessons.lessons) {
    if (seen.has(l.line)) continue;
    seen.add(l.line);
    steps.push({ text: l.line, label: l.label });
  }
  const numbers = [...lessons.values].map(([text, label]) => ({ text, label }));
  return { elite: learnedPrompt(steps, numbers), critic: learnedPrompt([], numbers) };
}

/**
 * The messages of a question: the rules as the system message where the answer is written in the game's notation
 * (steps, answers); the critic's question is self-contained, so it goes without them (fewer input tokens on the
 * most frequent call).
 */
function chat(prompt: string, learned: string, rules = true): ChatMessage[] {
  const user: ChatMessage = {
    role: "user",
    content: learned.length > 0 ? `${learned}\n\n${prompt}` : prompt,
  };
  return rules ? [{ role: "system", content: TASK }, user] : [user];
}

/** A request seed from the role's stream, so a replayed run asks exactly the recorded questions. */
function seedOf(ctx: RoleContext): number {
  return ctx.rng.int(2 ** 31 - 1);
}

/** The LLM roles for one epoch. Each distinct question is asked once per roles object (one search). */
export function llmRoles(options: LlmRolesOptions): Roles<Game24State, string> & {
  readonly critic: MaybeSampledCritic<Game24State>;
} {
  const { model, stats } = options;
  const eliteMode = options.elite ?? "lines";
  const learned = reflections(options.lessons ?? NO_LESSONS);
  const eliteTemperature = options.eliteTemperature ?? 0.7;
  const criticTemperature = options.criticTemperature ?? 0.3;
  const asked = new Map<string, Promise<readonly string[]>>();
  const valued = new Map<string, Promise<readonly number[]>>();
  let structured: Promise<boolean> | undefined;
  const canStructure = (signal?: AbortSignal) => {
    structured ??= chooseStructuredMode(model, signal).then((m) => m !== "prompt");
    return structured;
  };

  const generate = (request: GenerateRequest, ctx: RoleContext): Promise<GenerateResult> =>
    model.generate(ctx.signal ? { ...request, signal: ctx.signal } : request);

  async function proposeLines(state: Game24State, count: number, ctx: RoleContext): Promise<string[]> {
    const messages = chat(proposePrompt(state, count), learned.elite);
    const request: GenerateRequest = {
      messages,
      temperature: eliteTemperature,
      maxTokens: MAX_TOKENS.propose,
      seed: seedOf(ctx),
    };
    const first = (await generate(request, ctx)).choices[0]?.text ?? "";
    let parsed = parseProposals(first, count);
    stats.droppedLines += parsed.dropped.length;
    if (parsed.lines.length === 0) {
      stats.repairs += 1;
      const why = parsed.dropped[0]?.category ?? "no step line";
      const retry = await generate(
        {
          ...request,
          messages: [
            ...messages,
            { role: "assistant", content: first },
            {
              role: "user",
              content: `None of that could be read as a step (${why}). Using the numbers ${formatNumbers(state.remaining)}, write only step lines, one per line, each exactly like: a op b = c (left: the numbers after the step)`,
            },
          ],
        },
        ctx,
      );
      parsed = parseProposals(retry.choices[0]?.text ?? "", count);
      stats.droppedLines += parsed.dropped.length;
      if (parsed.lines.length === 0) failed(stats, "elite_format_error");
    }
    stats.invalidProposals += parsed.lines.filter((l) => predictLine(state, l).done).length;
    return [...parsed.lines];
  }

  async function chooseMoves(state: Game24State, count: number, ctx: RoleContext): Promise<string[]> {
    const legal = moves(state.remaining).map(formatStep);
    const [head, ...tail] = legal;
    if (head === undefined) return [];
    const schema = z.object({
      steps: z
        .array(z.enum([head, ...tail]))
        .min(1)
        .max(count),
    });
    try {
      const result = await generateObject(model, {
        schema,
        name: "steps",
        messages: chat(choosePrompt(state, legal, count), learned.elite),
        temperature: eliteTemperature,
        maxTokens: 60 * count + 60,
        seed: seedOf(ctx),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      if (result.repaired) stats.repairs += 1;
      return [...new Set(result.object.steps)];
    } catch (error) {
      if (isLlmError(error) && (error.category === "schema_violation" || error.category === "truncated")) {
        failed(stats, error.category);
        return [];
      }
      throw error;
    }
  }

  async function answer(state: Game24State, ctx: RoleContext): Promise<string[]> {
    const messages = chat(answerPrompt(state), learned.elite);
    const request: GenerateRequest = {
      messages,
      temperature: eliteTemperature,
      maxTokens: MAX_TOKENS.answer,
      seed: seedOf(ctx),
    };
    const read = (text: string) =>
      planLines(text).find((l) => {
        const p = parsePlanLine(l);
        return isAnswerLine(l) && p.ok && p.value.kind === "answer";
      });
    const first = (await generate(request, ctx)).choices[0]?.text ?? "";
    let line = read(first);
    if (line === undefined) {
      stats.repairs += 1;
      const retry = await generate(
        {
          ...request,
          messages: [
            ...messages,
            { role: "assistant", content: first },
            {
              role: "user",
              content: "That holds no readable answer line. Write one line: Answer: <expression> = 24",
            },
          ],
        },
        ctx,
      );
      line = read(retry.choices[0]?.text ?? "");
      if (line === undefined) failed(stats, "answer_missing");
    }
    return line === undefined ? [] : [line];
  }

  const elite = {
    async propose(state: Game24State, breadth: number, ctx: RoleContext): Promise<readonly string[]> {
      const only = state.remaining[0];
      if (state.remaining.length === 1) {
        if (!only || !equals(only, TWENTY_FOUR)) return [];
        return remember(asked, `answer\u0000${answerPrompt(state)}`, () => {
          stats.eliteQuestions += 1;
          return answer(state, ctx);
        });
      }
      const count = Math.max(1, Math.min(breadth, MAX_PROPOSALS));
      const key = `${eliteMode}\u0000${count}\u0000${formatNumbers(state.remaining)}`;
      return remember(asked, key, () => {
        stats.eliteQuestions += 1;
        return eliteMode === "choose" ? chooseMoves(state, count, ctx) : proposeLines(state, count, ctx);
      });
    },
  };

  async function sample(state: Game24State, n: number, ctx: RoleContext): Promise<number[]> {
    const useSchema = await canStructure(ctx.signal);
    const messages = chat(useSchema ? valueChoicePrompt(state) : valuePrompt(state), learned.critic, false);
    const request: GenerateRequest = {
      messages,
      n,
      temperature: criticTemperature,
      maxTokens: useSchema ? MAX_TOKENS.label : MAX_TOKENS.value,
      seed: seedOf(ctx),
      ...(useSchema
        ? { responseFormat: { type: "json_schema", name: "value", schema: LABEL_JSON_SCHEMA } }
        : {}),
    };
    const read = (text: string): ValueLabel | undefined => {
      if (!useSchema) {
        const p = parseValueLabel(text);
        return p.ok ? p.value : undefined;
      }
      const p = parseJsonAnswer(text, LabelSchema);
      return p.ok ? p.value.label : undefined;
    };
    stats.criticSamples += n;
    const result = await generate(request, ctx);
    const labels = result.choices.map((c) => read(c.text));
    const weights = labels.flatMap((l) => (l === undefined ? [] : [VALUE_WEIGHTS[l]]));
    stats.droppedSamples += labels.length - weights.length;
    if (weights.length > 0) return weights;
    stats.repairs += 1;
    const retry = await generate(
      {
        ...request,
        n: 1,
        messages: [
          ...messages,
          { role: "assistant", content: result.choices[0]?.text ?? "" },
          {
            role: "user",
            content: useSchema
              ? 'Reply with only the JSON object {"label": "sure"}, {"label": "likely"} or {"label": "impossible"}.'
              : "End with one last line holding exactly one word: sure, likely or impossible.",
          },
        ],
      },
      ctx,
    );
    const label = read(retry.choices[0]?.text ?? "");
    if (label !== undefined) return [VALUE_WEIGHTS[label]];
    failed(stats, "critic_label_missing");
    return [NEUTRAL_VALUE];
  }

  const critic: MaybeSampledCritic<Game24State> & {
    values(state: Game24State, n: number, ctx: RoleContext): Promise<readonly number[]>;
  } = {
    async values(state, n, ctx) {
      if (state.remaining.length < 2) {
        const only = state.remaining[0];
        const v = only && equals(only, TWENTY_FOUR) ? VALUE_WEIGHTS.sure : VALUE_WEIGHTS.impossible;
        return Array.from({ length: n }, () => v);
      }
      return remember(valued, `${n}\u0000${formatNumbers(state.remaining)}`, () => {
        stats.criticQuestions += 1;
        return sample(state, n, ctx);
      });
    },
    async value(state, ctx) {
      const [v] = await critic.values(state, 1, ctx);
      return v ?? NEUTRAL_VALUE;
    },
  };

  return { elite, model: arithmeticModel, critic };
}

/** One question per key; a failed question is forgotten so it can be asked again. */
function remember<T>(table: Map<string, Promise<T>>, key: string, ask: () => Promise<T>): Promise<T> {
  const cached = table.get(key);
  if (cached) return cached;
  const promise = ask();
  table.set(key, promise);
  promise.catch(() => {
    if (table.get(key) === promise) table.delete(key);
  });
  return promise;
}

export interface LlmLearnerOptions {
  readonly model: LanguageModel;
  readonly stats: LlmRoleStats;
  readonly elite?: "lines" | "choose";
  /** Reflections and memory answers (RAFA, Reflexion); false for baselines without memory (ToT, ReAct). */
  readonly remember: boolean;
  /** Counts the questions that reach the model-backed roles. */
  readonly counts?: RoleCounts;
}

/**
 * The learner with a language model: each epoch gets fresh roles (so a new search asks afresh and samples anew)
 * whose prompts carry the reflections of the memory, with the memory's settled answers layered over them.
 */
export function llmLearner(options: LlmLearnerOptions): Learner<Game24State, string> {
  return {
    learn(memory) {
      const lessons = options.remember ? learnLessons(memory) : NO_LESSONS;
      const roles = llmRoles({
        model: options.model,
        stats: options.stats,
        lessons,
        ...(options.elite ? { elite: options.elite } : {}),
      });
      const counted = options.counts ? countRoles(roles, options.counts) : roles;
      return options.remember ? correctedRoles(counted, lessons, VALUE_SCALE) : counted;
    },
  };
}
