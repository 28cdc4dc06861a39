/**
 * `openai`: OpenAI's fine-tuning API, or any server that speaks it. One `train` uploads the iteration's OpenAI-format
 * JSONL, creates a supervised fine-tuning job from the base model, polls it to the end and answers with the spec of
 * the fine-tuned model.
 *
 * Jobs cost money and run for hours, so a job is never paid for twice: the ids are written to
 * `<outputDir>/openai-job.json` as soon as the server hands them out, and a later `train` for the same folder (the
 * loop resumed after an interruption) reattaches to that job instead of uploading again. A job that ends `failed` or
 * `cancelled` is moved aside to `openai-job.<job id>.json`, so that a retry after fixing the cause starts afresh.
 *
 * The key is read from `OPENAI_API_KEY` once, lives only inside the client, and is cut out of every error text.
 */
import { createHash } from "node:crypto";
import { readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import OpenAI, { APIError, type ClientOptions, toFile } from "openai";
import { z } from "zod";
import { BayesactError, UserError } from "../../core/errors.ts";
import { parseModelSpec } from "../../llm/spec.ts";
import { type Trainer, TrainerError, type TrainJob, type TrainOutcome } from "./types.ts";

export interface OpenAITrainerOptions {
  /** The fine-tuning API (default `OPENAI_BASE_URL`, else `https://api.openai.com/v1`). */
  baseURL?: string;
  /** Time between two looks at the job (default 10 000 ms). */
  pollIntervalMs?: number;
  /** Added to the fine-tuned model's name; `{iteration}` is replaced (default `bayesact-it{iteration}`). */
  suffix?: string;
  /** Training epochs (default: the server chooses). */
  epochs?: number;
  /** Per-request timeout in milliseconds (default 600 000: uploads can be large). */
  timeoutMs?: number;
  /** Retries of a failed request (default 3). Creating the job is never retried: a retry could start a second job. */
  maxRetries?: number;
  /** Where the key and base URL are read from (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** The `fetch` the client uses (tests inject faults with it). */
  fetch?: NonNullable<ClientOptions["fetch"]>;
  /** The trainer as the user wrote it, for the manifest (default `openai`). */
  spec?: string;
}

export const OPENAI_JOB_FILE = "openai-job.json";

const DEFAULT_POLL_INTERVAL_MS = 10_000;
const DEFAULT_TIMEOUT_MS = 600_000;
const CANCEL_TIMEOUT_MS = 15_000;
/** While a job sits in one status, a "still …" line this often so that long queues do not look like hangs. */
const HEARTBEAT_MS = 60_000;
/** Events printed per poll at most (a resumed job may have hundreds). */
const EVENTS_PER_POLL = 10;

/** What `openai-job.json` holds: enough to find the job again, and to notice it belongs to other data. */
const SavedJob = z.object({
  version: z.literal(1),
  baseURL: z.string(),
  model: z.string(),
  datasetSha256: z.string(),
  fileId: z.string(),
  jobId: z.string().optional(),
});
type SavedJob = z.infer<typeof SavedJob>;

/** The fields of a fine-tuning job this trainer reads; other servers may send fewer, or other, statuses. */
const JobView = z.object({
  id: z.string(),
  status: z.string(),
  fine_tuned_model: z.string().nullish(),
  trained_tokens: z.number().nullish(),
  error: z.object({ code: z.string().nullish(), message: z.string().nullish() }).nullish(),
});
type JobView = z.infer<typeof JobView>;

const Created = z.object({ id: z.string().min(1) });

const JobEvent = z.object({ id: z.string(), created_at: z.number(), message: z.string() });

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

/** The base model as the fine-tuning API names it, and how to name the trained model the same way. */
interface Base {
  readonly model: string;
  readonly specFor: (fineTuned: string) => string;
}

function parseBase(spec: string): Base {
  const s = spec.trim();
  if (!s.startsWith("openai:") && !s.startsWith("openai-compatible:")) {
    throw new UserError(`the openai trainer fine-tunes openai: or openai-compatible: models, not "${spec}"`, {
      category: "bad_trainer",
    });
  }
  const parsed = parseModelSpec(s); // a malformed spec gets the spec parser's own explanation
  if (parsed.kind !== "openai-compatible") throw new Error(`unreachable: ${parsed.kind}`);
  if (parsed.family === "openai") return { model: parsed.model, specFor: (ft) => `openai:${ft}` };
  return { model: parsed.model, specFor: (ft) => `openai-compatible:${parsed.baseURL}#${ft}` };
}

export function openaiTrainer(options: OpenAITrainerOptions = {}): Trainer {
  const env = options.env ?? process.env;
  const apiKey = env.OPENAI_API_KEY;
  if (apiKey === undefined || apiKey === "") {
    throw new UserError("the openai trainer needs a key: set OPENAI_API_KEY", { category: "missing_key" });
  }
  const baseURL = (options.baseURL ?? env.OPENAI_BASE_URL ?? "https://api.openai.com/v1").replace(/\/+$/, "");
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  if (!(pollIntervalMs >= 0)) throw bad(`pollIntervalMs must be ≥ 0, got ${pollIntervalMs}`);
  const epochs = options.epochs;
  if (epochs !== undefined && !(Number.isInteger(epochs) && epochs >= 1)) {
    throw bad(`epochs must be a positive integer, got ${epochs}`);
  }
  const suffixTemplate = options.suffix ?? "bayesact-it{iteration}";
  const unknown = /\{(?!iteration\})[^}]*\}/.exec(suffixTemplate);
  if (unknown !== null)
    throw bad(`unknown placeholder ${unknown[0]} in the suffix; only {iteration} is known`);

  const client = new OpenAI({
    apiKey,
    baseURL,
    maxRetries: options.maxRetries ?? 3,
    timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    ...(options.fetch !== undefined ? { fetch: options.fetch } : {}),
  });
  // Servers sometimes echo request headers in error bodies: the key must never reach a message.
  const redact = (text: string) => (apiKey.length >= 4 ? text.split(apiKey).join("[redacted]") : text);

  const train = async (job: TrainJob): Promise<TrainOutcome> => {
    const signal = job.signal;
    signal?.throwIfAborted();
    const base = parseBase(job.baseModel);
    const log = (line: string) => job.log?.(`openai: ${line}`);
    const stateFile = join(job.outputDir, OPENAI_JOB_FILE);
    const data = await readFile(job.dataset.openai);
    const datasetSha256 = createHash("sha256").update(data).digest("hex");

    /** Run one request; failures become a TrainerError (or the abort reason), with the key cut out. */
    const request = async <T>(what: string, run: () => Promise<T>, hint = ""): Promise<T> => {
      try {
        return await run();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const text = error instanceof Error ? error.message : String(error);
        const noAnswer = error instanceof APIError && error.status !== undefined ? "" : " (no answer)";
        const message = `openai fine-tuning at ${baseURL}: could not ${what}${noAnswer}: ${text}${hint}`;
        throw new TrainerError(oneLine(redact(message)), { cause: error });
      }
    };

    /** The fields we read from an answer, checked: a compatible server may answer in its own way. */
    const answer = <T>(schema: z.ZodType<T>, raw: unknown, what: string, hint = ""): T => {
      const parsed = schema.safeParse(raw);
      if (parsed.success) return parsed.data;
      throw new TrainerError(`openai fine-tuning at ${baseURL}: unexpected answer to ${what}${hint}`);
    };

    let saved = await readSaved(stateFile);
    const resumed = saved !== undefined;
    if (saved !== undefined) {
      const mismatch =
        saved.baseURL !== baseURL
          ? `the server ${saved.baseURL}`
          : saved.model !== base.model
            ? `the base model ${saved.model}`
            : saved.datasetSha256 !== datasetSha256
              ? "a different data set"
              : undefined;
      if (mismatch !== undefined) {
        throw new TrainerError(
          `${stateFile} records a fine-tuning job for ${mismatch}; delete the file to start a new job`,
        );
      }
    }
    if (saved === undefined) {
      const filename = `bayesact-it${job.iteration}.jsonl`;
      log(
        `uploading ${filename} (${job.dataset.trajectories} conversations, ${kib(data.length)}) to ${baseURL}`,
      );
      const file = await request("upload the training file", async () =>
        client.files.create(
          { file: await toFile(data, filename, { type: "application/jsonl" }), purpose: "fine-tune" },
          { ...(signal !== undefined ? { signal } : {}) },
        ),
      );
      const fileId = answer(Created, file, "the upload").id;
      saved = { version: 1, baseURL, model: base.model, datasetSha256, fileId };
      await writeSaved(stateFile, saved);
    }
    let jobId = saved.jobId;
    if (jobId === undefined) {
      const suffix = suffixTemplate.replaceAll("{iteration}", String(job.iteration));
      const fileId = saved.fileId;
      const created = await request("create the fine-tuning job", () =>
        client.fineTuning.jobs.create(
          {
            model: base.model,
            training_file: fileId,
            suffix,
            ...(epochs !== undefined
              ? { method: { type: "supervised", supervised: { hyperparameters: { n_epochs: epochs } } } }
              : {}),
          },
          { maxRetries: 0, ...(signal !== undefined ? { signal } : {}) },
        ),
      );
      jobId = answer(Created, created, "the job creation").id;
      saved = { ...saved, jobId };
      await writeSaved(stateFile, saved);
      log(`created fine-tuning job ${jobId}: ${base.model} on ${fileId}, suffix ${suffix}`);
    } else {
      log(`resuming fine-tuning job ${jobId} recorded in ${stateFile}`);
    }
    const fileId = saved.fileId;
    const id = jobId;

    const moveAside = async () => {
      await rename(stateFile, join(job.outputDir, `openai-job.${id}.json`)).catch(() => undefined);
    };

    const hint = `; resuming reattaches to job ${id} (delete ${stateFile} to start a new job instead)`;
    const retrieve = async (): Promise<JobView> => {
      const raw = await request(
        `check fine-tuning job ${id}`,
        () => client.fineTuning.jobs.retrieve(id, { ...(signal !== undefined ? { signal } : {}) }),
        hint,
      );
      return answer(JobView, raw, `a look at job ${id}`, hint);
    };

    let eventsWork = true;
    const seenEvents = new Set<string>();
    const forwardEvents = async () => {
      try {
        const page = await client.fineTuning.jobs.listEvents(
          id,
          { limit: EVENTS_PER_POLL },
          { ...(signal !== undefined ? { signal } : {}) },
        );
        const events = z.array(JobEvent).parse(page.data);
        for (const e of events.sort((a, b) => a.created_at - b.created_at)) {
          if (seenEvents.has(e.id)) continue;
          seenEvents.add(e.id);
          log(`${id}: ${e.message}`);
        }
      } catch {
        if (signal?.aborted) throw signal.reason;
        eventsWork = false; // events are a courtesy; a server without them still trains
      }
    };

    let final: JobView;
    try {
      let status = "";
      let since = Date.now();
      let reported = since;
      for (;;) {
        const view = await retrieve();
        const now = Date.now();
        if (view.status !== status) {
          status = view.status;
          since = now;
          reported = now;
          log(`job ${id} is ${status}`);
        } else if (now - reported >= HEARTBEAT_MS) {
          reported = now;
          log(`job ${id} is still ${status} (${Math.round((now - since) / 60_000)} min)`);
        }
        if (eventsWork) await forwardEvents();
        if (TERMINAL.has(view.status)) {
          final = view;
          break;
        }
        await sleep(pollIntervalMs, signal);
      }
    } catch (error) {
      if (signal?.aborted) {
        // Best effort: a job left running costs money. If the cancel fails, the saved file lets a resume reattach.
        try {
          const cancelled = JobView.parse(
            await client.fineTuning.jobs.cancel(id, {
              signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS),
              maxRetries: 1,
            }),
          );
          log(`cancelled fine-tuning job ${id} (${cancelled.status})`);
          if (cancelled.status === "cancelled") await moveAside();
        } catch (cancelError) {
          const text = cancelError instanceof Error ? cancelError.message : String(cancelError);
          log(
            oneLine(
              redact(
                `could not cancel fine-tuning job ${id}: ${text}; it may still run (and cost) until it ends`,
              ),
            ),
          );
        }
        throw signal.reason;
      }
      throw error;
    }

    const reason = final.error?.message ?? "no reason given";
    const code = final.error?.code;
    if (final.status === "failed") {
      await moveAside();
      throw new TrainerError(
        oneLine(redact(`openai fine-tuning job ${id} failed: ${reason}${code ? ` (${code})` : ""}`)),
      );
    }
    if (final.status === "cancelled") {
      await moveAside();
      throw new TrainerError(`openai fine-tuning job ${id} was cancelled`);
    }
    const fineTuned = final.fine_tuned_model;
    if (fineTuned === undefined || fineTuned === null || fineTuned === "") {
      throw new TrainerError(`openai fine-tuning job ${id} succeeded but named no fine-tuned model`);
    }
    const trainedTokens = final.trained_tokens ?? null;
    log(
      `job ${id} trained ${fineTuned}${trainedTokens !== null ? ` (${trainedTokens} trained tokens)` : ""}`,
    );
    return {
      model: base.specFor(fineTuned),
      details: {
        fileId,
        jobId: id,
        status: final.status,
        fineTunedModel: fineTuned,
        trainedTokens,
        baseURL,
        resumed,
      },
    };
  };

  return { kind: "openai", spec: options.spec ?? "openai", train };
}

function bad(message: string): UserError {
  return new UserError(`openai trainer: ${message}`, { category: "bad_trainer" });
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

function kib(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function readSaved(file: string): Promise<SavedJob | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return undefined;
    throw new TrainerError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = SavedJob.safeParse(json);
  if (!parsed.success) {
    throw new TrainerError(`${file} is not a fine-tuning job record; delete it to start a new job`);
  }
  return parsed.data;
}

/** Written to a temporary file first, so that a crash mid-write never leaves half a record behind. */
async function writeSaved(file: string, saved: SavedJob): Promise<void> {
  const tmp = join(dirname(file), `.${basename(file)}.tmp`);
  await writeFile(tmp, `${JSON.stringify(saved, null, 2)}\n`);
  await rename(tmp, file);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new BayesactError("aborted", "aborted"));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
