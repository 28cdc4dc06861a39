import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LlmError } from "../errors.ts";
import { MockLanguageModel } from "../testing/mock.ts";
import type { GenerateRequest, GenerateResult } from "../types.ts";
import { ReplayModel, withRecorder } from "./replay.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "bayesact-replay-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const user = (content: string, extra: Partial<GenerateRequest> = {}): GenerateRequest => ({
  messages: [{ role: "user", content }],
  ...extra,
});

const script: GenerateRequest[] = [
  user("Use 4 4 6 8 to make 24.", { temperature: 0.7, n: 3 }),
  user("Use 4 4 6 8 to make 24.", { temperature: 0.7, n: 2, sampleIndex: 3 }),
  {
    messages: [
      { role: "system", content: "You are a critic." },
      { role: "user", content: "Rate: 4 * 6 = 24\nAnswer sure/likely/impossible." },
    ],
    temperature: 0,
    maxTokens: 16,
    stop: ["\n"],
    seed: 7,
    responseFormat: { type: "json_schema", name: "rating", schema: { type: "object" } },
  },
  user("Use 4 4 6 8 to make 24.", { temperature: 0.7, n: 3 }),
];

async function runScript(model: {
  generate(r: GenerateRequest): Promise<GenerateResult>;
}): Promise<GenerateResult[]> {
  const results: GenerateResult[] = [];
  for (const request of script) results.push(await model.generate(request));
  return results;
}

const mock = () =>
  new MockLanguageModel({
    id: "openai-compatible:http://127.0.0.1:8000/v1#qwen",
    respond: (request, index, call) =>
      `answer ${index} of call ${call} to "${request.messages.at(-1)?.content}"`,
    capabilities: { jsonSchema: true, logprobs: true, notes: ["probed on loopback"] },
  });

describe("record and replay", () => {
  it("round-trips byte-identically, including a re-recording of the replay", async () => {
    const a = join(dir, "a", "cassette.jsonl");
    const recorder = withRecorder(mock(), { path: a });
    const capabilities = await recorder.capabilities();
    const recorded = await runScript(recorder);

    const replay = new ReplayModel({ path: a });
    expect(replay.id).toBe("openai-compatible:http://127.0.0.1:8000/v1#qwen");
    const b = join(dir, "b.jsonl");
    const rerecorder = withRecorder(replay, { path: b });
    expect(await rerecorder.capabilities()).toEqual(capabilities);
    const replayed = await runScript(rerecorder);

    expect(JSON.stringify(replayed)).toBe(JSON.stringify(recorded));
    expect(readFileSync(b, "utf8")).toBe(readFileSync(a, "utf8"));
    // 1 capabilities line + 4 calls.
    expect(readFileSync(a, "utf8").split("\n")).toHaveLength(6);
  });

  it("replays repeated identical requests in recorded order, then repeats the last", async () => {
    const path = join(dir, "repeat.jsonl");
    const recorder = withRecorder(mock(), { path });
    for (let i = 0; i < 3; i++) await recorder.generate(user("again"));
    const replay = new ReplayModel({ path });
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) texts.push((await replay.generate(user("again"))).choices[0]?.text ?? "");
    expect(texts).toEqual([
      'answer 0 of call 0 to "again"',
      'answer 0 of call 1 to "again"',
      'answer 0 of call 2 to "again"',
      'answer 0 of call 2 to "again"',
    ]);
  });

  it("records capabilities once and replays them; a cassette without them reports none", async () => {
    const path = join(dir, "caps.jsonl");
    const recorder = withRecorder(mock(), { path });
    await recorder.capabilities();
    await recorder.capabilities();
    await recorder.generate(user("x"));
    const lines = readFileSync(path, "utf8").trim().split("\n");
    expect(lines.filter((l) => l.includes('"type":"capabilities"'))).toHaveLength(1);
    expect(await new ReplayModel({ path }).capabilities()).toEqual(await mock().capabilities());

    const bare = join(dir, "bare.jsonl");
    await withRecorder(mock(), { path: bare }).generate(user("x"));
    const none = await new ReplayModel({ path: bare }).capabilities();
    expect(none.jsonSchema || none.logprobs || none.grammar).toBe(false);
    expect(none.notes?.[0]).toMatch(/no capabilities recorded/);
  });

  it("does not record failed calls", async () => {
    const path = join(dir, "fail.jsonl");
    const failing = new MockLanguageModel({ respond: () => new LlmError("server", "boom") });
    await expect(withRecorder(failing, { path }).generate(user("x"))).rejects.toThrow("boom");
    expect(existsSync(path) ? readFileSync(path, "utf8") : "").toBe("");
  });
});

