/**
 * Health, finance, smart-home, utility and internet APIs (API-Bank levels 1–2). Behaviour, messages and
 * correctness rules follow API-Bank's Python implementations; comments mark where we had to choose.
 */
import {
  type ApiContext,
  type ApiDefinition,
  ApiError,
  checkToken,
  exactRule,
  field,
  formatCheck,
  inputOf,
  sameCheck,
  sameOutcome,
  str,
  table,
} from "./api.ts";
import type { ApiResult } from "./data.ts";
import { Bm25, topK, wordTokenize } from "./retriever.ts";
import { isObject, type Json, pyEqual, pyRepr, strptime, timeKey } from "./values.ts";

const s = (name: string) => ({ name, type: "str" }) as const;
const DATE = "%Y-%m-%d";
const DATETIME = "%Y-%m-%d %H:%M:%S";

function api(
  name: string,
  params: ApiDefinition["params"],
  run: ApiDefinition["run"],
  correct: ApiDefinition["correct"],
): ApiDefinition {
  return { name, params, inputStyle: "signature", withApiName: true, run, correct };
}

// ---- hospital and health -------------------------------------------------------------------------------------

function appointments(ctx: ApiContext): Record<string, Json> {
  return table(ctx, "Appointments");
}

function checked(value: string, format: string): string {
  const r = formatCheck(value, format);
  if (!r.ok) throw new ApiError(r.message);
  return r.value;
}

const AppointmentRegistration = api(
  "AppointmentRegistration",
  [s("patient_name"), s("date"), s("doctor_name")],
  (ctx, input) => {
    const patient = str(input, "patient_name").trim();
    const doctor = str(input, "doctor_name").trim();
    if (!patient || !doctor) throw new ApiError("Patient name or doctor name cannot be empty.");
    const date = checked(str(input, "date"), DATE);
    const db = appointments(ctx);
    for (const entry of Object.values(db)) {
      if (field(entry, "patient_name") !== patient) continue;
      const other = formatCheck(String(field(entry, "date") ?? ""), DATE);
      if (other.ok && other.value === date) {
        if (field(entry, "doctor_name") === doctor)
          throw new ApiError("This appointment has already been registered.");
        throw new ApiError("This patient has already been registered in this day.");
      }
    }
    // A random 8-digit id (replaying a recorded dialogue reuses the recorded one).
    let id = typeof ctx.recorded?.output === "string" ? ctx.recorded.output : "";
    while (id === "" || id in db) id = String(10_000_000 + ctx.rng.int(90_000_000));
    db[id] = { patient_name: patient, date, doctor_name: doctor };
    return id;
  },
  (response, reference) => {
    const a = inputOf(response);
    const b = inputOf(reference);
    if (str(a, "patient_name").trim() !== str(b, "patient_name").trim()) return false;
    if (!sameCheck(formatCheck(str(a, "date"), DATE), formatCheck(str(b, "date"), DATE))) return false;
    if (str(a, "doctor_name").trim() !== str(b, "doctor_name").trim()) return false;
    // The id is random: a success must meet a success, then the exceptions decide.
    if (reference.output === null && response.output !== null) return false;
    return response.exception === reference.exception;
  },
);

const CancelRegistration = api(
  "CancelRegistration",
  [s("appointment_id")],
  (ctx, input) => {
    const id = str(input, "appointment_id").trim();
    const db = appointments(ctx);
    if (!(id in db)) throw new ApiError("The appointment ID is incorrect.");
    delete db[id];
    return "success";
  },
  (response, reference) =>
    str(inputOf(response), "appointment_id").trim() === str(inputOf(reference), "appointment_id").trim() &&
    sameOutcome(response, reference),
);

