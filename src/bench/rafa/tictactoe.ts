/**
 * RAFA on Tic-Tac-Toe (spec §3.3, issue 5): where the agent meets the environment.
 *
 * - `tictactoeEntry`: the environment entry. Single games against minimax or random X (the splits `minimax`,
 *   `random`, `all`, unchanged), and matches of 20 games (`--opt games=N`) as one episode against minimax, random
 *   or a styled X whose hidden style is drawn per run (`styled`, `corners`, `edges`, `order`, `match-minimax`,
 *   `match-random`, `matches`). Its curves give the score and the loss rate of game g, so a report shows learning
 *   over games.
 * - `createTictactoeAgent`: `rafa` — tree search over B proposals × the one predicted reply to the end of the game,
 *   with the opponent model learned from memory and relearned on misprediction — and `tot`, the same planner whose
 *   opponent model is never updated (the baseline). Roles are the exact twins over an opponent model, or an LLM's.
 */
import { z } from "zod";
import { createRafaAgent, type RafaAgent } from "../../agents/rafa/agent.ts";
import { treePlanner } from "../../agents/rafa/planners.ts";
import { entropyDrop, everyStep, onMisprediction, type SwitchRule } from "../../agents/rafa/switch.ts";
import type { Agent } from "../../core/agent.ts";
import { UserError } from "../../core/errors.ts";
import type { Learner, Roles } from "../../core/roles.ts";
import type { Step } from "../../core/trajectory.ts";
import { type Board, boardKey, renderBoard } from "../../envs/tictactoe/board.ts";
import {
  minimaxOpponent,
  type Opponent,
  parseCell,
  randomOpponent,
  TicTacToeEnv,
  type TicTacToeObservation,
} from "../../envs/tictactoe/env.ts";
import { exactRoles, opponentRoles } from "../../envs/tictactoe/exact.ts";
import { llmOpponent } from "../../envs/tictactoe/llm-opponent.ts";
import { type LlmRoleStats, llmLearner } from "../../envs/tictactoe/llm-roles.ts";
import {
  boardFromKey,
  DEFAULT_GAMES,
  gameEndOf,
  type MatchObservation,
  TicTacToeMatchEnv,
} from "../../envs/tictactoe/match.ts";
import { type Evidence, type OpponentModel, opponentLearner } from "../../envs/tictactoe/opponent-model.ts";
import { TASK } from "../../envs/tictactoe/prompts.ts";
import { DEFAULT_SLIP, type StyleFamily, sampleStyle, styledOpponent } from "../../envs/tictactoe/styles.ts";
import type { LanguageModel } from "../../llm/types.ts";
import type { EnvEntry, EpisodeStep, RafaKit } from "../registry.ts";

/** The observation of every split: a single game's, or a match's (which adds the game number). */
export type TictactoeObservation = TicTacToeObservation | MatchObservation;

/** The agents this environment plays. */
export const TICTACTOE_AGENTS = ["rafa", "tot"] as const;

/** The longest match `--opt games` allows (the entry's step cap is sized for it). */
export const MAX_GAMES = 100;

/** Agent options (`--opt key=value`) with their defaults (`TictactoeOptions.parse({})` lists them). */
export const TictactoeOptions = z.strictObject({
  /** Games per match (an environment option: the registry builds the match with it). */
  games: z.number().int().min(1).max(MAX_GAMES).default(DEFAULT_GAMES),
  /** B: cells the elite proposes per node. */
  breadth: z.number().int().min(1).max(9).default(3),
  /** U: O moves searched ahead (4 reaches the end of any game, since X moves first). */
  depth: z.number().int().min(1).max(4).default(4),
  /** How RAFA learns its opponent model from memory (`tot` never does). */
  learner: z.enum(["posterior", "frequency"]).default("posterior"),
  /**
   * When RAFA relearns: on a misprediction (the paper's rule), before every move, or on a 1-bit entropy drop. The
   * last never fires after the first learning with the default prior: its entropy (0.56 nats) rises as evidence
   * refutes "X plays minimax", so it never falls a bit below its value at the switch.
   */
  switch: z.enum(["misprediction", "every-step", "entropy"]).default("misprediction"),
  /** The critic: expectimax under the opponent model, or plain minimax. */
  critic: z.enum(["expectimax", "minimax"]).default("expectimax"),
  /**
   * Exploitation safety: `none` proposes every cell; `always` only cells that keep O's minimax value;
   * `until-refuted` only those until X has played a move minimax never plays (then every cell).
   */
  safety: z.enum(["none", "always", "until-refuted"]).default("until-refuted"),
  /** Prior mass on "X plays minimax" in the opponent model (the imperfect starting belief). */
  minimaxPrior: z.number().min(0).lt(1).default(0.9),
  /** Dirichlet concentration of the frequency learner. */
  alpha: z.number().positive().default(1),
  /** `exact` twins (default without a model) or `llm` roles (default with one). */
  roles: z.enum(["exact", "llm"]).optional(),
  /** LLM roles: sampling temperature (the paper's 0.2). */
  temperature: z.number().min(0).max(2).default(0.2),
  /** LLM roles: past mispredictions shown to the model. */
  examples: z.number().int().min(0).max(50).default(5),
});
export type TictactoeOptions = z.infer<typeof TictactoeOptions>;

