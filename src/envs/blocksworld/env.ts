import type { Env, StepResult } from "../../core/env.ts";
import type { ParseResult } from "../../core/errors.ts";
import type { BlocksWorldInstance } from "./data.ts";
import type { GroundAction, TypedObject } from "./domain.ts";
import {
  actionPhrase,
  parseActionText,
  renderAction,
  renderGoal,
  renderState,
  type Vocabulary,
} from "./nl.ts";
import { applicableOperators, applyOperator, type State, satisfiesGoal } from "./state.ts";
import { describeUnmet, validatePlan } from "./validate.ts";

export type BlocksWorldAction = GroundAction;

/**
 * What the exact twins plan over: the true atoms plus the problem's objects and goal, so one set of roles serves
 * every instance of the domain. Plain JSON.
 */
export interface BlocksWorldState {
  readonly objects: readonly TypedObject[];
  readonly goal: readonly string[];
  readonly atoms: State;
}

export interface BlocksWorldObservation {
  readonly state: BlocksWorldState;
  /** "I have that, …." */
  readonly text: string;
  /** "My goal is to have that …." */
  readonly goalText: string;
  /** The current try, 1-based. */
  readonly tryNumber: number;
  /** Actions taken so far in this try. */
  readonly depth: number;
  readonly maxDepth: number;
  readonly maxTries: number;
}

export interface BlocksWorldEnvOptions {
  /** Tries per episode (RAFA's `--rollouts`, default 60). */
  readonly maxTries?: number;
  /** Actions per try (default: the instance's optimal length, i.e. 4 for step_4 and 6 for step_6). */
  readonly maxDepth?: number;
}

export const DEFAULT_MAX_TRIES = 60;

/**
 * BlocksWorld for RAFA's loop (spec §3.2). An episode is up to `maxTries` tries; each try starts from the initial
 * state and lasts up to `maxDepth` actions. A step applies one action with its preconditions checked: an
 * inapplicable action leaves the state unchanged, the feedback says which preconditions failed, and the step
 * still counts. A try ends at the goal or at the depth limit, and the feedback says so; the next try starts
 * again from the initial state. The episode ends with success when a try reaches the goal (`info.plan` is that
 * try's validated plan) or without success when the tries run out.
 *
 * Reward: 1 on the step that reaches the goal, 0 otherwise, so an episode's return is its success. RAP's shaped
 * rewards (the action prior r₀ and the goal reward r₁) are the agent's planning signals, not the environment's.
 * Every step's `info.state` is the true state after the action, also when the try then restarts (the agent's
 * "true transition" for its search tree). The environment makes no random choices, so the seed is ignored.
 */
export class BlocksWorldEnv implements Env<BlocksWorldObservation, BlocksWorldAction> {
  readonly name = "blocksworld";
  readonly instance: BlocksWorldInstance;
  readonly vocabulary: Vocabulary;
  readonly maxTries: number;
  readonly maxDepth: number;
  private atoms: State;
  private tryNumber = 1;
  private depth = 0;
  /** Actions of the current try that changed the state. */
  private plan: GroundAction[] = [];
  /** Inapplicable actions in the current try. */
  private failedSteps = 0;
  private ended = false;

  constructor(instance: BlocksWorldInstance, vocabulary: Vocabulary, options: BlocksWorldEnvOptions = {}) {
    this.instance = instance;
    this.vocabulary = vocabulary;
    this.maxTries = options.maxTries ?? DEFAULT_MAX_TRIES;
    this.maxDepth = options.maxDepth ?? instance.optimalLength;
    if (!Number.isInteger(this.maxTries) || this.maxTries < 1) throw new RangeError("maxTries must be ≥ 1");
    if (!Number.isInteger(this.maxDepth) || this.maxDepth < 1) throw new RangeError("maxDepth must be ≥ 1");
    this.atoms = instance.task.init;
  }

  get terminal(): boolean {
    return this.ended;
  }

