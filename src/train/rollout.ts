/**
 * Rollouts (spec §1.3): a policy answers one training instruction through a rollout environment, producing a
 * `Trajectory` for the critics.
 *
 * At every step the policy sees the dialogue so far exactly as the export renders it (`chatMessages`: the system
 * prompt with the API documents, the user request, the agent's turns, each result as a user message `->result`)
 * and emits text. The text is read with `parseCall` (model output is never evaluated):
 *   - no call-like text: a final reply; the rollout ends;
 *   - a call: recorded as `API-Request: [Name(…)]` (the call alone, without surrounding chatter), executed in the
 *     environment, and its result appended;
 *   - a garbled call: recorded as the agent's raw text followed by an api turn carrying the parse error as its
 *     exception, and the rollout ends. The api turn makes the prefilter see it as a call (`parse_error`); as a
 *     last turn alone it would pass for a final reply.
 * At most `maxSteps` calls run (default 8): a call asked for after that is recorded unexecuted and ends the
 * rollout, so the trajectory has no final reply (`no_final_reply` in the prefilter). The policy is thus asked at
 * most `maxSteps + 1` times.
 *
 * Sample k of an instruction uses `sampleIndex` k in every model request (so a response cache keeps the K samples
 * apart) and seeds drawn from `rng.stream("rollout:<id>:<k>")`, so a rollout is a pure function of the rng's key,
 * the instruction and k — whatever order `rolloutMany` runs them in.
 */

import type { Rng } from "../core/rng.ts";
import { parseCall } from "../envs/apibank/call.ts";
import type { ChatMessage, LanguageModel, Usage } from "../llm/types.ts";
import { chatMessages } from "./export.ts";
import type { Instruction } from "./instructions.ts";
import type { RolloutEnvironment } from "./simulator.ts";
import { agentSteps, apiTurn, type Trajectory, type TrajectoryTurn } from "./trajectory.ts";

export interface PolicyInput {
  readonly instruction: Instruction;
  /** The dialogue so far. */
  readonly trajectory: Trajectory;
  /** The dialogue so far as chat messages (the export's rendering). */
  readonly messages: readonly ChatMessage[];
  readonly sampleIndex: number;
  /** Agent turns so far. */
  readonly step: number;
  /** A 32-bit seed for this step, from the rollout's rng stream. */
  readonly seed: number;
  readonly signal?: AbortSignal;
}

export interface PolicyOutput {
  readonly text: string;
  /** Tokens this step cost (absent for policies that call no model). */
  readonly usage?: Usage;
}

export interface Policy {
  readonly name: string;
  act(input: PolicyInput): Promise<PolicyOutput>;
}

export interface LlmPolicyOptions {
  /** Sampling temperature (default 0.8, spec §1.3). */
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly stop?: readonly string[];
}

/** A policy that asks a model: one sample, index `sampleIndex`, seeded from the rollout's rng. */
export function llmPolicy(model: LanguageModel, options: LlmPolicyOptions = {}): Policy {
  return {
    name: `llm:${model.id}`,
    async act(input) {
      const result = await model.generate({
        messages: input.messages,
        n: 1,
        sampleIndex: input.sampleIndex,
        temperature: options.temperature ?? 0.8,
        seed: input.seed,
        ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
        ...(options.stop === undefined ? {} : { stop: options.stop }),
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      });
      return { text: result.choices[0]?.text ?? "", usage: result.usage };
    },
  };
}

/**
 * Replays gold chain `sampleIndex mod chains` (the chain the replay simulator prefers for that index): its calls,
 * then its reply. For tests and the expert-imitation control; an instruction without a gold chain is an error.
 */
export function goldPolicy(): Policy {
  return {
    name: "gold",
    async act(input) {
      const golds = input.instruction.golds;
      const chain = golds[input.sampleIndex % Math.max(1, golds.length)];
      if (!chain) throw new Error(`instruction ${input.instruction.id} has no gold chain`);
      return { text: chain.calls[input.step]?.request ?? chain.reply };
    },
  };
}

export type StopReason = "reply" | "parse_error" | "max_steps";

export interface RolloutResult {
  readonly trajectory: Trajectory;
  readonly sampleIndex: number;
  readonly stop: StopReason;
  /** Times the policy was asked. */
  readonly policyCalls: number;
  readonly usage: Usage;
}