const ModifyRegistration = api(
  "ModifyRegistration",
  [
    s("appointment_id"),
    { name: "new_appointment_date", type: "str", optional: true },
    { name: "new_appointment_doctor", type: "str", optional: true },
  ],
  (ctx, input) => {
    const id = str(input, "appointment_id").trim();
    const db = appointments(ctx);
    const entry = db[id];
    if (!isObject(entry)) throw new ApiError("The appointment ID does not exist.");
    const rawDate = input.new_appointment_date;
    const rawDoctor = input.new_appointment_doctor;
    const date = rawDate === null || rawDate === undefined ? null : formatCheck(String(rawDate), DATE);
    let doctor: string | null = null;
    if (rawDoctor !== null && rawDoctor !== undefined) {
      doctor = String(rawDoctor).trim();
      if (!doctor) throw new ApiError("Fail because the doctor name is empty.");
    }
    if (date && !date.ok) throw new ApiError(date.message);
    const newDate = date?.ok ? date.value : null;
    if (newDate === null && doctor === null) throw new ApiError("Fail because no modification is made.");
    if (newDate === null) {
      if (doctor === entry.doctor_name) throw new ApiError("Fail because doctor is not changed.");
      entry.doctor_name = doctor;
    } else if (doctor === null) {
      if (newDate === entry.date) throw new ApiError("Fail because date is not changed.");
      entry.date = newDate;
    } else {
      if (newDate === entry.date && doctor === entry.doctor_name) {
        throw new ApiError("Fail because no modification is made.");
      }
      if (newDate === entry.date) throw new ApiError("Fail because date is not changed.");
      if (doctor === entry.doctor_name) throw new ApiError("Fail because doctor is not changed.");
      entry.date = newDate;
      entry.doctor_name = doctor;
    }
    return "success";
  },
  (response, reference) => {
    const a = inputOf(response);
    const b = inputOf(reference);
    if (str(a, "appointment_id").trim() !== str(b, "appointment_id").trim()) return false;
    const date = (v: Json | undefined) =>
      v === null || v === undefined ? null : formatCheck(String(v), DATE);
    const da = date(a.new_appointment_date);
    const db = date(b.new_appointment_date);
    if (da === null || db === null ? da !== db : !sameCheck(da, db)) return false;
    const doc = (v: Json | undefined) => (v === null || v === undefined ? null : String(v).trim());
    if (doc(a.new_appointment_doctor) !== doc(b.new_appointment_doctor)) return false;
    return sameOutcome(response, reference);
  },
);

const QueryRegistration = api(
  "QueryRegistration",
  [s("patient_name"), s("date")],
  (ctx, input) => {
    const patient = str(input, "patient_name").trim();
    const date = checked(str(input, "date"), DATE);
    const found: Record<string, Json> = {};
    for (const [id, entry] of Object.entries(appointments(ctx))) {
      if (field(entry, "patient_name") !== patient) continue;
      const d = formatCheck(String(field(entry, "date") ?? ""), DATE);
      if (d.ok && d.value === date) found[id] = entry;
    }
    if (Object.keys(found).length === 0) throw new ApiError("No appointments found.");
    return found;
  },
  (response, reference) => {
    const a = inputOf(response);
    const b = inputOf(reference);
    return (
      str(a, "patient_name").trim() === str(b, "patient_name").trim() &&
      sameCheck(formatCheck(str(a, "date"), DATE), formatCheck(str(b, "date"), DATE)) &&
      sameOutcome(response, reference)
    );
  },
);

/** `[{name, value}]` as sorted text pairs (RecordHealthData's rule); undefined when an item lacks a key. */
function healthPairs(value: Json | undefined): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) {
    const name = field(item, "name");
    const v = field(item, "value");
    if (name === undefined || v === undefined) return undefined;
    out.push(pyRepr({ name: pyRepr(name), value: pyRepr(v) }, false));
  }
  return out.sort();
}

const RecordHealthData = api(
  "RecordHealthData",
  [s("user_id"), s("time"), { name: "health_data", type: "list", optional: true }],
  (ctx, input) => {
    const user = str(input, "user_id").toUpperCase().trim();
    if (!user) throw new ApiError("The user id cannot be empty.");
    const time = checked(str(input, "time"), DATETIME);
    // Official scoring passes the raw text; Python iterates a string by its characters.
    const raw = input.health_data;
    const data = typeof raw === "string" ? [...raw] : raw;
    if (!Array.isArray(data) || data.length === 0) throw new ApiError("The health data cannot be empty.");
    const names = new Set<string>();
    for (const item of data) {
      // Python's `'name' not in data` on a string item is a substring test; on a dict, a key test.
      const hasName = typeof item === "string" ? item.includes("name") : isObject(item) && "name" in item;
      if (!hasName) throw new ApiError("The health data has invalid format.");
      const name = pyRepr(field(item, "name") ?? null);
      if (names.has(name)) throw new ApiError("The health data cannot contain duplicate items.");
      names.add(name);
    }
    const db = table(ctx, "HealthData");
    const records = Array.isArray(db[user]) ? (db[user] as Json[]) : [];
    db[user] = records;
    let record = records.find((r) => field(r, "time") === time);
    if (!isObject(record)) {
      record = { time };
      records.push(record);
    }
    for (const item of data) {
      const name = field(item, "name");
      if (isObject(record) && name !== undefined) record[String(name)] = field(item, "value") ?? null;
    }
    return "success";
  },
  (response, reference) => {
    const a = inputOf(response);
    const b = inputOf(reference);
    const pa = healthPairs(a.health_data);
    const pb = healthPairs(b.health_data);
    return (
      str(a, "user_id").toUpperCase().trim() === str(b, "user_id").toUpperCase().trim() &&
      sameCheck(formatCheck(str(a, "time"), DATETIME), formatCheck(str(b, "time"), DATETIME)) &&
      pa !== undefined &&
      pb !== undefined &&
      pyEqual(pa, pb) &&
      sameOutcome(response, reference)
    );
  },
);

