/**
 * `command:"…"`: the user's own trainer (TRL, Axolotl, a llama.cpp LoRA pipeline, …) run as one shell command.
 *
 * The template's placeholders are replaced by this iteration's values, each quoted for the shell (see
 * `renderCommand`); the same values arrive as `BAYESACT_*` environment variables. The command's stdout and stderr go
 * straight to `<outputDir>/trainer.log` (the child writes the file itself, so nothing is buffered here and a server
 * the command leaves running in the background never writes into a closed pipe). The contract for the result: the
 * command writes the spec of the trained model (e.g. `openai-compatible:http://127.0.0.1:8000/v1#it1`) to
 * `<outputDir>/model-spec`; its first non-empty line, trimmed, is the new model.
 */
import { spawn } from "node:child_process";
import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { BayesactError, UserError } from "../../core/errors.ts";
import { parseModelSpec } from "../../llm/spec.ts";
import { type Trainer, TrainerError, type TrainJob, type TrainOutcome } from "./types.ts";

export interface CommandTrainerOptions {
  /** The shell that runs the command with `-c` (default `/bin/sh`). */
  shell?: string;
  /** Environment the command inherits before the `BAYESACT_*` variables are added (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** After an abort, how long the command gets to exit after SIGTERM before its process group gets SIGKILL. */
  killGraceMs?: number;
  /** How often the log's latest line is forwarded to `job.log` while the command runs (default 15 000 ms). */
  progressIntervalMs?: number;
  /** Lines of the log's end forwarded to `job.log` when the command ends (default 10). */
  tailLines?: number;
}

/** Placeholder → the value it stands for, in one table so the docs, the env and the error list agree. */
const PLACEHOLDERS = {
  dataset: (job: TrainJob) => job.dataset.trl,
  dataset_openai: (job: TrainJob) => job.dataset.openai,
  dataset_trl: (job: TrainJob) => job.dataset.trl,
  dataset_apibank: (job: TrainJob) => job.dataset.apibank,
  base_model: (job: TrainJob) => job.baseModel,
  iteration: (job: TrainJob) => String(job.iteration),
  output_dir: (job: TrainJob) => job.outputDir,
} as const satisfies Record<string, (job: TrainJob) => string>;

export type CommandPlaceholder = keyof typeof PLACEHOLDERS;

export const COMMAND_PLACEHOLDERS: readonly CommandPlaceholder[] = Object.keys(
  PLACEHOLDERS,
) as CommandPlaceholder[];

/** The file the command must write the trained model's spec to, inside `outputDir`. */
export const MODEL_SPEC_FILE = "model-spec";
export const TRAINER_LOG_FILE = "trainer.log";

const DEFAULT_KILL_GRACE_MS = 10_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 15_000;
const DEFAULT_TAIL_LINES = 10;
/** Bytes read from the end of the log to find its last lines; a line longer than this is cut. */
const TAIL_BYTES = 64 * 1024;
const MAX_LINE_CHARS = 300;

function isPlaceholder(name: string): name is CommandPlaceholder {
  return Object.hasOwn(PLACEHOLDERS, name);
}

/** POSIX shell quoting: one single-quoted word; a `'` inside becomes `'\''` (close, escaped quote, reopen). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * Substitute `{name}` placeholders with `value(name)`, quoted for where they stand: a bare placeholder becomes one
 * single-quoted word; inside '…' or "…" the value is escaped for that quoting, so `--data="{dataset}"` works too.
 * Shell syntax is left alone: `${NAME}` is the shell's, `\{` a literal brace, and an unknown `{name}` inside quotes
 * is taken to be program text (awk, jq). An unknown bare `{name}` is an error: almost always a typo.
 */
