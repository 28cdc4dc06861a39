/**
 * Account, agenda, alarm, meeting and reminder APIs (API-Bank levels 1–2), over the `Account`, `Agenda`,
 * `Alarm`, `Meeting` and `Reminder` databases. Behaviour, messages and correctness rules follow API-Bank's
 * Python implementations; where one of those cannot work as written, the comment says what we do instead.
 */
import {
  type ApiContext,
  type ApiDefinition,
  ApiError,
  checkToken,
  exactRule,
  field,
  fuzzyMatch,
  inputOf,
  nextIntKey,
  requireTime,
  sameOutcome,
  str,
  table,
  without,
} from "./api.ts";
import type { ApiResult } from "./data.ts";
import { isObject, type Json, pyEqual } from "./values.ts";

const TOKEN = { name: "token", type: "str" } as const;
const s = (name: string) => ({ name, type: "str" }) as const;

function tokenApi(
  name: string,
  params: ApiDefinition["params"],
  run: ApiDefinition["run"],
  correct: ApiDefinition["correct"] = exactRule,
  withApiName = true,
): ApiDefinition {
  return { name, params, inputStyle: "signature", withApiName, run, correct };
}

// ---- account ---------------------------------------------------------------------------------------------------

function accounts(ctx: ApiContext): Record<string, Json> {
  return table(ctx, "Account");
}

const GetUserToken = tokenApi("GetUserToken", [s("username"), s("password")], (ctx, input) => {
  const record = accounts(ctx)[str(input, "username")];
  if (record === undefined) throw new ApiError("The username does not exist.");
  if (field(record, "password") !== str(input, "password")) throw new ApiError("The password is incorrect.");
  return { token: field(record, "token") ?? null };
});

const DeleteAccount = tokenApi(
  "DeleteAccount",
  [TOKEN],
  (ctx, input) => {
    const user = checkToken(ctx, str(input, "token"));
    const db = accounts(ctx);
    if (!(user in db)) throw new ApiError("No such user.");
    delete db[user];
    return { status: "success" };
  },
  exactRule,
  false,
);

const ModifyPassword = tokenApi(
  "ModifyPassword",
  [TOKEN, s("old_password"), s("new_password")],
  (ctx, input) => {
    const user = checkToken(ctx, str(input, "token"));
    const record = accounts(ctx)[user];
    if (!isObject(record) || record.password !== str(input, "old_password")) {
      throw new ApiError("The old password is incorrect.");
    }
    record.password = str(input, "new_password");
    return { status: "success" };
  },
);

const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";

const RegisterUser: ApiDefinition = {
  name: "RegisterUser",
  params: [s("username"), s("password"), s("email")],
  inputStyle: "signature",
  withApiName: false,
  run(ctx, input) {
    const db = accounts(ctx);
    const username = str(input, "username");
    if (username in db) throw new ApiError("The username already exists.");
    // A random token: replaying a recorded dialogue reuses the recorded one, so later calls can present it.
    const recorded = field(ctx.recorded?.output ?? null, "token");
    const token =
      typeof recorded === "string"
        ? recorded
        : Array.from({ length: 32 }, () => TOKEN_CHARS.charAt(ctx.rng.int(TOKEN_CHARS.length))).join("");
    db[username] = { password: str(input, "password"), token, email: str(input, "email") };
    return { token };
  },
  // The token varies by design: only the input and the exception count (and a failure must stay a failure).
  correct(response, reference) {
    if (reference.output === null && response.output !== null) return false;
    return pyEqual(response.input, reference.input) && response.exception === reference.exception;
  },
};

/** The verification code API-Bank's ForgotPassword always sends. */
export const VERIFICATION_CODE = 970420;

const ForgotPassword: ApiDefinition = {
  name: "ForgotPassword",
  params: [
    s("status"),
    { name: "username", type: "str", optional: true },
    { name: "email", type: "str", optional: true },
    { name: "verification_code", type: "int", optional: true },
    { name: "new_password", type: "str", optional: true },
  ],
  inputStyle: "given",
  withApiName: false,
  run(ctx, input) {
    const status = str(input, "status");
    if (status === "Forgot Password") {
      if (!("username" in input) || !("email" in input)) {
        throw new ApiError("The username and email are required for the first call.");
      }
      const record = accounts(ctx)[str(input, "username")];
      if (record === undefined) throw new ApiError("The username does not exist.");
      if (field(record, "email") !== str(input, "email")) throw new ApiError("The email is incorrect.");
      ctx.state.set("ForgotPassword", { username: str(input, "username"), code: VERIFICATION_CODE });
      return VERIFICATION_CODE;
    }
    if (status === "Verification Code") {
      const pending = ctx.state.get("ForgotPassword");
      if (!isObject(pending)) {
        throw new ApiError("You need to call the API with status 'Forgot Password' at first.");
      }
      if (!("new_password" in input) || !("verification_code" in input)) {
        throw new ApiError("The new password and verification code are required for the second call.");
      }
      if (input.verification_code !== pending.code) throw new ApiError("The verification code is incorrect.");
      const record = accounts(ctx)[String(pending.username)];
      if (isObject(record)) record.password = str(input, "new_password");
      return "success";
    }
    throw new ApiError("The status is only 'Forgot Password' or 'Verification Code'.");
  },
  correct: exactRule,
};

