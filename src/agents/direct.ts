import { z } from "zod";
import type { Agent } from "../core/agent.ts";
import type { ParseResult } from "../core/errors.ts";
import { BayesactError } from "../core/errors.ts";
import { generateObject } from "../llm/structured.ts";
import type { LanguageModel } from "../llm/types.ts";

export interface DirectAgentOptions<O, A> {
  readonly model: LanguageModel;
  /** What the task is (the environment's prompt). */
  readonly task: string;
  /** The observation as the model should see it. */
  readonly describe: (observation: O) => string;
  readonly formatAction: (action: A) => string;
  readonly parseAction: (text: string) => ParseResult<A>;
  readonly temperature?: number;
  readonly maxTokens?: number;
}

/**
 * Direct prompting: the LLM sees the task, the current observation and the legal actions, and answers one action
 * through structured output (`{"action": …}`, an enum of the legal actions when they are enumerable). The answer is
 * parsed back with the environment's own parser. The simplest LLM agent, and the baseline the planners must beat.
 */
export function createDirectAgent<O, A>(options: DirectAgentOptions<O, A>): Agent<O, A> {
  return {
    name: "direct",
    reset() {},
    async act(observation, legal, ctx) {
      const legalTexts = legal?.map((a) => options.formatAction(a));
      const schema = z.strictObject({
        action:
          legalTexts && legalTexts.length > 0
            ? z.enum(legalTexts as [string, ...string[]])
            : z.string().min(1),
      });
      const lines = [options.task, "", "Current state:", options.describe(observation)];
      if (legalTexts) lines.push("", `Legal actions: ${legalTexts.join(", ")}`);
      lines.push("", 'Answer with JSON: {"action": "<one legal action>"}.');
      const { object } = await generateObject(options.model, {
        messages: [{ role: "user", content: lines.join("\n") }],
        schema,
        name: "action",
        temperature: options.temperature ?? 0.2,
        maxTokens: options.maxTokens ?? 64,
        seed: ctx.rng.nextUint32() % 2 ** 31,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const parsed = options.parseAction(object.action);
      if (!parsed.ok) throw new BayesactError(parsed.category, `model action: ${parsed.message}`);
      return parsed.value;
    },
  };
}
