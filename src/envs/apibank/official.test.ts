import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { type ApiBankData, loadApiBank } from "./data.ts";
import { Judge } from "./evaluate.ts";
import { ApiBankWorld } from "./executor.ts";
import { officialCallText, officialConvert, officialParse, pyIsDigit } from "./official.ts";
import { type CallPoint, levelPoints } from "./points.ts";
import { SCORING_RULE_IDS } from "./scoring.ts";
import {
  departures,
  groupVerdicts,
  loadOfficialVerdicts,
  type OfficialVerdict,
  type VerdictGroup,
  verdictGroups,
} from "./verdicts.ts";

const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

let data: ApiBankData;
let verdicts: OfficialVerdict[];
let groups: VerdictGroup[];
beforeAll(() => {
  // Fails with the loaders' one-line messages (paths included) when the shared data is missing.
  data = loadApiBank(DATA_DIR);
  verdicts = loadOfficialVerdicts(DATA_DIR);
  groups = verdictGroups(data, verdicts);
});

describe("the official reading of a call (Python's re and str semantics)", () => {
  it("finds the first [Name( whose line holds a later )], greedy to the line's last )]", () => {
    expect(officialCallText("x [A(k='v')] y [B(k='w')] z")).toBe("[A(k='v')] y [B(k='w')]");
    expect(officialCallText("[A(k='v',\nq='w')]")).toBeUndefined();
    // Python's `.` stops only at \n; JavaScript's would stop at \r too.
    expect(officialCallText("[A(k='v\rw')]")).toBe("[A(k='v\rw')]");
    // Python's \w is Unicode.
    expect(officialParse("[Äpi(schlüssel='wert')]")).toEqual({
      name: "Äpi",
      params: new Map([["schlüssel", "wert"]]),
    });
  });

  it("cuts a quoted value at the first quote of either kind; a repeated key keeps its place and its last value", () => {
    const call = officialParse(`[F(a='x', b="it's", a='z', c=[1, 2], d=word more)]`);
    expect([...(call?.params ?? [])]).toEqual([
      ["a", "z"],
      ["b", "it"],
      ["c", "[1, 2]"],
      ["d", "word"],
    ]);
  });

  it("isdigit accepts every Unicode digit, int() only the decimal ones; lists stay raw text", () => {
    expect([
      pyIsDigit("12"),
      pyIsDigit("１２"),
      pyIsDigit("٣"),
      pyIsDigit("²"),
      pyIsDigit(""),
      pyIsDigit("1.5"),
    ]).toEqual([true, true, true, true, false, false]);
    expect(officialConvert("int", "０７")).toEqual({ ok: true, value: 7 });
    expect(officialConvert("int", "𝟗")).toEqual({ ok: true, value: 9 });
    expect(officialConvert("int", "²")).toMatchObject({ ok: false, error: "value" });
    expect(officialConvert("int", "-1")).toMatchObject({ ok: false, error: "assertion" });
    expect(officialConvert("float", "2.5")).toEqual({ ok: true, value: 2.5 });
    expect(officialConvert("float", "2.5.1")).toMatchObject({ ok: false, error: "assertion" });
    expect(officialConvert("list(str)", "['a']")).toEqual({ ok: true, value: "['a']" });
    expect(officialConvert("bool", "true")).toEqual({ ok: true, value: false });
  });
});

