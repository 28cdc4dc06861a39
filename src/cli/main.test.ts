import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenAIServer, startOpenAIServer } from "../llm/testing/openai-server.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";

let server: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer({ supports: { logprobs: false } });
});
afterAll(async () => {
  await server.close();
});

describe("bayesact CLI", () => {
  it("demo plays real games and reports tallies", async () => {
    const out = bufferOutput();
    expect(await main(["demo", "--games", "10", "--seed", "3"], out)).toBe(0);
    const text = out.stdout.join("\n");
    expect(text).toContain("One game against a minimax X (seed 3)");
    expect(text).toMatch(/10 games against a minimax X \(seeds 3\.\.12\): O won 0, drew 10, lost 0/);
    expect(text).toMatch(/10 games against a random X \(seeds 3\.\.12\): O won \d+, drew \d+, lost 0/);
    expect(out.stderr).toEqual([]);
  });

  const userMistakes: [string, string[], RegExp][] = [
    ["a bad flag value", ["demo", "--games", "x"], /--games/],
    ["an unknown command", ["frobnicate"], /unknown command/],
    ["a bad model spec", ["doctor", "--model", "gpt-4"], /bad model spec "gpt-4"/],
    ["a missing key", ["doctor", "--model", "openai:gpt-4o-mini"], /OPENAI_API_KEY is not set/],
    [
      "an unreachable server",
      ["doctor", "--model", "openai-compatible:http://127.0.0.1:9/v1#m", "--timeout-ms", "2000"],
      /connection failed/,
    ],
  ];
  for (const [name, argv, message] of userMistakes) {
    it(`${name}: one line on stderr, exit code 2`, async () => {
      const saved = process.env.OPENAI_API_KEY;
      delete process.env.OPENAI_API_KEY;
      try {
        const out = bufferOutput();
        expect(await main(argv, out)).toBe(2);
        const lines = out.stderr.join("\n").split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(message);
      } finally {
        if (saved !== undefined) process.env.OPENAI_API_KEY = saved;
      }
    });
  }

  it("doctor probes a server and says what it lacks", async () => {
    const out = bufferOutput();
    expect(await main(["doctor", "--model", `openai-compatible:${server.url}#fake`, "--json"], out)).toBe(0);
    const report = JSON.parse(out.stdout.join("\n")) as { model: { capabilities: Record<string, unknown> } };
    expect(report.model.capabilities).toMatchObject({
      jsonSchema: true,
      logprobs: false,
      multipleSamples: true,
    });
    expect(JSON.stringify(report.model.capabilities.notes)).toMatch(/logprobs/);
  });

  it("--help and --version exit 0", async () => {
    expect(await main(["--version"], bufferOutput())).toBe(0);
    expect(await main(["--help"], bufferOutput())).toBe(0);
  });
});
