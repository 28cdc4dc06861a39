/**
 * The LLM-simulated executor (spec §1.3 (b)): a rollout environment in which a language model plays the APIs that
 * the training data describes but never implemented. The replay simulator — the role's exact twin — answers first:
 * a call a gold chain recorded gets its recorded result, a malformed call (unknown API, a parameter not in the
 * schema, a required one missing) gets API-Bank's error, and ToolSearcher searches as it does there. Only a
 * well-formed call of a described API with arguments no gold chain recorded goes to the model, with the API's
 * description, the user's request and the session's earlier calls, and comes back as one schema-checked object
 * `{ok, output: {one field per output parameter}, exception}`.
 *
 * Such a result is marked `simulated` in the trajectory. The exact-twin critic is unchanged — it still asks for a
 * gold chain's calls — so a simulated success never counts as ground truth; it lets an LLM critic judge trajectories
 * that leave the recorded path, as in the paper's "thousands of APIs" setting. An answer that does not fit the
 * schema (after `generateObject`'s repair round) or is cut off becomes a `SimulatorError` result, which the
 * prefilter rejects like any unresolved exception; transport failures (network, auth, budget) are thrown, since they
 * say nothing about the call.
 */
import { z } from "zod";
import type { ParsedCall } from "../envs/apibank/call.ts";
import type { ApiSchema } from "../envs/apibank/data.ts";
import { renderResult } from "../envs/apibank/env.ts";
import type { Json } from "../envs/apibank/values.ts";
import { isUnusableAnswer } from "../llm/errors.ts";
import { generateObject } from "../llm/structured.ts";
import type { LanguageModel } from "../llm/types.ts";
import type { Instruction } from "./instructions.ts";
import {
  type ApiOutcome,
  NO_RECORDED_RESULT,
  type ReplaySimulator,
  type RolloutEnvironment,
  type RolloutSession,
} from "./simulator.ts";

/** The prefix of the exception a simulated call gets when the model's answer is unusable. */
export const SIMULATOR_ERROR = "SimulatorError";

export interface LlmSimulatorOptions {
  /** Sampling temperature of the simulating model (default 0: the same call gets the same result). */
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
}

const INSTRUCTIONS = `You are the server behind one API in a test environment for AI assistants.
You get the API's description, the request the assistant is working on, the earlier calls of this session with their
results, and one call. Answer with the result this API returns for this call, as one JSON object:
{"ok": true or false, "output": {one field per output parameter}, "exception": "<error message, or empty when ok>"}.
- The output must agree with the arguments, the request and the earlier results; invent realistic values where
  nothing determines them.
- Set ok to false, with a short exception message, when the call cannot succeed as made: an argument of the wrong
  kind or format, or a value that contradicts the request or the earlier results. Then fill the output fields with
  empty values.`;

/** A JSON-schema-friendly zod type for one output parameter's declared type (strict mode takes no open objects). */
function fieldSchema(type: string): z.ZodType<Json> {
  const t = type.trim().toLowerCase();
  if (/^(int|integer)\b/.test(t)) return z.number().int();
  if (/^(float|double|number|decimal)\b/.test(t)) return z.number();
  if (/^bool/.test(t)) return z.boolean();
  if (/^(list|array|tuple|set)\b/.test(t)) return z.array(z.string());
  // str, date, datetime, dict and anything unusual: text (a dict is written as its JSON text).
  return z.string();
}

/** The answer schema for one API: `{ok, output: {its output parameters}, exception}`. */
export function simulationSchema(schema: ApiSchema) {
  const fields = Object.fromEntries(
    Object.entries(schema.output_parameters).map(([name, p]) => [name, fieldSchema(p.type)]),
  );
  return z.strictObject({ ok: z.boolean(), output: z.strictObject(fields), exception: z.string() });
}

/** The prompt for one simulated call. */
export function simulationMessages(
  instruction: Instruction,
  schema: ApiSchema,
  call: ParsedCall,
  history: readonly string[],
) {
  const earlier = history.length === 0 ? "(none)" : history.join("\n");
  return [
    { role: "system" as const, content: INSTRUCTIONS },
    {
      role: "user" as const,
      content: `API description:\n${JSON.stringify(schema)}\n\nThe assistant's request from the user: ${instruction.request}\n\nEarlier calls of this session:\n${earlier}\n\nThe call: API-Request: ${call.source}`,
    },
  ];
}

export class LlmSimulator implements RolloutEnvironment {
  readonly kind: string;
  private readonly replay: ReplaySimulator;
  private readonly model: LanguageModel;
  private readonly options: LlmSimulatorOptions;

  constructor(replay: ReplaySimulator, model: LanguageModel, options: LlmSimulatorOptions = {}) {
    this.replay = replay;
    this.model = model;
    this.options = options;
    this.kind = `llm:${model.id}`;
  }

  start(instruction: Instruction, sampleIndex: number): RolloutSession {
    const replayed = this.replay.start(instruction, sampleIndex);
    const history: string[] = [];
    return {
      execute: async (call) => {
        let outcome = await replayed.execute(call);
        const schema =
          outcome.exception?.startsWith(NO_RECORDED_RESULT) === true
            ? this.replay.schemaOf(instruction, call.name)
            : undefined;
        if (schema) outcome = await this.simulate(instruction, schema, call, history);
        history.push(
          `API-Request: ${call.source}->${renderResult(call.name, outcome.output, outcome.exception)}`,
        );
        return outcome;
      },
    };
  }

  private async simulate(
    instruction: Instruction,
    schema: ApiSchema,
    call: ParsedCall,
    history: readonly string[],
  ): Promise<ApiOutcome> {
    const { temperature = 0, maxTokens = 512, signal } = this.options;
    try {
      const r = await generateObject(this.model, {
        schema: simulationSchema(schema),
        name: "api_result",
        messages: simulationMessages(instruction, schema, call, history),
        temperature,
        maxTokens,
        ...(signal === undefined ? {} : { signal }),
      });
      const { ok, output, exception } = r.object;
      if (ok) return { output: output as Json, exception: null, simulated: true };
      const message = exception.trim() === "" ? `${call.name} failed` : exception.trim();
      return { output: null, exception: message, simulated: true };
    } catch (e) {
      if (isUnusableAnswer(e)) {
        return { output: null, exception: `${SIMULATOR_ERROR}: ${e.message}`, simulated: true };
      }
      throw e;
    }
  }
}
