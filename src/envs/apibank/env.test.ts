import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { type ApiBankData, loadApiBank } from "./data.ts";
import { ApiBankEnv, renderResult } from "./env.ts";
import { Judge } from "./evaluate.ts";
import { ApiBankWorld } from "./executor.ts";
import { type CallPoint, levelPoints } from "./points.ts";

const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

let data: ApiBankData;
let judge: Judge;
let points: CallPoint[];
beforeAll(() => {
  // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
  data = loadApiBank(DATA_DIR);
  judge = new Judge(new ApiBankWorld(data, { level: 1 }));
  points = levelPoints(data, 1).filter((p): p is CallPoint => p.kind === "call");
});

function point(name: string): CallPoint {
  const p = points.find((x) => x.gold.name === name);
  if (!p) throw new Error(`no ${name} point`);
  return p;
}

describe("the agent protocol", () => {
  it("executes the agent's call, appends API-Request: [...]->result, and ends when the agent answers", async () => {
    const p = point("GetUserToken");
    const env = new ApiBankEnv(judge, p);
    const first = await env.reset(1);
    expect(first.text).toContain("API descriptions:");
    expect(first.text.endsWith("Generate API Request or AI Response:")).toBe(true);
    expect(first.transcript.some((l) => l.startsWith("Generate"))).toBe(false);
    const call = env.parseAction(`Let me check.\n${p.expected}`);
    if (!call.ok) throw new Error(call.message);
    const step = await env.step(call.value);
    expect(step.done).toBe(false);
    expect(step.reward).toBe(1);
    expect(step.observation.transcript.at(-1)).toMatch(/^API-Request: \[GetUserToken\(.*\)\]->\{'token': '/);
    const reply = env.parseAction("AI: I have your token.");
    if (!reply.ok) throw new Error(reply.message);
    expect(reply.value).toEqual({ kind: "reply", text: "I have your token." });
    const end = await env.step(reply.value);
    expect(end).toMatchObject({ done: true, success: true, info: { first_call_correct: true } });
    expect(env.terminal).toBe(true);
  });

  it("a wrong first call fails the episode with its category; calls change the episode's state", async () => {
    const p = point("GetUserToken");
    const env = new ApiBankEnv(judge, p, { maxCalls: 2 });
    await env.reset(1);
    const wrong = env.parseAction("API-Request: [DeleteAccount(token='a9s8d7f6g5h4j3k2l1')]");
    if (!wrong.ok) throw new Error(wrong.message);
    const s1 = await env.step(wrong.value);
    expect(s1.info).toMatchObject({ first_call_correct: false, category: "api_hallucination" });
    expect(s1.feedback).toBe("{'status': 'success'}");
    // The account is gone for the rest of the episode; the second call reaches the call limit.
    const again = env.parseAction("API-Request: [DeleteAccount(token='a9s8d7f6g5h4j3k2l1')]");
    if (!again.ok) throw new Error(again.message);
    const s2 = await env.step(again.value);
    expect(s2.feedback).toBe("Exception: The token is invalid.");
    expect(s2).toMatchObject({ done: true, success: false });
  });

  it("a garbled call is a parse error with its category, not an action", () => {
    const env = new ApiBankEnv(judge, point("GetUserToken"));
    expect(env.parseAction("API-Request: [GetUserToken(username='x'")).toMatchObject({
      ok: false,
      category: "false_format",
    });
  });

  it("renders results as the test inputs do, Calculator floats included", () => {
    expect(renderResult("Calculator", 6, null)).toBe("6.0");
    expect(renderResult("QueryBalance", 215.66, null)).toBe("215.66");
    expect(renderResult("AddAgenda", "success", null)).toBe("success");
    expect(renderResult("AddAgenda", null, "Content should not be null")).toBe(
      "Exception: Content should not be null",
    );
  });
});
