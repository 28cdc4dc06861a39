/**
 * Natural-language forms of BlocksWorld states, goals and actions (RAFA spec §0 "NL rendering", as PlanBench and
 * RAP render them, so prompts match the official setting), and parsers from text back to actions and states.
 *
 * Rendering: atoms sorted by predicate name then arguments, each rendered with the `predicates` template and the
 * `encoded_objects` names, joined with ", " and " and " before the last; "I have that, …." for a state, "My goal is
 * to have that …." for a goal; then "-" becomes " " and "ontable" becomes "on the table". Plan lines use the
 * `actions` templates, capitalised.
 */
import { z } from "zod";
import { fail, ok, type ParseResult } from "../../core/errors.ts";
import { type GroundAction, groundAction } from "./domain.ts";
import type { Domain } from "./pddl.ts";

/** The parts of `bw_config.yaml` the project uses (other keys are ignored). */
export const vocabularyFileSchema = z.object({
  domain_intro: z.string().min(1),
  actions: z.record(z.string(), z.string()),
  predicates: z.record(z.string(), z.string()),
  encoded_objects: z.record(z.string(), z.string()),
});

export interface Vocabulary {
  /** The domain rules in words (`domain_intro`). */
  readonly domainIntro: string;
  /** Action name → template with one `{}` per argument. */
  readonly actions: Readonly<Record<string, string>>;
  /** Predicate name → template with one `{}` per argument. */
  readonly predicates: Readonly<Record<string, string>>;
  /** Object → its name in words, e.g. `a` → `red block`. */
  readonly objects: Readonly<Record<string, string>>;
}

/**
 * `holding` has no template in bw_config.yaml (PlanBench never renders a held block: its states start with an
 * empty hand). RAP's states say "the hand is holding the red block"; we use that form [our design].
 */
export const HOLDING_TEMPLATE = "the hand is holding the {}";

export function vocabularyFromFile(raw: z.infer<typeof vocabularyFileSchema>): Vocabulary {
  return {
    domainIntro: raw.domain_intro,
    actions: Object.fromEntries(Object.entries(raw.actions).map(([k, v]) => [k.toLowerCase(), v])),
    predicates: {
      holding: HOLDING_TEMPLATE,
      ...Object.fromEntries(Object.entries(raw.predicates).map(([k, v]) => [k.toLowerCase(), v])),
    },
    objects: Object.fromEntries(Object.entries(raw.encoded_objects).map(([k, v]) => [k.toLowerCase(), v])),
  };
}

const placeholders = (template: string) => template.split("{}").length - 1;