export function parseTictactoeOptions(options: Readonly<Record<string, unknown>>): TictactoeOptions {
  const parsed = TictactoeOptions.safeParse(options);
  if (parsed.success) return parsed.data;
  throw new UserError(`tictactoe agent options: ${z.prettifyError(parsed.error).replaceAll("\n", "; ")}`, {
    category: "bad_option",
  });
}

/** The planner state after a real step: a game's final board when the step ended a game of a match. */
function nextBoard(step: Step<TictactoeObservation, number>): Board {
  const end = gameEndOf(step.info);
  return (end && boardFromKey(end.final)) ?? step.nextObservation.board;
}

function switchRuleOf(name: TictactoeOptions["switch"]): SwitchRule<Board, number> {
  if (name === "every-step") return everyStep();
  if (name === "entropy") return entropyDrop();
  return onMisprediction(boardKey);
}

/** A Tic-Tac-Toe RAFA agent; with LLM roles, their calls and named failures. */
export interface TictactoeAgent extends RafaAgent<TictactoeObservation, number> {
  readonly llmStats: LlmRoleStats | undefined;
}

/** `rafa` or `tot` on Tic-Tac-Toe. */
export function createTictactoeAgent(
  name: string,
  setup: { readonly model: LanguageModel | undefined; readonly options: Readonly<Record<string, unknown>> },
): TictactoeAgent {
  if (!(TICTACTOE_AGENTS as readonly string[]).includes(name))
    throw new UserError(`tictactoe has no "${name}" agent (it has: ${TICTACTOE_AGENTS.join(", ")})`, {
      category: "bad_option",
    });
  const o = parseTictactoeOptions(setup.options);
  const useLlm = (o.roles ?? (setup.model ? "llm" : "exact")) === "llm";
  let learner: Learner<Board, number>;
  let stats: LlmRoleStats | undefined;
  if (useLlm) {
    if (!setup.model)
      throw new UserError("roles=llm needs --model (an LLM spec)", { category: "bad_option" });
    const llm = llmLearner({
      model: setup.model,
      temperature: o.temperature,
      examples: o.examples,
      learn: name !== "tot",
    });
    learner = llm;
    stats = llm.stats;
  } else {
    const rolesFor = (model: OpponentModel, evidence: Evidence): Roles<Board, number> =>
      opponentRoles(model, {
        critic: o.critic,
        safe: o.safety === "always" || (o.safety === "until-refuted" && !evidence.minimaxRefuted),
      });
    learner = opponentLearner(rolesFor, {
      kind: name === "tot" ? "none" : o.learner,
      minimaxPrior: o.minimaxPrior,
      slip: DEFAULT_SLIP,
      alpha: o.alpha,
    });
  }
  if (name === "rafa" && o.switch === "entropy" && !learner.entropy)
    throw new UserError("switch=entropy needs learner=posterior (the one with an entropy)", {
      category: "bad_option",
    });
  const agent = createRafaAgent<TictactoeObservation, Board, number>({
    name,
    learner,
    planner: treePlanner({
      breadth: o.breadth,
      depth: o.depth,
      // The spec's early stop: a move that wins cannot be beaten.
      maxValue: 1,
      stateKey: boardKey,
      describeState: renderBoard,
      formatAction: String,
    }),
    // Without learning the roles never change, so relearning would only rebuild the same ones.
    switchRule: name === "tot" ? { name: "never", shouldSwitch: () => false } : switchRuleOf(o.switch),
    stateOf: (observation) => observation.board,
    nextStateOf: nextBoard,
    fallback: (_state, legal, ctx) => ctx.rng.pick(legal ?? []),
  });
  return Object.assign(agent, { llmStats: stats });
}

/** The match opponents by instance id. */
const MATCH_OPPONENTS: Readonly<Record<string, Opponent | StyleFamily | "styled">> = {
  "match-minimax": minimaxOpponent,
  "match-random": randomOpponent,
  styled: "styled",
  corners: "corners",
  edges: "edges",
  order: "order",
};

const MATCH_LLM_NEEDS_MODEL = "the match-llm split plays X with the run's model: give --model SPEC";

const SPLITS: Readonly<Record<string, readonly string[]>> = {
  minimax: ["minimax"],
  random: ["random"],
  all: ["minimax", "random"],
  // X is the run's model (an "optimal position" prompt, structured output over the empty cells), journaled.
  "match-llm": ["match-llm"],
  styled: ["styled"],
  corners: ["corners"],
  edges: ["edges"],
  order: ["order"],
  "match-minimax": ["match-minimax"],
  "match-random": ["match-random"],
  matches: ["match-minimax", "match-random", "styled"],
};

/**
 * Per-game series of an episode: `score_by_game[g]` is the score of game g + 1 (+1 / 0 / −1) and `loss_by_game[g]`
 * is 1 when it was lost, so their means over episodes are the score and the loss rate by game. A single game is a
 * match of one.
 */
