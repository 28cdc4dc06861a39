import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UserError } from "../../core/errors.ts";
import {
  type OpenAIServer,
  type OpenAIServerOptions,
  startOpenAIServer,
} from "../../llm/testing/openai-server.ts";
import { OPENAI_JOB_FILE, type OpenAITrainerOptions, openaiTrainer } from "./openai.ts";
import { TrainerError, type TrainJob } from "./types.ts";

const KEY = "sk-test-0123456789-SECRET";
const LOCAL = "openai-compatible:http://127.0.0.1:8000/v1#qwen";
const servers: OpenAIServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

const record = (user: string, agent: string) =>
  JSON.stringify({
    messages: [
      { role: "system", content: "You can call APIs." },
      { role: "user", content: user },
      { role: "assistant", content: agent, weight: 1 },
    ],
  });
const DATA = `${record("What's the weather?", "API-Request: [QueryWeather(city='Paris')]")}\n${record("Hi", "Hello!")}\n`;

interface Setup {
  server: OpenAIServer;
  job: TrainJob;
  lines: string[];
  trainer: (options?: OpenAITrainerOptions) => ReturnType<typeof openaiTrainer>;
}

async function setup(serverOptions: OpenAIServerOptions = {}, data = DATA): Promise<Setup> {
  const server = await startOpenAIServer({ apiKey: KEY, ...serverOptions });
  servers.push(server);
  const root = await mkdtemp(join(tmpdir(), "bayesact-openai-"));
  dirs.push(root);
  const outputDir = join(root, "iteration-0");
  await mkdir(outputDir);
  const dataset = {
    openai: join(root, "openai.jsonl"),
    trl: join(root, "trl.jsonl"),
    apibank: join(root, "apibank.jsonl"),
    trajectories: 2,
    samples: 2,
  };
  await writeFile(dataset.openai, data);
  await writeFile(dataset.trl, "{}\n");
  await writeFile(dataset.apibank, "{}\n");
  const lines: string[] = [];
  const job: TrainJob = { iteration: 0, dataset, baseModel: LOCAL, outputDir, log: (l) => lines.push(l) };
  const trainer = (options: OpenAITrainerOptions = {}) =>
    openaiTrainer({ baseURL: server.url, pollIntervalMs: 10, env: { OPENAI_API_KEY: KEY }, ...options });
  return { server, job, lines, trainer };
}

const posts = (server: OpenAIServer, path: string) =>
  server.requests.filter((r) => r.method === "POST" && r.path === path).length;

