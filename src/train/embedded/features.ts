/**
 * The embedded learner's decisions and their features. A call is produced by a short sequence of decisions, each
 * a choice among options described by sparse binary features:
 *
 *   act   call or reply                       (rollout steps only; a test point says which it wants)
 *   api   which known API to call             (listed ones and those a search returned)
 *   arg   for each input parameter in order, a value: a span of the dialogue, a date rewritten as the APIs take
 *         it, a value from an earlier result, the current time, or nothing (leave the parameter out)
 *
 * Features are delexicalised — they describe how a value relates to the parameter (the words before a span
 * against the parameter's name, the span's shape against the parameter's kind, a result key against the name)
 * rather than naming APIs — so what is learned on the training requests carries over to the test dialogues' APIs,
 * which the training data never names. The few lexical features (the word before and after a span) are those a
 * sentence uses to introduce a value ("named", "is", "to").
 */
import type { Json } from "../../envs/apibank/values.ts";
import { dateCandidates } from "./dates.ts";
import type { ApiDoc, DialogueTurn, ParamDoc, PromptContext } from "./prompt.ts";

export interface Option {
  /** The value this option stands for: `call` / `reply`, an API name, an argument value, or `null` (omit). */
  readonly value: string | null;
  readonly features: readonly string[];
}

export interface Decision {
  readonly kind: "act" | "api" | "arg";
  readonly options: readonly Option[];
}

export const SEARCHER = "ToolSearcher";

const STOP = new Set(
  "a an the and or but of to in on at for with from by about as is are was were be been am i me my you your we our it its this that these those can could would will should please do does did have has had want need like help what which who when where how there here any some me just also then so if not no yes".split(
    " ",
  ),
);

/** Lower-case word pieces: splits snake_case, CamelCase and punctuation. */
export function words(text: string): string[] {
  return (
    text
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .toLowerCase()
      .match(/[a-z0-9]+/g) ?? []
  );
}

export function contentWords(text: string): string[] {
  return words(text).filter((w) => !STOP.has(w) && w.length > 1);
}

/** A parameter's kind, from its name, type and description: what shape of value it wants. */
export function paramClass(p: ParamDoc): string {
  const name = words(p.name).join(" ");
  const all = `${name} ${p.description.toLowerCase()}`;
  if (/\b(time|date|datetime|day|deadline|timestamp)\b/.test(name)) return "time";
  if (/\btoken\b/.test(name)) return "token";
  if (/\bpassword\b/.test(name)) return "password";
  if (/\bemail\b/.test(name)) return "email";
  if (/\b(username|user name|name|receiver|patient|doctor|author|owner|person)\b/.test(name)) return "name";
  if (/\b(id|code|number|phone|zip)\b/.test(name)) return "id";
  if (/\b(location|city|address|place|destination|country|origin|from|to)\b/.test(name)) return "place";
  if (/^(int|float|number)/i.test(p.type) || /\b(amount|price|count|num|quantity|age|rating)\b/.test(name))
    return "number";
  if (/^list/i.test(p.type)) return "list";
  if (/\b(keywords?|query|question|content|topic|text|description|message|formula|title)\b/.test(all))
    return "text";
  return "other";
}

/** What a value looks like. */
export function shapeOf(value: string): string {
  const v = value.trim();
  if (/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v)) return "datetime";
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return "date";
  if (/^\d{1,2}:\d{2}(:\d{2})?$/.test(v)) return "clock";
  if (/^[\w.+-]+@[\w-]+\.[\w.]+$/.test(v)) return "email";
  if (/^[+-]?\d+(\.\d+)?$/.test(v)) return "num";
  if (/^[\d\s()+\-*/.]+$/.test(v) && /[+\-*/]/.test(v)) return "formula";
  if (/^\S+$/.test(v)) {
    if (/^[a-z]*\d[a-z\d]*$/i.test(v) && /[a-z]/i.test(v)) return "alnum";
    if (/^[A-Z]{2,}$/.test(v)) return "upper";
    if (/^[A-Z]/.test(v)) return "cap";
    return "word";
  }
  const parts = v.split(/\s+/);
  if (parts.every((p) => /^[A-Z]/.test(p))) return "capphrase";
  return "phrase";
}

const bin = (n: number, max: number) => String(Math.min(n, max));

function overlap(a: readonly string[], b: ReadonlySet<string>): number {
  return new Set(a.filter((w) => b.has(w))).size;
}

