import type { Env, StepResult } from "../../core/env.ts";
import { ok, type ParseResult } from "../../core/errors.ts";
import { formatNumbers, type Rational } from "./rational.ts";
import { describeState, type Game24State, initialState, judgePlan, type LineJudgement } from "./rules.ts";

/** RAFA's attempt budget per puzzle (`max_step` = 20 in the official code). */
export const MAX_ATTEMPTS = 20;

export interface Game24Options {
  /**
   * Feedback mode (default true), the "act for now" commitment: the correct steps of an attempt join the
   * committed prefix, later attempts continue from it, and the feedback text is returned. With `false` (the ToT
   * baseline) every attempt starts from the four numbers and the feedback text is empty, as in the official code;
   * the per-line verdicts still go into `info` for the journal.
   */
  readonly feedback?: boolean;
  /** Attempts before the episode ends unsolved (default 20). */
  readonly maxAttempts?: number;
}

export interface Game24Observation {
  readonly puzzle: readonly Rational[];
  /** The committed steps (feedback mode) and the numbers they leave. */
  readonly state: Game24State;
  readonly attempts: number;
  readonly maxAttempts: number;
  /** `render()` at the time of the observation. */
  readonly text: string;
}

/**
 * The Game of 24 as RAFA plays it (spec §3.1). An action is a multi-line plan — step lines
 * `a op b = c (left: n1 n2 …)` continuing from the committed steps, then `Answer: <expression> = 24` — judged
 * line by line (rules.ts), stopping at the first failure. The episode ends on a correct answer (success) or when
 * the attempts are used up.
 */
export class Game24Env implements Env<Game24Observation, string> {
  readonly name = "game24";
  readonly feedback: boolean;
  readonly maxAttempts: number;
  private readonly start: Game24State;
  private state: Game24State;
  private attempts = 0;
  private solved = false;

  constructor(puzzle: readonly (number | Rational)[], options: Game24Options = {}) {
    if (puzzle.length === 0) throw new RangeError("Game24Env: the puzzle has no numbers");
    this.feedback = options.feedback ?? true;
    this.maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
    if (!Number.isInteger(this.maxAttempts) || this.maxAttempts < 1)
      throw new RangeError(`Game24Env: maxAttempts must be a positive integer, got ${this.maxAttempts}`);
    this.start = initialState(puzzle);
    this.state = this.start;
  }

  get terminal(): boolean {
    return this.solved || this.attempts >= this.maxAttempts;
  }

  /** The committed steps and remaining numbers (what the exact twins plan from). */
  get current(): Game24State {
    return this.state;
  }

  private observe(): Game24Observation {
    return {
      puzzle: this.start.puzzle,
      state: this.state,
      attempts: this.attempts,
      maxAttempts: this.maxAttempts,
      text: this.render(),
    };
  }

  /** The game has no randomness; the seed is accepted for the `Env` contract. */
  async reset(_seed: number): Promise<Game24Observation> {
    this.state = this.start;
    this.attempts = 0;
    this.solved = false;
    return this.observe();
  }

  async step(action: string): Promise<StepResult<Game24Observation>> {
    if (this.terminal) throw new Error("step() after the episode ended; call reset()");
    this.attempts += 1;
    const from = this.feedback ? this.state : this.start;
    const judged = judgePlan(from, action, from.steps.length + 1);
    if (this.feedback && judged.steps.length > 0) {
      this.state = {
        puzzle: from.puzzle,
        steps: [...from.steps, ...judged.steps],
        remaining: judged.remaining,
      };
    }
    this.solved = judged.solved;
    const done = this.terminal;
    return {
      observation: this.observe(),
      reward: judged.reward,
      done,
      ...(done ? { success: this.solved } : {}),
      feedback: this.feedback ? judged.lines.map((l) => l.feedback).join(" ") : "",
      info: {
        attempt: this.attempts,
        lines: judged.lines.map(lineInfo),
        committed: this.state.steps.length,
        remaining: formatNumbers(this.state.remaining),
      },
    };
  }

  /** Free text: the environment judges whatever the agent writes. */
  legalActions(): undefined {
    return undefined;
  }

  render(): string {
    const used = `Attempts used: ${this.attempts} of ${this.maxAttempts}`;
    return `${describeState(this.state)}\n${used}`;
  }

  formatAction(action: string): string {
    return action;
  }

  /** Any text is an action; parse failures are judged per line by `step` and reported in its feedback. */
  parseAction(text: string): ParseResult<string> {
    return ok(text);
  }
}

/** A JSON-serialisable record of a judged line for `info` (no bigints). */
function lineInfo(l: LineJudgement): Record<string, string | number> {
  return {
    text: l.text,
    kind: l.kind,
    verdict: l.verdict,
    reward: l.reward,
    ...(l.next ? { left: formatNumbers(l.next) } : {}),
  };
}
