import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { calculate } from "./apis-services.ts";
import { type ApiBankData, loadApiBank } from "./data.ts";
import { ApiBankWorld, coerce, type Execution, LEVEL12_APIS } from "./executor.ts";
import { Bm25Retriever } from "./retriever.ts";
import { pyEqual } from "./values.ts";

/** The shared data directory: `../shared/data` relative to the project root. */
const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

let data: ApiBankData;
beforeAll(() => {
  // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
  data = loadApiBank(DATA_DIR);
});

function result(run: Execution) {
  if (!run.ok) throw new Error(`${run.category}: ${run.message}`);
  return run.result;
}

/** Replay every recorded API turn of levels 1–2; count the results reproduced exactly, by API of the misses. */
async function replayRecorded(world1: ApiBankWorld, world2: ApiBankWorld, state: "dialogue" | "fresh") {
  let total = 0;
  let exact = 0;
  const misses: Record<string, number> = {};
  for (const [level, world] of [
    [1, world1],
    [2, world2],
  ] as const) {
    for (const d of data.dialogues[level]) {
      let system = world.system(d.file);
      for (const t of d.turns) {
        if (t.role !== "API") continue;
        if (state === "fresh") system = world.system(d.file);
        const r = result(await system.execute(t.api_name, t.param_dict, t.result));
        total++;
        if (pyEqual(r as never, t.result as never)) exact++;
        else misses[t.api_name] = (misses[t.api_name] ?? 0) + 1;
      }
    }
  }
  return { total, exact, misses };
}

describe("the level-1/2 APIs against the results recorded in the dialogues", () => {
  it("implements every API the level-1, level-2 and level-3 data call (49 + ToolSearcher; level 3 replays 21)", () => {
    const used = new Set<string>();
    for (const level of [1, 2] as const) {
      for (const d of data.dialogues[level])
        for (const t of d.turns) if (t.role === "API") used.add(t.api_name);
    }
    const world = new ApiBankWorld(data, { level: 1 });
    expect([...used].filter((name) => !world.apis.has(name))).toEqual([]);
    expect(LEVEL12_APIS).toHaveLength(49);
    expect(used.size).toBe(50);
    const l3 = new ApiBankWorld(data, { level: 3 });
    const l3used = new Set(data.level3.samples.flatMap((s) => s.apis.map((a) => a.api_name)));
    expect([...l3used].filter((name) => !l3.apis.has(name))).toEqual([]);
    expect(l3used.size).toBe(22);
  });

  it("with the dialogue's earlier calls replayed: 498 of 508 results exact; the 10 others are database drift", async () => {
    const r = await replayRecorded(
      new ApiBankWorld(data, { level: 1 }),
      new ApiBankWorld(data, { level: 2 }),
      "dialogue",
    );
    expect(r.total).toBe(508);
    expect(r.exact).toBe(498);
    // CancelTimedSwitch: every recorded call cancels device "10000025", which init_database/TimeSwitch.json (keyed
    // by device names) does not hold. QueryScene: the recorded devices are capitalised ("Light"), the file's not.
    expect(r.misses).toEqual({ CancelTimedSwitch: 5, QueryScene: 5 });
  });

  it("on fresh databases per call (no replay) 8 more miss: the recorded results depend on earlier calls", async () => {
    const r = await replayRecorded(
      new ApiBankWorld(data, { level: 1 }),
      new ApiBankWorld(data, { level: 2 }),
      "fresh",
    );
    expect(r.exact).toBe(490);
    expect(r.misses).toEqual({
      CancelTimedSwitch: 5,
      QueryScene: 5,
      ForgotPassword: 4, // the second step needs the first step's pending code
      GetUserToken: 2, // after a password change or a registration in the same dialogue
      RegisterUser: 1,
      QueryRegistration: 1, // an appointment registered earlier in the dialogue
    });
  });

  it("with plain BM25 instead of the recorded searches, ToolSearcher reproduces 34 of its 45 recorded results", async () => {
    const plain = (level: 1 | 2) =>
      new ApiBankWorld(data, { level, retriever: (l) => new Bm25Retriever(l.documents) });
    const r = await replayRecorded(plain(1), plain(2), "dialogue");
    expect(r.misses).toEqual({ CancelTimedSwitch: 5, QueryScene: 5, ToolSearcher: 11 });
  });
});

