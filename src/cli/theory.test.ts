import { describe, expect, it } from "vitest";
import { EXPERIMENTS, experimentParams } from "../bench/theory/index.ts";
import { UserError } from "../core/errors.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";
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

describe("theory <experiment> --help and unknown parameters", () => {
  it.each(EXPERIMENTS.map((e) => e.name))(
    "%s --help lists every parameter with its default, range and meaning",
    async (name) => {
      const out = bufferOutput();
      expect(await main(["theory", name, "--help"], out)).toBe(0);
      const all = out.stdout.join("\n");
      const text = all.slice(all.indexOf("Parameters of"));
      const exp = EXPERIMENTS.find((e) => e.name === name);
      const params = exp ? experimentParams(exp) : [];
      expect(params.length).toBeGreaterThan(3);
      for (const [key, schema] of params) {
        const line = text.split("\n").findIndex((l) => l.trimStart().startsWith(`--${key} `));
        expect(line, `--${key} listed`).toBeGreaterThan(0);
        const row = text.split("\n")[line] ?? "";
        expect(row).toContain("default ");
        expect(schema.description, `--${key} has a description`).toBeTruthy();
      }
    },
  );

  it("theory --help lists the experiments; an unknown parameter is one line and exit 2, before any work", async () => {
    const out = bufferOutput();
    expect(await main(["theory", "--help"], out)).toBe(0);
    for (const e of EXPERIMENTS) expect(out.stdout.join("\n")).toContain(`  ${e.name} `);
    const bad = bufferOutput();
    expect(await main(["theory", "probe-trap", "--bogus", "3"], bad)).toBe(2);
    expect(bad.stderr).toHaveLength(1);
    expect(bad.stderr[0]).toContain("unknown parameter --bogus");
    expect(bad.stdout).toEqual([]);
    // A singular alias of a list parameter is still known (--K for --Ks), and a misspelt one is not.
    const typo = bufferOutput();
    expect(await main(["theory", "probe-trap", "--horizn", "10"], typo)).toBe(2);
    expect(typo.stderr[0]).toContain("--horizn");
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

describe("theory all", () => {
  it("runs every experiment in its own process, prints them in order, and writes each result", async () => {
    const { mkdtempSync, existsSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "bayesact-theory-all-"));
    try {
      const out = bufferOutput();
      expect(await main(["theory", "all", "--seeds", "2", "--jobs", "2", "--out", dir], out)).toBe(0);
      const text = out.stdout.join("\n");
      const at = EXPERIMENTS.map((e) => text.indexOf(`${e.name}: 2 seeds`));
      expect(at.every((i) => i >= 0)).toBe(true);
      expect([...at].sort((a, b) => a - b)).toEqual(at);
      expect(text).toMatch(/all: [\d.]+ s on 2 processes, \d+ check\(s\) failed/);
      for (const e of EXPERIMENTS) expect(existsSync(join(dir, e.name, "result.json"))).toBe(true);
      // Experiment parameters need one experiment.
      expect(await main(["theory", "all", "--K", "3"], bufferOutput())).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
