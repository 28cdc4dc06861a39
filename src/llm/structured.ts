import { z } from "zod";
import { LlmError, sumUsage, toLlmError, ZERO_USAGE } from "./errors.ts";
import type {
  ChatMessage,
  GenerateRequest,
  JsonSchema,
  LanguageModel,
  StructuredMode,
  Usage,
} from "./types.ts";

export interface GenerateObjectOptions<T> extends Omit<GenerateRequest, "responseFormat" | "n" | "logprobs"> {
  /** The zod schema the answer must satisfy; its JSON Schema is what the server or grammar sees. */
  readonly schema: z.ZodType<T>;
  /** Schema name for servers that want one (default `answer`). */
  readonly name?: string;
  /** `auto` (default) picks native JSON schema, else grammar, else prompt + validation, from `capabilities()`. */
  readonly mode?: "auto" | StructuredMode;
}

export interface ObjectResult<T> {
  readonly object: T;
  /** The raw text the object was parsed from (after repair, if any). */
  readonly text: string;
  /** How the structure was obtained; recorded in run journals. */
  readonly mode: StructuredMode;
  /** True when the first answer failed validation and the repair round fixed it. */
  readonly repaired: boolean;
  /** Tokens billed across the first call and the repair round. */
  readonly usage: Usage;
  readonly latencyMs: number;
}

/** JSON Schema of a zod schema (draft 2020-12), as sent to servers and grammar compilers. */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { target: "draft-2020-12" }) as Record<
    string,
    unknown
  >;
  return rest;
}

export async function chooseStructuredMode(
  model: LanguageModel,
  signal?: AbortSignal,
): Promise<StructuredMode> {
  const caps = await model.capabilities(signal ? { signal } : {});
  if (caps.jsonSchema) return "native";
  if (caps.grammar) return "grammar";
  return "prompt";
}

/**
 * Ask for one JSON object satisfying `schema`.
 *
 * Model output is untrusted: whatever the mode, the text is parsed with `JSON.parse` (after removing a Markdown
 * code fence) and validated with zod. A failure gets exactly one repair round, in which the model sees its answer
 * and the validation errors; a second failure is `LlmError("schema_violation")`. Output cut by `maxTokens`
 * (`finishReason: "length"`) is `LlmError("truncated")` at once: repeating the call with the same limit would cut
 * it again. Both errors carry the billed usage and the raw text.
 */
export async function generateObject<T>(
  model: LanguageModel,
  options: GenerateObjectOptions<T>,
): Promise<ObjectResult<T>> {
  const { schema, name = "answer", mode: requested = "auto", ...request } = options;
  const mode = requested === "auto" ? await chooseStructuredMode(model, request.signal) : requested;
  const jsonSchema = toJsonSchema(schema);
  const messages: ChatMessage[] =
    mode === "prompt" ? withSchemaInstruction(request.messages, jsonSchema) : [...request.messages];
  const base: GenerateRequest = {
    ...request,
    messages,
    n: 1,
    ...(mode === "prompt" ? {} : { responseFormat: { type: "json_schema", name, schema: jsonSchema } }),
  };

  let usage: Usage = ZERO_USAGE;
  let latencyMs = 0;
  let current = base;
  for (let round = 0; round < 2; round++) {
    let result: Awaited<ReturnType<LanguageModel["generate"]>>;
    try {
      result = await model.generate(current);
    } catch (thrown) {
      const error = toLlmError(thrown, request.signal);
      throw error.plusUsage(usage);
    }
    usage = sumUsage(usage, result.usage);
    latencyMs += result.latencyMs;
    const choice = result.choices[0];
    if (!choice) {
      throw new LlmError("malformed_response", `${model.id} returned no choices`, {
        usage,
        retryable: false,
      });
    }
    if (choice.finishReason === "length") {
      throw new LlmError(
        "truncated",
        `${model.id} stopped at the token limit before finishing the JSON answer`,
        {
          usage,
          raw: choice.text,
        },
      );
    }
    const parsed = parseJsonAnswer(choice.text, schema);
    if (parsed.ok) {
      const usedMode = mode === "prompt" ? "prompt" : (result.structuredMode ?? mode);
      return {
        object: parsed.value,
        text: choice.text,
        mode: usedMode,
        repaired: round > 0,
        usage,
        latencyMs,
      };
    }
    if (round === 1) {
      throw new LlmError(
        "schema_violation",
        `${model.id} answered JSON that does not fit the schema, also after one repair round: ${parsed.message}`,
        { usage, raw: choice.text },
      );
    }
    current = {
      ...base,
      messages: [
        ...messages,
        { role: "assistant", content: choice.text },
        {
          role: "user",
          content: `Your answer is not valid: ${parsed.message}\nReply again with only the corrected JSON object, matching this JSON Schema:\n${JSON.stringify(jsonSchema)}`,
        },
      ],
    };
  }
  // Unreachable: the loop returns or throws in round 1.
  throw new LlmError("schema_violation", "structured output failed");
}

/** Parse untrusted model text as JSON and validate it; never throws. */
export function parseJsonAnswer<T>(
  text: string,
  schema: z.ZodType<T>,
): { ok: true; value: T } | { ok: false; message: string } {
  const body = stripCodeFence(text.trim());
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    return { ok: false, message: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const checked = schema.safeParse(value);
  if (checked.success) return { ok: true, value: checked.data };
  return { ok: false, message: z.prettifyError(checked.error).replaceAll("\n", "; ") };
}

function stripCodeFence(text: string): string {
  const fence = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/.exec(text);
  return fence?.[1] ?? text;
}

function withSchemaInstruction(messages: readonly ChatMessage[], schema: JsonSchema): ChatMessage[] {
  const instruction = `Answer with only a JSON object (no prose, no code fence) that matches this JSON Schema:\n${JSON.stringify(schema)}`;
  const first = messages[0];
  if (first?.role === "system") {
    return [{ role: "system", content: `${first.content}\n\n${instruction}` }, ...messages.slice(1)];
  }
  return [{ role: "system", content: instruction }, ...messages];
}
