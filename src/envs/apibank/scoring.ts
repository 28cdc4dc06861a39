/**
 * How a call point is scored. `official` is API-Bank's own evaluator, bug for bug (the default for every number
 * compared with a published one); `corrected` is the project's reading, which departs from official by the
 * named rules below and by nothing else. A rule set in between (official plus some rules) is what the
 * differential test and the docs' attribution table use: each rule alone says how many verdicts it changes.
 */
import { z } from "zod";

export const SCORING_RULES = [
  {
    id: "call-syntax",
    summary:
      "the call is read with the project's tokenizer: a quote closes a value only before `, key=` or the end, escapes and bracketed values are understood, a repeated key is a format error",
    official:
      "`parse_api_call`'s regular expression: a quoted value ends at the first quote of either kind (`attendees='['John', …]'` is `[`), a repeated key keeps its last value",
  },
  {
    id: "python-lists",
    summary: "list-typed values are read as Python literals and must be lists (of strings for list(str))",
    official:
      "the value stays the raw text (the conversion's `json.loads` is commented out at 483554e), so no list-valued call can match a gold list",
  },
  {
    id: "ascii-digits",
    summary: "int and float values take ASCII digits only",
    official:
      "`str.isdigit()` accepts any Unicode digit; `int()` then converts decimal ones and raises on ² or ①",
  },
  {
    id: "device-id",
    summary: "TimedSwitch and CancelTimedSwitch accept `device_id`, the key the data's own calls use",
    official: "only `name` is declared, so the data's gold calls fail with `invalid parameter name`",
  },
  {
    id: "intact-gold",
    summary: "a check never changes the gold record it compares with",
    official:
      "AddMeeting, QueryMeeting and ModifyMeeting pop `meeting_topic` from the gold record; a gold turn shared by two points (an API turn right after another) then fails the second check with a KeyError",
  },
  {
    id: "delete-meeting-start-time",
    summary: "DeleteMeeting's check compares `start_time`",
    official: "it reads `input['time']`, which DeleteMeeting has not: a KeyError on every successful call",
  },
  {
    id: "dialogue-state",
    summary: "the dialogue's earlier calls are replayed into the databases before the check",
    official: "a fresh database per check",
  },
  {
    id: "executed-reference",
    summary: "the prediction is compared with the gold call executed here in the same state",
    official: "with the result recorded in the data",
  },
] as const;

export type ScoringRule = (typeof SCORING_RULES)[number]["id"];
export const SCORING_RULE_IDS: readonly ScoringRule[] = SCORING_RULES.map((r) => r.id);

export const SCORINGS = ["official", "corrected"] as const;
export type Scoring = (typeof SCORINGS)[number];
export const ScoringSchema = z.enum(SCORINGS);

/** The rules of a scoring: none for official, all for corrected. */
export function scoringRules(scoring: Scoring): ReadonlySet<ScoringRule> {
  return new Set(scoring === "official" ? [] : SCORING_RULE_IDS);
}

/** A rule set's name in summaries: `official`, `corrected`, or `official+rule+…`. */
export function rulesLabel(rules: ReadonlySet<ScoringRule>): string {
  if (rules.size === 0) return "official";
  if (SCORING_RULE_IDS.every((r) => rules.has(r))) return "corrected";
  return ["official", ...SCORING_RULE_IDS.filter((r) => rules.has(r))].join("+");
}
