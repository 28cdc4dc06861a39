/**
 * Imperfect twins (issue 5): an exact role corrupted at a configurable rate, and the corrections a learner derives
 * from memory. Together they let offline runs show what RAFA is about: prior errors repaired by reasoning and acting.
 *
 * Corruption is keyed: whether a state (or state–action pair) is corrupted, and how, is a fixed function of the
 * corruption seed and its key. So a wrong answer is given consistently — like a wrong belief from pretraining — until
 * the learner overrides it with what the environment's feedback showed. Without learning (ToT, RAP) the error stays.
 */

import { Rng } from "../core/rng.ts";
import type { Critic, Elite, Prediction, RoleContext, WorldModel } from "../core/roles.ts";

/** A uniform number in [0, 1) that depends only on the seed and the key. */
export function keyedUniform(seed: number | string, key: string): number {
  return new Rng(`${seed}\u0000${key}`).float();
}

export interface CorruptionOptions<K> {
  /** Fraction of keys (states, or state–action pairs) answered wrongly, 0 ≤ rate ≤ 1. */
  readonly rate: number;
  /** The corruption pattern's seed (e.g. drawn once per episode from the agent's stream). */
  readonly seed: number | string;
  readonly key: K;
}

function checkRate(rate: number): number {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`corruption rate must be in [0, 1], got ${rate}`);
  return rate;
}

/** A critic that answers `wrong(value, state)` instead of the truth on a `rate` fraction of states. */
export function corruptCritic<S>(
  critic: Critic<S>,
  options: CorruptionOptions<(state: S) => string> & { readonly wrong: (value: number, state: S) => number },
): Critic<S> {
  const rate = checkRate(options.rate);
  return {
    async value(state, ctx) {
      const truth = await critic.value(state, ctx);
      return keyedUniform(options.seed, `critic:${options.key(state)}`) < rate
        ? options.wrong(truth, state)
        : truth;
    },
  };
}

/** An elite that, on a `rate` fraction of states, returns `drop(actions, state)` (e.g. misses the right move). */
export function corruptElite<S, A>(
  elite: Elite<S, A>,
  options: CorruptionOptions<(state: S) => string> & {
    readonly drop: (actions: readonly A[], state: S) => readonly A[];
  },
): Elite<S, A> {
  const rate = checkRate(options.rate);
  return {
    async propose(state, breadth, ctx) {
      const actions = await elite.propose(state, breadth, ctx);
      return keyedUniform(options.seed, `elite:${options.key(state)}`) < rate
        ? options.drop(actions, state)
        : actions;
    },
  };
}

/** A world model that mispredicts a `rate` fraction of (state, action) pairs with `mispredict`. */
export function corruptModel<S, A>(
  model: WorldModel<S, A>,
  options: CorruptionOptions<(state: S, action: A) => string> & {
    readonly mispredict: (prediction: Prediction<S>, state: S, action: A, ctx: RoleContext) => Prediction<S>;
  },
): WorldModel<S, A> {
  const rate = checkRate(options.rate);
  return {
    async predict(state, action, ctx) {
      const prediction = await model.predict(state, action, ctx);
      const corrupted = keyedUniform(options.seed, `model:${options.key(state, action)}`) < rate;
      return corrupted ? options.mispredict(prediction, state, action, ctx) : prediction;
    },
  };
}

/** Values learned from feedback override the critic's answer for those states. */
export function correctedCritic<S>(
  critic: Critic<S>,
  known: ReadonlyMap<string, number>,
  key: (s: S) => string,
): Critic<S> {
  return {
    async value(state, ctx) {
      const learned = known.get(key(state));
      return learned !== undefined ? learned : critic.value(state, ctx);
    },
  };
}

/** Observed transitions override the model's predictions for those (state, action) pairs. */
export function correctedModel<S, A>(
  model: WorldModel<S, A>,
  known: ReadonlyMap<string, Prediction<S>>,
  key: (s: S, a: A) => string,
): WorldModel<S, A> {
  return {
    async predict(state, action, ctx) {
      return known.get(key(state, action)) ?? model.predict(state, action, ctx);
    },
  };
}

/**
 * Actions learned to be good in a state are proposed first; actions learned to be bad are dropped. The elite's own
 * proposals follow, without duplicates, within `breadth`.
 */
export function correctedElite<S, A>(
  elite: Elite<S, A>,
  learned: {
    readonly good: ReadonlyMap<string, readonly A[]>;
    readonly bad: ReadonlyMap<string, readonly A[]>;
  },
  key: (s: S) => string,
  actionKey: (a: A) => string,
): Elite<S, A> {
  return {
    async propose(state, breadth, ctx) {
      const k = key(state);
      const bad = new Set((learned.bad.get(k) ?? []).map(actionKey));
      const out: A[] = [];
      const seen = new Set<string>();
      for (const a of [...(learned.good.get(k) ?? []), ...(await elite.propose(state, breadth, ctx))]) {
        const ak = actionKey(a);
        if (seen.has(ak) || bad.has(ak)) continue;
        seen.add(ak);
        out.push(a);
        if (out.length >= breadth) break;
      }
      return out;
    },
  };
}
