import type { Rng } from "../core/rng.ts";

/**
 * RAFA on environments with an exact posterior (spec §1.2, §2): the loop the theorems are about, with every LLM
 * role replaced by its exact twin. At each step the agent *reasons*: if the switch rule fires it starts a new
 * epoch — it takes the model for planning from the posterior as it is now (D_{t_k}: the information frozen at the
 * switch) and *plans* a whole policy for that model with an exact planner. It then *acts* with the first action of
 * that plan from the current state, and *learns*: the feedback goes into the posterior at once, but planning keeps
 * using the model frozen at t_k until the next switch.
 *
 * The posteriors are conjugate, so the memory buffer D_t is kept as its sufficient statistics (the posterior) and
 * "learn from D_{t_k}" is "read the model off the posterior at t_k".
 */

/** What RAFA needs from a posterior: conjugate updates, entropy for the switch rule, and the two model choices. */
export interface TheoryPosterior<M, F> {
  /** Fold one piece of feedback into the posterior. */
  learn(feedback: F): void;
  /** Posterior entropy H_t (nats). */
  entropy(): number;
  /** The posterior-mean model (Bayesian model average): certainty-equivalent planning, RAFA-BMA. */
  mean(): M;
  /** One model drawn from the posterior: RAFA-PS. */
  sample(rng: Rng): M;
  /** Changes whenever the posterior changes; lets a mean-model agent skip re-planning an identical model. */
  version?(): number;
}

/** The model planning uses: the posterior mean or a posterior sample. */
export type ModelKind = "mean" | "sample";

/** What a switch rule sees at the start of step t. */
export interface SwitchState {
  readonly t: number;
  /** Step at which the current epoch started. */
  readonly tk: number;
  readonly entropyAtSwitch: number;
  readonly entropy: number;
}

/** `switchRule`: start a new epoch (refresh the planning model) now? */
export type SwitchRule = (state: SwitchState) => boolean;

/** Refresh the model at every step (RAFA in the Game-of-24 and BlocksWorld experiments). */
export const everyStep: SwitchRule = () => true;

/** Refresh at the start of every episode of `length` steps (PSRL; RAFA's ALFWorld runs switch between episodes). */
export function everyEpisode(length: number): SwitchRule {
  return (s) => s.t % length === 0;
}

/** Never refresh after the first plan: a no-learning reference. */
export const never: SwitchRule = () => false;

/**
 * Refresh once the posterior entropy has fallen by `nats` (log 2 in the theory: one bit) since the last switch.
 * For a linear-Gaussian posterior this is det Σ_t ≤ 4^(−nats/log 2) det Σ_{t_k}.
 */
export function entropyDrop(nats: number = Math.LN2): SwitchRule {
  return (s) => s.entropyAtSwitch - s.entropy >= nats;
}

export interface RafaTheoryOptions<M, F, P, S, A> {
  readonly posterior: TheoryPosterior<M, F>;
  readonly model: ModelKind;
  readonly switchRule: SwitchRule;
  /** The planner (exact: argmax for a bandit, backward DP for an MDP): a policy for `model`, once per switch. */
  plan(model: M, rng: Rng): P;
  /** The first action of the plan from the current state. */
  act(policy: P, state: S, rng: Rng): A;
  readonly rng: Rng;
}

export class RafaTheory<M, F, P, S, A> {
  /** Epochs started so far, the first at t = 0 included: K of the bound K ≤ 1 + (H0 − H_T)/log 2. */
  switches = 0;
  /** Steps taken. */
  t = 0;
  /** Start of the current epoch, and the posterior entropy then. */
  tk = 0;
  entropyAtSwitch: number;
  readonly initialEntropy: number;
  private policy: P | undefined;
  private plannedVersion = Number.NaN;
  private readonly options: RafaTheoryOptions<M, F, P, S, A>;

  constructor(options: RafaTheoryOptions<M, F, P, S, A>) {
    this.options = options;
    this.initialEntropy = options.posterior.entropy();
    this.entropyAtSwitch = this.initialEntropy;
  }

  /** Reason for the future, act for now: maybe switch (and re-plan), then the first action of the plan from `state`. */
  reason(state: S): A {
    const { posterior, switchRule, rng } = this.options;
    let policy = this.policy;
    const entropy = posterior.entropy();
    if (
      policy === undefined ||
      switchRule({ t: this.t, tk: this.tk, entropyAtSwitch: this.entropyAtSwitch, entropy })
    ) {
      this.switches += 1;
      this.tk = this.t;
      this.entropyAtSwitch = entropy;
      policy = this.replan(policy);
      this.policy = policy;
    }
    return this.options.act(policy, state, rng);
  }

  /** Store the feedback of the action just taken; time advances. */
  learn(feedback: F): void {
    this.options.posterior.learn(feedback);
    this.t += 1;
  }

  /** Current posterior entropy H_t. */
  entropy(): number {
    return this.options.posterior.entropy();
  }

  private replan(previous: P | undefined): P {
    const { posterior, model, rng } = this.options;
    if (model === "sample") return this.options.plan(posterior.sample(rng), rng);
    // The posterior mean of an unchanged posterior is the same model: its plan is the same up to tie-breaking.
    const version = posterior.version?.();
    if (previous !== undefined && version !== undefined && version === this.plannedVersion) return previous;
    this.plannedVersion = version ?? Number.NaN;
    return this.options.plan(posterior.mean(), rng);
  }
}
