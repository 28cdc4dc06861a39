import { InvalidArgumentError } from "commander";
import { z } from "zod";
import { UserError } from "../core/errors.ts";

/** Parse a CLI value through a zod schema, turning failures into commander's one-line argument errors. */
export function zodArg<T>(schema: z.ZodType<T>): (value: string) => T {
  return (value) => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    throw new InvalidArgumentError(r.error.issues.map((i) => i.message).join("; "));
  };
}

export const Int = z.coerce.number().int();
export const Num = z.coerce.number();

/** A command-line value: `true`/`false` booleans, numbers, `a,b,c` lists of numbers, else the text itself. */
export function parseValue(value: string): unknown {
  if (value === "true") return true;
  if (value === "false") return false;
  const num = (s: string) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : undefined);
  if (value.includes(",")) {
    const parts = value.split(",").map(num);
    return parts.every((p) => p !== undefined) ? parts : value;
  }
  return num(value) ?? value;
}

/** `--opt key=value` pairs (repeatable) as an options object; kebab-case keys become camelCase. */
export function parseOptions(pairs: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z][\w-]*)=(.*)$/.exec(pair);
    if (!m?.[1] || m[2] === undefined) {
      throw new UserError(`bad --opt "${pair}": use key=value, e.g. --opt roles=imperfect`, {
        category: "bad_option",
      });
    }
    out[m[1].replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = parseValue(m[2]);
  }
  return out;
}

/** `--llm-timeout <seconds>` of bench, eval and train: the per-attempt timeout of every model call. */
export const LLM_TIMEOUT_FLAG = "--llm-timeout <seconds>";
export const LLM_TIMEOUT_HELP = "per-attempt timeout of every LLM call, in seconds (default 60)";
export const llmTimeoutArg = zodArg(Num.positive().finite());