// ---- agenda ----------------------------------------------------------------------------------------------------

const AGENDA_PARAMS = [TOKEN, s("content"), s("time"), s("location")];

/** Fuzzy content, and time, location, output and exception exact (AddAgenda, ModifyAgenda, QueryAgenda). */
function agendaRule(response: ApiResult, reference: ApiResult): boolean {
  const a = inputOf(response);
  const b = inputOf(reference);
  return (
    fuzzyMatch(str(a, "content"), str(b, "content")) &&
    a.time === b.time &&
    a.location === b.location &&
    sameOutcome(response, reference)
  );
}

/** Both succeeded: only the time must match; otherwise output and exception (the Delete* APIs). */
function deleteByTime(timeKey: string) {
  return (response: ApiResult, reference: ApiResult): boolean => {
    if (reference.output === "success" && response.output === "success") {
      return pyEqual(inputOf(response)[timeKey], inputOf(reference)[timeKey]);
    }
    return sameOutcome(response, reference);
  };
}

/** Keys of a table with a user's entries, in the table's order. */
function entriesOf(ctx: ApiContext, name: "Agenda" | "Alarm" | "Meeting" | "Reminder", user: string) {
  const t = table(ctx, name);
  return { t, keys: Object.keys(t).filter((k) => field(t[k], "username") === user) };
}

/** A key not in the table (`len + 1`, as AddAgenda and AddAlarm number their entries, moved past collisions). */
function freshKey(t: Record<string, Json>): string {
  let n = Object.keys(t).length + 1;
  while (String(n) in t) n++;
  return String(n);
}

const AddAgenda = tokenApi(
  "AddAgenda",
  AGENDA_PARAMS,
  (ctx, input) => {
    requireTime(str(input, "time"));
    if (str(input, "content").trim() === "") throw new ApiError("Content should not be null");
    const user = checkToken(ctx, str(input, "token"));
    const t = table(ctx, "Agenda");
    t[freshKey(t)] = {
      username: user,
      content: str(input, "content"),
      time: str(input, "time"),
      location: str(input, "location"),
    };
    return "success";
  },
  agendaRule,
);

function findAgenda(ctx: ApiContext, input: Readonly<Record<string, Json>>) {
  const time = str(input, "time");
  if (time) requireTime(time);
  const user = checkToken(ctx, str(input, "token"));
  const { t, keys } = entriesOf(ctx, "Agenda", user);
  const key = keys.find((k) => field(t[k], "content") === input.content || field(t[k], "time") === time);
  return { t, key, user };
}

const DeleteAgenda = tokenApi(
  "DeleteAgenda",
  AGENDA_PARAMS,
  (ctx, input) => {
    const { t, key } = findAgenda(ctx, input);
    if (key === undefined) {
      if (str(input, "content")) throw new ApiError(`You have no meeting about ${str(input, "content")}`);
      if (str(input, "time")) throw new ApiError(`You have no meeting at time : ${str(input, "time")}`);
      return "success";
    }
    delete t[key];
    return "success";
  },
  deleteByTime("time"),
);

const ModifyAgenda = tokenApi(
  "ModifyAgenda",
  AGENDA_PARAMS,
  (ctx, input) => {
    const { t, key, user } = findAgenda(ctx, input);
    if (key !== undefined) {
      t[key] = {
        username: user,
        content: str(input, "content"),
        time: str(input, "time"),
        location: str(input, "location"),
      };
      return "success";
    }
    if (str(input, "content")) throw new ApiError(`You have no agenda about ${str(input, "content")}`);
    if (str(input, "time")) throw new ApiError(`You have no agenda at time : ${str(input, "time")}`);
    // The Python code *returns* Exception('Error') here; a result that is an exception object is an error.
    throw new ApiError("Error");
  },
  agendaRule,
);

