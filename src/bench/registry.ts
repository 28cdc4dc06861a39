import { createDirectAgent } from "../agents/direct.ts";
import { createLookaheadAgent } from "../agents/lookahead.ts";
import { createRandomAgent } from "../agents/random.ts";
import type { Agent } from "../core/agent.ts";
import type { Env } from "../core/env.ts";
import { ok, type ParseResult, UserError } from "../core/errors.ts";
import type { Roles } from "../core/roles.ts";
import {
  BLOCKSWORLD_SPLITS,
  type BlocksWorldAction,
  type BlocksWorldData,
  BlocksWorldEnv,
  type BlocksWorldObservation,
  type BlocksWorldState,
  createExactRoles,
  loadBlocksWorld,
  loadPddlFolder,
  parseActionText,
  renderAction,
  renderState,
  taskText,
} from "../envs/blocksworld/index.ts";
import {
  DEFAULT_SPLIT,
  TASK as GAME24_TASK,
  type Game24Data,
  Game24Env,
  type Game24Observation,
  exactRoles as game24ExactRoles,
  game24Instances,
  loadGame24,
  MAX_ATTEMPTS,
  MAX_PROPOSALS,
  puzzleById,
  SPLITS,
} from "../envs/game24/index.ts";
import { describeState as describeGame24State, type Game24State } from "../envs/game24/rules.ts";
import type { LanguageModel } from "../llm/types.ts";
import { blocksworldEnvOptions, blocksworldRafa } from "./rafa/blocksworld.ts";
import { createGame24Env, game24EnvOptions, game24Rafa } from "./rafa/game24.ts";
import { tictactoeEntry as tictactoe } from "./rafa/tictactoe.ts";

/** What agents may know about an environment: its prompt, text forms, parser and exact twins. */
export interface EnvKit<O, A> {
  readonly task: string;
  readonly describe: (observation: O) => string;
  readonly formatAction: (action: A) => string;
  readonly parseAction: (text: string) => ParseResult<A>;
  /** The exact twins of the LLM roles, for planners, with the planner state of an observation. */
  readonly exact?: {
    readonly roles: Roles<unknown, A>;
    readonly stateOf: (observation: O) => unknown;
    readonly describeState: (state: unknown) => string;
    /** How many candidate actions a planner should ask the exact elite for (the full set where it is small). */
    readonly breadth?: number;
  };
  /** RAFA and its baselines on this environment, when it has them. */
  readonly rafa?: RafaKit<O, A>;
}

export interface EnvEntry<O = unknown, A = unknown> {
  readonly name: string;
  readonly description: string;
  readonly splits: readonly string[];
  readonly defaultSplit: string;
  /** Default cap on agent actions per episode. */
  readonly maxSteps: number;
  /** Instance ids of a split, and the data files read to list them (hashed into the manifest). */
  instances(split: string, dataDir: string): { ids: string[]; dataFiles: string[] };
  /**
   * Why this split cannot run without a language model (it plays a part with the run's model), checked before a run
   * folder is made; undefined when it can.
   */
  needsModel?(split: string): string | undefined;
  create(instance: string, where: DataRef): Env<O, A>;
  /**
   * The environment's own per-episode series from its steps (e.g. BlocksWorld: solved by try k). `summary.json`
   * averages them across episodes, padding shorter series with their last value, so series should be cumulative.
   */
  curves?(steps: readonly EpisodeStep[], success: boolean): Record<string, number[]>;
  /** What agents may know; environments whose vocabulary comes from data build it from the data. */
  kit(where: DataRef): EnvKit<O, A>;
}

/** What `curves` sees of each step. */
export interface EpisodeStep {
  readonly reward: number;
  readonly done: boolean;
  readonly info?: Readonly<Record<string, unknown>>;
}

/**
 * Where an environment's data is (the data folder `--data` and the split) and, when the protocol depends on it,
 * which agent will play: e.g. ToT runs Game of 24 without feedback, as in the paper's code.
 */
export interface DataRef {
  readonly dataDir: string;
  readonly split: string;
  readonly agent?: string;
  /** The run's `--opt` options, for environments with options (BlocksWorld: `tries`). */
  readonly options?: Readonly<Record<string, unknown>>;
  /** The episode's journaled model, for environments with an LLM opponent (Tic-Tac-Toe `match-llm`). */
  readonly model?: LanguageModel;
}