export function tictactoeCurves(steps: readonly EpisodeStep[]): Record<string, number[]> {
  const ends = steps.flatMap((s) => {
    const end = gameEndOf(s.info);
    return end ? [end.outcome] : [];
  });
  const last = steps.at(-1);
  const scores = ends.length > 0 ? ends : last?.done ? [last.reward] : [];
  if (scores.length === 0) return {};
  return { score_by_game: scores, loss_by_game: scores.map((s) => (s < 0 ? 1 : 0)) };
}

/** Games per match from the run's `--opt games`, else `fallback`. */
function gamesOf(options: Readonly<Record<string, unknown>> | undefined, fallback: number): number {
  const games = options?.games;
  if (games === undefined) return fallback;
  if (typeof games === "number" && Number.isInteger(games) && games >= 1 && games <= MAX_GAMES) return games;
  throw new UserError(`--opt games must be an integer from 1 to ${MAX_GAMES}, got ${String(games)}`, {
    category: "bad_option",
  });
}

/** The Tic-Tac-Toe entry; matches have `defaultGames` games (20) unless the run says `--opt games=N`. */
export function createTictactoeEntry(
  defaultGames: number = DEFAULT_GAMES,
): EnvEntry<TictactoeObservation, number> {
  const kitRafa: RafaKit<TictactoeObservation, number> = {
    agents: TICTACTOE_AGENTS,
    create: (name, setup): Agent<TictactoeObservation, number> => createTictactoeAgent(name, setup),
  };
  return {
    name: "tictactoe",
    description:
      "RAFA's Tic-Tac-Toe: X moves first, the agent plays O; single games (minimax, random) or matches of " +
      `${defaultGames} games (--opt games=N) against minimax, random or a styled X with a hidden style drawn per run`,
    splits: Object.keys(SPLITS),
    defaultSplit: "all",
    // A game has at most 4 moves of O (X moves first); the cap fits the longest match allowed.
    maxSteps: 4 * Math.max(MAX_GAMES, defaultGames),
    instances(split) {
      return { ids: [...(SPLITS[split] ?? [])], dataFiles: [] };
    },
    needsModel: (split) => (split === "match-llm" ? MATCH_LLM_NEEDS_MODEL : undefined),
    create(instance, where) {
      if (instance === "minimax" || instance === "random")
        return new TicTacToeEnv(instance === "random" ? randomOpponent : minimaxOpponent);
      if (instance === "match-llm") {
        if (!where.model) {
          throw new UserError(MATCH_LLM_NEEDS_MODEL, { category: "bad_option" });
        }
        const temperature = where.options?.opponentTemperature;
        const llmX = llmOpponent({
          model: where.model,
          ...(typeof temperature === "number" ? { temperature } : {}),
        });
        return new TicTacToeMatchEnv({ opponent: llmX, games: gamesOf(where.options, defaultGames) });
      }
      const source = MATCH_OPPONENTS[instance];
      if (source === undefined)
        throw new UserError(`unknown tictactoe instance "${instance}"`, { category: "bad_option" });
      const opponent =
        typeof source === "string"
          ? (rng: Parameters<typeof sampleStyle>[1]) => styledOpponent(sampleStyle(source, rng))
          : source;
      return new TicTacToeMatchEnv({ opponent, games: gamesOf(where.options, defaultGames) });
    },
    curves: (steps) => tictactoeCurves(steps),
    kit: () => ({
      task: TASK,
      describe: (o) => ("game" in o ? `Game ${o.game} of ${o.games}\n${o.text}` : o.text),
      formatAction: (a) => String(a),
      parseAction: parseCell,
      exact: {
        roles: exactRoles as Roles<unknown, number>,
        stateOf: (o) => o.board,
        describeState: (board) => renderBoard(board as Board),
      },
      rafa: kitRafa,
    }),
  };
}

/** The replacement for the registry's `tictactoe` entry. */
export const tictactoeEntry: EnvEntry<TictactoeObservation, number> = createTictactoeEntry();

/** Mean and 95% interval of a curve at one index, over the episodes that reached it. */
export interface CurvePoint {
  readonly n: number;
  readonly mean: number;
  readonly low: number;
  readonly high: number;
}

/**
 * Per-index mean of an episode curve with a 95% interval (mean ± 1.96 standard errors; `summary.json` keeps only
 * the means). Unlike `meanCurves`, nothing is padded: index i counts the episodes whose series reach it.
 */
export function curveIntervals(
  episodes: readonly { readonly curves?: Readonly<Record<string, readonly number[]>> }[],
  name: string,
): CurvePoint[] {
  const series = episodes.map((e) => e.curves?.[name] ?? []);
  const length = Math.max(0, ...series.map((s) => s.length));
  return Array.from({ length }, (_, i) => {
    const xs = series.flatMap((s) => (i < s.length ? [s[i] ?? 0] : []));
    const n = xs.length;
    const mean = xs.reduce((a, x) => a + x, 0) / n;
    const variance = n > 1 ? xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1) : 0;
    const half = 1.959963984540054 * Math.sqrt(variance / n);
    return { n, mean, low: mean - half, high: mean + half };
  });
}
