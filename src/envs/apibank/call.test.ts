import { describe, expect, it } from "vitest";
import { formatCall, parseCall, parsePyLiteral, tokenizeArguments } from "./call.ts";

function args(text: string): Record<string, string> {
  const r = parseCall(text);
  if (!r.ok) throw new Error(`${r.category}: ${r.message}`);
  return Object.fromEntries(r.call.args.map((a) => [a.key, a.text]));
}

describe("the call tokenizer", () => {
  it("reads the bracket format with quoted, bare and numeric values", () => {
    const r = parseCall(
      "API-Request: [BookHotel(hotel_name='Hilton', room_count=2, adult_count='4', on=True)]",
    );
    expect(r.ok && r.call.name).toBe("BookHotel");
    expect(args("[BookHotel(hotel_name='Hilton', room_count=2, adult_count='4', on=True)]")).toEqual({
      hotel_name: "Hilton",
      room_count: "2",
      adult_count: "4",
      on: "True",
    });
    expect(args("[GetToday()]")).toEqual({});
    expect(args('[A(x = "double quoted" , y=3.5)]')).toEqual({ x: "double quoted", y: "3.5" });
  });

  it("keeps apostrophes inside values, where API-Bank's regex stops at the first quote", () => {
    expect(args("[SendEmail(receiver='a@b.com', subject='Hi', content='Don't be late, it's at 5')]")).toEqual(
      {
        receiver: "a@b.com",
        subject: "Hi",
        content: "Don't be late, it's at 5",
      },
    );
  });

  it("reads the data's quoted lists and dicts as one value each", () => {
    expect(
      args("[AddMeeting(token='t', attendees='['John Smith', 'Jane Doe']', location='Room A')]"),
    ).toEqual({
      token: "t",
      attendees: "['John Smith', 'Jane Doe']",
      location: "Room A",
    });
    expect(
      args(
        "[RecordHealthData(user_id='1', health_data='[{'name': 'blood_pressure', 'value': '120/80'}, {'name': 'heart_rate', 'value': '80'}]')]",
      ).health_data,
    ).toBe("[{'name': 'blood_pressure', 'value': '120/80'}, {'name': 'heart_rate', 'value': '80'}]");
    expect(args("[AddMeeting(attendees=['A, B', \"C\"], topic='x')]")).toEqual({
      attendees: "['A, B', \"C\"]",
      topic: "x",
    });
  });

  it("unescapes backslash escapes", () => {
    expect(args("[A(x='it\\'s', y='a\\\\b', z='line\\nbreak')]")).toEqual({
      x: "it's",
      y: "a\\b",
      z: "line\nbreak",
    });
  });

  it("takes the leftmost call on a line and arguments up to the last ')]'", () => {
    const r = parseCall("Sure.\nAPI-Request: [GetUserToken(username='a', password='b')] and more text");
    expect(r.ok && r.call.source).toBe("[GetUserToken(username='a', password='b')]");
  });

  it("names every failure: no call at all, or a call that breaks the syntax", () => {
    const cat = (t: string) => {
      const r = parseCall(t);
      return r.ok ? "ok" : r.category;
    };
    expect(cat("Sure, I have booked it for you (room 2).")).toBe("no_api_call");
    expect(cat("")).toBe("no_api_call");
    expect(cat("API-Request: GetUserToken(username='a')")).toBe("false_format");
    expect(cat("[GetUserToken(username='a', password='b'")).toBe("false_format");
    expect(cat("[GetUserToken(username='a', password='b)]")).toBe("false_format");
    expect(cat("[GetUserToken('a', 'b')]")).toBe("false_format");
    expect(cat("[GetUserToken(username: 'a')]")).toBe("false_format");
    expect(cat("[GetUserToken(username='a', username='b')]")).toBe("false_format");
    expect(cat("[A(x=[1, 2)]")).toBe("false_format");
  });

  it("round-trips formatCall", () => {
    const text = formatCall("AddMeeting", { topic: "Bob's review", attendees: ["A", "B"] });
    expect(args(text)).toEqual({ topic: "Bob's review", attendees: "['A', 'B']" });
    expect(tokenizeArguments("").ok).toBe(true);
  });
});

describe("Python literals", () => {
  it("parses lists, dicts, tuples, strings, numbers and constants, never evaluating", () => {
    expect(parsePyLiteral("[{'name': 'x', \"v\": [1, 2.5, -3e2]}, (True, None), 'it\\'s']")).toEqual({
      ok: true,
      value: [{ name: "x", v: [1, 2.5, -300] }, [true, null], "it's"],
    });
    expect(parsePyLiteral("[1, 2,]")).toEqual({ ok: true, value: [1, 2] });
    expect(parsePyLiteral("[true, null]")).toEqual({ ok: true, value: [true, null] });
    for (const bad of ["[1, 2", "__import__('os')", "[x]", "{'a' 1}", "[1] 2", "'open"]) {
      expect(parsePyLiteral(bad).ok, bad).toBe(false);
    }
  });
});