/** Why a vocabulary cannot render a domain (a missing or mis-sized template), or undefined when it can. */
export function vocabularyProblem(vocabulary: Vocabulary, domain: Domain): string | undefined {
  for (const a of domain.actions) {
    const t = vocabulary.actions[a.name];
    if (t === undefined) return `no template for action ${a.name}`;
    if (placeholders(t) !== a.parameters.length) {
      return `the template of ${a.name} has ${placeholders(t)} "{}", the action takes ${a.parameters.length}`;
    }
  }
  for (const [p, params] of Object.entries(domain.predicates)) {
    const t = vocabulary.predicates[p];
    if (t === undefined) return `no template for predicate ${p}`;
    if (placeholders(t) !== params.length) {
      return `the template of ${p} has ${placeholders(t)} "{}", the predicate takes ${params.length}`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Rendering

function splitAtom(text: string): { predicate: string; args: string[] } {
  const [predicate = "", ...args] = text.replace(/^\(|\)$/g, "").split(" ");
  return { predicate, args };
}

function fill(template: string, values: readonly string[]): string {
  let i = 0;
  return template.replace(/\{\}/g, () => values[i++] ?? "{}");
}

export function objectName(vocabulary: Vocabulary, object: string): string {
  return vocabulary.objects[object] ?? object;
}

/** One atom in words, e.g. `(on a c)` → "the red block is on top of the orange block". */
export function atomPhrase(vocabulary: Vocabulary, atom: string): string {
  const { predicate, args } = splitAtom(atom);
  const template = vocabulary.predicates[predicate];
  const names = args.map((a) => objectName(vocabulary, a));
  return template === undefined ? [predicate, ...names].join(" ") : fill(template, names);
}

/**
 * The negation of an atom in words, for "why an action failed": "the red block is not clear". Every template
 * of this domain reads "the X is …", so "not" goes after the first " is " [our design].
 */
export function negatedPhrase(vocabulary: Vocabulary, atom: string): string {
  const phrase = atomPhrase(vocabulary, atom);
  return phrase.includes(" is ") ? phrase.replace(" is ", " is not ") : `it is not true that ${phrase}`;
}

/** PlanBench's sort key: predicate name, a space, the arguments joined by spaces. */
function sortKey(atom: string): string {
  const { predicate, args } = splitAtom(atom);
  return `${predicate} ${args.join(" ")}`;
}

/** "x", "x and y", "x, y and z". */
export function joinPhrases(phrases: readonly string[]): string {
  if (phrases.length <= 1) return phrases[0] ?? "";
  return `${phrases.slice(0, -1).join(", ")} and ${phrases.at(-1)}`;
}

/** The official text replacements, applied to whole statements. */
function translate(text: string): string {
  return text.replaceAll("-", " ").replaceAll("ontable", "on the table");
}

function atomsPhrase(vocabulary: Vocabulary, atoms: readonly string[]): string {
  const sorted = [...atoms].sort((a, b) => {
    const ka = sortKey(a);
    const kb = sortKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return joinPhrases(sorted.map((a) => atomPhrase(vocabulary, a)));
}

/** "I have that, the blue block is clear, …." */
export function renderState(vocabulary: Vocabulary, atoms: readonly string[]): string {
  return translate(`I have that, ${atomsPhrase(vocabulary, atoms)}.`);
}

/** "My goal is to have that …." */
export function renderGoal(vocabulary: Vocabulary, goal: readonly string[]): string {
  return translate(`My goal is to have that ${atomsPhrase(vocabulary, goal)}.`);
}

/** A plan line, e.g. "Unstack the blue block from on top of the orange block". */
export function renderAction(vocabulary: Vocabulary, action: GroundAction): string {
  const template = vocabulary.actions[action.name];
  const names = action.args.map((a) => objectName(vocabulary, a));
  const text = translate(template === undefined ? [action.name, ...names].join(" ") : fill(template, names));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The action in lower case without capital, as it reads inside a sentence: "unstack the blue block …". */
export function actionPhrase(vocabulary: Vocabulary, action: GroundAction): string {
  const line = renderAction(vocabulary, action);
  return line.charAt(0).toLowerCase() + line.slice(1);
}

export function renderPlan(vocabulary: Vocabulary, plan: readonly GroundAction[]): string {
  return plan.map((a) => renderAction(vocabulary, a)).join("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing untrusted text

/** Failure categories of `parseActionText`. */
export type ActionParseCategory =
  | "empty_action"
  | "unknown_action"
  | "unknown_object"
  | "object_not_in_problem"
  | "wrong_arity";

/** Failure categories of `parseStateText`. */
export type StateParseCategory = "empty_state" | "unknown_fact" | "unknown_object" | "object_not_in_problem";

export interface ParseScope {
  readonly vocabulary: Vocabulary;
  /** The problem's objects; when given, other blocks are rejected as `object_not_in_problem`. */
  readonly objects?: readonly string[];
}

function normalise(text: string): string {
  return text.toLowerCase().replaceAll("-", " ").replace(/\s+/g, " ").trim();
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** A regex for a template: each `{}` captures, and a "the " right before it may be left out. */
function templateRegex(template: string): RegExp {
  const parts = normalise(template).split("{}");
  const body = parts
    .map((part, i) => {
      if (i === parts.length - 1) return escapeRegex(part);
      const optionalThe = part.endsWith("the ")
        ? `${escapeRegex(part.slice(0, -4))}(?:the )?`
        : escapeRegex(part);
      // A capture never spans " and ": two actions or facts in one sentence are not one block name.
      return `${optionalThe}((?:(?! and ).)+?)`;
    })
    .join("");
  return new RegExp(`^${body}$`);
}

type Resolved =
  | { ok: true; object: string }
  | { ok: false; category: "unknown_object" | "object_not_in_problem" };

/** A block named by letter (`b`), colour (`blue`) or full name (`blue block`, `the blue block`). */
function resolveObject(scope: ParseScope, word: string): Resolved {
  const w = normalise(word)
    .replace(/^the /, "")
    .replace(/[.,;:!]+$/, "");
  const entries = Object.entries(scope.vocabulary.objects);
  let found: string | undefined;
  if (w in scope.vocabulary.objects) found = w;
  else {
    for (const [object, nameText] of entries) {
      const full = normalise(nameText);
      if (w === full || w === full.replace(/ block$/, "")) {
        found = object;
        break;
      }
    }
  }
  // Objects outside the vocabulary are still named by their PDDL name.
  if (found === undefined && scope.objects?.includes(w)) found = w;
  if (found === undefined) return { ok: false, category: "unknown_object" };
  if (scope.objects && !scope.objects.includes(found))
    return { ok: false, category: "object_not_in_problem" };
  return { ok: true, object: found };
}

function resolveAll(scope: ParseScope, words: readonly string[], context: string): ParseResult<string[]> {
  const out: string[] = [];
  for (const word of words) {
    const r = resolveObject(scope, word);
    if (!r.ok) {
      const what =
        r.category === "unknown_object" ? "names no block" : "is a block that is not in this problem";
      return fail(r.category, `"${word.trim()}" in "${context}" ${what}`);
    }
    out.push(r.object);
  }
  return ok(out);
}

const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 77)}...` : s);

/** Lead-in marks models put before an answer: list markers, "[ACTION 2]", "Action:", "State:". */
function stripMarkers(line: string): string {
  let s = line;
  for (;;) {
    const next = s
      .replace(
        /^(?:[-*•>]+|\d+[.):]|\[[^\]]*\]|(?:next |my )?(?:action|step|move|answer|state)(?: \d+)?\s*:)\s*/,
        "",
      )
      .trim();
    if (next === s) return s;
    s = next;
  }
}

/** An action sentence may start with "I" or "I will". */
function stripSubject(sentence: string): string {
  return sentence.replace(/^i (?:will |would |should |shall |can )?(?=\w)/, "");
}

/**
 * Parse an action from untrusted text: the PDDL form `(unstack blue orange)` / `(unstack b c)` anywhere in the
 * first non-empty line, or the template form "unstack the blue block from on top of the orange block" (any case,
 * an optional list marker or "Action:" before it, a full stop after it).
 */
export function parseActionText(text: string, scope: ParseScope): ParseResult<GroundAction> {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== "");
  if (line === undefined) return fail("empty_action", "the action text is empty");
  const { actions } = scope.vocabulary;
  const pddl = /\(([^()]*)\)/.exec(line);
  if (pddl) {
    const [head = "", ...args] = (pddl[1] ?? "").trim().toLowerCase().split(/\s+/);
    const key = (s: string) => s.replace(/[-_]/g, "");
    const name = Object.keys(actions).find((a) => key(a) === key(head));
    if (name !== undefined) {
      const arity = placeholders(actions[name] ?? "");
      if (args.length !== arity) {
        return fail(
          "wrong_arity",
          `${name} takes ${arity} block(s), "${clip(pddl[0])}" gives ${args.length}`,
        );
      }
      const objects = resolveAll(scope, args, pddl[0]);
      return objects.ok ? ok(groundAction(name, objects.value)) : objects;
    }
  }
  const sentence = stripSubject(stripMarkers(normalise(line))).replace(/[\s.!;,]+$/, "");
  if (sentence === "") return fail("empty_action", "the action text is empty");
  // Longest template first, so "unstack …" is never read as "stack …" (the regexes are anchored anyway).
  const templates = Object.entries(actions).sort((a, b) => b[1].length - a[1].length);
  for (const [name, template] of templates) {
    const m = templateRegex(template).exec(sentence);
    if (!m) continue;
    const objects = resolveAll(scope, m.slice(1), sentence);
    return objects.ok ? ok(groundAction(name, objects.value)) : objects;
  }
  return fail(
    "unknown_action",
    `"${clip(line.trim())}" is not one of the actions (pick up, put down, stack, unstack)`,
  );
}

/**
 * Parse a state (or goal) in words back to atoms, e.g. a world model's prediction "I have that, the red block is
 * clear, … and the hand is empty." Facts are separated by commas and "and"; every fact must match a predicate
 * template.
 */
export function parseStateText(text: string, scope: ParseScope): ParseResult<string[]> {
  let s = normalise(text.split(/\r?\n/).find((l) => l.trim() !== "") ?? "");
  s = stripMarkers(s)
    .replace(/^(?:as initial conditions )?i have that,? /, "")
    .replace(/^my goal is to have that /, "")
    .replace(/[\s.!;]+$/, "");
  if (s === "") return fail("empty_state", "the state text is empty");
  const clauses = s.split(/\s*,\s*(?:and\s+)?|\s+and\s+/).filter((c) => c !== "");
  const templates = Object.entries(scope.vocabulary.predicates).map(
    ([predicate, template]) => [predicate, templateRegex(translate(template))] as const,
  );
  const atoms: string[] = [];
  for (const clause of clauses) {
    let matched = false;
    for (const [predicate, regex] of templates) {
      const m = regex.exec(clause);
      if (!m) continue;
      const objects = resolveAll(scope, m.slice(1), clause);
      if (!objects.ok) return objects;
      atoms.push(objects.value.length === 0 ? `(${predicate})` : `(${predicate} ${objects.value.join(" ")})`);
      matched = true;
      break;
    }
    if (!matched) return fail("unknown_fact", `"${clip(clause)}" is not a fact of this domain`);
  }
  return ok(atoms);
}
