import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startOpenAIServer } from "../llm/testing/openai-server.ts";
import { DATA_DIR, requireApiBankData } from "../train/testing/data.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";

requireApiBankData();
const root = mkdtempSync(join(tmpdir(), "bayesact-train-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function cli(args: string[]) {
  const output = bufferOutput();
  const code = await main(args, output);
  return { code, ...output };
}

const small = ["--instructions", "12", "--samples", "2", "--eval-limit", "20", "--data", DATA_DIR];

describe("bayesact train apibank", () => {
  it("runs the offline loop end to end: summary, report, per-iteration lines", async () => {
    const out = join(root, "run");
    const r = await cli([
      "train",
      "apibank",
      "--model",
      "embedded:base",
      "--iterations",
      "1",
      "--out",
      out,
      ...small,
    ]);
    expect(r.stderr.join("\n")).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout[0]).toMatch(/^iteration 0 \(embedded:base\): level 1 \d+\/20 /);
    expect(r.stdout[1]).toMatch(/^iteration 1 \(embedded:.*\): level 1 \d+\/20 /);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    expect(summary.iterations).toHaveLength(2);
    expect(summary.iterations[0].critic.judged).toBe(24);
    expect(existsSync(join(out, "report.html"))).toBe(true);
    const report = readFileSync(join(out, "report.html"), "utf8");
    expect(report).toContain("critic precision / recall");
    // Resuming a finished run redoes nothing and rewrites the same summary.
    const again = await cli(["resume", out]);
    expect(again.code).toBe(0);
    expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))).toEqual(summary);
  });

  it("--executor with a served model simulates unrecorded calls; an LLM critic judges them", async () => {
    // The loopback server plays both roles: the simulated APIs (schema `api_result`) and the critic (`verdict`).
    const server = await startOpenAIServer({
      respond: (body) => {
        const format = body.response_format?.json_schema;
        if (format?.name === "verdict") return '{"score": 9, "reason": "looks right"}';
        const schema = format?.schema as {
          properties?: { output?: { properties?: Record<string, { type?: string }> } };
        };
        const fields = schema?.properties?.output?.properties ?? {};
        const output = Object.fromEntries(
          Object.entries(fields).map(([k, v]) => [
            k,
            v.type === "integer" || v.type === "number"
              ? 1
              : v.type === "boolean"
                ? true
                : v.type === "array"
                  ? []
                  : "x",
          ]),
        );
        return JSON.stringify({ ok: true, output, exception: "" });
      },
    });
    try {
      const out = join(root, "simulated");
      const r = await cli([
        "train",
        "apibank",
        "--model",
        "embedded:base",
        "--executor",
        `openai-compatible:${server.url}#simulator`,
        "--critic",
        `openai-compatible:${server.url}#judge`,
        "--iterations",
        "1",
        "--eval-levels",
        "none",
        "--out",
        out,
        ...small,
      ]);
      expect(r.stderr.join("\n")).not.toMatch(/Error/);
      expect(r.code).toBe(0);
      const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
      expect(summary.config.executor).toBe(`openai-compatible:${server.url}#simulator`);
      const rollouts = summary.iterations[0].rollouts;
      expect(rollouts.simulatedResults).toBeGreaterThan(0);
      expect(rollouts.simulatorErrors).toBe(0);
      // The LLM critic saw every trajectory; the exact twin still counts only gold-chain matches as truth.
      expect(summary.iterations[0].critic.judged).toBe(24);
      expect(summary.iterations[0].critic.truthAccepted).toBeLessThan(summary.iterations[0].critic.accepted);
      const prompts = server.requests.map((q) => JSON.stringify(q.body ?? ""));
      expect(prompts.some((p) => p.includes("The call: API-Request: ["))).toBe(true);
      expect(readFileSync(join(out, "report.html"), "utf8")).toContain("results simulated");
      expect(r.stderr.join("\n")).toMatch(
        /iteration 0: 24 rollouts, \d+ policy calls, \d+ API results simulated \(0 unusable\)/,
      );
    } finally {
      await server.close();
    }
  });

  it("--llm-timeout: a hung critic call times out and is retried; summary.json and the LLM line count it", async () => {
    let hangNext = true;
    const server = await startOpenAIServer({
      respond: (body) => {
        // The first critic call makes the next request (another critic call) hang.
        if (body.response_format?.json_schema?.name === "verdict" && hangNext) {
          hangNext = false;
          server.enqueueFault({ kind: "hang", times: 1 });
        }
        return '{"score": 9, "reason": "looks right"}';
      },
    });
    try {
      const out = join(root, "llm-timeout");
      const r = await cli([
        "train",
        "apibank",
        "--model",
        "embedded:base",
        "--critic",
        `openai-compatible:${server.url}#judge`,
        "--iterations",
        "1",
        "--eval-levels",
        "none",
        "--llm-timeout",
        "0.2",
        "--out",
        out,
        ...small,
      ]);
      expect(r.code).toBe(0);
      const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
      expect(manifest.config.llmTimeoutMs).toBe(200);
      const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
      expect(summary.llm).toMatchObject({ retries: 1, timeouts: 1 });
      expect(summary.llm.calls).toBeGreaterThan(1);
      expect(r.stdout.join("\n")).toMatch(/LLM: \d+ calls, .* 1 retries \([\d.]+ s waited\), 1 timeouts/);
      // The totals are the run's, kept in its store: a resume that makes no call reports the same.
      const again = await cli(["resume", out]);
      expect(again.code).toBe(0);
      expect(JSON.parse(readFileSync(join(out, "summary.json"), "utf8")).llm).toEqual(summary.llm);
    } finally {
      await server.close();
    }
  });

  it("user mistakes are one line and exit code 2", async () => {
    for (const [args, message] of [
      [["--model", "embedded:base", "--trainer", "pytorch"], /bad --trainer "pytorch"/],
      [["--model", "embedded:base", "--trainer", "command:train {datset}"], /datset/],
      [["--model", "embedded:base", "--critic", "embedded:base"], /a critic is exact, prefilter, none/],
      [["--model", "embedded:base", "--executor", "embedded:base"], /the rollout environment is replay or/],
      [["--model", "gpt-4"], /bad model spec/],
      [["--model", "embedded:base", "--eval-levels", "4"], /bad --eval-levels/],
      [["--model", "embedded:base", "--llm-timeout", "-1"], /--llm-timeout/],
    ] as const) {
      const r = await cli(["train", "apibank", ...args, "--out", join(root, "never"), ...small]);
      expect(r.code).toBe(2);
      expect(r.stderr.join("\n")).toMatch(message);
      expect(existsSync(join(root, "never"))).toBe(false);
    }
    const missing = await cli([
      "train",
      "apibank",
      "--model",
      "embedded:base",
      "--data",
      join(root, "nodata"),
    ]);
    expect(missing.code).toBe(2);
  });
});