/** QueryHealthData's `format_check`: upper-cased id, and both times parsed (or their errors). */
function healthQuery(input: Readonly<Record<string, Json>>) {
  const user = str(input, "user_id").toUpperCase().trim();
  const parse = (v: string) => {
    const r = formatCheck(v, DATETIME);
    if (!r.ok) return r;
    const p = strptime(r.value, DATETIME);
    return p.ok ? { ok: true as const, value: timeKey(p.value) } : p;
  };
  return { user: user || null, start: parse(str(input, "start_time")), end: parse(str(input, "end_time")) };
}

const QueryHealthData = api(
  "QueryHealthData",
  [s("user_id"), s("start_time"), s("end_time")],
  (ctx, input) => {
    const { user, start, end } = healthQuery(input);
    if (user === null) throw new ApiError("The user id cannot be empty.");
    if (!start.ok && !end.ok) throw new ApiError(`${start.message}; ${end.message}`);
    if (!start.ok) throw new ApiError(start.message);
    if (!end.ok) throw new ApiError(end.message);
    if (start.value > end.value) throw new ApiError("The start time cannot be later than the end time.");
    const records = table(ctx, "HealthData")[user];
    if (!Array.isArray(records)) throw new ApiError("The user id does not exist.");
    const found = records.filter((r) => {
      const t = strptime(String(field(r, "time") ?? ""), DATETIME);
      return t.ok && timeKey(t.value) >= start.value && timeKey(t.value) <= end.value;
    });
    if (found.length === 0) throw new ApiError("There is no health data in the given time span.");
    return found;
  },
  (response, reference) => {
    const a = healthQuery(inputOf(response));
    const b = healthQuery(inputOf(reference));
    const same = (x: typeof a.start, y: typeof a.start) => x.ok && y.ok && x.value === y.value;
    return (
      a.user === b.user && same(a.start, b.start) && same(a.end, b.end) && sameOutcome(response, reference)
    );
  },
);

function symptomApi(
  name: "SymptomSearch" | "EmergencyKnowledge",
  second: "description" | "aid",
): ApiDefinition {
  return api(
    name,
    [s("symptom")],
    (ctx, input) => {
      const symptom = str(input, "symptom").trim().toLowerCase();
      if (!symptom) throw new ApiError("The symptom cannot be empty.");
      const found = table(ctx, "Symptom")[symptom];
      if (!Array.isArray(found)) throw new ApiError("The symptom does not exist.");
      return found.map((item) => ({
        name: field(item, "name") ?? null,
        [second]: field(item, second) ?? null,
      }));
    },
    (response, reference) => {
      const a = str(inputOf(response), "symptom").trim().toLowerCase();
      const b = str(inputOf(reference), "symptom").trim().toLowerCase();
      // API-Bank's rule raises on an empty symptom; an error in the rule is not a correct call.
      return a !== "" && a === b && sameOutcome(response, reference);
    },
  );
}

// ---- finance and travel --------------------------------------------------------------------------------------

const QueryBalance = api(
  "QueryBalance",
  [s("token")],
  (ctx, input) => {
    let user: string;
    try {
      user = checkToken(ctx, str(input, "token"));
    } catch {
      throw new ApiError("The token is incorrect.");
    }
    const account = table(ctx, "Bank")[user];
    if (account === undefined) throw new ApiError("The user does not have an account.");
    return field(account, "balance") ?? null;
  },
  (response, reference) =>
    str(inputOf(response), "token").trim() === str(inputOf(reference), "token").trim() &&
    sameOutcome(response, reference),
);

