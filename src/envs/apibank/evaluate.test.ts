import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { type CallArgument, parseCall } from "./call.ts";
import { type ApiBankData, loadApiBank } from "./data.ts";
import {
  ERROR_CATEGORIES,
  type ErrorCategory,
  evaluatePoints,
  exactPredictor,
  Judge,
  type JudgeOptions,
  type Predictor,
  responseText,
  summarizeEvaluation,
} from "./evaluate.ts";
import { ApiBankWorld, type Level } from "./executor.ts";
import { type CallPoint, levelPoints, type Point, pointPrompt } from "./points.ts";
import { SCORING_RULE_IDS } from "./scoring.ts";

const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

let data: ApiBankData;
beforeAll(() => {
  // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
  data = loadApiBank(DATA_DIR);
});

/** A level scored by `predictor`, corrected scoring unless `options` say otherwise. */
async function run(level: Level, predictor: Predictor, options: JudgeOptions = { scoring: "corrected" }) {
  const world = new ApiBankWorld(data, { level });
  const judge = new Judge(world, options);
  const records = await evaluatePoints(judge, levelPoints(data, level), predictor);
  return summarizeEvaluation(level, predictor.id, records, {
    scoring: judge.scoring,
    state: judge.state,
    reference: judge.reference,
    icl: false,
    retriever: world.retriever.kind,
  });
}

describe("API-Bank test points", () => {
  it("rebuilds the published point counts from the dialogues and joins every test record", () => {
    const count = (level: Level) => {
      const points = levelPoints(data, level);
      return [
        points.filter((p) => p.kind === "call").length,
        points.filter((p) => p.kind === "response").length,
      ];
    };
    expect(count(1)).toEqual([399, 375]);
    expect(count(2)).toEqual([135, 103]);
    expect(count(3)).toEqual([245, 50]);
    const calls1 = levelPoints(data, 1).filter((p): p is CallPoint => p.kind === "call");
    expect(
      calls1
        .filter((p) => p.internet)
        .map((p) => p.gold.name)
        .sort(),
    ).toEqual([...Array(5).fill("Dictionary"), ...Array(4).fill("Translate")]);
    // 10 of the level-1 call points follow another API turn directly (API→API): odd sample ids. Each repeats
    // the prompt and gold call of the even-id point of its own turn, so 389 distinct calls are counted 399 times.
    const odd = calls1.filter((p) => "id" in p.ref && p.ref.id % 2 === 1);
    expect(odd).toHaveLength(10);
    const twin = (p: CallPoint) =>
      calls1.find((q) => q !== p && pointPrompt(q) === pointPrompt(p) && q.expected === p.expected);
    expect(odd.filter((p) => twin(p) === undefined)).toEqual([]);
  });
});

describe("the exact twin (gold answers) through the evaluator", () => {
  it("level 1: 399/399 calls (390/390 without the 9 internet points), ROUGE-L 1.0 over 375 replies", async () => {
    const s = await run(1, exactPredictor);
    expect([s.points, s.call_correct, s.call_accuracy]).toEqual([399, 399, 1]);
    expect(s.offline).toEqual({ points: 390, correct: 390, call_accuracy: 1 });
    expect(s.internet).toEqual({ points: 9, correct: 9, apis: ["Dictionary", "Translate"] });
    expect(s.rouge_l).toBe(1);
    expect(Object.values(s.errors).every((n) => n === 0)).toBe(true);
  });

  it("level 2: 135/135 calls including 45/45 ToolSearcher calls, ROUGE-L 1.0 over 103 replies", async () => {
    const s = await run(2, exactPredictor);
    expect([s.points, s.call_correct]).toEqual([135, 135]);
    expect(s.toolsearcher).toEqual({ retriever: "recorded+bm25", points: 45, correct: 45 });
    expect(s.rouge_l).toBe(1);
  });

  it("level 3: 245/245 steps, 50/50 samples", async () => {
    const s = await run(3, exactPredictor);
    expect([s.points, s.call_correct]).toEqual([245, 245]);
    expect(s.samples).toEqual({ total: 50, correct: 50, accuracy: 1 });
    expect(s.rouge_l).toBeCloseTo(1, 6);
  });

  it("against the recorded results instead (API-Bank's reference), level 1 loses exactly the 10 drifted points", async () => {
    const s = await run(1, exactPredictor, {
      rules: SCORING_RULE_IDS.filter((r) => r !== "executed-reference"),
    });
    expect(s.call_correct).toBe(389);
    expect(s.errors).toMatchObject({ exception: 5, wrong_result: 5 });
  });

  it("an empty predictor scores 0", async () => {
    const s = await run(2, { id: "empty", predict: async () => ({ text: "" }) });
    expect([s.call_correct, s.rouge_l, s.errors.no_api_call]).toEqual([0, 0, 135]);
  });
});

function format(name: string, args: readonly Pick<CallArgument, "key" | "text">[]): string {
  return `API-Request: [${name}(${args.map((a) => `${a.key}='${a.text}'`).join(", ")})]`;
}