const QueryAgenda = tokenApi(
  "QueryAgenda",
  AGENDA_PARAMS,
  (ctx, input) => {
    const { t, key } = findAgenda(ctx, input);
    if (key !== undefined) return t[key] ?? null;
    if (str(input, "content")) throw new ApiError(`You have no agenda about ${str(input, "content")}`);
    if (str(input, "time")) throw new ApiError(`You have no agenda at time : ${str(input, "time")}`);
    throw new ApiError("Error");
  },
  agendaRule,
);

// ---- alarm -----------------------------------------------------------------------------------------------------

const AddAlarm = tokenApi("AddAlarm", [TOKEN, s("time")], (ctx, input) => {
  requireTime(str(input, "time"));
  const user = checkToken(ctx, str(input, "token"));
  const t = table(ctx, "Alarm");
  t[freshKey(t)] = { username: user, time: str(input, "time") };
  return "success";
});

function findAlarm(ctx: ApiContext, input: Readonly<Record<string, Json>>, timeKey: string) {
  const user = checkToken(ctx, str(input, "token"));
  const { t, keys } = entriesOf(ctx, "Alarm", user);
  return { t, user, key: keys.find((k) => field(t[k], "time") === str(input, timeKey)) };
}

const DeleteAlarm = tokenApi("DeleteAlarm", [TOKEN, s("time")], (ctx, input) => {
  requireTime(str(input, "time"));
  const { t, key } = findAlarm(ctx, input, "time");
  if (key === undefined) {
    if (str(input, "time")) throw new ApiError(`You have no alarm clock at time : ${str(input, "time")}`);
    return "success";
  }
  delete t[key];
  return "success";
});

const ModifyAlarm = tokenApi("ModifyAlarm", [TOKEN, s("from_time"), s("to_time")], (ctx, input) => {
  requireTime(str(input, "from_time"));
  requireTime(str(input, "to_time"));
  const { t, key, user } = findAlarm(ctx, input, "from_time");
  if (key === undefined) throw new ApiError(`You have no agenda at time : ${str(input, "from_time")}`);
  t[key] = { username: user, time: str(input, "to_time") };
  return "success";
});

const QueryAlarm = tokenApi("QueryAlarm", [TOKEN, s("time")], (ctx, input) => {
  requireTime(str(input, "time"));
  const { t, key } = findAlarm(ctx, input, "time");
  if (key === undefined) throw new ApiError(`You have no alarm clock at time : ${str(input, "time")}`);
  return t[key] ?? null;
});

// ---- meeting ---------------------------------------------------------------------------------------------------

const MEETING_PARAMS = [
  TOKEN,
  s("meeting_topic"),
  s("start_time"),
  s("end_time"),
  s("location"),
  { name: "attendees", type: "list(str)" },
] as const;

/** Fuzzy topic; every other input field, output and exception exact. */
function meetingRule(response: ApiResult, reference: ApiResult): boolean {
  const a = inputOf(response);
  const b = inputOf(reference);
  return (
    fuzzyMatch(str(a, "meeting_topic"), str(b, "meeting_topic")) &&
    pyEqual(without(a, "meeting_topic"), without(b, "meeting_topic")) &&
    sameOutcome(response, reference)
  );
}

function meetingFormat(input: Readonly<Record<string, Json>>): void {
  if (str(input, "start_time")) requireTime(str(input, "start_time"));
  if (str(input, "end_time")) requireTime(str(input, "end_time"));
  if (!str(input, "meeting_topic").trim() && !str(input, "start_time")) {
    throw new ApiError("Meeting Topic and start_time should not be null both");
  }
}

function findMeeting(ctx: ApiContext, input: Readonly<Record<string, Json>>) {
  meetingFormat(input);
  const user = checkToken(ctx, str(input, "token"));
  const { t, keys } = entriesOf(ctx, "Meeting", user);
  const key = keys.find(
    (k) =>
      field(t[k], "meeting_topic") === input.meeting_topic || field(t[k], "start_time") === input.start_time,
  );
  return { t, key };
}

function noMeeting(input: Readonly<Record<string, Json>>): never {
  if (str(input, "meeting_topic")) {
    throw new ApiError(`You have no meeting about ${str(input, "meeting_topic")}`);
  }
  if (str(input, "start_time"))
    throw new ApiError(`You have no meeting at time : ${str(input, "start_time")}`);
  throw new ApiError("Error");
}

const AddMeeting = tokenApi(
  "AddMeeting",
  MEETING_PARAMS,
  (ctx, input) => {
    requireTime(str(input, "start_time"));
    requireTime(str(input, "end_time"));
    if (!str(input, "meeting_topic").trim()) throw new ApiError("Meeting Topic should not be null");
    const user = checkToken(ctx, str(input, "token"));
    const t = table(ctx, "Meeting");
    t[nextIntKey(t)] = {
      username: user,
      meeting_topic: str(input, "meeting_topic"),
      start_time: str(input, "start_time"),
      end_time: str(input, "end_time"),
      location: str(input, "location"),
      attendees: input.attendees ?? [],
    };
    return "success";
  },
  meetingRule,
);