const OpenBankAccount = api(
  "OpenBankAccount",
  [s("account"), s("password"), s("name")],
  (ctx, input) => {
    // Its database is built in code, not read from init_database: one account named "test".
    const accounts = ctx.state.get("OpenBankAccount");
    const list: Json[] = Array.isArray(accounts)
      ? accounts
      : [{ account: "test", password: "test", name: "yifei" }];
    ctx.state.set("OpenBankAccount", list);
    if (list.some((a) => field(a, "account") === str(input, "account"))) return "failed";
    list.push({ account: str(input, "account"), password: str(input, "password"), name: str(input, "name") });
    return "success";
  },
  exactRule,
);

function stockQuery(input: Readonly<Record<string, Json>>) {
  const code = str(input, "stock_code").toUpperCase().trim();
  return { code: code || null, date: formatCheck(str(input, "date"), DATE) };
}

const QueryStock = api(
  "QueryStock",
  [s("stock_code"), s("date")],
  (ctx, input) => {
    const { code, date } = stockQuery(input);
    if (code === null) throw new ApiError("The stock code cannot be empty.");
    if (!date.ok) throw new ApiError(date.message);
    const prices = table(ctx, "Stock")[code];
    if (!isObject(prices)) throw new ApiError("The stock code does not exist.");
    const price = prices[date.value];
    if (price === undefined) throw new ApiError("The stock price of this date is not maintained.");
    return price;
  },
  (response, reference) => {
    const a = stockQuery(inputOf(response));
    const b = stockQuery(inputOf(reference));
    return a.code === b.code && sameCheck(a.date, b.date) && sameOutcome(response, reference);
  },
);

const BookHotel = api(
  "BookHotel",
  [
    s("hotel_name"),
    s("check_in_time"),
    s("check_out_time"),
    { name: "room_count", type: "int" },
    { name: "adult_count", type: "int" },
    { name: "child_count", type: "int" },
  ],
  (ctx, input) => {
    const inTime = strptime(str(input, "check_in_time"), DATE);
    if (!inTime.ok) throw new ApiError(inTime.message);
    const outTime = strptime(str(input, "check_out_time"), DATE);
    if (!outTime.ok) throw new ApiError(outTime.message);
    if (Number(input.adult_count) > 2 && Number(input.room_count) === 1) {
      throw new ApiError("The number of adults is greater than 2. Two rooms are ordered.");
    }
    const db = table(ctx, "Hotel");
    const cin = timeKey(inTime.value);
    const cout = timeKey(outTime.value);
    for (const order of Object.values(db)) {
      if (field(order, "hotel_name") !== input.hotel_name) continue;
      const oin = strptime(String(field(order, "check_in_time") ?? ""), DATE);
      const oout = strptime(String(field(order, "check_out_time") ?? ""), DATE);
      if (!oin.ok || !oout.ok) continue;
      const a = timeKey(oin.value);
      const b = timeKey(oout.value);
      if ((cin >= a && cin < b) || (cout > a && cout <= b)) throw new ApiError("The room is not available.");
    }
    const id = String(Object.keys(db).length + 1);
    db[id] = { ...input };
    return id;
  },
  exactRule,
);

// ---- smart home ----------------------------------------------------------------------------------------------

// The data's calls name the device `device_id` (as exceptions.json does) while the descriptions and the official
// API say `name`: the project's reading accepts both (scoring rule `device-id`), the device key is whichever was
// given; the official reading accepts `name` only.
const DEVICE = { name: "name", type: "str", alias: "device_id" } as const;

function device(input: Readonly<Record<string, Json>>): string {
  return str(input, "device_id" in input ? "device_id" : "name")
    .trim()
    .toLowerCase();
}

const TimedSwitch = api(
  "TimedSwitch",
  [DEVICE, s("time"), { name: "on", type: "bool" }],
  (ctx, input) => {
    const name = device(input);
    if (!name) throw new ApiError("device_id cannot be empty.");
    const time = checked(str(input, "time"), DATETIME);
    const db = table(ctx, "TimeSwitch");
    const list = Array.isArray(db[name]) ? (db[name] as Json[]) : [];
    db[name] = list;
    const at = list.find((e) => field(e, "time") === time);
    if (isObject(at)) at.on = input.on ?? false;
    else list.push({ time, on: input.on ?? false });
    return "success";
  },
  (response, reference) => {
    const a = inputOf(response);
    const b = inputOf(reference);
    return (
      device(a) === device(b) &&
      sameCheck(formatCheck(str(a, "time"), DATETIME), formatCheck(str(b, "time"), DATETIME)) &&
      a.on === b.on &&
      sameOutcome(response, reference)
    );
  },
);

