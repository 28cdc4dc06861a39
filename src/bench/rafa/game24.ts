/**
 * RAFA and its baselines on the Game of 24 (spec §3.1): where the RAFA agent meets the Game-of-24 roles.
 *
 * Planner state = `Game24State` (committed steps, numbers left); planner action = one step line (or the answer
 * line). Every agent relearns before every step (`everyStep`): the learner of RAFA and Reflexion reads the memory,
 * the learner of ToT and ReAct ignores it (fresh roles, so a new attempt samples anew).
 *
 * - `rafa`: beam search (greedy top-b per depth over the 4 − |prefix| remaining lines, `proposals` per node,
 *   `valueSamples` critic samples) on the roles corrected by the memory; submits the best plan.
 * - `tot`: the same search, no memory across attempts; without feedback, every attempt from the four numbers.
 * - `reflexion`: one plan per attempt sampled from the elite (a uniformly random proposal per line, no critic),
 *   with the memory's reflections: lines that failed are not proposed again; every attempt from the four numbers.
 * Each agent's environment protocol is `game24EnvOptions(agent)` (the registry must build it so).
 * - `react`: one step at a time, no lookahead: the elite's proposals, the critic on each successor, the best one.
 *
 * Options (`--opt key=value`), with defaults:
 *   roles         exact | imperfect | llm    exact without a model, llm with one
 *   rate          corruption rate of the imperfect critic and elite   0.3 (`DEFAULT_CORRUPTION_RATE`)
 *   criticRate, eliteRate                    override `rate` per role
 *   modelRate     fraction of (numbers, line) pairs the imperfect model miscalculates   0
 *   breadth       b, partial plans kept per depth (rafa, tot)   1
 *   proposals     elite proposals per expanded state   10 (the official n_generate_sample)
 *   valueSamples  critic samples per state, one request   3 with a model (official), 1 on the twins
 *   act           plan: submit the whole plan, the environment commits its verified prefix (official code);
 *                 first: submit only the first line ("act for now" literally)   plan (react: always first)
 *   elite         lines: the model writes step lines; choose: it picks among valid moves (structured)   lines
 *   memory        learn from the memory (ablation)   true for rafa and reflexion, false for tot and react
 *   corruption    episode: the twins' errors persist within an episode; step: drawn afresh at every step   episode
 */