export function renderCommand(template: string, value: (name: CommandPlaceholder) => string): string {
  let out = "";
  let quote: "none" | "single" | "double" = "none";
  let i = 0;
  while (i < template.length) {
    const ch = template.charAt(i);
    if (quote !== "single" && ch === "\\") {
      out += template.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (quote !== "single" && ch === "$" && template.charAt(i + 1) === "{") {
      const end = template.indexOf("}", i);
      const stop = end < 0 ? template.length : end + 1;
      out += template.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === "{") {
      const match = /^\{([A-Za-z_][A-Za-z0-9_]*)\}/.exec(template.slice(i));
      const name = match?.[1];
      if (match !== null && name !== undefined) {
        if (isPlaceholder(name)) {
          const v = value(name);
          out +=
            quote === "none"
              ? shellQuote(v)
              : quote === "single"
                ? v.replaceAll("'", "'\\''")
                : v.replace(/[\\"$`]/g, "\\$&");
        } else if (quote === "none") {
          throw new UserError(
            `unknown placeholder {${name}} in the training command; known: ${COMMAND_PLACEHOLDERS.map((p) => `{${p}}`).join(", ")} (write \\{${name}} for a literal brace)`,
            { category: "bad_trainer" },
          );
        } else {
          out += match[0];
        }
        i += match[0].length;
        continue;
      }
    }
    if (ch === "'" && quote !== "double") quote = quote === "single" ? "none" : "single";
    else if (ch === '"' && quote !== "single") quote = quote === "double" ? "none" : "double";
    out += ch;
    i += 1;
  }
  return out;
}

/** The environment the command runs with: the base env plus the iteration's values as `BAYESACT_*`. */
function commandEnv(job: TrainJob, base: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  // Python block-buffers stdout into a file, which would put prints after the traceback in trainer.log.
  env.PYTHONUNBUFFERED ??= "1";
  for (const name of COMMAND_PLACEHOLDERS) env[`BAYESACT_${name.toUpperCase()}`] = PLACEHOLDERS[name](job);
  return env;
}

/**
 * A trainer that runs `template` through `/bin/sh -c`. `{dataset}` is the TRL messages JSONL, the input most
 * trainers take; `{dataset_openai}`, `{dataset_trl}`, `{dataset_apibank}`, `{base_model}`, `{iteration}` and
 * `{output_dir}` are the rest. Throws a `UserError` (`bad_trainer`) for an empty template or an unknown placeholder.
 */
export function commandTrainer(template: string, options: CommandTrainerOptions = {}): Trainer {
  if (template.trim() === "")
    throw new UserError("the training command is empty", { category: "bad_trainer" });
  renderCommand(template, () => ""); // validate the placeholders now, not after an iteration of rollouts
  const shell = options.shell ?? "/bin/sh";
  const killGraceMs = options.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const tailLines = options.tailLines ?? DEFAULT_TAIL_LINES;
  return {
    kind: "command",
    spec: `command:${template}`,
    train: (job) =>
      runCommand(job, {
        shell,
        command: renderCommand(template, (name) => PLACEHOLDERS[name](job)),
        env: commandEnv(job, options.env ?? process.env),
        killGraceMs,
        progressIntervalMs,
        tailLines,
      }),
  };
}

interface RunSettings {
  readonly shell: string;
  readonly command: string;
  readonly env: NodeJS.ProcessEnv;
  readonly killGraceMs: number;
  readonly progressIntervalMs: number;
  readonly tailLines: number;
}

type Exit =
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "error"; error: Error };

async function runCommand(job: TrainJob, s: RunSettings): Promise<TrainOutcome> {
  job.signal?.throwIfAborted();
  const started = performance.now();
  const logFile = join(job.outputDir, TRAINER_LOG_FILE);
  const specFile = join(job.outputDir, MODEL_SPEC_FILE);
  // A spec left by an earlier, interrupted attempt must not pass for this attempt's result.
  await rm(specFile, { force: true });

  // Appended, so the log of a failed attempt survives the retry; the offset marks where this attempt begins.
  const log = await open(logFile, "a");
  let from: number;
  let exit: Exit;
  let aborted = false;
  try {
    await log.write(`# bayesact iteration ${job.iteration}, ${new Date().toISOString()}\n$ ${s.command}\n`);
    from = (await log.stat()).size;
    job.log?.(`trainer: running the training command (log: ${logFile})`);
    exit = await new Promise<Exit>((resolve) => {
      const child = spawn(s.shell, ["-c", s.command], {
        stdio: ["ignore", log.fd, log.fd],
        // Its own process group, so an abort reaches every process the command started (accelerate, torchrun …).
        detached: true,
        env: s.env,
      });
      let lastForwarded = "";
      const progress = setInterval(() => {
        void lastLines(logFile, from, 1).then((lines) => {
          const line = lines[0];
          if (line !== undefined && line !== lastForwarded) {
            lastForwarded = line;
            job.log?.(`trainer: ${line}`);
          }
        });
      }, s.progressIntervalMs);
      progress.unref();
      const killGroup = (signal: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // ESRCH: the group is already gone.
        }
      };
      const onAbort = () => {
        aborted = true;
        killGroup("SIGTERM");
        // Left running after the leader exits (unref'd): children that ignored SIGTERM still get SIGKILL.
        setTimeout(() => killGroup("SIGKILL"), s.killGraceMs).unref();
      };
      job.signal?.addEventListener("abort", onAbort, { once: true });
      if (job.signal?.aborted) onAbort(); // aborted while the log was being opened: the listener came too late
      const done = (result: Exit) => {
        clearInterval(progress);
        job.signal?.removeEventListener("abort", onAbort);
        resolve(result);
      };
      child.once("error", (error) => done({ kind: "error", error }));
      child.once("exit", (code, signal) => done({ kind: "exit", code, signal }));
    });
  } finally {
    await log.close();
  }

  const wallMs = Math.round(performance.now() - started);
  const tail = await lastLines(logFile, from, s.tailLines);
  for (const line of tail) job.log?.(`trainer: ${line}`);
  if (aborted) throw job.signal?.reason ?? new BayesactError("aborted", "the training command was aborted");
  const last = tail.at(-1);
  const where = `${last === undefined ? "no output" : `last line: ${last}`} (log: ${logFile})`;
  if (exit.kind === "error") {
    throw new TrainerError(`could not start the training command with ${s.shell}: ${exit.error.message}`, {
      cause: exit.error,
    });
  }
  if (exit.signal !== null)
    throw new TrainerError(`the training command was killed by ${exit.signal}; ${where}`);
  if (exit.code !== 0) throw new TrainerError(`the training command failed (exit ${exit.code}); ${where}`);

  let text: string;
  try {
    text = await readFile(specFile, "utf8");
  } catch {
    throw new TrainerError(
      `the training command exited 0 but wrote no model spec to ${specFile} (it must write the trained model's spec there); ${where}`,
    );
  }
  const model = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== "");
  if (model === undefined) {
    throw new TrainerError(`the training command exited 0 but ${specFile} is empty; ${where}`);
  }
  try {
    parseModelSpec(model);
  } catch (error) {
    if (!(error instanceof UserError)) throw error;
    throw new TrainerError(`the training command wrote a bad model spec to ${specFile}: ${error.message}`, {
      cause: error,
    });
  }
  job.log?.(`trainer: trained model ${model} in ${(wallMs / 1000).toFixed(1)} s`);
  return { model, details: { command: s.command, exitCode: exit.code, logFile, wallMs } };
}

/** The last `n` non-empty lines written to `file` after byte `from` (`\r` ends a line too: progress bars). */
async function lastLines(file: string, from: number, n: number): Promise<string[]> {
  if (n <= 0) return [];
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, "r");
    const size = (await handle.stat()).size;
    const start = Math.max(from, size - TAIL_BYTES);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const lines = buffer.toString("utf8").split(/\r\n|\r|\n/);
    if (start > from) lines.shift(); // the first line was cut by the window
    return lines
      .map((l) => l.trim())
      .filter((l) => l !== "")
      .slice(-n)
      .map((l) => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS)}…` : l));
  } catch {
    return []; // the log is a courtesy; its absence must not hide the real outcome
  } finally {
    await handle?.close();
  }
}