const CancelTimedSwitch = api(
  "CancelTimedSwitch",
  [DEVICE, s("time")],
  (ctx, input) => {
    const name = device(input);
    if (!name) throw new ApiError("device_id cannot be empty.");
    const time = checked(str(input, "time"), DATETIME);
    const list = table(ctx, "TimeSwitch")[name];
    if (!Array.isArray(list)) throw new ApiError("device_id does not exist.");
    const at = list.findIndex((e) => field(e, "time") === time);
    if (at < 0) throw new ApiError("time does not exist.");
    list.splice(at, 1);
    return "success";
  },
  (response, reference) => {
    const a = inputOf(response);
    const b = inputOf(reference);
    return (
      device(a) === device(b) &&
      sameCheck(formatCheck(str(a, "time"), DATETIME), formatCheck(str(b, "time"), DATETIME)) &&
      sameOutcome(response, reference)
    );
  },
);

function sceneRule(response: ApiResult, reference: ApiResult): boolean {
  return (
    str(inputOf(response), "name").trim().toLowerCase() ===
      str(inputOf(reference), "name").trim().toLowerCase() && sameOutcome(response, reference)
  );
}

const DeleteScene = api(
  "DeleteScene",
  [s("name")],
  (ctx, input) => {
    const name = str(input, "name").trim().toLowerCase();
    if (!name) throw new ApiError("Scene name cannot be empty.");
    const db = table(ctx, "Scenes");
    if (!(name in db)) throw new ApiError("The scene does not exist.");
    delete db[name];
    return "success";
  },
  sceneRule,
);

const QueryScene = api(
  "QueryScene",
  [s("name")],
  (ctx, input) => {
    const name = str(input, "name").trim().toLowerCase();
    if (!name) throw new ApiError("Scene name cannot be empty.");
    const scene = table(ctx, "Scenes")[name];
    if (scene === undefined) throw new ApiError("Scene not found.");
    return scene;
  },
  sceneRule,
);

// ---- utilities -----------------------------------------------------------------------------------------------

type Token = number | string;

/** API-Bank's Calculator, step for step (including its handling of parentheses: first "(" with first ")"). */
export function calculate(formula: string): number {
  const f = formula.replaceAll(" ", "");
  if (!validFormula(f)) throw new ApiError("invalid formula");
  const list: Token[] = [];
  let number = "";
  for (const c of f) {
    if (c >= "0" && c <= "9") number += c;
    else {
      if (number !== "") list.push(Number(number));
      number = "";
      list.push(c);
    }
  }
  if (number !== "") list.push(Number(number));
  return evaluateList(list);
}

function validFormula(f: string): boolean {
  if (!f) return false;
  for (const c of f) if (!"0123456789+-*/()".includes(c)) return false;
  const count = (ch: string) => f.split(ch).length - 1;
  if (count("(") !== count(")")) return false;
  const ops = count("+") + count("-") + count("*") + count("/");
  if (ops === 0) return false;
  return ops + 1 !== f.length;
}

function evaluateList(input: Token[]): number {
  const list = [...input];
  while (list.includes("(")) {
    const left = list.indexOf("(");
    const right = list.indexOf(")");
    if (right < 0) throw new ApiError("')' is not in list");
    // Python slices an empty range here and then indexes it; both end in an IndexError.
    if (right < left) throw new ApiError("list index out of range");
    list.splice(left, right - left + 1, evaluateList(list.slice(left + 1, right)));
  }
  for (const ops of [
    ["*", "/"],
    ["+", "-"],
  ] as const) {
    for (;;) {
      const positions = ops.map((op) => list.indexOf(op)).filter((i) => i >= 0);
      if (positions.length === 0) break;
      const index = Math.min(...positions);
      const a = list[index - 1];
      const b = list[index + 1];
      // Python would index from the end (an operator first) or fail on a non-number; both are bad formulas.
      if (typeof a !== "number" || typeof b !== "number") throw new ApiError("invalid formula");
      const op = list[index];
      let value: number;
      if (op === "*") value = a * b;
      else if (op === "/") {
        if (b === 0) throw new ApiError("float division by zero");
        value = a / b;
      } else if (op === "+") value = a + b;
      else value = a - b;
      list.splice(index - 1, 3, value);
    }
  }
  const [first] = list;
  if (typeof first !== "number") throw new ApiError("list index out of range");
  return first;
}