/** Mutants of a gold call, each with the categories it may land in. */
function mutants(
  point: CallPoint,
  others: readonly CallPoint[],
): [string, string, readonly ErrorCategory[]][] {
  const parsed = parseCall(point.expected);
  if (!parsed.ok) throw new Error(`gold of ${point.key} does not parse`);
  const { name, args } = parsed.call;
  const out: [string, string, readonly ErrorCategory[]][] = [
    [
      "wrong API name",
      format(name === "GetUserToken" ? "QueryBalance" : "GetUserToken", args),
      ["api_hallucination"],
    ],
    ["unknown API name", format(`${name}V2`, args), ["api_hallucination"]],
    ["unknown parameter", format(name, [...args, { key: "zzz", text: "1" }]), ["invalid_parameters"]],
    ["garbled syntax", point.expected.replace("(", " "), ["false_format"]],
    ["no call", "Sure, I can help you with that.", ["no_api_call"]],
  ];
  if (args.length > 0) {
    out.push(["dropped parameter", format(name, args.slice(1)), ["missing_parameters"]]);
    out.push(["unterminated quote", point.expected.replace(/'\)\]$/, ")]"), ["false_format"]]);
  }
  if (name === "ToolSearcher") {
    // Keywords another point searched with, for another API: the search finds that API, or nothing.
    const other = others.find(
      (o) =>
        o.gold.name === "ToolSearcher" &&
        o.gold.recorded.output !== point.gold.recorded.output &&
        JSON.stringify(o.gold.recorded.output) !== JSON.stringify(point.gold.recorded.output),
    );
    const keywords = other ? String(other.gold.args.keywords) : "zzzz";
    out.push(["wrong value", format(name, [{ key: "keywords", text: keywords }]), ["failed_retrieval"]]);
  } else if (args.length > 0) {
    out.push([
      "wrong values",
      format(
        name,
        args.map((a) => ({ key: a.key, text: `${a.text}-x9` })),
      ),
      ["invalid_parameters", "exception", "wrong_result"],
    ]);
  }
  return out;
}

describe("mutated gold calls land in the right error category", () => {
  for (const level of [1, 2] as const) {
    it(`level ${level}: every mutant of every call point is wrong, in its category`, async () => {
      const world = new ApiBankWorld(data, { level });
      const judge = new Judge(world, { scoring: "corrected" });
      const points = levelPoints(data, level).filter((p): p is CallPoint => p.kind === "call");
      const seen: Record<string, Record<string, number>> = {};
      for (const point of points) {
        for (const [mutation, text, allowed] of mutants(point, points)) {
          const v = await judge.judgeCall(point, text);
          const got = v.correct ? "correct" : (v.category ?? "none");
          seen[mutation] ??= {};
          const tally = seen[mutation];
          if (tally) tally[got] = (tally[got] ?? 0) + 1;
          if (!allowed.includes(got as ErrorCategory)) {
            throw new Error(`${point.key}: ${mutation} gave ${got} (${v.detail}) for ${text}`);
          }
        }
      }
      expect(Object.keys(seen).sort()).toContain("wrong API name");
    });
  }

  it("a call that raises is an exception: the error text is the API's", async () => {
    const world = new ApiBankWorld(data, { level: 1 });
    const judge = new Judge(world, { scoring: "corrected" });
    const point = levelPoints(data, 1).find(
      (p): p is CallPoint => p.kind === "call" && p.gold.name === "GetUserToken",
    );
    if (!point) throw new Error("no GetUserToken point");
    const v = await judge.judgeCall(
      point,
      `API-Request: [GetUserToken(username='${String(point.gold.args.username)}', password='wrong')]`,
    );
    expect(v).toMatchObject({ correct: false, category: "exception", detail: "The password is incorrect." });
  });

  it("equivalent inputs pass under the API's own rule (fuzzy content, normalised codes and dates)", async () => {
    const world = new ApiBankWorld(data, { level: 1 });
    const judge = new Judge(world, { scoring: "corrected" });
    const calls = levelPoints(data, 1).filter((p): p is CallPoint => p.kind === "call");
    const agenda = calls.find(
      (p) => p.gold.name === "AddAgenda" && String(p.gold.args.content).split(" ").length >= 3,
    );
    const stock = calls.find((p) => p.gold.name === "QueryStock");
    if (!agenda || !stock) throw new Error("points missing");
    const a = agenda.gold.args;
    const withContent = (content: string) =>
      `API-Request: [AddAgenda(token='${String(a.token)}', content='${content}', time='${String(a.time)}', location='${String(a.location)}')]`;
    // One extra word keeps the word-set Jaccard of a 3+-word content above 0.5; other words do not.
    expect((await judge.judgeCall(agenda, withContent(`${String(a.content)} today`))).correct).toBe(true);
    expect(await judge.judgeCall(agenda, withContent("something else entirely"))).toMatchObject({
      correct: false,
      category: "wrong_result",
    });
    const s = stock.gold.args;
    const v = await judge.judgeCall(
      stock,
      `API-Request: [QueryStock(stock_code=' ${String(s.stock_code).toLowerCase()} ', date='${String(s.date)}')]`,
    );
    expect(v.correct).toBe(true);
  });
});

describe("responses", () => {
  it("strip a leading 'AI:' (levels 1–2) or every speaker tag (level 3) before scoring", async () => {
    expect(responseText(1, "AI: Done. AI: yes")).toBe("Done. AI: yes");
    expect(responseText(3, "AI: Done. User: ok")).toBe("Done.  ok");
    const world = new ApiBankWorld(data, { level: 1 });
    const point = levelPoints(data, 1).find(
      (p): p is Extract<Point, { kind: "response" }> => p.kind === "response",
    );
    if (!point) throw new Error("no response point");
    const judge = new Judge(world, { scoring: "corrected" });
    expect(judge.judgeResponse(point, `AI: ${point.expected}`).rougeL).toBe(1);
    expect(judge.judgeResponse(point, "").rougeL).toBe(0);
  });

  it("summary.json lists every error category and is a pure function of the records", async () => {
    const a = await run(1, exactPredictor);
    const b = await run(1, exactPredictor);
    expect(Object.keys(a.errors)).toEqual([...ERROR_CATEGORIES]);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });
});