import { basename, join, resolve } from "node:path";
import { z } from "zod";
import { createRafaAgent, type RafaPlanner } from "../../agents/rafa/agent.ts";
import { everyStep } from "../../agents/rafa/switch.ts";
import type { Agent, EpisodeContext } from "../../core/agent.ts";
import type { Env, StepResult } from "../../core/env.ts";
import { UserError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import type { Learner, RoleContext, Roles } from "../../core/roles.ts";
import {
  type CorruptionRates,
  DEFAULT_CORRUPTION_RATE,
  ImperfectTwin,
  numbersKey,
} from "../../envs/game24/imperfect.ts";
import {
  answerLine,
  DEFAULT_SPLIT,
  type Game24Data,
  Game24Env,
  type Game24Observation,
  type Game24Options,
  loadGame24,
  MAX_PROPOSALS,
  moves,
  puzzleById,
} from "../../envs/game24/index.ts";
import {
  type Game24Lessons,
  learnLessons,
  NO_LESSONS,
  newRoleCounts,
  type RoleCounts,
  twinLearner,
} from "../../envs/game24/learner.ts";
import { type LlmRoleStats, llmLearner, newLlmRoleStats } from "../../envs/game24/llm-roles.ts";
import { formatStep } from "../../envs/game24/plan.ts";
import { readPrompt } from "../../envs/game24/prompts.ts";
import { parseRational, type Rational } from "../../envs/game24/rational.ts";
import { describeState, type Game24State, initialState, judgePlan } from "../../envs/game24/rules.ts";
import { wrapGenerate } from "../../llm/middleware/wrap.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { beamSearch } from "../../reason/beam.ts";
import { memoKeys, RoleMemo } from "../../reason/memo.ts";
import { TreeRecorder } from "../../reason/tree.ts";
import type { PlanResult, SearchStats } from "../../reason/types.ts";
import { VERSION } from "../../version.ts";
import { MANIFEST, SUMMARY, writeJson } from "../files.ts";
import {
  type AgentEntry,
  agentEntry,
  type DataRef,
  type EnvEntry,
  type EnvKit,
  envEntry,
  type RafaKit,
} from "../registry.ts";
import { executeRun } from "../runner.ts";
import { RunStore } from "../store.ts";
import type { Manifest, RunConfig, Summary } from "../types.ts";

export const GAME24_AGENTS = ["rafa", "tot", "reflexion", "react"] as const;
export type Game24AgentName = (typeof GAME24_AGENTS)[number];

export function isGame24AgentName(name: string): name is Game24AgentName {
  return (GAME24_AGENTS as readonly string[]).includes(name);
}

const rate = z.number().min(0).max(1);
export const Game24AgentOptions = z.strictObject({
  roles: z.enum(["exact", "imperfect", "llm"]).optional(),
  rate: rate.default(DEFAULT_CORRUPTION_RATE),
  criticRate: rate.optional(),
  eliteRate: rate.optional(),
  modelRate: rate.default(0),
  breadth: z.number().int().min(1).max(8).default(1),
  proposals: z.number().int().min(1).max(MAX_PROPOSALS).default(10),
  valueSamples: z.number().int().min(1).max(20).optional(),
  act: z.enum(["first", "plan"]).optional(),
  elite: z.enum(["lines", "choose"]).default("lines"),
  memory: z.boolean().optional(),
  corruption: z.enum(["episode", "step"]).default("episode"),
});
export type Game24AgentOptions = z.infer<typeof Game24AgentOptions>;

/** What an agent asked and how often it fell back (for reports and the offline table). */
export interface Game24AgentStats {
  /** Decisions (environment steps) taken. */
  decisions: number;
  /** Questions that reached the elite and critic (memory answers excluded). */
  readonly roles: RoleCounts;
  /** Questions the searches answered from their own memo tables. */
  cacheHits: number;
  /** Decisions where the planner found no action and a random valid line (or the answer) was submitted. */
  fallbacks: number;
  /** With a model: what the LLM roles asked and what failed. */
  readonly llm?: LlmRoleStats;
  /** With a model: calls sent (repair rounds included). */
  llmCalls: number;
  /**
   * With a model: sequential rounds of calls — a round starts when a call is sent while none is in flight. Calls
   * issued together (one depth of the beam) share a round, so rounds × latency is this agent's critical path.
   */
  llmRounds: number;
}

export interface Game24Agent extends Agent<Game24Observation, string> {
  readonly stats: Game24AgentStats;
}

export function isGame24Agent(agent: Agent<unknown, unknown>): agent is Game24Agent {
  return "stats" in agent && typeof agent.stats === "object" && agent.stats !== null;
}

/**
 * How an agent's environment gives feedback: `Game24Env` options, or `uncommitted-feedback` — the checker's
 * sentences without committing the verified prefix, so every attempt starts from the four numbers. `Game24Env`
 * has no such option yet; `uncommittedFeedbackEnv` emulates it.
 */
export type Game24EnvChoice = Game24Options | "uncommitted-feedback";

/**
 * Each agent's environment, following the official protocols (spec §3.1; RAFA_code Game24/run.py and agents):
 * - rafa, react: feedback mode — correct lines are committed and later attempts continue from them;
 * - tot: no feedback (`--planning tot` without `--feedback`): independent attempts from the four numbers;
 * - reflexion: feedback, but its attempts start from the four numbers, as the official baseline writes a whole
 *   solution from the puzzle every time (its prompt never shows committed steps). The official environment still
 *   commits and then judges those solutions against a prefix the agent cannot see; we do not replicate that.
 */
export function game24EnvOptions(agent: string): Game24EnvChoice {
  if (agent === "tot") return { feedback: false };
  if (agent === "reflexion") return "uncommitted-feedback";
  return { feedback: true };
}

/** The environment of a puzzle under an environment choice. */
export function createGame24Env(
  puzzle: readonly number[],
  choice: Game24EnvChoice,
): Env<Game24Observation, string> {
  return choice === "uncommitted-feedback" ? uncommittedFeedbackEnv(puzzle) : new Game24Env(puzzle, choice);
}

/** A Game24Env without feedback mode whose steps carry the feedback sentences the checker wrote for each line. */
export function uncommittedFeedbackEnv(puzzle: readonly number[]): Env<Game24Observation, string> {
  const env = new Game24Env(puzzle, { feedback: false });
  const start = initialState(puzzle);
  return {
    name: env.name,
    get terminal() {
      return env.terminal;
    },
    reset: (seed) => env.reset(seed),
    async step(action): Promise<StepResult<Game24Observation>> {
      const result = await env.step(action);
      // The same judge the environment ran, from the same (uncommitted) start: its sentences, line by line.
      const feedback = judgePlan(start, action, 1)
        .lines.map((l) => l.feedback)
        .join(" ");
      return { ...result, feedback };
    },
    legalActions: () => env.legalActions(),
    render: () => env.render(),
    formatAction: (a) => env.formatAction(a),
    parseAction: (text) => env.parseAction(text),
  };
}

/** Memo identity of a planner state: the committed steps (the answer line spells them) and the numbers left. */
export function stateKey(s: Game24State): string {
  return `${s.steps.map(formatStep).join("; ")} | ${numbersKey(s)}`;
}

const searchKeys = {
  stateKey,
  criticKey: numbersKey,
  actionKey: (a: string) => a,
  describeState,
  formatAction: (a: string) => a,
};

/** Beam search over the lines still needed: one per number left (the steps down to one number, then the answer). */
function game24Beam(
  options: { breadth: number; proposals: number; valueSamples: number },
  depth?: number,
): RafaPlanner<Game24State, string> {
  return {
    name: depth === undefined ? "beam" : `beam(depth ${depth})`,
    plan: (roles, state, ctx) =>
      beamSearch(
        roles,
        state,
        { ...searchKeys, ...options, depth: depth ?? Math.max(1, state.remaining.length) },
        ctx,
      ),
  };
}

/**
 * Reflexion's planner: one plan sampled line by line from the elite (a uniformly random proposal each time) and
 * followed with the model until it ends; no critic. Questions go through a memo so their cost is counted alike.
 */
export function sampledPlanner(proposals: number): RafaPlanner<Game24State, string> {
  return {
    name: "sampled",
    async plan(roles, root, ctx) {
      const memo = new RoleMemo(roles, memoKeys<Game24State, string>(searchKeys));
      const tree = new TreeRecorder();
      let parent = tree.add(null, null, describeState(root));
      tree.set(parent, { visits: 1 });
      let state = root;
      let ret = 0;
      let chosen: number | null = null;
      const plan: string[] = [];
      for (let d = 0; d < Math.max(1, root.remaining.length); d++) {
        const options = await memo.propose(state, proposals, ctx);
        if (options.length === 0) break;
        const { action } = ctx.rng.pick(options);
        const p = await memo.predict(state, action, ctx);
        plan.push(action);
        ret += p.reward;
        const id = tree.add(parent, action, describeState(p.state), p.reward);
        tree.set(id, { visits: 1, value: ret });
        chosen ??= id;
        parent = id;
        state = p.state;
        if (p.done) break;
      }
      tree.set(0, { value: ret });
      return {
        action: plan[0],
        plan,
        value: ret,
        nodes: tree.nodes(),
        chosen,
        stats: memo.stats(),
      } satisfies PlanResult<string>;
    },
  };
}

/** Counts the decisions and the questions each search answered from its memo. */
function counted(
  planner: RafaPlanner<Game24State, string>,
  stats: Game24AgentStats,
): RafaPlanner<Game24State, string> {
  return {
    name: planner.name,
    async plan(roles: Roles<Game24State, string>, state: Game24State, ctx: RoleContext) {
      const result = await planner.plan(roles, state, ctx);
      const s: SearchStats = result.stats;
      stats.decisions += 1;
      stats.cacheHits += s.cacheHits;
      return result;
    },
  };
}

/** Count an agent's calls and its rounds of concurrent calls (see `Game24AgentStats.llmRounds`). */
function tracked(model: LanguageModel, stats: Game24AgentStats): LanguageModel {
  let inFlight = 0;
  return wrapGenerate(model, async (request) => {
    if (inFlight === 0) stats.llmRounds += 1;
    inFlight += 1;
    stats.llmCalls += 1;
    try {
      return await model.generate(request);
    } finally {
      inFlight -= 1;
    }
  });
}

function badOption(message: string): UserError {
  return new UserError(message, { category: "bad_option" });
}

/** Parse `--opt` values for a Game-of-24 agent; a mistake is one line naming the option. */
export function parseGame24Options(
  name: string,
  raw: Readonly<Record<string, unknown>>,
  model: LanguageModel | undefined,
): Game24AgentOptions & { readonly roles: "exact" | "imperfect" | "llm" } {
  const parsed = Game24AgentOptions.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join(".") || "options";
    throw badOption(`game24 ${name}: bad --opt ${where}: ${issue?.message ?? "invalid"}`);
  }
  const roles = parsed.data.roles ?? (model ? "llm" : "exact");
  if (roles === "llm" && !model)
    throw badOption(`game24 ${name}: roles=llm needs --model (an LLM spec); use roles=exact or imperfect`);
  if (roles !== "llm" && model)
    throw badOption(
      `game24 ${name}: roles=${roles} runs on the twins and would not use --model ${model.id}; drop one`,
    );
  if (parsed.data.act === "first" && (name === "tot" || name === "reflexion"))
    throw badOption(
      `game24 ${name}: act=first cannot finish a puzzle, as ${name}'s attempts start from the four numbers every time`,
    );
  return { ...parsed.data, roles };
}