const Calculator = api(
  "Calculator",
  [s("formula")],
  (_ctx, input) => calculate(str(input, "formula")),
  (response, reference) =>
    str(inputOf(response), "formula").replaceAll(" ", "") ===
      str(inputOf(reference), "formula").replaceAll(" ", "") && sameOutcome(response, reference),
);

/** API-Bank fixes "today" at 2023-03-31. */
export const TODAY = "2023-03-31";

const GetToday: ApiDefinition = {
  name: "GetToday",
  params: [],
  inputStyle: "none",
  withApiName: true,
  run: () => TODAY,
  correct: (response) => response.output !== null && response.exception === null && response.input === null,
};

/** QueryHistoryToday's `filter_date_format`: `%Y-%m-%d` or `%m-%d`, reduced to `%m-%d`. */
function historyDate(value: string): ReturnType<typeof formatCheck> {
  const full = formatCheck(value, DATE);
  if (full.ok) return { ok: true, value: full.value.slice(5) };
  return formatCheck(value.trim(), "%m-%d");
}

const QueryHistoryToday = api(
  "QueryHistoryToday",
  [s("date")],
  (ctx, input) => {
    const date = historyDate(str(input, "date"));
    if (!date.ok) throw new ApiError(date.message);
    const events = table(ctx, "History")[date.value];
    if (!Array.isArray(events)) throw new ApiError("The date is not in the database.");
    return events.map(
      (e) =>
        `Title: ${String(field(e, "Title") ?? "").trim()}, Date: ${String(field(e, "Date") ?? "").trim()}, Description: ${String(field(e, "Description") ?? "").trim()}`,
    );
  },
  (response, reference) =>
    sameCheck(historyDate(str(inputOf(response), "date")), historyDate(str(inputOf(reference), "date"))) &&
    sameOutcome(response, reference),
);

function namedRule(response: ApiResult, reference: ApiResult): boolean {
  return response.api_name === reference.api_name && sameOutcome(response, reference);
}

const Wiki = api(
  "Wiki",
  [s("keyword")],
  (ctx, input) => {
    const key = str(input, "keyword").replaceAll("_", " ").trim().toLowerCase();
    const entry = table(ctx, "Wiki")[key];
    if (entry === undefined) throw new ApiError("Keyword not found.");
    return { url: field(entry, "url") ?? null, summary: field(entry, "summary") ?? null };
  },
  namedRule,
);

const searchIndexes = new WeakMap<object, Bm25>();

const SearchEngine = api(
  "SearchEngine",
  [s("keyword")],
  (ctx, input) => {
    const db = table(ctx, "SearchEngine");
    const docs = Array.isArray(db.raw_documents) ? db.raw_documents : [];
    const tokenized = Array.isArray(db.tokenized_documents) ? db.tokenized_documents : [];
    // The index depends only on the (never modified) documents: built once per database copy.
    let bm25 = searchIndexes.get(tokenized);
    if (!bm25) {
      bm25 = new Bm25(tokenized.map((d) => (Array.isArray(d) ? d.map(String) : [])));
      searchIndexes.set(tokenized, bm25);
    }
    const scores = bm25.scores(wordTokenize(str(input, "keyword").toLowerCase().trim()));
    return topK(scores, 2).map((i) => docs[i] ?? null);
  },
  (response, reference) => {
    if (response.api_name !== reference.api_name || response.exception !== reference.exception) return false;
    const sorted = (v: Json) =>
      Array.isArray(v)
        ? [...v].sort((x, y) => {
            const kx = `${str(isObject(x) ? x : {}, "title")}${str(isObject(x) ? x : {}, "abstract")}`;
            const ky = `${str(isObject(y) ? y : {}, "title")}${str(isObject(y) ? y : {}, "abstract")}`;
            return kx < ky ? 1 : kx > ky ? -1 : 0;
          })
        : v;
    return pyEqual(sorted(response.output), sorted(reference.output));
  },
);