export interface AgentEntry {
  readonly name: string;
  readonly description: string;
  /**
   * `exact`: runs on the exact twins only; `llm`: needs a model spec; `none`: uses no model; `any`: the exact twins
   * by default (imperfect twins with `--opt roles=imperfect`), or an LLM spec.
   */
  readonly model: "exact" | "llm" | "none" | "any";
  create<O, A>(
    kit: EnvKit<O, A>,
    model: LanguageModel | undefined,
    options: Readonly<Record<string, unknown>>,
  ): Agent<O, A>;
}

/** RAFA and its baselines for one environment (built in `bench/rafa/<env>.ts`, where agents meet environments). */
export interface RafaKit<O, A> {
  /** The agents this environment supports, by name (rafa, tot, reflexion, react, rap). */
  readonly agents: readonly string[];
  create(
    name: string,
    setup: { readonly model: LanguageModel | undefined; readonly options: Readonly<Record<string, unknown>> },
  ): Agent<O, A>;
}

/** The RAFA-family agents: each environment's kit decides how it plays them. */
const RAFA_FAMILY: readonly { name: string; description: string }[] = [
  {
    name: "rafa",
    description: "RAFA: learn from memory, plan a long future, act only the first action, replan",
  },
  { name: "tot", description: "Tree of Thoughts: the same search, no memory across attempts" },
  {
    name: "reflexion",
    description: "Reflexion: one sampled plan per attempt plus verbal reflections in memory",
  },
  { name: "react", description: "ReAct: one step at a time from the observation, no lookahead" },
  { name: "rap", description: "RAP: open-loop MCTS on the model (no real transitions during planning)" },
];

/** Puzzles are loaded once per data folder, not once per episode. */
const game24Data = new Map<string, Game24Data>();

const game24: EnvEntry<Game24Observation, string> = {
  name: "game24",
  description: "Game of 24 (RAFA spec 3.1): a plan of arithmetic steps and an answer, checked line by line",
  splits: SPLITS,
  defaultSplit: DEFAULT_SPLIT,
  maxSteps: MAX_ATTEMPTS,
  instances: (split, dataDir) => game24Instances(split, dataDir),
  create(instance, where) {
    const { dataDir } = where;
    let data = game24Data.get(dataDir);
    if (!data) {
      data = loadGame24(dataDir);
      game24Data.set(dataDir, data);
    }
    const numbers = puzzleById(data, instance).numbers;
    return where.agent === undefined
      ? new Game24Env(numbers)
      : createGame24Env(numbers, game24EnvOptions(where.agent));
  },
  kit: (where) => ({
    task: GAME24_TASK,
    describe: (o) => o.text,
    formatAction: (a) => a,
    parseAction: (text) => ok(text),
    exact: {
      roles: game24ExactRoles as Roles<unknown, string>,
      stateOf: (o) => o.state,
      describeState: (s) => describeGame24State(s as Game24State),
      breadth: MAX_PROPOSALS,
    },
    rafa: game24Rafa(where),
  }),
};

/** Loaded once per (data folder, split). `split` "folder" reads `dataDir` as a folder of PDDL problems. */
const blocksworldData = new Map<string, BlocksWorldData>();

function loadBlocks({ dataDir, split }: DataRef): BlocksWorldData {
  const key = `${dataDir}\u0000${split}`;
  let data = blocksworldData.get(key);
  if (!data) {
    data = split === "folder" ? loadPddlFolder(dataDir) : loadBlocksWorld(dataDir, split);
    blocksworldData.set(key, data);
  }
  return data;
}