describe("openaiTrainer", () => {
  it("uploads the data set, polls the job to success and names the fine-tuned model", async () => {
    const { server, job, lines, trainer } = await setup();
    const t = trainer({ epochs: 2 });
    expect(t.kind).toBe("openai");
    expect(JSON.stringify(t)).not.toContain(KEY);

    const outcome = await t.train(job);

    expect(outcome.model).toBe("openai-compatible:http://127.0.0.1:8000/v1#ft:qwen:bayesact:bayesact-it0:1");
    expect(server.files).toHaveLength(1);
    expect(server.files[0]).toMatchObject({
      filename: "bayesact-it0.jsonl",
      purpose: "fine-tune",
      content: DATA,
    });
    expect(server.fineTuningJobs[0]?.body).toEqual({
      model: "qwen",
      training_file: "file-1",
      suffix: "bayesact-it0",
      n_epochs: 2,
    });
    expect(outcome.details).toEqual({
      fileId: "file-1",
      jobId: "ftjob-1",
      status: "succeeded",
      fineTunedModel: "ft:qwen:bayesact:bayesact-it0:1",
      trainedTokens: expect.any(Number),
      baseURL: server.url,
      resumed: false,
    });
    expect(JSON.parse(await readFile(join(job.outputDir, OPENAI_JOB_FILE), "utf8"))).toMatchObject({
      fileId: "file-1",
      jobId: "ftjob-1",
    });
    // Status changes and the server's events reach the log; the key reaches nothing.
    for (const status of ["queued", "running", "succeeded"])
      expect(lines).toContain(`openai: job ftjob-1 is ${status}`);
    expect(lines).toContain("openai: ftjob-1: The job has successfully completed");
    expect(lines.some((l) => l.includes("trained tokens"))).toBe(true);
    expect(`${JSON.stringify(outcome)}\n${lines.join("\n")}`).not.toContain(KEY);
  });

  it("an openai: base gives an openai: model", async () => {
    const { job, trainer } = await setup({ fineTuning: { pollsUntilDone: 0 } });
    const outcome = await trainer({ suffix: "mine-{iteration}" }).train({
      ...job,
      iteration: 4,
      baseModel: "openai:gpt-4o-mini",
    });
    expect(outcome.model).toBe("openai:ft:gpt-4o-mini:bayesact:mine-4:1");
  });

  it("a failed job is a TrainerError with the server's message, and a retry starts a new job", async () => {
    const { server, job, trainer } = await setup({
      fineTuning: {
        fail: { code: "invalid_training_file", message: "The training file needs 10 examples." },
      },
    });
    const error = await trainer()
      .train(job)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainerError);
    const message = (error as TrainerError).message;
    expect(message).toContain("The training file needs 10 examples.");
    expect(message).toContain("invalid_training_file");
    expect(message).not.toContain(KEY);
    // The failed job's record is moved aside, so that resuming after a fix does not reattach to it.
    expect(existsSync(join(job.outputDir, OPENAI_JOB_FILE))).toBe(false);
    expect(existsSync(join(job.outputDir, "openai-job.ftjob-1.json"))).toBe(true);
    await expect(trainer().train(job)).rejects.toThrow(TrainerError);
    expect(server.fineTuningJobs).toHaveLength(2);
  });

  it("a base model it cannot fine-tune is a UserError before any request", async () => {
    const { server, job, trainer } = await setup();
    for (const baseModel of ["llamacpp:/models/base.gguf", "ollama:qwen2.5:7b", "exact"]) {
      const error = await trainer()
        .train({ ...job, baseModel })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      expect((error as UserError).message).toContain(
        "the openai trainer fine-tunes openai: or openai-compatible:",
      );
      expect((error as UserError).message).toContain(baseModel);
    }
    expect(server.requests).toHaveLength(0);
  });

  it("without OPENAI_API_KEY it is a UserError (missing_key) at construction", () => {
    let error: unknown;
    try {
      openaiTrainer({ env: {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).category).toBe("missing_key");
    expect(() => openaiTrainer({ env: { OPENAI_API_KEY: KEY }, suffix: "x-{iter}" })).toThrow(UserError);
    expect(() => openaiTrainer({ env: { OPENAI_API_KEY: KEY }, epochs: 0 })).toThrow(UserError);
  });

  it("server refusals are TrainerErrors without the key: a wrong key, an invalid training file", async () => {
    const wrong = await setup({ apiKey: "sk-the-servers-own-key" });
    const denied = await wrong
      .trainer()
      .train(wrong.job)
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(TrainerError);
    expect((denied as TrainerError).message).toContain("401");
    expect((denied as TrainerError).message).not.toContain(KEY);

    const invalid = await setup({}, `${record("a", "b")}\n{"prompt": "no messages"}\n`);
    const refused = await invalid
      .trainer()
      .train(invalid.job)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TrainerError);
    expect((refused as TrainerError).message).toContain("Invalid file format");
    expect((refused as TrainerError).message).toContain("line 2");
    expect(invalid.server.fineTuningJobs).toHaveLength(0);
  });

  it("a resumed train reattaches to the recorded job: one upload, one job", async () => {
    const { server, job, trainer } = await setup();
    // The connection drops at the first look at the job: the loop stops, the job goes on.
    let dropped = false;
    const flaky: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (!dropped && init?.method === "GET" && url.pathname.endsWith("/fine_tuning/jobs/ftjob-1")) {
        dropped = true;
        return Promise.reject(new TypeError("fetch failed"));
      }
      return fetch(input, init);
    };
    const interrupted = await trainer({ fetch: flaky, maxRetries: 0 })
      .train(job)
      .catch((e: unknown) => e);
    expect(interrupted).toBeInstanceOf(TrainerError);
    expect((interrupted as TrainerError).message).toContain("resuming reattaches to job ftjob-1");

    const outcome = await trainer().train(job);
    expect(outcome.details).toMatchObject({ jobId: "ftjob-1", fileId: "file-1", resumed: true });
    expect(posts(server, "/v1/files")).toBe(1);
    expect(posts(server, "/v1/fine_tuning/jobs")).toBe(1);

    // Done is done: another resume only looks the job up again.
    const again = await trainer().train(job);
    expect(again.model).toBe(outcome.model);
    expect(posts(server, "/v1/files")).toBe(1);
    expect(posts(server, "/v1/fine_tuning/jobs")).toBe(1);

    // A record made for other data is not silently reused.
    await writeFile(job.dataset.openai, `${record("other", "data")}\n`);
    await expect(trainer().train(job)).rejects.toThrow(/different data set/);
  });

  it("a crash between upload and job creation reuses the uploaded file", async () => {
    const { server, job, trainer } = await setup();
    const refuseCreate: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      if (init?.method === "POST" && url.pathname.endsWith("/fine_tuning/jobs")) {
        return Promise.reject(new TypeError("fetch failed"));
      }
      return fetch(input, init);
    };
    await expect(trainer({ fetch: refuseCreate, maxRetries: 0 }).train(job)).rejects.toThrow(TrainerError);
    expect(server.files).toHaveLength(1);
    expect(server.fineTuningJobs).toHaveLength(0);

    await trainer().train(job);
    expect(server.files).toHaveLength(1);
    expect(server.fineTuningJobs).toHaveLength(1);
  });

  it("an abort cancels the job on the server and rejects with the reason", async () => {
    const { server, job, trainer } = await setup({ fineTuning: { pollsUntilDone: 1_000_000 } });
    const controller = new AbortController();
    const pending = trainer().train({
      ...job,
      signal: controller.signal,
      log: (line) => {
        if (line.endsWith("is running")) controller.abort(new Error("user pressed Ctrl-C"));
      },
    });
    await expect(pending).rejects.toThrow("user pressed Ctrl-C");
    expect(server.fineTuningJobs[0]?.status).toBe("cancelled");
    expect(posts(server, "/v1/fine_tuning/jobs/ftjob-1/cancel")).toBe(1);
    expect(existsSync(join(job.outputDir, OPENAI_JOB_FILE))).toBe(false);
  });
});

describe("the fake server's fine-tuning endpoints", () => {
  it("serves files, events and refuses unknown ids, checking the key", async () => {
    const { server, job, trainer } = await setup({ fineTuning: { pollsUntilDone: 2 } });
    await trainer().train(job);
    const auth = { authorization: `Bearer ${KEY}` };
    const file = await fetch(`${server.url}/files/file-1`, { headers: auth });
    expect(await file.json()).toMatchObject({
      id: "file-1",
      purpose: "fine-tune",
      bytes: Buffer.byteLength(DATA),
    });
    const listed = await fetch(`${server.url}/fine_tuning/jobs/ftjob-1/events`, { headers: auth });
    const events = (await listed.json()) as { data: { message: string }[] };
    expect(events.data.map((e) => e.message)).toEqual([
      "The job has successfully completed",
      "Fine-tuning job queued",
      "Validating training file",
    ]);
    expect((await fetch(`${server.url}/fine_tuning/jobs/ftjob-9`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${server.url}/files/file-1`)).status).toBe(401);
    const cancelDone = await fetch(`${server.url}/fine_tuning/jobs/ftjob-1/cancel`, {
      method: "POST",
      headers: auth,
    });
    expect(cancelDone.status).toBe(400);
  });
});