  private observe(): BlocksWorldObservation {
    const { task } = this.instance;
    return {
      state: { objects: task.grounding.objects, goal: task.goal, atoms: this.atoms },
      text: renderState(this.vocabulary, this.atoms),
      goalText: renderGoal(this.vocabulary, task.goal),
      tryNumber: this.tryNumber,
      depth: this.depth,
      maxDepth: this.maxDepth,
      maxTries: this.maxTries,
    };
  }

  private startTry(n: number): void {
    this.tryNumber = n;
    this.depth = 0;
    this.atoms = this.instance.task.init;
    this.plan = [];
    this.failedSteps = 0;
  }

  async reset(_seed: number): Promise<BlocksWorldObservation> {
    this.ended = false;
    this.startTry(1);
    return this.observe();
  }

  async step(action: BlocksWorldAction): Promise<StepResult<BlocksWorldObservation>> {
    if (this.ended) throw new Error("step() after the episode ended; call reset()");
    const { task } = this.instance;
    const phrase = actionPhrase(this.vocabulary, action);
    const op = task.grounding.operator(action);
    const applied = op ? applyOperator(this.atoms, op) : undefined;
    let feedback: string;
    let failed: readonly string[] | undefined;
    if (applied?.ok) {
      this.atoms = applied.state;
      this.plan.push(action);
      feedback = `Done: ${phrase}.`;
    } else {
      this.failedSteps++;
      failed = applied?.failed ?? [];
      const why = op
        ? describeUnmet(this.vocabulary, failed)
        : `${action.text} is not an action of this problem`;
      feedback = `Not possible: ${phrase}, because ${why}. The state is unchanged.`;
    }
    this.depth++;
    const tryNumber = this.tryNumber;
    const info: Record<string, unknown> = {
      try: tryNumber,
      depth: this.depth,
      state: this.atoms,
      ...(failed ? { inapplicable: { failed } } : {}),
    };

    if (satisfiesGoal(this.atoms, task.goal)) {
      // The try's state-changing actions are its plan; check it independently of the stepping code.
      const verdict = validatePlan(task, this.plan, this.vocabulary);
      this.ended = true;
      return {
        observation: this.observe(),
        reward: 1,
        done: true,
        success: verdict.valid,
        feedback: `${feedback} The goal is reached in try ${tryNumber} after ${this.depth} action(s).`,
        info: {
          ...info,
          plan: this.plan.map((a) => a.text),
          planValid: verdict.valid,
          inapplicableSteps: this.failedSteps,
        },
      };
    }
    if (this.depth < this.maxDepth) {
      return { observation: this.observe(), reward: 0, done: false, feedback, info };
    }
    const ended = `${feedback} Try ${tryNumber} of ${this.maxTries} ended after ${this.depth} action(s) without reaching the goal.`;
    if (tryNumber >= this.maxTries) {
      this.ended = true;
      return {
        observation: this.observe(),
        reward: 0,
        done: true,
        success: false,
        feedback: `${ended} No tries are left.`,
        info: { ...info, tryEnded: true },
      };
    }
    this.startTry(tryNumber + 1);
    return {
      observation: this.observe(),
      reward: 0,
      done: false,
      feedback: `${ended} Try ${tryNumber + 1} starts again from the initial state.`,
      info: { ...info, tryEnded: true },
    };
  }

  legalActions(): readonly BlocksWorldAction[] {
    if (this.ended) return [];
    return applicableOperators(this.instance.task.grounding.operators, this.atoms).map((op) => op.action);
  }

  render(): string {
    const o = this.observe();
    return `${o.text}\n${o.goalText}`;
  }

  formatAction(action: BlocksWorldAction): string {
    return renderAction(this.vocabulary, action);
  }

  /** Either the PDDL form `(unstack blue orange)` / `(unstack b c)` or the words "unstack the blue block from …". */
  parseAction(text: string): ParseResult<BlocksWorldAction> {
    const objects = this.instance.task.grounding.objects.map((o) => o.name);
    return parseActionText(text, { vocabulary: this.vocabulary, objects });
  }
}