describe("differential test against API-Bank's evaluator (1,514 verdicts)", () => {
  it("official scoring gives every verdict the official evaluator gave", async () => {
    let agree = 0;
    const wrong: string[] = [];
    for (const group of groups) {
      const ours = await groupVerdicts(group, []);
      for (const [i, row] of group.rows.entries()) {
        if (ours[i] === row.official_correct) agree++;
        else wrong.push(`${group.set} ${row.file}#${row.id}: ${row.pred}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(agree).toBe(1514);
  });

  it("the check can fail: the project's call syntax and list reading break the agreement", async () => {
    let disagree = 0;
    for (const group of groups) {
      const ours = await groupVerdicts(group, ["call-syntax", "python-lists"]);
      disagree += group.rows.filter((row, i) => ours[i] !== row.official_correct).length;
    }
    expect(disagree).toBeGreaterThan(0);
  });

  it("corrected scoring departs only where a named rule says so", async () => {
    const table = [];
    for (const group of groups) table.push(await departures(group));
    for (const d of table) expect(d.unexplained).toEqual([]);
    const exact1 = table.find((d) => d.set === "exact" && d.level === 1);
    const exact2 = table.find((d) => d.set === "exact" && d.level === 2);
    expect([exact1?.official, exact1?.corrected, exact1?.points]).toEqual([347, 399, 399]);
    expect([exact2?.official, exact2?.corrected, exact2?.points]).toEqual([125, 135, 135]);
    // Every rule is named in the table, whether or not it changes a verdict here.
    expect(Object.keys(exact1?.byRule ?? {})).toEqual([...SCORING_RULE_IDS]);
  });
});

describe("tricky inputs, with the verdicts API-Bank's evaluator gives them", () => {
  // The official column was derived by running evaluator.py of DAMO-ConvAI api-bank 483554e, unmodified
  // (Evaluator.evaluate after get_api_call, a fresh Evaluator per case), with its network-only imports stubbed.
  it("official and corrected verdicts of quotes, unicode, digits, dates, repeated and missing keys, case", async () => {
    const world = new ApiBankWorld(data, { level: 1 });
    const calls = levelPoints(data, 1).filter((p): p is CallPoint => p.kind === "call");
    const first = (file: string, api: string) => {
      const p = calls.find((c) => c.ref && "file" in c.ref && c.ref.file === file && c.gold.name === api);
      if (!p) throw new Error(file);
      return p;
    };
    const tok = first("AddAgenda-AddAlarm-GetUserToken-level-2-1.jsonl", "GetUserToken");
    const hotel = first("BookHotel-level-1-1.jsonl", "BookHotel");
    const email = first("SendEmail-level-1-1.jsonl", "SendEmail");
    const agenda = first("AddAgenda-AddAlarm-GetUserToken-level-2-1.jsonl", "AddAgenda");
    const h = hotel.gold.args;
    const hotelCall = (room: string) =>
      `API-Request: [BookHotel(hotel_name='${h.hotel_name}', check_in_time='${h.check_in_time}', check_out_time='${h.check_out_time}', room_count='${room}', adult_count='${h.adult_count}', child_count='${h.child_count}')]`;
    const a = agenda.gold.args;
    const cases: [string, CallPoint, string, boolean, boolean][] = [
      [
        "double quotes",
        tok,
        `API-Request: [GetUserToken(username="JaneSmith", password="password")]`,
        true,
        true,
      ],
      [
        "mixed quotes close a value",
        tok,
        `API-Request: [GetUserToken(username='JaneSmith", password='password')]`,
        true,
        false,
      ],
      [
        "repeated key: the last wins",
        tok,
        `API-Request: [GetUserToken(username='x', password='password', username='JaneSmith')]`,
        true,
        false,
      ],
      [
        "key in the wrong case",
        tok,
        `API-Request: [GetUserToken(Username='JaneSmith', password='password')]`,
        false,
        false,
      ],
      [
        "API name in the wrong case",
        tok,
        `API-Request: [getUserToken(username='JaneSmith', password='password')]`,
        false,
        false,
      ],
      [
        "spaces around =",
        tok,
        `API-Request: [GetUserToken(username = 'JaneSmith', password =  'password')]`,
        true,
        true,
      ],
      [
        "bare word value",
        tok,
        `API-Request: [GetUserToken(username=JaneSmith, password=password)]`,
        true,
        true,
      ],
      [
        "non-ASCII letter in a value",
        tok,
        `API-Request: [GetUserToken(username='JaneSmïth', password='password')]`,
        false,
        false,
      ],
      [
        "call split over two lines",
        tok,
        `API-Request: [GetUserToken(username='JaneSmith',\npassword='password')]`,
        false,
        false,
      ],
      ["missing required key", tok, `API-Request: [GetUserToken(username='JaneSmith')]`, false, false],
      [
        "unknown extra key",
        tok,
        `API-Request: [GetUserToken(username='JaneSmith', password='password', remember='True')]`,
        false,
        false,
      ],
      [
        "two calls on one line",
        tok,
        `First [GetUserToken(username='a', password='b')] then [GetUserToken(username='JaneSmith', password='password')]`,
        true,
        false,
      ],
      ["empty value", tok, `API-Request: [GetUserToken(username='', password='password')]`, false, false],
      [
        "escaped quote",
        tok,
        `API-Request: [GetUserToken(username='Jane\\'Smith', password='password')]`,
        false,
        false,
      ],
      ["fullwidth digit", hotel, hotelCall("１"), true, false],
      ["Arabic-Indic digit", hotel, hotelCall("١"), true, false],
      ["superscript digit", hotel, hotelCall("¹"), false, false],
      ["ASCII digit", hotel, hotelCall(String(h.room_count)), true, true],
      [
        "unquoted number",
        hotel,
        hotelCall(String(h.room_count)).replace(`room_count='${h.room_count}'`, `room_count=${h.room_count}`),
        true,
        true,
      ],
      [
        "apostrophe in a value (gold is the cut 'Don')",
        email,
        `API-Request: [SendEmail(receiver='john@example.com', subject='Meeting Reminder', content='Don't forget')]`,
        true,
        false,
      ],
      [
        "the value the gold meant",
        email,
        `API-Request: [SendEmail(receiver='john@example.com', subject='Meeting Reminder', content="Don't forget the meeting")]`,
        true,
        false,
      ],
      [
        "date in another format",
        agenda,
        `API-Request: [AddAgenda(token='${a.token}', content='${a.content}', time='2023/09/12 14:00', location='${a.location}')]`,
        false,
        false,
      ],
      [
        "date without seconds",
        agenda,
        `API-Request: [AddAgenda(token='${a.token}', content='${a.content}', time='${String(a.time).slice(0, 16)}', location='${a.location}')]`,
        false,
        false,
      ],
    ];
    for (const [name, point, pred, official, corrected] of cases) {
      const got = [
        (await new Judge(world, { scoring: "official" }).judgeCall(point, pred)).correct,
        (await new Judge(world, { scoring: "corrected" }).judgeCall(point, pred)).correct,
      ];
      expect([name, ...got]).toEqual([name, official, corrected]);
    }
  });
});
