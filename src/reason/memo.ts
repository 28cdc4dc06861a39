/**
 * The memo tables of one search: every question to a role is asked at most once. Identical states reached by
 * different paths share one elite call, one model call per (state, action) and one critic call (with all its
 * samples). Entries are promises, so questions asked concurrently are shared too.
 *
 * Each call gets its own child generator (`ctx.rng.split()`, drawn when the question is issued), so a role's
 * random choices depend only on the order in which questions are issued — not on how concurrent calls
 * interleave — and never shift the planner's own tie-breaking draws.
 */
import type { Prediction, RoleContext, Roles } from "../core/roles.ts";
import { structuralKey } from "./keys.ts";
import {
  hasPriors,
  hasSamples,
  type Proposal,
  type SearchOptions,
  type SearchStats,
  throwIfAborted,
} from "./types.ts";

/** The keys a memo uses, with their defaults filled in. */
export interface MemoKeys<S, A> {
  readonly stateKey: (state: S) => string;
  readonly criticKey: (state: S) => string;
  readonly actionKey: (action: A) => string;
}

export function memoKeys<S, A>(options: SearchOptions<S, A>): MemoKeys<S, A> {
  const stateKey = options.stateKey ?? structuralKey;
  return {
    stateKey,
    criticKey: options.criticKey ?? stateKey,
    actionKey: options.actionKey ?? structuralKey,
  };
}

interface Counts {
  eliteCalls: number;
  modelCalls: number;
  criticCalls: number;
  criticSamples: number;
  eliteHits: number;
  modelHits: number;
  criticHits: number;
}

const SEP = "\u0000";

export class RoleMemo<S, A> {
  readonly roles: Roles<S, A>;
  readonly keys: MemoKeys<S, A>;
  readonly valueSamples: number;
  private readonly proposals = new Map<string, Promise<readonly Proposal<A>[]>>();
  private readonly predictions = new Map<string, Promise<Prediction<S>>>();
  private readonly values = new Map<string, Promise<number>>();
  /** Distinct keys ever asked, kept apart from the tables so `clear()` does not reset the statistics. */
  private readonly valued = new Set<string>();
  private readonly expanded = new Set<string>();
  private readonly counts: Counts = {
    eliteCalls: 0,
    modelCalls: 0,
    criticCalls: 0,
    criticSamples: 0,
    eliteHits: 0,
    modelHits: 0,
    criticHits: 0,
  };

  constructor(roles: Roles<S, A>, keys: MemoKeys<S, A>, valueSamples = 1) {
    if (!(Number.isInteger(valueSamples) && valueSamples >= 1))
      throw new RangeError(`valueSamples must be a positive integer, got ${valueSamples}`);
    this.roles = roles;
    this.keys = keys;
    this.valueSamples = valueSamples;
  }

  /**
   * The elite's proposals in `state`, deduplicated by `actionKey` (first occurrence kept, priors of duplicates
   * summed), priors normalised to sum 1 (uniform when the elite gives none or all zero).
   */
  propose(state: S, breadth: number, ctx: RoleContext): Promise<readonly Proposal<A>[]> {
    const sk = this.keys.stateKey(state);
    const key = `${sk}${SEP}${breadth}`;
    const cached = this.proposals.get(key);
    if (cached) {
      this.counts.eliteHits++;
      return cached;
    }
    throwIfAborted(ctx);
    this.counts.eliteCalls++;
    this.expanded.add(sk);
    const callCtx = childContext(ctx);
    const elite = this.roles.elite;
    const raw: Promise<readonly Proposal<A>[]> = hasPriors(elite)
      ? elite.proposeWithPriors(state, breadth, callCtx)
      : elite
          .propose(state, breadth, callCtx)
          .then((actions) => actions.map((action) => ({ action, prior: 1 })));
    const promise = raw.then((ps) => this.normalise(ps));
    return this.remember(this.proposals, key, promise);
  }

  /** The model's prediction of `action` in `state`. */
  predict(state: S, action: A, ctx: RoleContext): Promise<Prediction<S>> {
    const key = this.edgeKey(state, action);
    const cached = this.predictions.get(key);
    if (cached) {
      this.counts.modelHits++;
      return cached;
    }
    throwIfAborted(ctx);
    this.counts.modelCalls++;
    return this.remember(this.predictions, key, this.roles.model.predict(state, action, childContext(ctx)));
  }

