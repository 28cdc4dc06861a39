import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parsePyLiteral } from "../envs/apibank/call.ts";
import { ApiSchemaSchema } from "../envs/apibank/data.ts";
import { LlmError } from "../llm/errors.ts";
import { MockLanguageModel } from "../llm/testing/mock.ts";
import {
  apiTurn,
  buildTestGuard,
  criticAgreement,
  exactTwinCritic,
  exportRecords,
  goldTrajectory,
  type Instruction,
  llmCritic,
  loadInstructions,
  parseTrainingRecords,
  prefilter,
  repairDescription,
  selectTrajectories,
  TestTextGuard,
  type TrainingSet,
  type Trajectory,
} from "./index.ts";

const DATA = "/work/shared/data";
const hasData = existsSync(`${DATA}/api-bank/training-data/lv3-train.json`);
const needData = () => {
  if (!hasData) throw new Error(`API-Bank data missing: ${DATA}/api-bank (these tests need it)`);
};

const TS = `{"apiCode": "ToolSearcher", "description": "Searches tools.", "parameters": {"keywords": {"type": "str", "description": "k"}}, "response": {"best_matchs": {"type": "dict", "description": "m"}}}`;
const WEATHER =
  "{'name': 'Weather', 'description': 'w', 'input_parameters': {'city': {'type': 'str', 'description': 'c'}}, 'output_parameters': {'t': {'type': 'int', 'description': 't'}}}";
const records = [
  {
    instruction: "Generate an API request. The current time is {{time}}.\nAPI descriptions:\n",
    input: `${TS}\nUser: Weather in Paris?TIME: 2034-01-01 10:00:00\nGenerate API Request: `,
    output: "API-Request: [ToolSearcher(keywords='weather')]",
  },
  {
    instruction: "Generate a response. The current time is {{time}}.\nAPI descriptions:\n",
    input: `${TS}\nUser: Weather in Paris?TIME: 2034-01-01 10:00:00\nAPI-Request: [ToolSearcher(keywords='weather')]->${WEATHER}\nAPI-Request: [Weather(city='Paris')]->{'t': 20}\nGenerate AI Response: `,
    output: "AI: It is 20 degrees in Paris.\n",
  },
];

function set(guard = TestTextGuard.fromTexts([])): TrainingSet {
  return { ...parseTrainingRecords(records, guard), files: [] };
}

