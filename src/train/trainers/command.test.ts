import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { UserError } from "../../core/errors.ts";
import { COMMAND_PLACEHOLDERS, commandTrainer, renderCommand } from "./command.ts";
import { TrainerError, type TrainJob } from "./types.ts";

const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A job whose every path holds a space, quotes, `$` and a backtick: what shell quoting must survive. */
async function makeJob(extra: Partial<TrainJob> = {}): Promise<TrainJob> {
  const root = await mkdtemp(join(tmpdir(), "bayesact-command-"));
  dirs.push(root);
  const outputDir = join(root, `it 0's "out" $HOME \`x\``);
  await mkdir(outputDir);
  const data = join(root, "data dir's");
  await mkdir(data);
  const dataset = {
    openai: join(data, "openai.jsonl"),
    trl: join(data, "trl.jsonl"),
    apibank: join(data, "apibank.jsonl"),
    trajectories: 2,
    samples: 3,
  };
  for (const path of [dataset.openai, dataset.trl, dataset.apibank]) await writeFile(path, "{}\n");
  return {
    iteration: 0,
    dataset,
    baseModel: "openai-compatible:http://127.0.0.1:8000/v1#it's",
    outputDir,
    ...extra,
  };
}

const SPEC = "openai-compatible:http://127.0.0.1:8000/v1#it1";
const writeSpec = `echo '${SPEC}' > {output_dir}/model-spec`;