/** The token that an API's calls need, if one appears in the dialogue (a `token` result value). */
function tokenSeen(turns: readonly DialogueTurn[]): boolean {
  return turns.some(
    (t) =>
      t.kind === "call" &&
      t.exception === null &&
      t.output !== null &&
      typeof t.output === "object" &&
      !Array.isArray(t.output) &&
      "token" in t.output,
  );
}

const needsToken = (a: ApiDoc) => a.inputs.some((p) => p.name === "token");
const givesToken = (a: ApiDoc) => a.outputs.some((p) => p.name === "token");

/** The result an API search returned last (its described APIs), and the state of the dialogue. */
function dialogueState(ctx: PromptContext) {
  let lastSearchFound: string[] = [];
  const calledOk = new Map<string, number>();
  const calledErr = new Map<string, number>();
  let apiCalls = 0;
  for (const t of ctx.turns) {
    if (t.kind !== "call") continue;
    const map = t.exception === null ? calledOk : calledErr;
    map.set(t.name, (map.get(t.name) ?? 0) + 1);
    if (t.name === SEARCHER && t.exception === null) {
      const out = Array.isArray(t.output) ? t.output : [t.output];
      lastSearchFound = out.flatMap((o) =>
        o !== null && typeof o === "object" && !Array.isArray(o) && typeof o.name === "string"
          ? [o.name]
          : [],
      );
    } else if (t.name !== SEARCHER && t.exception === null) apiCalls++;
  }
  const last = [...ctx.turns].reverse().find((t) => t.kind !== "ai");
  const lastKind =
    last === undefined || last.kind === "user"
      ? "user"
      : last.kind === "call" && last.exception !== null
        ? "err"
        : last.kind === "call" && last.name === SEARCHER
          ? "search"
          : "api";
  return { lastSearchFound, calledOk, calledErr, apiCalls, lastKind };
}

function userText(ctx: PromptContext, lastOnly: boolean): string {
  const users = ctx.turns.filter((t): t is { kind: "user"; text: string } => t.kind === "user");
  return lastOnly ? (users[users.length - 1]?.text ?? "") : users.map((u) => u.text).join(" ");
}

export function actDecision(ctx: PromptContext): Decision {
  const s = dialogueState(ctx);
  const pending = ctx.apis.some(
    (a) => a.name !== SEARCHER && !s.calledOk.has(a.name) && s.lastSearchFound.includes(a.name),
  );
  const f = (act: string) => [
    `act:${act}`,
    `act:${act}|last:${s.lastKind}`,
    `act:${act}|calls:${bin(s.apiCalls, 3)}`,
    `act:${act}|pending:${pending}`,
  ];
  return {
    kind: "act",
    options: [
      { value: "call", features: f("call") },
      { value: "reply", features: f("reply") },
    ],
  };
}

export function apiDecision(ctx: PromptContext): Decision {
  const s = dialogueState(ctx);
  const haveToken = tokenSeen(ctx.turns);
  const tokenWanted = ctx.apis.some((a) => needsToken(a) && a.name !== SEARCHER);
  const offered = (a: ApiDoc) => ctx.listed.has(a.name) || s.lastSearchFound.includes(a.name);
  // How well each offered API matches what was said, as a rank among the offered APIs rather than a raw count:
  // during rollouts a search has usually left one API on offer, on test points several are listed; a rank means
  // the same thing in both.
  const texts = {
    last: contentWords(userText(ctx, true)),
    all: contentWords(userText(ctx, false)),
    ai: contentWords(
      [...ctx.turns]
        .reverse()
        .filter((t): t is { kind: "ai"; text: string } => t.kind === "ai")
        .slice(0, 2)
        .map((t) => t.text)
        .join(" "),
    ),
  };
  const candidates = ctx.apis.filter((a) => a.name !== SEARCHER && offered(a));
  const overlapOf = (a: ApiDoc, which: keyof typeof texts) =>
    overlap(texts[which], new Set(contentWords(`${a.name} ${a.description}`)));
  const top = (a: ApiDoc, which: keyof typeof texts): boolean => {
    const mine = overlapOf(a, which);
    return mine > 0 && candidates.every((b) => overlapOf(b, which) <= mine);
  };
  const said = ctx.turns.map((t) => (t.kind === "call" ? "" : t.text)).join(" ");
  const options = ctx.apis.map((a): Option => {
    const isSearcher = a.name === SEARCHER;
    const f = [
      isSearcher ? "api:searcher" : "api:other",
      `api:searcher=${isSearcher}|found:${s.lastSearchFound.length > 0}`,
      `api:offered=${isSearcher ? "searcher" : offered(a)}`,
      `api:called_ok=${bin(s.calledOk.get(a.name) ?? 0, 2)}`,
      `api:called_err=${bin(s.calledErr.get(a.name) ?? 0, 2)}`,
    ];
    if (!isSearcher && offered(a)) {
      f.push(`api:alone=${candidates.length === 1}`);
      for (const which of ["last", "all", "ai"] as const) if (top(a, which)) f.push(`api:top_${which}`);
      if (said.includes(a.name)) f.push("api:named");
    }
    if (needsToken(a)) f.push(`api:needs_token|have:${haveToken}`);
    if (givesToken(a)) f.push(`api:gives_token|have:${haveToken}|wanted:${tokenWanted}`);
    if (a.inputs.length === 0) f.push("api:no_inputs");
    return { value: a.name, features: f };
  });
  return { kind: "api", options };
}

