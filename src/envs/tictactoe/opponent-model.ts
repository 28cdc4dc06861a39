/**
 * Opponent models for RAFA's Tic-Tac-Toe (spec §3.3: "opponent model = X's reply from its past moves"), and the
 * exact twins of the learner that builds them from the memory buffer.
 *
 * An opponent model is a distribution over X's next cell on a board where X is to move. Three kinds:
 *
 * - fixed beliefs: `minimaxModel` ("X plays minimax": uniform over the optimal moves), `uniformModel`, and one
 *   model per style of the public family (`styleModel`);
 * - the Bayesian posterior over a finite hypothesis set (the styles plus minimax and uniform): every observed X
 *   move multiplies each hypothesis by its likelihood; the predictive is the posterior-weighted mixture (the
 *   Bayesian model average the theory calls a perfectly pretrained LLM). Its entropy drives entropy-drop switching;
 * - per-state move frequencies (the spec's exact twin): a Dirichlet per board whose base measure is a prior model,
 *   so unseen boards fall back to the prior.
 *
 * The default learner is the posterior: a style is one parameter shared by every board, so every X move is
 * evidence about it, while per-state frequencies learn only about boards seen before — in a match of 20 games
 * against a stochastic opponent few boards repeat beyond the first moves.
 */
import type { Experience, Learner, RoleContext, Roles } from "../../core/roles.ts";
import { type Board, boardKey, EMPTY_BOARD, emptyPositions, isOver, play } from "./board.ts";
import { optimalMoves } from "./exact.ts";
import { DEFAULT_SLIP, STYLES, type Style, styleDistribution } from "./styles.ts";

export interface OpponentModel {
  readonly name: string;
  /** X's move probabilities (index 0–8 = cell 1–9, zero on taken cells) on a board with X to move. */
  distribution(board: Board): readonly number[];
}

/** Caches a model's answers per board (models are pure functions of the board). */
function cached(name: string, compute: (board: Board) => readonly number[]): OpponentModel {
  const memo = new Map<string, readonly number[]>();
  return {
    name,
    distribution(board) {
      const key = boardKey(board);
      let d = memo.get(key);
      if (!d) {
        d = compute(board);
        memo.set(key, d);
      }
      return d;
    },
  };
}

function uniformOver(cells: readonly number[]): number[] {
  const out = Array<number>(9).fill(0);
  for (const p of cells) out[p - 1] = 1 / cells.length;
  return out;
}

/** "X plays minimax": uniform over the moves that keep X's minimax value. */
export const minimaxModel: OpponentModel = cached("minimax", (board) => uniformOver(optimalMoves(board)));

/** "X plays anywhere": uniform over the empty cells. */
export const uniformModel: OpponentModel = cached("uniform", (board) => uniformOver(emptyPositions(board)));

const styleModels = new Map<string, OpponentModel>();

/** The exact model of one style of the family (one per style and slip, so its answers are shared by all runs). */
export function styleModel(style: Style, slip: number = DEFAULT_SLIP): OpponentModel {
  const key = `${style.name}\u0000${style.weights.join(",")}\u0000${slip}`;
  let model = styleModels.get(key);
  if (!model) {
    model = cached(`style:${style.name}`, (board) => styleDistribution(style, board, slip));
    styleModels.set(key, model);
  }
  return model;
}

/** The mixture Σ_k w_k · model_k (weights summing to 1): the posterior predictive. */
export function mixtureModel(
  name: string,
  components: readonly { readonly model: OpponentModel; readonly weight: number }[],
): OpponentModel {
  const live = components.filter((c) => c.weight > 0);
  return cached(name, (board) => {
    const out = Array<number>(9).fill(0);
    for (const { model, weight } of live) {
      const d = model.distribution(board);
      for (let i = 0; i < 9; i++) out[i] = (out[i] ?? 0) + weight * (d[i] ?? 0);
    }
    return out;
  });
}

