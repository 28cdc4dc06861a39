import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downgradeToSchemaV1, schemaOf } from "../bench/testing.ts";
import { startOpenAIServer } from "../llm/testing/openai-server.ts";
import { parseSeeds } from "./bench.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";

const BIN = new URL("../../bin/bayesact.js", import.meta.url).pathname;
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-cli-bench-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function doneCount(runDir: string): number {
  const path = join(runDir, "run.sqlite");
  if (!existsSync(path)) return 0;
  try {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return (db.prepare("SELECT count(*) AS n FROM episodes WHERE status = 'done'").get() as { n: number })
        .n;
    } finally {
      db.close();
    }
  } catch {
    return 0; // not created yet
  }
}

function withoutTimings(path: string): unknown {
  const s = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  delete s.wall_s;
  return s;
}

describe("bayesact bench / resume", () => {
  it("kill -9 in the middle of a run, then resume: the summary equals an uninterrupted run's", async () => {
    const args = ["bench", "tictactoe", "--agent", "lookahead", "--seeds", "1-8000", "--concurrency", "2"];
    const killedDir = join(dir, "killed");
    const child = spawn(process.execPath, [BIN, ...args, "--out", killedDir], {
      stdio: "ignore",
      env: { ...process.env, CI: "true" },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal)),
    );
    // Kill as soon as some, but not all, of the 16000 episodes are done (a large grid: the exact twins finish thousands of episodes a second).
    for (;;) {
      const n = doneCount(killedDir);
      if (n >= 100) break;
      if (child.exitCode !== null) throw new Error("the run finished before it could be killed");
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    const atKill = doneCount(killedDir);
    expect(atKill).toBeGreaterThanOrEqual(100);
    expect(atKill).toBeLessThan(16000);
    expect(existsSync(join(killedDir, "summary.json"))).toBe(false);

    const out = bufferOutput();
    expect(await main(["resume", killedDir], out)).toBe(0);
    expect(await main([...args, "--out", join(dir, "whole")], bufferOutput())).toBe(0);
    expect(withoutTimings(join(killedDir, "summary.json"))).toEqual(
      withoutTimings(join(dir, "whole", "summary.json")),
    );
    expect(doneCount(killedDir)).toBe(16000);
  });

  it("Ctrl-C stops cleanly: finished episodes saved, exit code 130, and resume completes the run", async () => {
    const runDir = join(dir, "sigint");
    const child = spawn(
      process.execPath,
      [BIN, "bench", "tictactoe", "--agent", "lookahead", "--seeds", "1-8000", "--out", runDir],
      {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, CI: "true" },
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    while (doneCount(runDir) < 50) {
      if (child.exitCode !== null) throw new Error("the run finished before Ctrl-C");
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(stderr).toContain("stopping: finishing the current steps");
    expect(stderr).toContain(`Continue with: bayesact resume ${runDir}`);
    const saved = doneCount(runDir);
    expect(saved).toBeGreaterThanOrEqual(50);
    expect(saved).toBeLessThan(16000);
    expect(await main(["resume", runDir], bufferOutput())).toBe(0);
    expect(doneCount(runDir)).toBe(16000);
  });

  const mistakes: [string, (d: string) => string[], RegExp][] = [
    [
      "an unknown environment",
      (d) => ["bench", "chess", "--agent", "random", "--out", d],
      /unknown environment "chess"/,
    ],
    [
      "an unknown agent",
      (d) => ["bench", "tictactoe", "--agent", "oracle", "--out", d],
      /unknown agent "oracle"/,
    ],
    [
      "an unknown split",
      (d) => ["bench", "tictactoe", "--agent", "random", "--split", "x", "--out", d],
      /unknown split "x"/,
    ],
    [
      "a bad seed list",
      (d) => ["bench", "tictactoe", "--agent", "random", "--seeds", "a-b", "--out", d],
      /bad --seeds/,
    ],
    [
      "an LLM agent without a model",
      (d) => ["bench", "tictactoe", "--agent", "direct", "--out", d],
      /needs --model/,
    ],
    ["a missing run folder", (d) => ["resume", join(d, "missing")], /no run folder/],
    [
      "a zero --llm-timeout",
      (d) => ["bench", "tictactoe", "--agent", "random", "--llm-timeout", "0", "--out", d],
      /--llm-timeout/,
    ],
    [
      "a non-numeric --llm-timeout",
      (d) => ["bench", "tictactoe", "--agent", "random", "--llm-timeout", "soon", "--out", d],
      /--llm-timeout/,
    ],
  ];
  for (const [name, argv, message] of mistakes) {
    it(`${name}: one line, exit code 2, nothing written`, async () => {
      const target = join(dir, `mistake-${name.replaceAll(" ", "-")}`);
      const out = bufferOutput();
      expect(await main(argv(target), out)).toBe(2);
      expect(out.stderr).toHaveLength(1);
      expect(out.stderr[0]).toMatch(message);
      expect(existsSync(target)).toBe(false);
    });
  }

  it("resume of a corrupted or foreign run.sqlite: one line, exit code 2, the files untouched", async () => {
    for (const [name, content] of [
      ["garbage", "not sqlite ".repeat(500)],
      ["truncated", ""],
    ] as const) {
      const runDir = join(dir, `bad-${name}`);
      mkdirSync(runDir);
      writeFileSync(join(runDir, "run.sqlite"), content);
      writeFileSync(join(runDir, "manifest.json"), "{}");
      const out = bufferOutput();
      expect(await main(["resume", runDir], out)).toBe(2);
      expect(out.stderr).toHaveLength(1);
      expect(out.stderr[0]).toMatch(/not a usable bayesact run/);
      expect(readFileSync(join(runDir, "run.sqlite"), "utf8")).toBe(content);
      expect(readFileSync(join(runDir, "manifest.json"), "utf8")).toBe("{}");
    }
  });

  it("bench refuses to overwrite an existing run", async () => {
    const runDir = join(dir, "existing");
    expect(await main(["bench", "tictactoe", "--agent", "random", "--out", runDir], bufferOutput())).toBe(0);
    const before = readFileSync(join(runDir, "summary.json"), "utf8");
    const out = bufferOutput();
    expect(await main(["bench", "tictactoe", "--agent", "random", "--out", runDir], out)).toBe(2);
    expect(out.stderr[0]).toMatch(/already holds a run/);
    expect(readFileSync(join(runDir, "summary.json"), "utf8")).toBe(before);
  });

  it("a finished run has a report; report compares runs and reads unfinished ones", async () => {
    const a = join(dir, "report-a");
    const b = join(dir, "report-b");
    expect(
      await main(
        ["bench", "tictactoe", "--agent", "lookahead", "--seeds", "1-3", "--out", a],
        bufferOutput(),
      ),
    ).toBe(0);
    expect(
      await main(["bench", "tictactoe", "--agent", "random", "--seeds", "1-3", "--out", b], bufferOutput()),
    ).toBe(0);
    const html = readFileSync(join(a, "report.html"), "utf8");
    expect(html).toContain("<svg");
    expect(html).toContain("lookahead");
    const out = bufferOutput();
    expect(await main(["report", a, "--compare", b], out)).toBe(0);
    const compared = readFileSync(join(a, "report.html"), "utf8");
    expect(compared).toContain("random");
    expect(out.stdout.join("\n")).toContain("report.html");
    // An unfinished run (no summary yet) gets a report of its finished episodes, with a note.
    rmSync(join(b, "summary.json"));
    const partial = bufferOutput();
    expect(await main(["report", b], partial)).toBe(0);
    expect(partial.stderr.join("\n")).toMatch(/unfinished/);
    const missing = bufferOutput();
    expect(await main(["report", join(dir, "nothing-here")], missing)).toBe(2);
    expect(missing.stderr).toHaveLength(1);
  });

  it("a planted API key never reaches run.sqlite, manifest.json, summary, the report, the cache or the logs", async () => {
    const key = "sk-planted-cli-5d1e9b0c7a2f4e68";
    const server = await startOpenAIServer({
      apiKey: key,
      respond: (body) => {
        const legal = /Legal actions: ([0-9, ]+)/
          .exec(body.messages.at(-1)?.content ?? "")?.[1]
          ?.split(", ")[0];
        return JSON.stringify({ action: legal ?? "5" });
      },
    });
    const saved = { b: process.env.BAYESACT_API_KEY, o: process.env.OPENAI_API_KEY };
    process.env.BAYESACT_API_KEY = key;
    process.env.OPENAI_API_KEY = key;
    try {
      const runDir = join(dir, "planted");
      const cacheFile = join(dir, "planted-cache.sqlite");
      const out = bufferOutput();
      const argv = [
        "bench",
        "tictactoe",
        "--agent",
        "direct",
        "--model",
        `openai-compatible:${server.url}#m`,
      ];
      expect(await main([...argv, "--seeds", "1-2", "--cache-file", cacheFile, "--out", runDir], out)).toBe(
        0,
      );
      expect(server.requests.some((r) => r.headers.authorization === `Bearer ${key}`)).toBe(true);
      const written = ["run.sqlite", "manifest.json", "summary.json", "report.html"].map((f) =>
        join(runDir, f),
      );
      for (const file of [...written, cacheFile]) {
        expect(readFileSync(file).includes(key), file).toBe(false);
      }
      expect(readFileSync(join(runDir, "report.html"), "utf8")).toContain("Legal actions");
      expect([...out.stdout, ...out.stderr].join("\n")).not.toContain(key);
      // A failing run's one-line error does not carry it either.
      const failing = bufferOutput();
      const badKeyServer = `openai-compatible:${server.url.replace("/v1", "/nope")}#m`;
      expect(
        await main(
          [
            "bench",
            "tictactoe",
            "--agent",
            "direct",
            "--model",
            badKeyServer,
            "--out",
            join(dir, "planted-2"),
          ],
          failing,
        ),
      ).toBe(2);
      expect(failing.stderr.join("\n")).not.toContain(key);
    } finally {
      for (const [name, value] of [
        ["BAYESACT_API_KEY", saved.b],
        ["OPENAI_API_KEY", saved.o],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await server.close();
    }
  });

  it("--llm-timeout ends a hung attempt as a timeout; the journal, summary and LLM line count it; resume keeps it", async () => {
    let hangNext = true;
    const server = await startOpenAIServer({
      respond: (body) => {
        const prompt = body.messages.at(-1)?.content ?? "";
        const legal = /Legal actions: ([0-9, ]+)/.exec(prompt)?.[1]?.split(", ")[0];
        // The first agent call (the probes are over by then) makes the next request hang.
        if (legal !== undefined && hangNext) {
          hangNext = false;
          server.enqueueFault({ kind: "hang", times: 1 });
        }
        return JSON.stringify({ action: legal ?? "5" });
      },
    });
    try {
      const runDir = join(dir, "llm-timeout");
      const out = bufferOutput();
      const argv = [
        "bench",
        "tictactoe",
        "--agent",
        "direct",
        "--model",
        `openai-compatible:${server.url}#m`,
      ];
      expect(
        await main([...argv, "--seeds", "1-2", "--no-cache", "--llm-timeout", "0.2", "--out", runDir], out),
      ).toBe(0);
      const manifest = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8"));
      expect(manifest.config.llmTimeoutMs).toBe(200);
      const db = new DatabaseSync(join(runDir, "run.sqlite"), { readOnly: true });
      const timedOut = db
        .prepare("SELECT ok, retries, retry_wait_ms, timeouts FROM llm_calls WHERE timeouts > 0")
        .all() as { ok: number; retries: number; retry_wait_ms: number; timeouts: number }[];
      const episodes = db.prepare("SELECT sum(retries) AS r, sum(timeouts) AS t FROM episodes").get() as {
        r: number;
        t: number;
      };
      db.close();
      // The hung attempt timed out, was retried and answered.
      expect(timedOut).toHaveLength(1);
      expect(timedOut[0]).toMatchObject({ ok: 1, retries: 1, timeouts: 1 });
      expect(episodes).toEqual({ r: 1, t: 1 });
      const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
      expect(summary.llm).toMatchObject({ retries: 1, timeouts: 1 });
      expect(summary.llm.retry_wait_ms).toBe(Math.round(timedOut[0]?.retry_wait_ms ?? -1));
      expect(out.stdout.join("\n")).toMatch(/LLM: \d+ calls, .* 1 retries \([\d.]+ s waited\), 1 timeouts/);
      expect(readFileSync(join(runDir, "report.html"), "utf8")).toContain('data-metric="timeouts"');

      // resume probes the server again: a hung probe must time out after the run's 0.2 s, not the default 60 s.
      server.enqueueFault({ kind: "hang", times: 1 });
      expect(await main(["resume", runDir], bufferOutput())).toBe(0);
      expect(server.requests.length).toBeGreaterThan(0);
    } finally {
      await server.close();
    }
  });

  it("start-up probes that meet a 503 and a 429 (retry-after) are retried: the run starts and counts them", async () => {
    const server = await startOpenAIServer({
      respond: (body) => {
        const legal = /Legal actions: ([0-9, ]+)/
          .exec(body.messages.at(-1)?.content ?? "")?.[1]
          ?.split(", ")[0];
        return JSON.stringify({ action: legal ?? "5" });
      },
    });
    try {
      // The first capability probe requests meet these; without retries the run would end with exit 2.
      server.enqueueFault({
        kind: "status",
        status: 503,
        body: { error: { message: "loading model", type: "unavailable_error" } },
      });
      server.enqueueFault({ kind: "status", status: 429, headers: { "retry-after-ms": "50" } });
      const out = bufferOutput();
      const runDir = join(dir, "probe-faults");
      const argv = [
        "bench",
        "tictactoe",
        "--agent",
        "direct",
        "--model",
        `openai-compatible:${server.url}#m`,
      ];
      expect(
        await main([...argv, "--episodes", "1", "--no-cache", "--out", runDir], out),
        out.stderr.join("\n"),
      ).toBe(0);
      const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")) as { episodes: number };
      expect(summary.episodes).toBe(1);
      // The live LLM line counts the probe's retries (they happen before any episode). Both faults can land in
      // the first round of concurrent probe requests, so at least one retry.
      const retries = out.stderr.map((l) => Number(/LLM .* (\d+) retries/.exec(l)?.[1] ?? 0));
      expect(Math.max(...retries)).toBeGreaterThanOrEqual(1);
    } finally {
      await server.close();
    }
  });

  it("resume and report of a run folder journaled with schema version 1", async () => {
    const runDir = join(dir, "schema-1");
    const argv = ["bench", "tictactoe", "--agent", "lookahead", "--seeds", "1-6", "--out", runDir];
    expect(await main(argv, bufferOutput())).toBe(0);
    const whole = withoutTimings(join(runDir, "summary.json"));
    const total = doneCount(runDir);
    // Interrupted after three episodes, by a bayesact that wrote schema 1.
    const db = new DatabaseSync(join(runDir, "run.sqlite"));
    db.exec("DELETE FROM episodes WHERE idx >= 3");
    db.close();
    rmSync(join(runDir, "summary.json"));
    downgradeToSchemaV1(runDir);
    expect(schemaOf(runDir)).toEqual({ version: "1", attemptColumns: false });

    // report reads it as it is, and leaves it so.
    expect(await main(["report", runDir], bufferOutput())).toBe(0);
    expect(schemaOf(runDir)).toEqual({ version: "1", attemptColumns: false });
    // resume migrates it, finishes the grid, and gives the summary of an uninterrupted run.
    expect(await main(["resume", runDir], bufferOutput())).toBe(0);
    expect(schemaOf(runDir)).toEqual({ version: "2", attemptColumns: true });
    expect(doneCount(runDir)).toBe(total);
    expect(withoutTimings(join(runDir, "summary.json"))).toEqual(whole);
  });

  it("parses seed lists and ranges", () => {
    expect(parseSeeds("1,2,3")).toEqual([1, 2, 3]);
    expect(parseSeeds("1-3,7,2")).toEqual([1, 2, 3, 7]);
  });
});