describe("commandTrainer", () => {
  it("substitutes quoted placeholders and env, and returns the spec the command wrote", async () => {
    const job = await makeJob();
    const lines: string[] = [];
    const trainer = commandTrainer(
      [
        "printf '%s\\n' {dataset} {dataset_openai} {dataset_trl} {dataset_apibank} {base_model} {iteration} {output_dir} > {output_dir}/args.txt",
        // The same placeholder inside double and single quotes is escaped for that quoting.
        `printf '%s\\n' "in double: {output_dir}" 'in single: {output_dir}' > {output_dir}/quoted.txt`,
        `printf '%s\\n' "$BAYESACT_DATASET" "$BAYESACT_DATASET_OPENAI" "$BAYESACT_DATASET_TRL" "$BAYESACT_DATASET_APIBANK" "$BAYESACT_BASE_MODEL" "$BAYESACT_ITERATION" "$BAYESACT_OUTPUT_DIR" > {output_dir}/env.txt`,
        "echo training; echo 'progress on stderr' >&2",
        `printf '\\n  %s  \\nignored\\n' '${SPEC}' > {output_dir}/model-spec`,
      ].join(" && "),
    );
    expect(trainer.kind).toBe("command");
    expect(trainer.spec.startsWith("command:printf")).toBe(true);

    const outcome = await trainer.train({ ...job, log: (l) => lines.push(l) });

    expect(outcome.model).toBe(SPEC);
    const expected = [
      job.dataset.trl,
      job.dataset.openai,
      job.dataset.trl,
      job.dataset.apibank,
      job.baseModel,
      "0",
      job.outputDir,
    ];
    expect((await readFile(join(job.outputDir, "args.txt"), "utf8")).split("\n").slice(0, -1)).toEqual(
      expected,
    );
    expect((await readFile(join(job.outputDir, "env.txt"), "utf8")).split("\n").slice(0, -1)).toEqual(
      expected,
    );
    expect(await readFile(join(job.outputDir, "quoted.txt"), "utf8")).toBe(
      `in double: ${job.outputDir}\nin single: ${job.outputDir}\n`,
    );
    const logFile = join(job.outputDir, "trainer.log");
    const log = await readFile(logFile, "utf8");
    expect(log).toContain("training\n");
    expect(log).toContain("progress on stderr\n");
    expect(outcome.details).toMatchObject({ exitCode: 0, logFile });
    expect(outcome.details.command).toContain("'\\''"); // the quote in the paths was escaped
    expect(typeof outcome.details.wallMs).toBe("number");
    expect(lines).toContain("trainer: progress on stderr");
  });

  it("a non-zero exit is a TrainerError with the exit code, the last line and the log path", async () => {
    const job = await makeJob();
    const lines: string[] = [];
    const trainer = commandTrainer(
      `${writeSpec}; echo loading; echo 'RuntimeError: CUDA out of memory' >&2; exit 3`,
    );
    const error = await trainer.train({ ...job, log: (l) => lines.push(l) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainerError);
    const message = (error as TrainerError).message;
    expect(message).toContain("exit 3");
    expect(message).toContain("RuntimeError: CUDA out of memory");
    expect(message).toContain(join(job.outputDir, "trainer.log"));
    expect(message).not.toContain("\n");
    expect((error as TrainerError).category).toBe("trainer_failed");
    expect(lines).toEqual(
      expect.arrayContaining(["trainer: loading", "trainer: RuntimeError: CUDA out of memory"]),
    );
  });

  it("a command killed by a signal is a TrainerError naming the signal", async () => {
    const job = await makeJob();
    const error = await commandTrainer(`${writeSpec}; kill -KILL $$`)
      .train(job)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainerError);
    expect((error as TrainerError).message).toContain("SIGKILL");
  });

  it("no model-spec (even a stale one from an earlier attempt) is a TrainerError", async () => {
    const job = await makeJob();
    await writeFile(join(job.outputDir, "model-spec"), `${SPEC}\n`); // left by an interrupted attempt
    const error = await commandTrainer("echo done")
      .train(job)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainerError);
    expect((error as TrainerError).message).toMatch(/wrote no model spec to .*model-spec.*last line: done/);

    const empty = await commandTrainer("printf '\\n  \\n' > {output_dir}/model-spec")
      .train(job)
      .catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(TrainerError);
    expect((empty as TrainerError).message).toContain("is empty");

    const bad = await commandTrainer("echo 'no-such-provider:x' > {output_dir}/model-spec")
      .train(job)
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(TrainerError);
    expect((bad as TrainerError).message).toContain("bad model spec");
  });

  it("an unknown placeholder is a UserError at construction, listing the known ones", () => {
    let error: unknown;
    try {
      commandTrainer("python train.py --data {datset}");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).category).toBe("bad_trainer");
    for (const name of COMMAND_PLACEHOLDERS) expect((error as UserError).message).toContain(`{${name}}`);
    expect(() => commandTrainer("  ")).toThrow(UserError);
    // Shell syntax is not a placeholder: ${VAR}, an escaped brace, program text in quotes.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell variable, not a JavaScript template
    expect(() => commandTrainer("echo ${HOME} \\{x} '{print}' \"{y}\" {a,b}")).not.toThrow();
  });

  it("renderCommand quotes for the context each placeholder stands in", () => {
    const value = `a b'c"d$e\`f\\g`;
    const out = renderCommand(`x {dataset} "{dataset}" '{dataset}'`, () => value);
    expect(out).toBe(`x 'a b'\\''c"d$e\`f\\g' "a b'c\\"d\\$e\\\`f\\\\g" 'a b'\\''c"d$e\`f\\g'`);
  });

  it("an abort kills the command's process group and rejects", async () => {
    const job = await makeJob();
    const controller = new AbortController();
    // The sleep runs as a child of the shell: killing only the shell would leave it behind.
    const pending = commandTrainer("sleep 30 & echo $! > {output_dir}/pid; wait").train({
      ...job,
      signal: controller.signal,
    });
    const pidFile = join(job.outputDir, "pid");
    await vi.waitFor(() => expect(readFileSync(pidFile, "utf8").trim()).toMatch(/^\d+$/), {
      timeout: 10_000,
    });
    controller.abort(new Error("stop training"));
    await expect(pending).rejects.toThrow("stop training");
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    await vi.waitFor(() => expect(alive(pid)).toBe(false), { timeout: 10_000 });
  });

  it("an already aborted signal rejects without running anything", async () => {
    const job = await makeJob();
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    await expect(
      commandTrainer(`touch {output_dir}/ran; ${writeSpec}`).train({ ...job, signal: controller.signal }),
    ).rejects.toThrow("too late");
    expect(existsSync(join(job.outputDir, "ran"))).toBe(false);
  });
});

/** Whether `pid` is a live process (a zombie awaiting its reaper counts as dead). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