const DocumentQA = api(
  "DocumentQA",
  [s("url"), s("question")],
  (ctx, input) => {
    const url = str(input, "url").trim();
    const question = str(input, "question").trim();
    if (!question) throw new ApiError("The question is empty.");
    const doc = table(ctx, "QuestionAnswering")[url];
    if (doc === undefined) throw new ApiError("The document of this url failed to be processed.");
    // The code looks the question up with `in` on what it takes for a dict; the shipped database holds a list of
    // {question, answer} objects, so the string is never found and every known document answers the same.
    if (Array.isArray(doc) && !doc.some((entry) => pyEqual(entry, question))) {
      return "The question is too difficult to answer.";
    }
    const answer = field(doc, question);
    return answer === undefined ? "The question is too difficult to answer." : answer;
  },
  (response, reference) =>
    str(inputOf(response), "url").trim() === str(inputOf(reference), "url").trim() &&
    str(inputOf(response), "question").trim() === str(inputOf(reference), "question").trim() &&
    sameOutcome(response, reference),
);

const ImageCaption = api(
  "ImageCaption",
  [s("url")],
  (ctx, input) => {
    const url = str(input, "url").trim();
    if (!/\.(jpg|jpeg|png)$/.test(url)) throw new ApiError("The url should end with .jpg, .jpeg or .png.");
    const images = ctx.db.ImageCaptioning;
    const hit = Array.isArray(images) ? images.find((item) => field(item, "url") === url) : undefined;
    if (hit === undefined) throw new ApiError("The image of this url failed to be processed.");
    return field(hit, "caption") ?? null;
  },
  exactRule,
);

const SpeechRecognition = api(
  "SpeechRecognition",
  [s("url")],
  (ctx, input) => {
    const url = str(input, "url").trim();
    if (!url.endsWith(".wav")) throw new ApiError("The url should end with .wav.");
    const transcript = table(ctx, "SpeechRecognition")[url];
    if (transcript === undefined) throw new ApiError("The audio of this url failed to be processed.");
    return transcript;
  },
  exactRule,
);

const PlayMusic = api(
  "PlayMusic",
  [s("music_name")],
  (_ctx, input) => {
    const name = str(input, "music_name").toLowerCase().trim();
    if (!name) throw new ApiError("The music name cannot be empty.");
    return `music://${name}`;
  },
  (response, reference) => pyEqual(response.output, reference.output),
);

const SendEmail = api(
  "SendEmail",
  [s("receiver"), s("subject"), s("content")],
  (_ctx, input) => {
    if (!/^[a-z0-9]+[._]?[a-z0-9]+[@]\w+[.]\w{2,3}$/.test(str(input, "receiver").trim())) {
      throw new ApiError("Email address of the receiver is invalid.");
    }
    if (!str(input, "subject").trim()) throw new ApiError("Subject cannot be empty.");
    if (!str(input, "content").trim()) throw new ApiError("Content cannot be empty.");
    return "success";
  },
  (response, reference) => {
    const a = inputOf(response);
    const b = inputOf(reference);
    return (
      str(a, "receiver").trim().toLowerCase() === str(b, "receiver").trim().toLowerCase() &&
      str(a, "subject").trim() === str(b, "subject").trim() &&
      str(a, "content").trim() === str(b, "content").trim() &&
      sameOutcome(response, reference)
    );
  },
);

// ---- internet (answered offline from recorded results) --------------------------------------------------------

const Dictionary: ApiDefinition = {
  ...api(
    "Dictionary",
    [s("keyword")],
    (ctx, input) => {
      const key = str(input, "keyword").replaceAll("_", " ").trim().toLowerCase();
      const entry = ctx.services.dictionary(key);
      // Online, a failed request raised "Failed."; offline we only know the recorded keywords.
      if (entry === undefined) throw new ApiError("Failed. (offline: no recorded entry for this keyword)");
      return entry;
    },
    namedRule,
  ),
  internet: true,
};

/**
 * googletrans's `LANGUAGES` table (code → name, in its order), for Translate's language matching. Reproduced
 * from the public package; the order matters because a name is matched by substring, first hit wins.
 */