interface Token {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

const EDGE = /^[\s"'“”‘’(]+|[\s"'“”‘’).,!?;:]+$/g;

/** Spans of one turn: runs of up to `maxLen` words that do not cross a comma, period or question mark. */
function spans(text: string, maxLen = 6): { value: string; first: number; last: number; tokens: Token[] }[] {
  const tokens: Token[] = [...text.matchAll(/\S+/g)].map((m) => ({
    text: m[0],
    start: m.index,
    end: m.index + m[0].length,
  }));
  const out: { value: string; first: number; last: number; tokens: Token[] }[] = [];
  for (let i = 0; i < tokens.length; i++) {
    for (let j = i; j < Math.min(tokens.length, i + maxLen); j++) {
      const first = tokens[i];
      const last = tokens[j];
      if (!first || !last) break;
      const value = text.slice(first.start, last.end).replace(EDGE, "");
      if (value !== "") out.push({ value, first: i, last: j, tokens });
      // A value does not run on past the end of a clause.
      if (/[.,!?;:]["'”’)]*$/.test(last.text) && j > i) break;
      if (/[,!?;]["'”’)]*$/.test(last.text)) break;
    }
  }
  for (const m of text.matchAll(/["“']([^"”']{1,120})["”']/g)) {
    const at = m.index;
    out.push({
      value: (m[1] ?? "").trim(),
      first: -1,
      last: -1,
      tokens: [{ text: m[0], start: at, end: at }],
    });
  }
  return out;
}

function clean(word: string | undefined): string {
  return (word ?? "").toLowerCase().replace(/[^a-z0-9]/g, "");
}

/** A neighbouring word as a feature: function words by name, any other word by its shape (no topic words). */
function functionWord(word: string | undefined): string {
  if (word === undefined) return "^";
  const w = clean(word);
  if (STOP.has(w) || INTRO.has(w)) return w;
  return /^[A-Z]/.test(word) ? "Cap" : /\d/.test(w) ? "Num" : "w";
}

/** Words that introduce a value, beyond the stop words. */
const INTRO = new Set("named called titled set change move reschedule add remind".split(" "));

/** Leaves of a result with the key that holds them (list items keep their list's key). */
function leaves(value: Json | undefined, key: string, out: { key: string; value: string }[]): void {
  if (value === null || value === undefined) return;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    out.push({ key, value: String(value) });
  } else if (Array.isArray(value)) {
    for (const v of value.slice(0, 20)) leaves(v, key, out);
  } else {
    for (const [k, v] of Object.entries(value).slice(0, 40)) leaves(v, k, out);
  }
}

/**
 * The options for one parameter. `used` holds values already given to earlier parameters of this call (a value
 * rarely fills two). The same value can come from several places; each place is its own option and the learner
 * treats them as one value (it sums their probabilities), so no place has to be named as "the" right one.
 */
export function argDecision(
  ctx: PromptContext,
  param: ParamDoc,
  used: ReadonlySet<string>,
  siblings: readonly ParamDoc[] = [],
): Decision {
  const pc = paramClass(param);
  const nameWords = new Set(words(param.name));
  // Words that name this parameter and no other input of the API ("old" in old_password beside new_password).
  const otherNameWords = new Set(siblings.filter((p) => p.name !== param.name).flatMap((p) => words(p.name)));
  const ownWords = new Set([...nameWords].filter((w) => !otherNameWords.has(w)));
  const distinctive = ownWords.size < nameWords.size ? ownWords : new Set<string>();
  const descWords = new Set(contentWords(param.description));
  const optional = /optional/i.test(param.description);
  const options: Option[] = [];
  const common = (value: string, source: string): string[] => {
    const shape = shapeOf(value);
    const type = param.type.toLowerCase().slice(0, 5);
    const f = [`arg:src=${source}`, `arg:src=${source}|pc:${pc}`, `arg:shape=${shape}|pc:${pc}`];
    if (type !== "str") f.push(`arg:shape=${shape}|type:${type}`);
    if (used.has(value)) f.push("arg:used");
    const inside = words(value);
    if (inside.some((w) => nameWords.has(w))) f.push("arg:contains_param_name");
    if (inside.some((w) => otherNameWords.has(w) && !nameWords.has(w))) f.push("arg:contains_other_param");
    // Function words inside a value ("user1 and my password is x"): values are rarely clauses.
    for (const w of new Set(inside.slice(1, -1))) if (STOP.has(w)) f.push(`arg:inner=${w}`);
    return f;
  };
  options.push({
    value: null,
    features: ["arg:omit", `arg:omit|pc:${pc}`, `arg:omit|optional:${optional}`],
  });

  // Spans of the dialogue's turns, most recent first.
  const textTurns = ctx.turns
    .map((t, i) => ({ t, i }))
    .filter((x): x is { t: { kind: "user" | "ai"; text: string }; i: number } => x.t.kind !== "call");
  const recentUser = textTurns.filter((x) => x.t.kind === "user").map((x) => x.i);
  textTurns.slice(-8).forEach(({ t, i }) => {
    const ago = recentUser.filter((u) => u > i).length;
    const who = t.kind;
    const turnValue = t.text.replace(EDGE, "");
    for (const s of spans(t.text)) {
      const f = common(s.value, who);
      f.push(`arg:ago=${bin(ago, 2)}|${who}`);
      const n = Math.min(s.value.split(/\s+/).length, 5);
      f.push(`arg:len=${n}|pc:${pc}`);
      if (s.first < 0) f.push(`arg:quoted|pc:${pc}`);
      else {
        const before = s.tokens.slice(Math.max(0, s.first - 3), s.first).map((x) => clean(x.text));
        const prev = functionWord(s.tokens[s.first - 1]?.text);
        const next = functionWord(s.tokens[s.last + 1]?.text);
        f.push(`arg:prev=${prev}|pc:${pc}`, `arg:next=${next}|pc:${pc}`);
        if (before.some((w) => nameWords.has(w))) f.push("arg:ctx_name", `arg:ctx_name|pc:${pc}`);
        else if (before.some((w) => descWords.has(w))) f.push("arg:ctx_desc");
        const near = s.tokens.slice(Math.max(0, s.first - 4), s.first).flatMap((x) => words(x.text));
        if (near.some((w) => distinctive.has(w))) f.push("arg:ctx_distinct");
        const firstWord = clean(s.tokens[s.first]?.text);
        const lastWord = clean(s.tokens[s.last]?.text);
        if (STOP.has(firstWord) || STOP.has(lastWord)) f.push("arg:edge_stop");
        if (s.value === turnValue) f.push(`arg:whole_turn|pc:${pc}`);
      }
      options.push({ value: s.value, features: f });
    }
    for (const d of dateCandidates(t.text, ctx.year)) {
      const f = common(d.text, "date");
      f.push(`arg:ago=${bin(ago, 2)}|${who}`, `arg:rewrite=${d.kind}|pc:${pc}`);
      const before = t.text.slice(Math.max(0, d.start - 30), d.start);
      if (words(before).some((w) => nameWords.has(w))) f.push("arg:ctx_name", `arg:ctx_name|pc:${pc}`);
      options.push({ value: d.text, features: f });
    }
  });

  // Values of earlier results, most recent first.
  const calls = ctx.turns.filter((t) => t.kind === "call");
  calls.forEach((c, i) => {
    if (c.kind !== "call" || c.exception !== null || c.name === SEARCHER) return;
    const found: { key: string; value: string }[] = [];
    leaves(c.output, "", found);
    const ago = calls.length - 1 - i;
    for (const leaf of found) {
      const f = common(leaf.value, "result");
      const keyWords = words(leaf.key);
      f.push(`arg:result_ago=${bin(ago, 2)}`);
      if (leaf.key === param.name) f.push("arg:key_eq", `arg:key_eq|pc:${pc}`);
      else if (keyWords.some((w) => nameWords.has(w))) f.push("arg:key_overlap");
      else f.push("arg:key_other");
      options.push({ value: leaf.value, features: f });
    }
  });

  if (ctx.time !== undefined) {
    options.push({ value: ctx.time, features: [...common(ctx.time, "now"), `arg:now|pc:${pc}`] });
    const day = ctx.time.slice(0, 10);
    options.push({ value: day, features: [...common(day, "now"), `arg:now_day|pc:${pc}`] });
  }
  return { kind: "arg", options };
}