/** One observed X move: the board X moved on and the cell (1–9) it took. */
export interface XMove {
  readonly board: Board;
  readonly cell: number;
}

/**
 * The X moves a memory buffer reveals. Each experience is (board with O to move, O's cell, observed board after
 * X's reply): X's reply is the one new X. A game's opening move shows in its first experience, whose board holds a
 * single X. Experiences that reveal nothing (game over after O's move, an illegal O move) are skipped.
 */
export function xMovesOf(memory: readonly Experience<Board, number>[]): XMove[] {
  const out: XMove[] = [];
  for (const e of memory) {
    const xs = e.state.filter((c) => c === "X").length;
    const os = e.state.filter((c) => c === "O").length;
    if (xs === 1 && os === 0) out.push({ board: EMPTY_BOARD, cell: e.state.indexOf("X") + 1 });
    if (e.state[e.action - 1] !== null) continue;
    const afterO = play(e.state, e.action, "O");
    if (isOver(afterO)) continue;
    const added = e.next.flatMap((c, i) => (c === "X" && afterO[i] === null ? [i + 1] : []));
    const sameElsewhere = e.next.every((c, i) => c === afterO[i] || (c === "X" && afterO[i] === null));
    const [cell] = added;
    if (added.length === 1 && cell !== undefined && sameElsewhere) out.push({ board: afterO, cell });
  }
  return out;
}

export interface Hypothesis {
  readonly model: OpponentModel;
  /** Prior probability (the hypotheses' priors sum to 1). */
  readonly prior: number;
}

export interface HypothesisOptions {
  /** Prior mass on "X plays minimax" (default 0.9), in [0, 1): the imperfect starting belief. */
  readonly minimaxPrior?: number;
  /** The styles' `slip`, as the environment uses it (default `DEFAULT_SLIP`). */
  readonly slip?: number;
  /** The styles considered (default the whole public family `STYLES`). */
  readonly styles?: readonly Style[];
}

/**
 * The hypothesis set: minimax with its prior mass, and uniform plus every style sharing the rest equally. Uniform
 * gives every legal move positive probability, so the posterior is defined whatever X does (an LLM X, an X
 * outside the family).
 */
export function defaultHypotheses(options: HypothesisOptions = {}): Hypothesis[] {
  const minimax = options.minimaxPrior ?? 0.9;
  const styles = options.styles ?? STYLES;
  if (!(minimax >= 0 && minimax < 1)) throw new RangeError(`minimaxPrior must be in [0, 1), got ${minimax}`);
  const rest = (1 - minimax) / (styles.length + 1);
  const out: Hypothesis[] = [
    { model: minimaxModel, prior: minimax },
    { model: uniformModel, prior: rest },
  ];
  for (const style of styles) out.push({ model: styleModel(style, options.slip), prior: rest });
  return out.filter((h) => h.prior > 0);
}

/** Posterior probabilities of the hypotheses after the observed moves (computed in log space). */
export function posterior(hypotheses: readonly Hypothesis[], moves: readonly XMove[]): number[] {
  const logs = hypotheses.map((h) => {
    let l = Math.log(h.prior);
    for (const { board, cell } of moves) {
      l += Math.log(h.model.distribution(board)[cell - 1] ?? 0);
      if (l === Number.NEGATIVE_INFINITY) break;
    }
    return l;
  });
  const top = Math.max(...logs);
  if (top === Number.NEGATIVE_INFINITY)
    throw new Error("every hypothesis gives the observations probability 0");
  const w = logs.map((l) => Math.exp(l - top));
  const total = w.reduce((s, x) => s + x, 0);
  return w.map((x) => x / total);
}

/** Shannon entropy in nats. */
export function entropy(probabilities: readonly number[]): number {
  return -probabilities.reduce((s, p) => (p > 0 ? s + p * Math.log(p) : s), 0);
}