function rollout(instruction: Instruction, steps: [string, string | null][], reply?: string): Trajectory {
  const turns: Trajectory["turns"][number][] = [{ role: "user", text: instruction.request }];
  for (const [req, result] of steps) {
    turns.push({ role: "agent", text: req });
    const name = /\[(\w+)/.exec(req)?.[1] ?? "";
    const output = name === "ToolSearcher" ? JSON.parse(WEATHER.replaceAll("'", '"')) : { t: 20 };
    turns.push(apiTurn(name, result === null ? output : null, result));
  }
  if (reply !== undefined) turns.push({ role: "agent", text: reply });
  return { instructionId: instruction.id, turns };
}

describe("instructions and the leakage guard", () => {
  it("groups records by request, keeps the gold chain and time", () => {
    const s = set();
    expect(s.instructions).toHaveLength(1);
    const i = s.instructions[0];
    expect(i?.request).toBe("Weather in Paris?");
    expect(i?.time).toBe("2034-01-01 10:00:00");
    expect(i?.golds[0]?.calls.map((c) => c.name)).toEqual(["ToolSearcher", "Weather"]);
  });

  it("refuses a planted test text, whatever its spacing, case or TIME suffix", () => {
    const s = set(TestTextGuard.fromTexts(["User: weather   in PARIS?"]));
    expect(s.instructions).toHaveLength(0);
    expect(s.refused.map((r) => r.request)).toEqual(["Weather in Paris?"]);
  });

  it("on the real data: 324 instructions, none a test text, and a planted test dialogue is refused", () => {
    needData();
    const guard = buildTestGuard(DATA);
    const s = loadInstructions(DATA, guard);
    expect(s.instructions).toHaveLength(324);
    expect(s.refused).toHaveLength(0);
    for (const i of s.instructions) expect(guard.has(i.request)).toBe(false);
    // Plant the first user turn of a level-1 test dialogue into a training record.
    const dir = `${DATA}/api-bank/lv1-lv2-samples/level-1-given-desc`;
    const file =
      readdirSync(dir)
        .sort()
        .find((f) => readFileSync(`${dir}/${f}`, "utf8").trim() !== "") ?? "";
    const first = JSON.parse(readFileSync(`${dir}/${file}`, "utf8").split("\n")[0] ?? "{}") as {
      text?: string;
    };
    const planted = first.text ?? "";
    expect(guard.has(planted)).toBe(true);
    const leaked = parseTrainingRecords(
      records.map((r) => ({ ...r, input: r.input.replace("Weather in Paris?", planted) })),
      guard,
    );
    expect(leaked.instructions).toHaveLength(0);
    expect(leaked.refused).toHaveLength(1);
    // Every gold trajectory the set can export: no user turn is a test text.
    const kept = s.instructions.flatMap((i) => i.golds.map((g) => goldTrajectory(i, g)));
    for (const t of kept)
      for (const turn of t.turns) if (turn.role === "user") expect(guard.has(turn.text)).toBe(false);
  });

  it("search results with a bare type name or an apostrophe in a word are repaired into descriptions", () => {
    const text =
      "{'name': 'Fit', 'description': 'The user's gym.', 'input_parameters': {'city': {'type': str, 'description': 'c'}}}";
    const value = parsePyLiteral(repairDescription(text));
    expect(value.ok && ApiSchemaSchema.parse(value.value)).toEqual({
      name: "Fit",
      description: "The user's gym.",
      input_parameters: { city: { type: "str", description: "c" } },
      output_parameters: {},
    });
    // An apostrophe inside double quotes reads the same after the repair (only unreadable results are repaired).
    const good = "{'name': 'A', 'description': \"it's\", 'n': 'str'}";
    expect(parsePyLiteral(repairDescription(good))).toEqual(parsePyLiteral(good));
  });

  it("on the real data the rule prefilter passes 325 of the 337 gold chains", () => {
    needData();
    const s = loadInstructions(DATA);
    const verdicts = s.instructions.flatMap((i) => i.golds.map((g) => prefilter(i, goldTrajectory(i, g))));
    expect(verdicts).toHaveLength(337);
    // The 12 others call an API no search of theirs described (8) or break its schema (4): slips of the data.
    expect(verdicts.filter((v) => v.ok)).toHaveLength(325);
  });
});

describe("critics", () => {
  const s = set();
  const i = s.instructions[0] as Instruction;
  const good = rollout(
    i,
    [
      ["API-Request: [ToolSearcher(keywords='weather today')]", null],
      ["API-Request: [Weather(city='paris')]", null],
    ],
    "20 degrees.",
  );

  it("the prefilter accepts a sound trajectory and names each rejection", () => {
    expect(prefilter(i, good)).toEqual({ ok: true });
    const cases: [Trajectory, string][] = [
      [rollout(i, [["API-Request: [ToolSearcher(keywords='w'", null]], "x"), "parse_error"],
      [rollout(i, [["API-Request: [Weather(city='Paris')]", null]], "x"), "unknown_api"],
      [rollout(i, [["API-Request: [ToolSearcher(query='w')]", null]], "x"), "invalid_parameter"],
      [rollout(i, [["API-Request: [ToolSearcher()]", null]], "x"), "missing_parameter"],
      [rollout(i, [["API-Request: [ToolSearcher(keywords='w')]", "boom"]], "x"), "unresolved_exception"],
      [rollout(i, [["API-Request: [ToolSearcher(keywords='w')]", null]]), "no_final_reply"],
      [
        rollout(
          i,
          [
            ["API-Request: [ToolSearcher(keywords='w')]", null],
            ["API-Request: [ToolSearcher(keywords=' W')]", null],
          ],
          "x",
        ),
        "repeated_call",
      ],
    ];
    for (const [t, reason] of cases) expect(prefilter(i, t)).toMatchObject({ ok: false, reason });
    expect(
      prefilter(i, rollout(i, [["API-Request: [ToolSearcher(keywords='w', x=[1)]", null]], "x")),
    ).toMatchObject({ ok: false });
  });

  it("the exact twin accepts the gold chain up to argument spelling and ToolSearcher keywords, rejects others", () => {
    expect(exactTwinCritic(i, good).score).toBe(10);
    const wrong = rollout(
      i,
      [
        ["API-Request: [ToolSearcher(keywords='w')]", null],
        ["API-Request: [Weather(city='Rome')]", null],
      ],
      "x",
    );
    expect(exactTwinCritic(i, wrong).score).toBe(1);
    const noReply = rollout(i, [
      ["API-Request: [ToolSearcher(keywords='w')]", null],
      ["API-Request: [Weather(city='Paris')]", null],
    ]);
    expect(exactTwinCritic(i, noReply).score).toBe(1);
  });

  it("the LLM critic reads {score, reason}; an unparseable answer is score 0 with a named error", async () => {
    const okModel = new MockLanguageModel({ respond: () => '{"score": 9, "reason": "fine"}' });
    expect(await llmCritic(okModel)(i, good)).toEqual({ score: 9, reason: "fine" });
    const prompt = okModel.calls[0]?.request.messages.map((m) => m.content).join("\n") ?? "";
    expect(prompt).toContain("Weather in Paris?");
    expect(prompt).toContain("API-Request: [Weather(city='paris')]->{'t': 20}");
    const bad = new MockLanguageModel({ respond: () => "great job!" });
    expect(await llmCritic(bad)(i, good)).toMatchObject({ score: 0, error: "unparseable_verdict" });
    const down = new MockLanguageModel({ respond: () => new LlmError("connection", "down") });
    await expect(llmCritic(down)(i, good)).rejects.toThrow("down");
  });

  it("precision and recall against a reference", () => {
    const a = criticAgreement([
      { accepted: true, reference: true },
      { accepted: true, reference: false },
      { accepted: false, reference: true },
      { accepted: false, reference: true },
      { accepted: false, reference: false },
    ]);
    expect(a).toMatchObject({ tp: 1, fp: 1, fn: 2, tn: 1, precision: 0.5, recall: 1 / 3 });
    expect(criticAgreement([{ accepted: false, reference: false }]).precision).toBeNull();
  });

  it("on the real data every gold chain is accepted by the exact twin", () => {
    needData();
    const real = loadInstructions(DATA);
    for (const ins of real.instructions)
      for (const g of ins.golds) expect(exactTwinCritic(ins, goldTrajectory(ins, g)).score).toBe(10);
  });
});

describe("selection", () => {
  const t = (id: string, agentTurns: number, tag: string): Trajectory => ({
    instructionId: id,
    turns: [
      { role: "user", text: tag },
      ...Array.from({ length: agentTurns }, () => ({ role: "agent" as const, text: tag })),
    ],
  });
  it("threshold, at most k per instruction, score then fewer steps then input order", () => {
    const items = [
      { trajectory: t("a", 3, "a1"), score: 9 },
      { trajectory: t("a", 2, "a2"), score: 9 },
      { trajectory: t("a", 1, "a3"), score: 10 },
      { trajectory: t("a", 2, "a4"), score: 9 },
      { trajectory: t("b", 1, "b1"), score: 7 },
      { trajectory: t("c", 1, "c1"), score: 8 },
    ];
    const kept = selectTrajectories(items).map((s) => s.trajectory.turns[0]?.text);
    expect(kept).toEqual(["a3", "a2", "c1"]);
    expect(selectTrajectories([...items].reverse()).map((s) => s.trajectory.turns[0]?.text)).toEqual([
      "c1",
      "a3",
      "a4",
    ]);
    expect(selectTrajectories(items, { threshold: 0, perInstruction: 1 })).toHaveLength(3);
  });
});

describe("export", () => {
  const s = set();
  const i = s.instructions[0] as Instruction;
  const g = goldTrajectory(i, i.golds[0] ?? { calls: [], reply: "" });

  it("openai: agent turns are weighted assistant messages, results are user messages", () => {
    const [rec] = exportRecords("openai", s, [g]) as {
      messages: { role: string; content: string; weight?: number }[];
    }[];
    const roles = rec?.messages.map((m) => m.role);
    expect(roles).toEqual(["system", "user", "assistant", "user", "assistant", "user", "assistant"]);
    for (const m of rec?.messages ?? []) expect(m.weight === 1).toBe(m.role === "assistant");
    expect(rec?.messages[6]?.content).toBe("It is 20 degrees in Paris.");
    expect(rec?.messages[5]?.content).toBe("->{'t': 20}");
  });

  it("trl: the same conversation without weights; only assistant messages are agent turns", () => {
    const [rec] = exportRecords("trl", s, [g]) as { messages: Record<string, unknown>[] }[];
    const assistant = rec?.messages.filter((m) => m.role === "assistant").map((m) => m.content);
    expect(assistant).toEqual([
      "API-Request: [ToolSearcher(keywords='weather')]",
      "API-Request: [Weather(city='Paris')]",
      "It is 20 degrees in Paris.",
    ]);
    for (const m of rec?.messages ?? []) expect(Object.keys(m).sort()).toEqual(["content", "role"]);
  });

  it("apibank: one sample per agent turn, rebuilding the data's own records", () => {
    const samples = exportRecords("apibank", s, [g]) as {
      instruction: string;
      input: string;
      output: string;
    }[];
    expect(samples.map((x) => x.output)).toEqual([
      "API-Request: [ToolSearcher(keywords='weather')]",
      "API-Request: [Weather(city='Paris')]",
      "AI: It is 20 degrees in Paris.\n",
    ]);
    expect(samples[0]).toEqual({
      ...records[0],
      instruction: records[0]?.instruction.replace("{{time}}", "2034-01-01 10:00:00"),
    });
    expect(samples[2]?.input).toBe(
      records[1]?.input.replace(
        `->${WEATHER}`,
        "->{'name': 'Weather', 'description': 'w', 'input_parameters': {'city': {'type': 'str', 'description': 'c'}}, 'output_parameters': {'t': {'type': 'int', 'description': 't'}}}",
      ),
    );
  });
});
