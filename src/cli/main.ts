import { Command, CommanderError, InvalidArgumentError } from "commander";
import { z } from "zod";
import { BayesactError } from "../core/errors.ts";
import { LlmError } from "../llm/errors.ts";
import { runDemo } from "./demo.ts";
import { runDoctor } from "./doctor.ts";
import { type Output, stdio } from "./output.ts";

const VERSION = "0.1.0";

/** Parse a CLI value through a zod schema, turning failures into commander's one-line argument errors. */
export function zodArg<T>(schema: z.ZodType<T>): (value: string) => T {
  return (value) => {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    throw new InvalidArgumentError(r.error.issues.map((i) => i.message).join("; "));
  };
}

const Int = z.coerce.number().int();

export function buildProgram(output: Output): Command {
  const program = new Command()
    .name("bayesact")
    .description(
      "Principled LLM agents: RAFA, Words-to-Actions and critic-filtered self-training, with exact twins",
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: (s) => output.out(s.trimEnd()), writeErr: (s) => output.err(s.trimEnd()) });

  program
    .command("demo")
    .description("play Tic-Tac-Toe offline on the exact twins (no LLM, under a second)")
    .option("--seed <n>", "first seed", zodArg(Int.min(0)), 1)
    .option("--games <n>", "games per opponent", zodArg(Int.min(1).max(10_000)), 20)
    .action(async (opts: { seed: number; games: number }) => {
      await runDemo(opts, output);
    });

  program
    .command("doctor")
    .description("check this machine and, with --model, probe what a model endpoint supports")
    .option("--model <spec>", "model spec, e.g. openai-compatible:http://127.0.0.1:8000/v1#qwen")
    .option("--timeout-ms <n>", "per-request timeout for the probe", zodArg(Int.min(100)), 30_000)
    .option("--json", "print the report as JSON", false)
    .action(async (opts: { model?: string; timeoutMs: number; json: boolean }) => {
      await runDoctor(VERSION, opts, output);
    });

  return program;
}

/**
 * Run the CLI and return the exit code: 0 success, 2 for anything the user can fix (bad flag, bad model spec,
 * missing file, unreachable server) with exactly one line on stderr, 1 for bugs (with the stack).
 */
export async function main(argv: readonly string[], output: Output = stdio): Promise<number> {
  const program = buildProgram(output);
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version requests end with exit code 0; usage mistakes have already printed their one line.
      return error.exitCode === 0 ? 0 : 2;
    }
    // Model errors that reach the top (unreachable server, bad key, budget) are about the user's setup: one line.
    if (error instanceof BayesactError && (error.userFacing || error instanceof LlmError)) {
      output.err(`bayesact: ${error.message.split("\n")[0]}`);
      return 2;
    }
    output.err(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}