/** The posterior predictive after `moves`, named by its most probable hypothesis. */
export function posteriorModel(hypotheses: readonly Hypothesis[], moves: readonly XMove[]): OpponentModel {
  const weights = posterior(hypotheses, moves);
  let best = 0;
  weights.forEach((w, i) => {
    if (w > (weights[best] ?? 0)) best = i;
  });
  const lead = hypotheses[best]?.model.name ?? "none";
  return mixtureModel(
    `posterior(${lead} ${(weights[best] ?? 0).toFixed(2)})`,
    hypotheses.map((h, i) => ({ model: h.model, weight: weights[i] ?? 0 })),
  );
}

/**
 * Per-state move frequencies with a prior: P(x | b) = (n_b(x) + α·P₀(x | b)) / (n_b + α), where n_b counts X's
 * moves seen on board b. Unseen boards get the prior's answer.
 */
export function frequencyModel(prior: OpponentModel, moves: readonly XMove[], alpha = 1): OpponentModel {
  if (!(alpha > 0)) throw new RangeError(`alpha must be > 0, got ${alpha}`);
  const counts = new Map<string, number[]>();
  for (const { board, cell } of moves) {
    const key = boardKey(board);
    const c = counts.get(key) ?? Array<number>(9).fill(0);
    c[cell - 1] = (c[cell - 1] ?? 0) + 1;
    counts.set(key, c);
  }
  return cached(`frequency(${prior.name}, ${moves.length} moves)`, (board) => {
    const p0 = prior.distribution(board);
    const c = counts.get(boardKey(board));
    if (!c) return p0;
    const n = c.reduce((s, x) => s + x, 0);
    return p0.map((p, i) => ((c[i] ?? 0) + alpha * p) / (n + alpha));
  });
}

export type OpponentLearnerKind = "posterior" | "frequency" | "none";

export interface OpponentLearnerOptions extends HypothesisOptions {
  /**
   * `posterior` (default): Bayes over the hypothesis set. `frequency`: per-state counts over the prior model.
   * `none`: the prior model forever (the same planner without learning).
   */
  readonly kind?: OpponentLearnerKind;
  /** Dirichlet concentration of the frequency learner (default 1). */
  readonly alpha?: number;
}

/** What the memory proves about X beyond the model: whether X ever played a move minimax never plays. */
export interface Evidence {
  readonly minimaxRefuted: boolean;
}

/** True when some observed X move lost value against best play (so X is certainly not a minimax player). */
export function refutesMinimax(moves: readonly XMove[]): boolean {
  return moves.some(({ board, cell }) => !optimalMoves(board).includes(cell));
}

/**
 * The exact twin of RAFA's learner for Tic-Tac-Toe: memory → opponent model → roles. `rolesFor` turns an opponent
 * model and the evidence into the planner's roles (e.g. `opponentRoles`). The posterior learner reports its
 * entropy. Without learning (`kind: "none"`) the memory is never read: the model and the evidence stay the prior's.
 */
export function opponentLearner(
  rolesFor: (model: OpponentModel, evidence: Evidence) => Roles<Board, number>,
  options: OpponentLearnerOptions = {},
): Learner<Board, number> & { readonly hypotheses: readonly Hypothesis[] } {
  const kind = options.kind ?? "posterior";
  const hypotheses = defaultHypotheses(options);
  const prior = posteriorModel(hypotheses, []);
  const learner: Learner<Board, number> & { readonly hypotheses: readonly Hypothesis[] } = {
    hypotheses,
    learn(memory: readonly Experience<Board, number>[], _ctx: RoleContext) {
      const moves = kind === "none" ? [] : xMovesOf(memory);
      const model =
        kind === "none"
          ? prior
          : kind === "frequency"
            ? frequencyModel(prior, moves, options.alpha)
            : posteriorModel(hypotheses, moves);
      return rolesFor(model, { minimaxRefuted: refutesMinimax(moves) });
    },
  };
  if (kind === "posterior") {
    return Object.assign(learner, {
      entropy: (memory: readonly Experience<Board, number>[]) =>
        entropy(posterior(hypotheses, xMovesOf(memory))),
    });
  }
  return learner;
}