const blocksworld: EnvEntry<BlocksWorldObservation, BlocksWorldAction> = {
  name: "blocksworld",
  description: "BlocksWorld (RAFA spec 3.2, RAP setting): up to 60 tries of at most max-depth steps each",
  splits: [...BLOCKSWORLD_SPLITS, "folder"],
  defaultSplit: "step_4",
  // 60 tries of at most 6 steps; the environment ends episodes itself.
  maxSteps: 60 * 6,
  curves(steps, success) {
    // solved_by_try[k − 1] = 1 when the goal was reached within k tries: the paper's success-against-tries curve.
    // Every step carries its try number; padding with the last value extends a solved episode's 1 to later tries.
    const tried = steps.at(-1)?.info?.try;
    const tries = typeof tried === "number" ? tried : 1;
    return { solved_by_try: Array.from({ length: tries }, (_, k) => (success && k + 1 === tries ? 1 : 0)) };
  },

  instances(split, dataDir) {
    const data = loadBlocks({ dataDir, split });
    return { ids: data.instances.map((i) => i.id), dataFiles: [...data.files] };
  },
  create(instance, where) {
    const data = loadBlocks(where);
    return new BlocksWorldEnv(
      data.instance(instance),
      data.vocabulary,
      blocksworldEnvOptions(where.options ?? {}),
    );
  },
  kit(where) {
    const data = loadBlocks(where);
    const exact = createExactRoles(data.domain);
    return {
      task: taskText(data.vocabulary),
      describe: (o) => `${o.text}\n${o.goalText}`,
      formatAction: (a) => renderAction(data.vocabulary, a),
      parseAction: (text) => parseActionText(text, { vocabulary: data.vocabulary }),
      exact: {
        roles: exact as Roles<unknown, BlocksWorldAction>,
        stateOf: (o) => o.state,
        describeState: (s) => renderState(data.vocabulary, (s as BlocksWorldState).atoms),
        breadth: 1,
      },
      rafa: blocksworldRafa(where),
    };
  },
};

export const ENVS: ReadonlyMap<string, EnvEntry> = new Map([
  [tictactoe.name, tictactoe as unknown as EnvEntry],
  [game24.name, game24 as unknown as EnvEntry],
  [blocksworld.name, blocksworld as unknown as EnvEntry],
]);

export const AGENTS: ReadonlyMap<string, AgentEntry> = new Map(
  [
    {
      name: "lookahead",
      description: "depth-1 planner: elite proposes, model predicts, critic scores (exact twins)",
      model: "exact" as const,
      create<O, A>(kit: EnvKit<O, A>): Agent<O, A> {
        if (!kit.exact) throw new UserError("this environment has no exact twins for the lookahead agent");
        return createLookaheadAgent({
          name: "lookahead",
          roles: kit.exact.roles,
          stateOf: kit.exact.stateOf,
          describeState: kit.exact.describeState,
          formatAction: kit.formatAction,
          ...(kit.exact.breadth !== undefined ? { breadth: kit.exact.breadth } : {}),
        });
      },
    },
    {
      name: "direct",
      description: "the LLM picks each action from the legal ones (structured output)",
      model: "llm" as const,
      create<O, A>(kit: EnvKit<O, A>, model: LanguageModel | undefined): Agent<O, A> {
        if (!model) throw new UserError("agent direct needs --model (an LLM spec)");
        return createDirectAgent({ model, ...kit });
      },
    },
    ...RAFA_FAMILY.map((entry) => ({
      ...entry,
      model: "any" as const,
      create<O, A>(
        kit: EnvKit<O, A>,
        model: LanguageModel | undefined,
        options: Readonly<Record<string, unknown>>,
      ): Agent<O, A> {
        if (!kit.rafa?.agents.includes(entry.name)) {
          throw new UserError(`this environment has no "${entry.name}" agent yet`, {
            category: "bad_option",
          });
        }
        return kit.rafa.create(entry.name, { model, options });
      },
    })),
    {
      name: "random",
      description: "uniformly random legal actions",
      model: "none" as const,
      create<O, A>(): Agent<O, A> {
        return createRandomAgent<O, A>();
      },
    },
  ].map((a) => [a.name, a] as const),
);

export function envEntry(name: string): EnvEntry {
  const entry = ENVS.get(name);
  if (!entry)
    throw new UserError(`unknown environment "${name}" (known: ${[...ENVS.keys()].join(", ")})`, {
      category: "bad_option",
    });
  return entry;
}

export function agentEntry(name: string): AgentEntry {
  const entry = AGENTS.get(name);
  if (!entry)
    throw new UserError(`unknown agent "${name}" (known: ${[...AGENTS.keys()].join(", ")})`, {
      category: "bad_option",
    });
  return entry;
}