/**
 * What an agent submits when its planner found nothing (e.g. every reply was unusable): the answer when 24 is
 * left, else a random valid line not known to fail — a legal move, as other environments fall back to a random
 * legal action.
 */
function fallbackLine(state: Game24State, lessons: Game24Lessons, ctx: EpisodeContext): string {
  const answer = answerLine(state);
  if (answer) return answer;
  const bad = new Set(lessons.bad.get(numbersKey(state)) ?? []);
  const all = moves(state.remaining).map(formatStep);
  const untried = all.filter((l) => !bad.has(l));
  const pool = untried.length > 0 ? untried : all;
  return pool.length > 0 ? ctx.rng.pick(pool) : "";
}

/** One Game-of-24 agent of the RAFA family. */
export function createGame24Agent(
  name: Game24AgentName,
  setup: { readonly model: LanguageModel | undefined; readonly options: Readonly<Record<string, unknown>> },
): Game24Agent {
  const o = parseGame24Options(name, setup.options, setup.model);
  const remember = o.memory ?? (name === "rafa" || name === "reflexion");
  const roles = newRoleCounts();
  const llm = o.roles === "llm" ? newLlmRoleStats() : undefined;
  const stats: Game24AgentStats = {
    decisions: 0,
    roles,
    cacheHits: 0,
    fallbacks: 0,
    llmCalls: 0,
    llmRounds: 0,
    ...(llm ? { llm } : {}),
  };
  const valueSamples = o.valueSamples ?? (o.roles === "llm" ? 3 : 1);
  let learner: Learner<Game24State, string>;
  if (o.roles === "llm" && setup.model && llm) {
    const model = tracked(setup.model, stats);
    learner = llmLearner({ model, stats: llm, elite: o.elite, remember, counts: roles });
  } else {
    const rates = {
      criticRate: o.criticRate ?? o.rate,
      eliteRate: o.eliteRate ?? o.rate,
      modelRate: o.modelRate,
    };
    learner = twinLearner({
      roles: o.roles === "imperfect" ? "imperfect" : "exact",
      rates,
      remember,
      counts: roles,
      reseed: o.corruption,
    });
  }
  // The lessons of the memory at the last learning, for the fallback (none for agents without memory).
  let lessons = NO_LESSONS;
  const inner = learner;
  learner = {
    learn(memory, ctx) {
      if (remember) lessons = learnLessons(memory);
      return inner.learn(memory, ctx);
    },
  };
  const search = { breadth: o.breadth, proposals: o.proposals, valueSamples };
  const planner =
    name === "reflexion"
      ? sampledPlanner(o.proposals)
      : name === "react"
        ? game24Beam({ ...search, breadth: 1 }, 1)
        : game24Beam(search);
  const act = name === "react" ? "first" : (o.act ?? "plan");
  const agent = createRafaAgent<Game24Observation, Game24State, string>({
    name,
    learner,
    planner: counted(planner, stats),
    switchRule: everyStep(),
    stateOf: (observation) => observation.state,
    toAction: (result) => (act === "plan" ? result.plan.join("\n") : (result.action ?? "")),
    fallback: (state, _legal, ctx) => {
      stats.fallbacks += 1;
      return fallbackLine(state, lessons, ctx);
    },
  });
  return Object.assign(agent, { stats });
}

