import { Command, CommanderError } from "commander";
import { BayesactError } from "../core/errors.ts";
import { LlmError } from "../llm/errors.ts";
import { VERSION } from "../version.ts";
import { type BenchFlags, benchCommand, resumeCommand } from "./bench.ts";
import { runDemo } from "./demo.ts";
import { runDoctor } from "./doctor.ts";
import { addEvalCommand } from "./eval.ts";
import { type Output, stdio } from "./output.ts";
import { Int, LLM_TIMEOUT_FLAG, LLM_TIMEOUT_HELP, llmTimeoutArg, Num, zodArg } from "./params.ts";
import { addPretrainCommand, isPretrainRun, resumePretrainCommand } from "./pretrain.ts";
import { reportCommand } from "./report.ts";
import { type TheoryFlags, theoryCommand, theoryHelp } from "./theory.ts";
import { addTrainCommand, isTrainRun, resumeTrainCommand } from "./train.ts";

/** Exit code set by a command's action (commander actions cannot return one). */
interface ExitCode {
  code: number;
}

export function buildProgram(output: Output, exit: ExitCode = { code: 0 }): Command {
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
    .command("bench")
    .description("run an agent on an environment over a grid of instances × seeds, journaled in a run folder")
    .argument("<env>", "environment, e.g. tictactoe")
    .requiredOption("--agent <name>", "agent: lookahead, direct, random")
    .option("--model <spec>", "model spec, or exact for the exact twins (default for planners)")
    .option("--split <name>", "split of the environment's instances")
    .option("--episodes <n>", "use only the first N instances of the split", zodArg(Int.min(1)))
    .option("--seeds <list>", "seeds, e.g. 1,2,3 or 1-20", "1")
    .option("--concurrency <n>", "episodes run at once", zodArg(Int.min(1).max(1024)), 4)
    .option(
      "--llm-concurrency <n>",
      "LLM calls in flight per endpoint (default 8)",
      zodArg(Int.min(1).max(1024)),
    )
    .option("--max-steps <n>", "cap on agent actions per episode", zodArg(Int.min(1)))
    .option("--budget-usd <x>", "hard cap on LLM spend for the run", zodArg(Num.positive()))
    .option(LLM_TIMEOUT_FLAG, LLM_TIMEOUT_HELP, llmTimeoutArg)
    .option("--prices <file>", "JSON price table: {model: {inputPerMTok, outputPerMTok}}")
    .option("--cache-file <file>", "LLM response cache (default .bayesact/llm-cache.sqlite)")
    .option("--no-cache", "do not read or write the LLM cache")
    .option("--cache-only", "answer only from the cache; a miss is an error", false)
    .option("--data <dir>", "benchmark data folder", "../shared/data")
    .option("--out <dir>", "run folder (default runs/<run id>)")
    .option("--opt <key=value...>", "agent and environment options, e.g. --opt roles=imperfect rate=0.3", [])
    .action(async (env: string, flags: BenchFlags) => {
      exit.code = await benchCommand(env, flags, output);
    });

  addTrainCommand(program, output, (code) => {
    exit.code = code;
  });
  addEvalCommand(program, output, (code) => {
    exit.code = code;
  });
  addPretrainCommand(program, output, (code) => {
    exit.code = code;
  });

  program
    .command("resume")
    .description(
      "continue an interrupted run; finished episodes are kept, unfinished ones rerun from their start",
    )
    .argument("<run-dir>", "run folder")
    .option(
      "--model <spec...>",
      "the run's model spec(s) again, when a URL carried credentials (run folders never keep them)",
      [],
    )
    .action(async (dir: string, opts: { model: string[] }) => {
      exit.code = isPretrainRun(dir)
        ? await resumePretrainCommand(dir, output)
        : isTrainRun(dir)
          ? await resumeTrainCommand(dir, output, opts.model)
          : await resumeCommand(dir, output, opts.model);
    });

  program
    .command("theory")
    .description(
      "run a theory-lab experiment (probe-trap, bandit, …, or all): regret curves, slopes and checks",
    )
    .argument("<experiment>", "experiment name, or all")
    .option("--seeds <n>", "seeds per arm (default 200)", zodArg(Int.min(1)))
    .option(
      "--jobs <n>",
      "theory all: experiments run at once, one process each (default: the cores, at most 8)",
      zodArg(Int.min(1).max(64)),
    )
    .option("--base-seed <n>", "base of every seed stream", zodArg(Int.min(0)), 1)
    .option("--model <spec>", "also run the planner as this LLM (the exact arms still run)")
    .option("--context-episodes <n>", "past episodes shown to an LLM planner", zodArg(Int.min(0)))
    .option(
      "--planner-prompt <style>",
      "an LLM planner's prompt: full or compact (default: the GGUF's own, else full)",
    )
    .option(
      "--planner-memory <mode>",
      "its memory: episodes or summary (default: the GGUF's own, else episodes)",
    )
    .option("--out <dir>", "output folder (default runs/theory-<experiment>-<time>)")
    .option("--strict", "exit with code 1 when a check fails", false)
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(
      "-h, --help",
      "experiment parameters follow as --name value, e.g. --K 4 --p 0.7 --horizon 10000; theory <experiment> --help lists them",
    )
    .addHelpText("after", ({ command }) => theoryHelp(command.args[0]))
    .action(async (name: string, flags: TheoryFlags, command: Command) => {
      exit.code = await theoryCommand(name, flags, command.args.slice(1), output);
    });

  program
    .command("report")
    .description(
      "write <run-dir>/report.html: curves, costs, per-instance results and a search-tree explorer",
    )
    .argument("<run-dir>", "run folder")
    .option("--compare <run-dir...>", "other runs to compare with", [])
    .action(async (dir: string, opts: { compare: string[] }) => {
      exit.code = await reportCommand(dir, opts.compare, output);
    });

  program
    .command("doctor")
    .description("check this machine and, with --model, probe what a model endpoint supports")
    .option("--model <spec>", "model spec, e.g. openai-compatible:http://127.0.0.1:8000/v1#qwen")
    .option(
      "--tiny-gguf <path>",
      "write a tiny random-weight GGUF model there and probe it (checks node-llama-cpp)",
    )
    .option("--timeout-ms <n>", "per-request timeout for the probe", zodArg(Int.min(100)), 30_000)
    .option("--json", "print the report as JSON", false)
    .action(async (opts: { model?: string; tinyGguf?: string; timeoutMs: number; json: boolean }) => {
      await runDoctor(VERSION, opts, output);
    });

  return program;
}

/**
 * Run the CLI and return the exit code: 0 success, 2 for anything the user can fix (bad flag, bad model spec,
 * missing file, unreachable server) with exactly one line on stderr, 1 for bugs (with the stack).
 */
export async function main(argv: readonly string[], output: Output = stdio): Promise<number> {
  const exit: ExitCode = { code: 0 };
  const program = buildProgram(output, exit);
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return exit.code;
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
