import type { Agent, EpisodeContext } from "../../core/agent.ts";
import type { Experience, Learner, Prediction, RoleContext, Roles } from "../../core/roles.ts";
import type { Step } from "../../core/trajectory.ts";
import type { PlanResult } from "../../reason/types.ts";
import type { SwitchRule } from "./switch.ts";

/** A planner as RAFA uses it: plan from the current state with this epoch's roles; optionally learn from reality. */
export interface RafaPlanner<S, A> {
  readonly name: string;
  plan(roles: Roles<S, A>, state: S, ctx: RoleContext): Promise<PlanResult<A>>;
  /** A real step happened (MCTS overwrites its prediction with the observation and moves its root). */
  observe?(experience: Experience<S, A>, ctx: RoleContext): void | Promise<void>;
}

export interface RafaOptions<O, S, PA, A> {
  readonly name?: string;
  readonly learner: Learner<S, PA>;
  readonly planner: RafaPlanner<S, PA>;
  readonly switchRule: SwitchRule<S, PA>;
  /** The planner state of an observation. */
  readonly stateOf: (observation: O) => S;
  /**
   * The planner state a real step led to (default: `stateOf(step.nextObservation)`). BlocksWorld overrides it: when
   * a try ends, the next observation is already the restarted initial state, while the step's outcome is in its info.
   */
  readonly nextStateOf?: (step: Step<O, A>) => S;
  /**
   * The environment action for a plan. Default: its first action ("act for now"). Game of 24 may submit the whole
   * plan and let the environment commit its verified prefix, as the original code does.
   */
  readonly toAction?: (result: PlanResult<PA>, state: S) => A;
  /** Ask the epoch's model for the chosen action's prediction, so learners and switch rules can compare it with
   * what happened (default true; it costs one model call, usually answered from the planner's own questions). */
  readonly recordPredictions?: boolean;
  /** When the planner finds no action (the elite proposed nothing legal): a fallback, e.g. a random legal one. */
  readonly fallback?: (state: S, legal: readonly A[] | undefined, ctx: EpisodeContext) => A;
}

/** A RAFA agent together with what it did (for tests and reports). */
export interface RafaAgent<O, A> extends Agent<O, A> {
  /** Epochs started (the first learning counts as one). */
  readonly switches: number;
  /** The memory buffer of the current episode. */
  readonly memory: readonly Experience<unknown, unknown>[];
}

/**
 * RAFA's loop (spec §1.2, "Algorithm 1"): before each action, if the switch rule fires, *learn* from the memory
 * (D_{t_k} ← D_t) to get this epoch's roles; *plan* from the current state with them; *act* only the plan's first
 * action; *store* the feedback; replan at the next step. Memory lives for the episode (the runner builds one agent
 * per episode; multi-game episodes such as a Tic-Tac-Toe match keep it across their games).
 */
export function createRafaAgent<O, S, PA, A = PA>(options: RafaOptions<O, S, PA, A>): RafaAgent<O, A> {
  const { learner, planner, switchRule, stateOf } = options;
  const recordPredictions = options.recordPredictions ?? true;
  const memory: Experience<S, PA>[] = [];
  let roles: Roles<S, PA> | undefined;
  let atSwitch = 0;
  let switches = 0;
  let t = 0;
  let pending: { state: S; action: PA; actionText?: string; predicted?: Prediction<S> } | undefined;
  const entropy = learner.entropy
    ? (length: number) => learner.entropy?.(memory.slice(0, length)) ?? 0
    : undefined;

  const agent: RafaAgent<O, A> = {
    name: options.name ?? "rafa",
    get switches() {
      return switches;
    },
    get memory() {
      return memory as readonly Experience<unknown, unknown>[];
    },
    reset() {
      memory.length = 0;
      roles = undefined;
      atSwitch = 0;
      switches = 0;
      t = 0;
      pending = undefined;
    },
    async act(observation, legal, ctx) {
      const state = stateOf(observation);
      const roleCtx: RoleContext = { rng: ctx.rng, ...(ctx.signal ? { signal: ctx.signal } : {}) };
      // Reason for future: learn from the memory frozen at the switch, then plan from the current state.
      if (roles === undefined || switchRule.shouldSwitch(atSwitch, memory, entropy)) {
        atSwitch = memory.length;
        roles = await learner.learn(memory.slice(0, atSwitch), roleCtx);
        switches += 1;
      }
      const result = await planner.plan(roles, state, roleCtx);
      if (ctx.events && ctx.events.listenerCount("planner.tree") > 0) {
        ctx.events.emit("planner.tree", {
          episodeId: ctx.episodeId,
          t,
          nodes: result.nodes,
          chosen: result.chosen,
        });
      }
      t += 1;
      const first = result.action;
      if (first === undefined) {
        if (!options.fallback)
          throw new Error(`${agent.name}: the planner found no action and there is no fallback`);
        pending = undefined;
        return options.fallback(state, legal, ctx);
      }
      const predicted = recordPredictions ? await roles.model.predict(state, first, roleCtx) : undefined;
      pending = { state, action: first, ...(predicted ? { predicted } : {}) };
      // Act for now: only the first action (or what `toAction` makes of the plan).
      return options.toAction ? options.toAction(result, state) : (first as unknown as A);
    },
    async observe(step, ctx) {
      if (!pending) return;
      const experience: Experience<S, PA> = {
        t: step.t,
        state: pending.state,
        action: pending.action,
        actionText: step.actionText,
        ...(pending.predicted ? { predicted: pending.predicted } : {}),
        next: options.nextStateOf ? options.nextStateOf(step) : stateOf(step.nextObservation),
        reward: step.reward,
        done: step.done,
        feedback: step.feedback,
        ...(step.info ? { info: step.info } : {}),
      };
      memory.push(experience);
      pending = undefined;
      await planner.observe?.(experience, { rng: ctx.rng, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    },
  };
  return agent;
}