const LANGUAGES: readonly (readonly [string, string])[] = Object.entries({
  af: "afrikaans",
  sq: "albanian",
  am: "amharic",
  ar: "arabic",
  hy: "armenian",
  az: "azerbaijani",
  eu: "basque",
  be: "belarusian",
  bn: "bengali",
  bs: "bosnian",
  bg: "bulgarian",
  ca: "catalan",
  ceb: "cebuano",
  ny: "chichewa",
  "zh-cn": "chinese (simplified)",
  "zh-tw": "chinese (traditional)",
  co: "corsican",
  hr: "croatian",
  cs: "czech",
  da: "danish",
  nl: "dutch",
  en: "english",
  eo: "esperanto",
  et: "estonian",
  tl: "filipino",
  fi: "finnish",
  fr: "french",
  fy: "frisian",
  gl: "galician",
  ka: "georgian",
  de: "german",
  el: "greek",
  gu: "gujarati",
  ht: "haitian creole",
  ha: "hausa",
  haw: "hawaiian",
  iw: "hebrew",
  he: "hebrew",
  hi: "hindi",
  hmn: "hmong",
  hu: "hungarian",
  is: "icelandic",
  ig: "igbo",
  id: "indonesian",
  ga: "irish",
  it: "italian",
  ja: "japanese",
  jw: "javanese",
  kn: "kannada",
  kk: "kazakh",
  km: "khmer",
  ko: "korean",
  ku: "kurdish (kurmanji)",
  ky: "kyrgyz",
  lo: "lao",
  la: "latin",
  lv: "latvian",
  lt: "lithuanian",
  lb: "luxembourgish",
  mk: "macedonian",
  mg: "malagasy",
  ms: "malay",
  ml: "malayalam",
  mt: "maltese",
  mi: "maori",
  mr: "marathi",
  mn: "mongolian",
  my: "myanmar (burmese)",
  ne: "nepali",
  no: "norwegian",
  or: "odia",
  ps: "pashto",
  fa: "persian",
  pl: "polish",
  pt: "portuguese",
  pa: "punjabi",
  ro: "romanian",
  ru: "russian",
  sm: "samoan",
  gd: "scots gaelic",
  sr: "serbian",
  st: "sesotho",
  sn: "shona",
  sd: "sindhi",
  si: "sinhala",
  sk: "slovak",
  sl: "slovenian",
  so: "somali",
  es: "spanish",
  su: "sundanese",
  sw: "swahili",
  sv: "swedish",
  tg: "tajik",
  ta: "tamil",
  te: "telugu",
  th: "thai",
  tr: "turkish",
  uk: "ukrainian",
  ur: "urdu",
  ug: "uyghur",
  uz: "uzbek",
  vi: "vietnamese",
  cy: "welsh",
  xh: "xhosa",
  yi: "yiddish",
  yo: "yoruba",
  zu: "zulu",
});

/** Translate's `detect_language`: a language code from a code or a name (the offline half of Translate). */
export function languageCode(lang: string | undefined): string {
  if (lang === undefined) return "en";
  const l = lang.toLowerCase();
  if (l.includes("chinese")) return l.includes("traditional") ? "zh-tw" : "zh-cn";
  for (const [code, name] of LANGUAGES) if (code === l || l.includes(name)) return code;
  throw new ApiError("Language not supported.");
}

const Translate: ApiDefinition = {
  name: "Translate",
  params: [
    s("src"),
    { name: "src_lang", type: "str", optional: true },
    { name: "tgt_lang", type: "str", optional: true },
  ],
  inputStyle: "given",
  withApiName: true,
  internet: true,
  run(ctx, input) {
    const srcLang = input.src_lang === undefined ? undefined : languageCode(str(input, "src_lang"));
    const tgtLang = languageCode(input.tgt_lang === undefined ? undefined : str(input, "tgt_lang"));
    const text = ctx.services.translate(str(input, "src"), tgtLang, srcLang);
    if (text === undefined) throw new ApiError("offline: no recorded translation for this text and language");
    return text;
  },
  correct: (response, reference) =>
    response.api_name === reference.api_name &&
    inputOf(response).src === inputOf(reference).src &&
    sameOutcome(response, reference),
};

export const SERVICE_APIS: readonly ApiDefinition[] = [
  AppointmentRegistration,
  CancelRegistration,
  ModifyRegistration,
  QueryRegistration,
  RecordHealthData,
  QueryHealthData,
  symptomApi("SymptomSearch", "description"),
  symptomApi("EmergencyKnowledge", "aid"),
  QueryBalance,
  OpenBankAccount,
  QueryStock,
  BookHotel,
  TimedSwitch,
  CancelTimedSwitch,
  DeleteScene,
  QueryScene,
  Calculator,
  GetToday,
  QueryHistoryToday,
  Wiki,
  SearchEngine,
  DocumentQA,
  ImageCaption,
  SpeechRecognition,
  PlayMusic,
  SendEmail,
  Dictionary,
  Translate,
];