describe("the executor", () => {
  it("converts values as API-Bank's ToolManager does and names what it rejects", async () => {
    expect(coerce("int", "12")).toEqual({ ok: true, value: 12 });
    expect(coerce("int", "-1").ok).toBe(false);
    expect(coerce("float", "3.25")).toEqual({ ok: true, value: 3.25 });
    expect(coerce("float", "3.2.5").ok).toBe(false);
    expect(coerce("bool", "True")).toEqual({ ok: true, value: true });
    expect(coerce("bool", "yes")).toEqual({ ok: true, value: false });
    expect(coerce("list(str)", "['a', \"b\"]")).toEqual({ ok: true, value: ["a", "b"] });
    expect(coerce("list(str)", "[1]").ok).toBe(false);
    const system = new ApiBankWorld(data, { level: 1 }).system();
    const hotel = {
      hotel_name: "Hilton",
      check_in_time: "2023-08-10",
      check_out_time: "2023-08-15",
      adult_count: "2",
      child_count: "1",
    };
    expect(await system.execute("BookHotel", { ...hotel, room_count: "two" })).toMatchObject({
      ok: false,
      category: "invalid_parameters",
    });
    expect(await system.execute("BookHotel", { ...hotel, room_count: "1", rooms: "1" })).toMatchObject({
      ok: false,
      category: "invalid_parameters",
    });
    expect(await system.execute("BookHotel", hotel)).toEqual({
      ok: false,
      category: "missing_parameters",
      message: "call() missing 1 required positional argument: 'room_count'",
    });
    expect(await system.execute("Teleport", {})).toMatchObject({ ok: false, category: "api_hallucination" });
  });

  it("raises API-Bank's exceptions, and each system has its own databases", async () => {
    const world = new ApiBankWorld(data, { level: 1 });
    const a = world.system();
    expect(result(await a.execute("GetUserToken", { username: "JohnDoe", password: "nope" })).exception).toBe(
      "The password is incorrect.",
    );
    expect(
      result(
        await a.execute("AddAgenda", {
          token: "a9s8d7f6g5h4j3k2l1",
          content: "x",
          time: "tomorrow",
          location: "y",
        }),
      ).exception,
    ).toBe("time data 'tomorrow' does not match format '%Y-%m-%d %H:%M:%S'");
    expect(result(await a.execute("DeleteAccount", { token: "a9s8d7f6g5h4j3k2l1" })).output).toEqual({
      status: "success",
    });
    expect(
      result(await a.execute("GetUserToken", { username: "JohnDoe", password: "pass123" })).exception,
    ).toBe("The username does not exist.");
    const b = world.system();
    expect(
      result(await b.execute("GetUserToken", { username: "JohnDoe", password: "pass123" })).output,
    ).toEqual({
      token: "a9s8d7f6g5h4j3k2l1",
    });
  });

  it("keeps ForgotPassword's two-step state within one system", async () => {
    const system = new ApiBankWorld(data, { level: 1 }).system();
    const second = { status: "Verification Code", verification_code: "970420", new_password: "n3w" };
    expect(result(await system.execute("ForgotPassword", second)).exception).toBe(
      "You need to call the API with status 'Forgot Password' at first.",
    );
    expect(
      result(
        await system.execute("ForgotPassword", {
          status: "Forgot Password",
          username: "foo",
          email: "foo@example.com",
        }),
      ).output,
    ).toBe(970420);
    expect(
      result(await system.execute("ForgotPassword", { ...second, verification_code: "1" })).exception,
    ).toBe("The verification code is incorrect.");
    expect(result(await system.execute("ForgotPassword", second)).output).toBe("success");
    expect(
      result(await system.execute("GetUserToken", { username: "foo", password: "n3w" })).exception,
    ).toBeNull();
  });

  it("Calculator follows API-Bank's algorithm, quirks included", () => {
    expect(calculate("(5*6)/(2+3)")).toBe(6);
    expect(calculate("25*3+7/3")).toBeCloseTo(77.33333333333333, 12);
    expect(calculate("10-2-3")).toBe(5);
    expect(() => calculate("((1+2)*3)")).toThrow("')' is not in list"); // first "(" meets first ")"
    expect(() => calculate("1/0")).toThrow("float division by zero");
    expect(() => calculate("2^3")).toThrow("invalid formula");
  });
});