  /** The critic's value of `state`: the mean of `valueSamples` samples, asked in one request when possible. */
  value(state: S, ctx: RoleContext): Promise<number> {
    const key = this.keys.criticKey(state);
    const cached = this.values.get(key);
    if (cached) {
      this.counts.criticHits++;
      return cached;
    }
    throwIfAborted(ctx);
    this.valued.add(key);
    return this.remember(this.values, key, this.sample(state, ctx));
  }

  /** Replace the answer to "what follows `action` in `state`" with what the environment showed. */
  overwrite(state: S, action: A, observed: Prediction<S>): void {
    this.predictions.set(this.edgeKey(state, action), Promise.resolve(observed));
  }

  /** Forget every answer (e.g. after the roles learned from feedback); statistics are kept. */
  clear(): void {
    this.proposals.clear();
    this.predictions.clear();
    this.values.clear();
  }

  edgeKey(state: S, action: A): string {
    return `${this.keys.stateKey(state)}${SEP}${this.keys.actionKey(action)}`;
  }

  stats(): SearchStats {
    const c = this.counts;
    return {
      eliteCalls: c.eliteCalls,
      modelCalls: c.modelCalls,
      criticCalls: c.criticCalls,
      criticSamples: c.criticSamples,
      statesValued: this.valued.size,
      statesExpanded: this.expanded.size,
      cacheHits: c.eliteHits + c.modelHits + c.criticHits,
      hits: { elite: c.eliteHits, model: c.modelHits, critic: c.criticHits },
    };
  }

  private async sample(state: S, ctx: RoleContext): Promise<number> {
    const n = this.valueSamples;
    const critic = this.roles.critic;
    let samples: readonly number[];
    if (n > 1 && hasSamples(critic)) {
      this.counts.criticCalls++;
      samples = await critic.values(state, n, childContext(ctx));
    } else {
      // Issue all n requests before awaiting any, so their child generators follow the issue order.
      const pending: Promise<number>[] = [];
      for (let i = 0; i < n; i++) {
        this.counts.criticCalls++;
        pending.push(critic.value(state, childContext(ctx)));
      }
      samples = await Promise.all(pending);
    }
    if (samples.length === 0) throw new Error("critic returned no value samples");
    this.counts.criticSamples += samples.length;
    return samples.reduce((s, v) => s + v, 0) / samples.length;
  }

  private normalise(proposals: readonly Proposal<A>[]): Proposal<A>[] {
    const byKey = new Map<string, { action: A; prior: number }>();
    for (const p of proposals) {
      const k = this.keys.actionKey(p.action);
      const prior = Number.isFinite(p.prior) && p.prior > 0 ? p.prior : 0;
      const seen = byKey.get(k);
      if (seen) seen.prior += prior;
      else byKey.set(k, { action: p.action, prior });
    }
    const out = [...byKey.values()];
    const total = out.reduce((s, p) => s + p.prior, 0);
    return out.map((p) => ({ action: p.action, prior: total > 0 ? p.prior / total : 1 / out.length }));
  }

  /** Store a pending answer; a failed question is forgotten so that it can be asked again. */
  private remember<T>(table: Map<string, Promise<T>>, key: string, promise: Promise<T>): Promise<T> {
    table.set(key, promise);
    promise.catch(() => {
      if (table.get(key) === promise) table.delete(key);
    });
    return promise;
  }
}

function childContext(ctx: RoleContext): RoleContext {
  return ctx.signal ? { rng: ctx.rng.split(), signal: ctx.signal } : { rng: ctx.rng.split() };
}

/** `after − before`, for the cost of one call on a memo that lives longer (a persistent MCTS tree). */
export function statsDelta(after: SearchStats, before: SearchStats): SearchStats {
  return {
    eliteCalls: after.eliteCalls - before.eliteCalls,
    modelCalls: after.modelCalls - before.modelCalls,
    criticCalls: after.criticCalls - before.criticCalls,
    criticSamples: after.criticSamples - before.criticSamples,
    statesValued: after.statesValued - before.statesValued,
    statesExpanded: after.statesExpanded - before.statesExpanded,
    cacheHits: after.cacheHits - before.cacheHits,
    hits: {
      elite: after.hits.elite - before.hits.elite,
      model: after.hits.model - before.hits.model,
      critic: after.hits.critic - before.hits.critic,
    },
  };
}