describe("scoring", () => {
  it("records score() calls and replays them; an unrecorded continuation is a named miss", async () => {
    const path = join(dir, "score.jsonl");
    const scores = new Map([["on(a,b)", -1.25]]);
    const scoring = Object.assign(new MockLanguageModel({ id: "mock:scorer" }), {
      score: async (_prefix: string, continuation: string) => ({
        logprob: scores.get(continuation) ?? -9,
        tokens: [{ token: continuation, logprob: scores.get(continuation) ?? -9 }],
      }),
    });
    const recorder = withRecorder(scoring, { path });
    const live = await recorder.score?.("plan: ", "on(a,b)");
    expect(live?.logprob).toBe(-1.25);
    await recorder.score?.("plan: ", "on(b,a)");

    const replay = new ReplayModel({ path });
    expect(replay.id).toBe("mock:scorer");
    expect(await replay.score?.("plan: ", "on(a,b)")).toEqual(live);
    expect((await replay.score?.("plan: ", "on(b,a)"))?.logprob).toBe(-9);
    await expect(replay.score?.("plan: ", "on(c,a)")).rejects.toMatchObject({ category: "replay_miss" });
    // A cassette with calls only offers no scoring at all, as the recorded model did not.
    const plain = join(dir, "plain.jsonl");
    await withRecorder(new MockLanguageModel(), { path: plain }).generate(user("hi"));
    expect(new ReplayModel({ path: plain }).score).toBeUndefined();
  });
});

describe("replay misses", () => {
  async function cassette(): Promise<string> {
    const path = join(dir, "search.jsonl");
    const recorder = withRecorder(mock(), { path });
    await recorder.generate(
      user("Propose the next step for 4 4 6 8. Let's think step by step.", { temperature: 0.7 }),
    );
    await recorder.generate(user("Evaluate whether 10 14 can reach 24. Answer sure/likely/impossible."));
    await recorder.generate(user("Write a haiku about autumn leaves falling on a quiet pond."));
    return path;
  }

  it("names the differing field and both values when only a parameter changed", async () => {
    const replay = new ReplayModel({ path: await cassette() });
    const error = await replay
      .generate(user("Propose the next step for 4 4 6 8. Let's think step by step.", { temperature: 0.2 }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ category: "replay_miss" });
    const message = (error as Error).message;
    expect(message).toContain("search.jsonl");
    expect(message).toContain("differs in: temperature");
    expect(message).toContain("temperature: recorded 0.7, requested 0.2");
    expect(message.split("\n").length).toBeLessThanOrEqual(5);
  });

  it("shows the first differing message of the nearest recording with an excerpt of both sides", async () => {
    const replay = new ReplayModel({ path: await cassette() });
    const error = await replay
      .generate(user("Evaluate whether 10 14 can reach 24. Reply sure/likely/impossible."))
      .catch((e: unknown) => e);
    const message = (error as Error).message;
    expect(message).toContain("differs in: messages");
    expect(message).toContain("messages[0] (user)");
    // The excerpts start shortly before the first differing character.
    expect(message).toMatch(/recorded …"[^"]*can reach 24\. Answer sure\/likely\/impossible\."/);
    expect(message).toMatch(/requested …"[^"]*can reach 24\. Reply sure\/likely\/impossible\."/);
    expect(message).not.toContain("haiku");
  });

  it("shows a different model id when replaying under another id", async () => {
    const replay = new ReplayModel({ path: await cassette(), modelId: "ollama:qwen2.5:7b" });
    const error = await replay
      .generate(user("Write a haiku about autumn leaves falling on a quiet pond."))
      .catch((e) => e);
    expect((error as Error).message).toContain(
      'model: recorded "openai-compatible:http://127.0.0.1:8000/v1#qwen", requested "ollama:qwen2.5:7b"',
    );
  });

  it("a different sample range is a miss too", async () => {
    const replay = new ReplayModel({ path: await cassette() });
    const error = await replay
      .generate(user("Write a haiku about autumn leaves falling on a quiet pond.", { n: 2 }))
      .catch((e) => e);
    expect((error as Error).message).toContain("n: recorded 1, requested 2");
  });
});

describe("cassette files", () => {
  it("tolerates a torn last line, and a new recorder cuts it before appending", async () => {
    const path = join(dir, "torn.jsonl");
    await withRecorder(mock(), { path }).generate(user("before the crash"));
    appendFileSync(path, '{"v":1,"type":"call","key":"3f2a","request":{"messages":[{"con');

    const replay = new ReplayModel({ path });
    expect(replay.tornLines).toBe(1);
    expect((await replay.generate(user("before the crash"))).choices[0]?.text).toContain("before the crash");

    await withRecorder(mock(), { path }).generate(user("after the crash"));
    const repaired = new ReplayModel({ path });
    expect(repaired.tornLines).toBe(0);
    expect((await repaired.generate(user("after the crash"))).choices[0]?.text).toContain("after the crash");
  });

  it("rejects a corrupt line in the middle with its line number", () => {
    const path = join(dir, "corrupt.jsonl");
    writeFileSync(path, 'not json\n{"v":1,"type":"capabilities","model":"m","capabilities":{}}\n');
    expect(() => new ReplayModel({ path })).toThrow(
      expect.objectContaining({ category: "cassette_invalid" }),
    );
    expect(() => new ReplayModel({ path })).toThrow(/corrupt\.jsonl:1: not JSON/);
  });

  it("reports a missing cassette as not_found in one line", () => {
    const path = join(dir, "nope.jsonl");
    let error: unknown;
    try {
      new ReplayModel({ path });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ category: "not_found", userFacing: true });
    expect((error as Error).message).toBe(`replay cassette not found: ${path}`);
  });
});
