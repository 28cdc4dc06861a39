import { describe, expect, it } from "vitest";
import { UserError } from "../core/errors.ts";
import { parseExtraParams } from "./theory.ts";

describe("theory parameters from the command line", () => {
  it("numbers, lists, booleans and kebab-case names", () => {
    expect(
      parseExtraParams(["--K", "4", "--p=0.7", "--deltas", "0,0.03,0.1", "--reward-visible", "--name", "x"]),
    ).toEqual({
      K: 4,
      p: 0.7,
      deltas: [0, 0.03, 0.1],
      rewardVisible: true,
      name: "x",
    });
  });
  it("a stray word is a one-line user error", () => {
    expect(() => parseExtraParams(["oops"])).toThrow(UserError);
  });
});

describe("bayesact theory through the CLI", () => {
  it("runs an experiment with an LLM planner arm on a generated GGUF model and writes result.json and report.html", async () => {
    const { mkdtempSync, readFileSync, rmSync, existsSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { main } = await import("./main.ts");
    const { bufferOutput } = await import("./output.ts");
    const dir = mkdtempSync(join(tmpdir(), "bayesact-theory-cli-"));
    try {
      const gguf = join(dir, "tiny.gguf");
      const doctor = bufferOutput();
      expect(await main(["doctor", "--tiny-gguf", gguf, "--json"], doctor)).toBe(0);
      expect(JSON.parse(doctor.stdout.join("\n")).model.capabilities.grammar).toBe(true);
      const out = bufferOutput();
      const argv = [
        "theory",
        "probe-trap",
        "--seeds",
        "3",
        "--horizon",
        "100",
        "--horizons",
        "50,100",
        "--Ks",
        "4",
      ];
      const rest = [
        "--sweepEpsilons",
        "0.1",
        "--negativeControl",
        "false",
        "--llmHorizon",
        "4",
        "--llmSeeds",
        "2",
      ];
      const model = `llamacpp:${gguf}?threads=1&ctx=8192`;
      expect(await main([...argv, ...rest, "--model", model, "--out", join(dir, "out")], out)).toBe(0);
      const result = JSON.parse(readFileSync(join(dir, "out", "result.json"), "utf8")) as {
        arms: { name: string }[];
        checks: { claim: string; pass: boolean }[];
      };
      expect(result.arms.some((a) => a.name.startsWith("llm"))).toBe(true);
      const validity = result.checks.filter((c) => c.claim.includes("valid subgoal"));
      expect(validity.length).toBeGreaterThan(0);
      expect(validity.every((c) => c.pass)).toBe(true);
      expect(existsSync(join(dir, "out", "report.html"))).toBe(true);
      // The singular names one value of a list parameter (--K for Ks), as the issue writes it.
      const alias = bufferOutput();
      const small = [
        "--seeds",
        "2",
        "--horizon",
        "50",
        "--horizons",
        "20,50",
        "--sweepEpsilons",
        "0.1",
        "--negativeControl",
        "false",
      ];
      expect(
        await main(["theory", "probe-trap", "--K", "3", ...small, "--out", join(dir, "k3")], alias),
      ).toBe(0);
      expect(alias.stdout.join("\n")).toContain("bail-exact K=3");
      // A list parameter given one value is a one-element list; a bad one is one line, exit 2.
      const bad = bufferOutput();
      expect(await main(["theory", "probe-trap", "--Ks", "1"], bad)).toBe(2);
      expect(bad.stderr).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