/** The Game-of-24 kit of RAFA-family agents (the registry puts it in the environment's `EnvKit.rafa`). */
export function game24Rafa(_where: DataRef): RafaKit<Game24Observation, string> {
  return {
    agents: GAME24_AGENTS,
    create(name, setup) {
      if (!isGame24AgentName(name))
        throw badOption(`game24 has no "${name}" agent (it has: ${GAME24_AGENTS.join(", ")})`);
      return createGame24Agent(name, setup);
    },
  };
}

export interface TwinResponderOptions extends CorruptionRates {
  /** Seed of the corruption pattern: one fixed "pretrained model" for every episode it answers. */
  readonly seed: number | string;
}

/** What a twin responder sees of a chat request. */
export interface TwinRequest {
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  /** A JSON schema was asked for (structured output). */
  readonly structured: boolean;
  readonly seed?: number;
}

function numbersOf(text: string): Rational[] | undefined {
  const out: Rational[] = [];
  for (const item of text.split(/\s+/)) {
    if (item.length === 0) continue;
    const r = parseRational(item);
    if (!r.ok) return undefined;
    out.push(r.value);
  }
  return out.length > 0 ? out : undefined;
}

/**
 * A stand-in language model for tests and the cost benchmark: it reads the project's own Game-of-24 prompts back
 * into a state and answers as the imperfect twins would, formatted as a model writes (a lead-in line, numbered
 * step lines, a short check ending with the label, or JSON when a schema was asked for). Sample `index` of a
 * request with `seed` draws its proposals from its own stream, so samples differ like a model's do.
 */
