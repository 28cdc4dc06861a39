import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readGgufFile } from "../llm/llamacpp/gguf.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";

const BIN = new URL("../../bin/bayesact.js", import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), "bayesact-pretrain-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A run small enough for a unit test: a few seconds of training. */
const tiny = [
  "pretrain",
  "probe-trap",
  "--K",
  "2",
  "--samples",
  "48",
  "--heldout",
  "8",
  "--max-episodes",
  "3",
  "--dim",
  "16",
  "--layers",
  "1",
  "--heads",
  "1",
  "--context",
  "512",
  "--steps",
  "12",
  "--batch",
  "4",
  "--warmup",
  "2",
  "--checkpoint-every",
  "3",
  "--served-eval",
  "2",
  "--deploy-runs",
  "2",
];

async function cli(args: string[]) {
  const output = bufferOutput();
  const code = await main(args, output);
  return { code, ...output };
}

/** Tensor data of a GGUF (its bytes after the header), to compare two runs' final weights. */
async function tensorBytes(path: string): Promise<Buffer> {
  const file = await readGgufFile(path);
  return readFileSync(path).subarray(file.dataOffset);
}

describe("bayesact pretrain", () => {
  it("trains, exports a GGUF llama.cpp loads, and reports held-out TV through TensorFlow.js and llama.cpp", async () => {
    const out = join(root, "whole");
    const r = await cli([...tiny, "--out", out]);
    expect(r.code, r.stderr.join("\n")).toBe(0);
    expect(r.stdout.join("\n")).toMatch(
      /held-out: loss [\d.]+ nats per answer, TV to exact BAIL [\d.]+ over 8 contexts/,
    );
    expect(r.stdout.join("\n")).toMatch(/through llama.cpp: TV [\d.]+ over 2 contexts/);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    // The served model is the trained one: its distributions match TensorFlow.js's.
    expect(summary.servedTv.maxGapToTf).toBeLessThan(0.02);
    expect(summary.steps).toBe(12);
    expect(summary.lossCurve.at(-1).step).toBe(12);
    // Resuming a finished run redoes nothing and gives the same result.
    const again = await cli(["resume", out]);
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).heldoutTv).toEqual(summary.heldoutTv);
  });

  it("kill -9 during training, then resume: the final weights equal an uninterrupted run's", async () => {
    const killed = join(root, "killed");
    const child = spawn(process.execPath, [BIN, ...tiny, "--steps", "30", "--out", killed], {
      stdio: "ignore",
      env: { ...process.env, CI: "true" },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_c, signal) => resolve(signal)),
    );
    // Kill once a checkpoint exists and before training ends.
    for (;;) {
      if (existsSync(join(killed, "checkpoint.json"))) break;
      if (child.exitCode !== null) throw new Error("the run finished before it could be killed");
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    expect(existsSync(join(killed, "model.gguf"))).toBe(false);
    const step = JSON.parse(readFileSync(join(killed, "checkpoint.json"), "utf8")).step as number;
    expect(step).toBeGreaterThan(0);
    expect(step).toBeLessThan(30);

    const resumed = await cli(["resume", killed]);
    expect(resumed.code, resumed.stderr.join("\n")).toBe(0);
    expect(resumed.stderr.join("\n")).toMatch(/resuming at step \d+ of 30/);
    const whole = join(root, "whole-30");
    expect((await cli([...tiny, "--steps", "30", "--out", whole])).code).toBe(0);
    expect(
      (await tensorBytes(join(killed, "model.gguf"))).equals(await tensorBytes(join(whole, "model.gguf"))),
    ).toBe(true);
  });

  it("a damaged checkpoint, a foreign data file or a context longer than the window: one line, exit 2", async () => {
    const base = join(root, "base");
    expect((await cli([...tiny, "--steps", "3", "--out", base])).code).toBe(0);

    const damaged = join(root, "damaged");
    const child = await cli([...tiny, "--steps", "6", "--out", damaged]);
    expect(child.code).toBe(0);
    rmSync(join(damaged, "model.gguf"));
    rmSync(join(damaged, "summary.json"));
    const bin = readFileSync(join(damaged, "checkpoint.bin"));
    bin[100] = (bin[100] as number) ^ 0xff;
    writeFileSync(join(damaged, "checkpoint.bin"), bin);
    const r1 = await cli(["resume", damaged]);
    expect(r1.code).toBe(2);
    expect(r1.stderr.at(-1)).toMatch(/checkpoint\.json: checkpoint\.bin does not match it/);

    const foreign = join(root, "foreign");
    expect((await cli([...tiny, "--steps", "3", "--out", foreign])).code).toBe(0);
    rmSync(join(foreign, "model.gguf"));
    rmSync(join(foreign, "checkpoint.json"));
    writeFileSync(join(foreign, "data.jsonl"), '{"instruction": "not pretraining data"}\n');
    const r2 = await cli(["resume", foreign]);
    expect(r2.code).toBe(2);
    expect(r2.stderr.at(-1)).toMatch(/data\.jsonl: line 1 is not pretraining data/);

    const long = await cli([...tiny, "--context", "64", "--out", join(root, "long")]);
    expect(long.code).toBe(2);
    expect(long.stderr.at(-1)).toMatch(/more than the model's window of 64/);

    // A cut-off GGUF named as a theory planner arm.
    const gguf = readFileSync(join(base, "model.gguf"));
    const cut = join(root, "cut.gguf");
    writeFileSync(cut, gguf.subarray(0, Math.floor(gguf.length / 2)));
    const theory = [
      "theory",
      "probe-trap",
      "--seeds",
      "2",
      "--horizon",
      "20",
      "--horizons",
      "10,20",
      "--Ks",
      "2",
    ];
    const playWith = (gguf: string) =>
      cli([...theory, "--llmHorizon", "2", "--llmSeeds", "1", "--model", `llamacpp:${gguf}?threads=1`]);
    const r3 = await playWith(cut);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toHaveLength(1);
    expect(r3.stderr[0]).toMatch(
      /cut\.gguf: not a valid GGUF file \(GGUF file is truncated: tensor "[^"]+" needs bytes up to \d+, the file has \d+\)/,
    );
    // Cut inside its header: the header's own reader names the problem.
    writeFileSync(cut, gguf.subarray(0, 40));
    const r4 = await playWith(cut);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toHaveLength(1);
    expect(r4.stderr[0]).toMatch(/cut\.gguf: not a valid GGUF file \(.*truncated/);

    const exists = await cli([...tiny, "--out", base]);
    expect(exists.code).toBe(2);
    expect(exists.stderr.at(-1)).toMatch(/already holds a run/);
  });

  it("bandit: trains, serves, and compares with Thompson sampling, UCB and the empirical mean on the test bandits", async () => {
    const out = join(root, "bandit");
    const r = await cli([
      "pretrain",
      "bandit",
      "--samples",
      "40",
      "--heldout",
      "6",
      "--horizon",
      "8",
      "--test-bandits",
      "3",
      "--dim",
      "16",
      "--layers",
      "1",
      "--heads",
      "1",
      "--context",
      "512",
      "--steps",
      "4",
      "--batch",
      "4",
      "--served-eval",
      "2",
      "--out",
      out,
    ]);
    expect(r.code, r.stderr.join("\n")).toBe(0);
    const text = r.stdout.join("\n");
    expect(text).toMatch(
      /online, 3 test bandits × 8 pulls, regret: learned [\d.]+ ± [\d.]+, exact posterior sampling/,
    );
    expect(text).toMatch(/offline, 8 pulls of context, regret of the arm named: learned [\d.]+/);
    expect(text).toMatch(
      /(PASS|FAIL) {2}online, the learned planner's regret is clearly below the empirical mean's/,
    );
    expect(existsSync(join(out, "report.html"))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as {
      anchor: { calls: number; bandits: number };
    };
    // Every online decision and every offline context length scores each of the 5 arms.
    expect(summary.anchor.calls).toBe(5 * 3 * (8 + 3));
  });

  it("gridworld: contexts of the three-step Planner, and deployment episode by episode through llama.cpp", async () => {
    const out = join(root, "gridworld");
    const r = await cli([
      "pretrain",
      "gridworld",
      "--samples",
      "30",
      "--heldout",
      "6",
      "--max-episodes",
      "2",
      "--deploy-runs",
      "1",
      "--deploy-episodes",
      "3",
      "--dim",
      "16",
      "--layers",
      "1",
      "--heads",
      "1",
      "--context",
      "2048",
      "--steps",
      "3",
      "--batch",
      "2",
      "--served-eval",
      "1",
      "--out",
      out,
    ]);
    expect(r.code, r.stderr.join("\n")).toBe(0);
    // One episode has H = 3 decisions: 3 episodes, 9 decisions in the naive loop.
    expect(r.stdout.join("\n")).toMatch(/deployment \(naive, 1×3 episodes\): TV [\d.]+ over 9 decisions/);
  });

  it("an option of another experiment, or an unknown experiment: one line, exit 2", async () => {
    const r = await cli(["pretrain", "bandit", "--K", "3", "--out", join(root, "never")]);
    expect(r.code).toBe(2);
    expect(r.stderr.at(-1)).toMatch(/--K is not an option of bandit/);
    const r2 = await cli(["pretrain", "dark-room", "--out", join(root, "never")]);
    expect(r2.code).toBe(2);
    expect(r2.stderr.at(-1)).toMatch(
      /bad experiment "dark-room" \(expected: probe-trap, gridworld, bandit\)/,
    );
    expect(existsSync(join(root, "never"))).toBe(false);
  });
});