export interface RolloutOptions {
  readonly rng: Rng;
  /** Calls allowed (default 8). */
  readonly maxSteps?: number;
  /** Which of the K samples this is (default 0). */
  readonly sampleIndex?: number;
  readonly signal?: AbortSignal;
}

export async function rollout(
  policy: Policy,
  instruction: Instruction,
  environment: RolloutEnvironment,
  options: RolloutOptions,
): Promise<RolloutResult> {
  const maxSteps = options.maxSteps ?? 8;
  const sampleIndex = options.sampleIndex ?? 0;
  const rng = options.rng.stream(`rollout:${instruction.id}:${sampleIndex}`);
  const session = environment.start(instruction, sampleIndex);
  const turns: TrajectoryTurn[] = [{ role: "user", text: instruction.request }];
  const usage = { inputTokens: 0, outputTokens: 0 };
  let calls = 0;
  let policyCalls = 0;
  const current = (): Trajectory => ({ instructionId: instruction.id, turns: [...turns] });
  for (;;) {
    options.signal?.throwIfAborted();
    const trajectory = current();
    const out = await policy.act({
      instruction,
      trajectory,
      messages: chatMessages(instruction, trajectory, false).map((m) => ({
        role: m.role,
        content: m.content,
      })),
      sampleIndex,
      step: agentSteps(trajectory),
      seed: rng.nextUint32(),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    policyCalls++;
    usage.inputTokens += out.usage?.inputTokens ?? 0;
    usage.outputTokens += out.usage?.outputTokens ?? 0;
    const parsed = parseCall(out.text);
    let stop: StopReason | undefined;
    if (!parsed.ok && parsed.category === "no_api_call") {
      turns.push({ role: "agent", text: out.text });
      stop = "reply";
    } else if (!parsed.ok) {
      turns.push({ role: "agent", text: out.text });
      turns.push(apiTurn("", null, `ParseError: ${parsed.message}`));
      stop = "parse_error";
    } else {
      turns.push({ role: "agent", text: `API-Request: ${parsed.call.source}` });
      if (calls >= maxSteps) stop = "max_steps";
      else {
        const result = await session.execute(parsed.call);
        turns.push(apiTurn(parsed.call.name, result.output, result.exception, result.simulated === true));
        calls++;
      }
    }
    if (stop !== undefined) return { trajectory: current(), sampleIndex, stop, policyCalls, usage };
  }
}

export interface RolloutManyOptions extends Omit<RolloutOptions, "sampleIndex"> {
  /** Rollouts in flight at once (default 4). */
  readonly concurrency?: number;
  /** Called as each rollout finishes (in completion order). */
  readonly onResult?: (result: RolloutResult, instruction: Instruction) => void;
  /** Rollouts not to run (e.g. already recorded by an interrupted run); they are absent from the result. */
  readonly skip?: (instruction: Instruction, sampleIndex: number) => boolean;
}

/**
 * K rollouts per instruction, samples 0 … K−1, at most `concurrency` at a time. Results come back in
 * (instruction, sample) order whatever the completion order.
 */
export async function rolloutMany(
  policy: Policy,
  instructions: readonly Instruction[],
  k: number,
  environment: RolloutEnvironment,
  options: RolloutManyOptions,
): Promise<RolloutResult[]> {
  const { concurrency = 4, onResult, skip, ...rest } = options;
  const jobs = instructions.flatMap((instruction) =>
    Array.from({ length: k }, (_, sampleIndex) => ({ instruction, sampleIndex })).filter(
      (j) => !skip?.(j.instruction, j.sampleIndex),
    ),
  );
  const results: (RolloutResult | undefined)[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      const job = jobs[index];
      if (!job) break;
      let result: RolloutResult;
      try {
        result = await rollout(policy, job.instruction, environment, {
          ...rest,
          sampleIndex: job.sampleIndex,
        });
      } catch (e) {
        next = jobs.length; // the other workers start nothing new
        throw e;
      }
      results[index] = result;
      onResult?.(result, job.instruction);
    }
  };
  const width = Math.max(1, Math.min(Math.floor(concurrency), jobs.length));
  await Promise.all(Array.from({ length: width }, worker));
  return results.flatMap((r) => (r === undefined ? [] : [r]));
}