export function twinResponder(
  options: TwinResponderOptions,
): (request: TwinRequest, index: number) => string {
  const twin = new ImperfectTwin(options);
  return (request, index) => {
    const rng = new Rng(`${request.seed ?? 0}:${index}`);
    // The question is the first user message this module's prompts can read (repair rounds follow it).
    const question = request.messages
      .filter((m) => m.role === "user")
      .map((m) => readPrompt(m.content))
      .find((q) => q.ok);
    // Not a Game-of-24 prompt (e.g. a capability probe): a model asked for JSON answers with an object.
    if (!question?.ok) return request.structured ? "{}" : "I am not sure what is being asked.";
    const q = question.value;
    switch (q.kind) {
      case "propose":
      case "choose": {
        const numbers = numbersOf(q.numbers);
        if (!numbers) return "These numbers are unclear to me.";
        const lines = twin.propose(initialState(numbers), q.count, rng);
        return q.kind === "choose"
          ? JSON.stringify({ steps: lines.filter((l) => q.legal.includes(l)).slice(0, q.count) })
          : ["Here are some possible next steps:", ...lines.map((l, i) => `${i + 1}. ${l}`)].join("\n");
      }
      case "value": {
        const numbers = numbersOf(q.numbers);
        const label = numbers && twin.value(initialState(numbers)) >= 0.5 ? "sure" : "impossible";
        return q.structured
          ? JSON.stringify({ label })
          : `I tried a few ways to combine ${q.numbers}.\n${label}`;
      }
      case "answer": {
        const puzzle = numbersOf(q.puzzle);
        if (!puzzle) return "I cannot read the numbers.";
        const start = initialState(puzzle);
        const judged = judgePlan(start, q.steps.join("\n"), 1);
        const state = { puzzle: start.puzzle, steps: judged.steps, remaining: judged.remaining };
        return answerLine(state) ?? "The steps do not reach 24, so there is no answer.";
      }
    }
  };
}