const DeleteMeeting = tokenApi(
  "DeleteMeeting",
  MEETING_PARAMS,
  (ctx, input) => {
    const { t, key } = findMeeting(ctx, input);
    if (key === undefined) noMeeting(input);
    delete t[key];
    return "success";
  },
  // API-Bank's rule reads input['time'], which DeleteMeeting does not have: a KeyError that fails every
  // successful call, the gold one included. We compare the meeting's time, start_time.
  deleteByTime("start_time"),
);

const ModifyMeeting = tokenApi(
  "ModifyMeeting",
  MEETING_PARAMS,
  (ctx, input) => {
    const { t, key } = findMeeting(ctx, input);
    if (key === undefined) noMeeting(input);
    const entry = t[key];
    if (isObject(entry)) {
      if (str(input, "meeting_topic")) entry.meeting_topic = str(input, "meeting_topic");
      if (str(input, "start_time")) {
        entry.start_time = str(input, "start_time");
        entry.end_time = str(input, "end_time");
      }
    }
    return "success";
  },
  meetingRule,
);

const QueryMeeting = tokenApi(
  "QueryMeeting",
  MEETING_PARAMS,
  (ctx, input) => {
    const { t, key } = findMeeting(ctx, input);
    if (key === undefined) noMeeting(input);
    return t[key] ?? null;
  },
  meetingRule,
);

// ---- reminder --------------------------------------------------------------------------------------------------

const REMINDER_PARAMS = [TOKEN, s("content"), s("time")];

/** Lower-cased fuzzy content; time, output and exception exact. */
function reminderRule(response: ApiResult, reference: ApiResult): boolean {
  const a = inputOf(response);
  const b = inputOf(reference);
  return (
    fuzzyMatch(str(a, "content"), str(b, "content"), true) &&
    a.time === b.time &&
    sameOutcome(response, reference)
  );
}

function findReminder(ctx: ApiContext, input: Readonly<Record<string, Json>>) {
  requireTime(str(input, "time"));
  if (!str(input, "content").trim()) throw new ApiError("Content should not be null");
  const user = checkToken(ctx, str(input, "token"));
  const { t, keys } = entriesOf(ctx, "Reminder", user);
  const key = keys.find(
    (k) => field(t[k], "content") === input.content || field(t[k], "time") === input.time,
  );
  if (key === undefined) {
    throw new ApiError(
      `You have no reminder about ${str(input, "content")} or at time : ${str(input, "time")}`,
    );
  }
  return { t, key };
}

const AddReminder = tokenApi(
  "AddReminder",
  REMINDER_PARAMS,
  (ctx, input) => {
    requireTime(str(input, "time"));
    if (!str(input, "content").trim()) throw new ApiError("Content should not be null");
    const user = checkToken(ctx, str(input, "token"));
    const t = table(ctx, "Reminder");
    t[nextIntKey(t)] = { username: user, content: str(input, "content"), time: str(input, "time") };
    return "success";
  },
  reminderRule,
);

const DeleteReminder = tokenApi(
  "DeleteReminder",
  REMINDER_PARAMS,
  (ctx, input) => {
    const { t, key } = findReminder(ctx, input);
    delete t[key];
    return "success";
  },
  deleteByTime("time"),
);

const ModifyReminder = tokenApi(
  "ModifyReminder",
  REMINDER_PARAMS,
  (ctx, input) => {
    const { t, key } = findReminder(ctx, input);
    const entry = t[key];
    if (isObject(entry)) {
      entry.content = str(input, "content");
      entry.time = str(input, "time");
    }
    return "success";
  },
  reminderRule,
);

const QueryReminder = tokenApi(
  "QueryReminder",
  REMINDER_PARAMS,
  (ctx, input) => {
    const { t, key } = findReminder(ctx, input);
    return t[key] ?? null;
  },
  reminderRule,
);

export const PERSONAL_APIS: readonly ApiDefinition[] = [
  GetUserToken,
  DeleteAccount,
  ModifyPassword,
  RegisterUser,
  ForgotPassword,
  AddAgenda,
  DeleteAgenda,
  ModifyAgenda,
  QueryAgenda,
  AddAlarm,
  DeleteAlarm,
  ModifyAlarm,
  QueryAlarm,
  AddMeeting,
  DeleteMeeting,
  ModifyMeeting,
  QueryMeeting,
  AddReminder,
  DeleteReminder,
  ModifyReminder,
  QueryReminder,
];
