import type { Experience } from "../../core/roles.ts";

/**
 * RAFA's switch rules (spec §1.2): when to refresh the roles used for planning from the memory (the "posterior").
 * `shouldSwitch` sees the memory length at the last switch (t_k) and the memory now (D_t); it is asked before every
 * action. Whatever it says, the first action of an episode always learns from the memory available.
 */
export interface SwitchRule<S, A> {
  readonly name: string;
  shouldSwitch(
    atSwitch: number,
    memory: readonly Experience<S, A>[],
    entropy?: (length: number) => number,
  ): boolean;
}

/** Relearn before every action (the setting of Game of 24 and BlocksWorld in the paper's code). */
export function everyStep<S, A>(): SwitchRule<S, A> {
  return { name: "every-step", shouldSwitch: (atSwitch, memory) => memory.length > atSwitch };
}

/** Relearn after a failure since the last switch (ALFWorld: after each failed episode or try). */
export function onFailure<S, A>(isFailure: (e: Experience<S, A>) => boolean): SwitchRule<S, A> {
  return {
    name: "on-failure",
    shouldSwitch: (atSwitch, memory) => memory.slice(atSwitch).some(isFailure),
  };
}

/** Relearn when a real transition contradicted the model's prediction (Tic-Tac-Toe in the paper's code). */
export function onMisprediction<S, A>(stateKey: (state: S) => string): SwitchRule<S, A> {
  return {
    name: "on-misprediction",
    shouldSwitch: (atSwitch, memory) =>
      memory
        .slice(atSwitch)
        .some(
          (e) =>
            e.predicted !== undefined &&
            (stateKey(e.predicted.state) !== stateKey(e.next) ||
              e.predicted.reward !== e.reward ||
              e.predicted.done !== e.done),
        ),
  };
}

/**
 * Relearn when the learner's posterior entropy has dropped by `nats` (default log 2: one bit) since the last
 * switch — the theory's rule (H_{t_k} − H_t > log 2), which bounds the number of switches by 1 + (H₀ − H_T)/log 2.
 * Needs a learner that reports entropy.
 */
export function entropyDrop<S, A>(nats: number = Math.log(2)): SwitchRule<S, A> {
  return {
    name: `entropy-drop(${(nats / Math.log(2)).toFixed(2)} bits)`,
    shouldSwitch: (atSwitch, memory, entropy) => {
      if (!entropy)
        throw new Error("entropy-drop switching needs a learner that reports its posterior entropy");
      return entropy(atSwitch) - entropy(memory.length) > nats;
    },
  };
}