/**
 * The Game-of-24 registry entry with this kit and the agent's environment protocol — what the registry does once
 * `game24Rafa` is wired in (`EnvKit.rafa`) and environments are built with `game24EnvOptions(agent)`. Runs in
 * tests and the benchmark go through it until then.
 */
export function game24EnvEntry(
  agent: string,
  envOptions: Game24EnvChoice = game24EnvOptions(agent),
): EnvEntry<Game24Observation, string> {
  const base = envEntry("game24");
  const loaded = new Map<string, Game24Data>();
  return {
    ...base,
    create(instance, where) {
      let data = loaded.get(where.dataDir);
      if (!data) {
        data = loadGame24(where.dataDir);
        loaded.set(where.dataDir, data);
      }
      return createGame24Env(puzzleById(data, instance).numbers, envOptions);
    },
    kit(where) {
      // The registry stores entries type-erased; this is the game24 entry, so its kit has these types.
      const kit = base.kit(where) as EnvKit<Game24Observation, string>;
      return { ...kit, rafa: game24Rafa(where) };
    },
  };
}

export interface Game24RunOptions {
  readonly agent: Game24AgentName;
  readonly dataDir: string;
  /** The run folder (run.sqlite, manifest.json, summary.json). */
  readonly out: string;
  readonly seeds: readonly number[];
  /** Keep the first N puzzles of the split (default: all). */
  readonly episodes?: number;
  readonly split?: string;
  readonly options?: Readonly<Record<string, unknown>>;
  /** The environment protocol (default `game24EnvOptions(agent)`), for ablations. */
  readonly env?: Game24EnvChoice;
  /** A language model (the run's model stack); the twins when absent. */
  readonly model?: LanguageModel;
  readonly modelSpec?: string;
  readonly concurrency?: number;
  /** Cap on attempts per puzzle (default the environment's 20). */
  readonly maxSteps?: number;
  /** Sees every agent the run creates (for its statistics). */
  readonly onAgent?: (agent: Game24Agent, instance: number) => void;
}

/**
 * One run of a Game-of-24 agent with the runner, store and summary of `startRun`, through `game24EnvEntry`
 * (so it works before the registry is wired). Returns the summary also written to `summary.json`.
 */
export async function runGame24(o: Game24RunOptions): Promise<Summary> {
  const split = o.split ?? DEFAULT_SPLIT;
  const env = game24EnvEntry(o.agent, o.env);
  let { ids } = env.instances(split, o.dataDir);
  if (o.episodes !== undefined) ids = ids.slice(0, o.episodes);
  const config: RunConfig = {
    env: "game24",
    agent: o.agent,
    model: o.modelSpec ?? (o.model ? o.model.id : "exact"),
    split,
    instances: ids,
    seeds: [...o.seeds],
    concurrency: o.concurrency ?? 4,
    maxSteps: o.maxSteps ?? env.maxSteps,
    prices: {},
    cache: { path: "", mode: "off" },
    dataDir: resolve(o.dataDir),
    options: o.options ?? {},
  };
  const runId = `game24-${o.agent}-${basename(o.out)}`;
  const store = RunStore.create(o.out, runId);
  const manifest: Manifest = {
    runId,
    createdAt: new Date().toISOString(),
    bayesact: VERSION,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    gitCommit: null,
    config,
    dataFiles: {},
    models: o.model ? { [config.model]: await o.model.capabilities() } : {},
  };
  writeJson(join(o.out, MANIFEST), manifest);
  let created = 0;
  const base = agentEntry(o.agent);
  const agent: AgentEntry = {
    ...base,
    create(kit, model, options) {
      const made = base.create(kit, model, options);
      const instance = created++;
      if (o.onAgent && isGame24Agent(made)) o.onAgent(made, instance);
      return made;
    },
  };
  try {
    const result = await executeRun({
      store,
      config,
      env: env as unknown as EnvEntry,
      agent,
      ...(o.model ? { model: o.model } : {}),
    });
    if (!result.summary) throw new Error(`the ${o.agent} run did not complete: ${result.status}`);
    writeJson(join(o.out, SUMMARY), result.summary);
    return result.summary;
  } finally {
    await store.close();
  }
}
