import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
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

  it("user mistakes are one line and exit code 2", async () => {
    for (const [args, message] of [
      [["--model", "embedded:base", "--trainer", "pytorch"], /bad --trainer "pytorch"/],
      [["--model", "embedded:base", "--trainer", "command:train {datset}"], /datset/],
      [["--model", "embedded:base", "--critic", "embedded:base"], /a critic is exact, prefilter, none/],
      [["--model", "gpt-4"], /bad model spec/],
      [["--model", "embedded:base", "--eval-levels", "4"], /bad --eval-levels/],
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
