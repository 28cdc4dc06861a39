/**
 * The record the self-training loop passes between rollout, critics, selection and export.
 *
 * A trajectory is the dialogue one rollout produced for one instruction, as a flat list of turns:
 *   user   — the request (first turn),
 *   agent  — what the model emitted: an `API-Request: [Name(k='v', …)]` or a reply to the user,
 *   api    — the environment's answer to the agent turn just before it (output or exception).
 * An agent turn followed by an api turn is a call; the last agent turn with no api turn after it is the final
 * reply. The turn list is the only source of truth; `trajectoryCalls` and `finalReply` derive the rest, so a
 * rollout cannot record a call list that disagrees with its dialogue.
 */
import { renderResult } from "../envs/apibank/env.ts";
import type { Json } from "../envs/apibank/values.ts";

export type TrajectoryTurn =
  | { readonly role: "user"; readonly text: string }
  | { readonly role: "agent"; readonly text: string }
  | {
      readonly role: "api";
      /** The result as the agent saw it (`renderResult`): Python's `str()` of the output, or `Exception: …`. */
      readonly text: string;
      readonly output: Json;
      /** Null when the call ran; the executor's message when it failed. */
      readonly exception: string | null;
      /** True when a language model simulated this result (`--executor` an LLM spec). */
      readonly simulated?: boolean;
    };

export interface Trajectory {
  /** `Instruction.id` of the request this rollout answered. */
  readonly instructionId: string;
  readonly turns: readonly TrajectoryTurn[];
}

/** One call of a trajectory: the agent's request text and the environment's answer. */
export interface TrajectoryCall {
  /** Index of the agent turn in `turns`. */
  readonly turn: number;
  readonly request: string;
  readonly output: Json;
  readonly exception: string | null;
}

/** The calls in order: every agent turn immediately followed by an api turn. */
export function trajectoryCalls(t: Trajectory): TrajectoryCall[] {
  const calls: TrajectoryCall[] = [];
  t.turns.forEach((turn, i) => {
    const next = t.turns[i + 1];
    if (turn.role === "agent" && next?.role === "api") {
      calls.push({ turn: i, request: turn.text, output: next.output, exception: next.exception });
    }
  });
  return calls;
}

/** The final reply: the last turn, when it is an agent turn (a call the episode was cut after is not a reply). */
export function finalReply(t: Trajectory): string | undefined {
  const last = t.turns[t.turns.length - 1];
  return last?.role === "agent" ? last.text : undefined;
}

/** Agent turns (calls plus the reply): the "steps" selection prefers fewer of. */
export function agentSteps(t: Trajectory): number {
  return t.turns.filter((turn) => turn.role === "agent").length;
}

/** The api turn for a result, rendered the way the environment shows it to the agent. */
export function apiTurn(
  api: string,
  output: Json,
  exception: string | null,
  simulated = false,
): TrajectoryTurn {
  const turn = { role: "api" as const, text: renderResult(api, output, exception), output, exception };
  return simulated ? { ...turn, simulated: true } : turn;
}
