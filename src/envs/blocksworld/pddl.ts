/**
 * A small PDDL reader: an s-expression parser and readers for STRIPS domains and problems (what
 * `generated_domain.pddl` and the `generated_basic` problems use, plus typing and constants so other folders of
 * problems of the same kind also read).
 *
 * PDDL is case-insensitive in its names, so every symbol is lower-cased. Errors are `PddlError`s (user-facing:
 * data files are user input) whose one-line message names the source and the line and column.
 */
import { z } from "zod";
import { UserError } from "../../core/errors.ts";

// ---------------------------------------------------------------------------------------------------------------
// S-expressions

export interface SAtom {
  readonly kind: "atom";
  /** The symbol, lower-cased. */
  readonly value: string;
  readonly line: number;
  readonly column: number;
}

export interface SList {
  readonly kind: "list";
  readonly items: readonly SExpr[];
  readonly line: number;
  readonly column: number;
}

export type SExpr = SAtom | SList;

/** A malformed PDDL text; the message is `source:line:column: what`. */
export class PddlError extends UserError {
  readonly line: number;
  readonly column: number;

  constructor(source: string, line: number, column: number, message: string) {
    super(`${source}:${line}:${column}: ${message}`, { category: "bad_pddl" });
    this.name = "PddlError";
    this.line = line;
    this.column = column;
  }
}

interface Token {
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

function tokenize(text: string, source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let column = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === "\n") {
      line++;
      column = 1;
      i++;
    } else if (/\s/.test(ch)) {
      // Any other whitespace (tabs, CR, no-break spaces) separates symbols like a space does.
      column++;
      i++;
    } else if (ch === ";") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (ch === "(" || ch === ")") {
      tokens.push({ text: ch, line, column });
      column++;
      i++;
    } else {
      const start = i;
      const startColumn = column;
      while (i < text.length && !/[\s();]/.test(text[i] as string)) {
        i++;
        column++;
      }
      const symbol = text.slice(start, i);
      if (symbol.includes('"')) throw new PddlError(source, line, startColumn, `unexpected string ${symbol}`);
      tokens.push({ text: symbol.toLowerCase(), line, column: startColumn });
    }
  }
  return tokens;
}

/**
 * Parse exactly one s-expression (a PDDL file holds one `(define …)`). Comments run from `;` to the end of the
 * line; symbols are lower-cased.
 */
export function parseSExpr(text: string, source = "<pddl>"): SExpr {
  const tokens = tokenize(text, source);
  const first = tokens[0];
  if (!first) throw new PddlError(source, 1, 1, "empty input: expected a parenthesised expression");
  // Iterative, so deeply nested garbage cannot overflow the stack.
  const stack: { items: SExpr[]; line: number; column: number }[] = [];
  let result: SExpr | undefined;
  for (const [index, token] of tokens.entries()) {
    if (result !== undefined) {
      throw new PddlError(
        source,
        token.line,
        token.column,
        `unexpected "${token.text}" after the end of the expression`,
      );
    }
    if (token.text === "(") {
      stack.push({ items: [], line: token.line, column: token.column });
    } else if (token.text === ")") {
      const open = stack.pop();
      if (!open) throw new PddlError(source, token.line, token.column, 'unexpected ")" with no matching "("');
      const list: SList = { kind: "list", items: open.items, line: open.line, column: open.column };
      const parent = stack.at(-1);
      if (parent) parent.items.push(list);
      else result = list;
    } else {
      const atom: SAtom = { kind: "atom", value: token.text, line: token.line, column: token.column };
      const parent = stack.at(-1);
      if (parent) parent.items.push(atom);
      else if (index === 0 && tokens.length === 1) result = atom;
      else throw new PddlError(source, token.line, token.column, `expected "(" but found "${token.text}"`);
    }
  }
  const unclosed = stack.at(-1);
  if (unclosed) {
    // The innermost open parenthesis is usually the one missing its partner.
    const last = tokens.at(-1) ?? first;
    throw new PddlError(
      source,
      unclosed.line,
      unclosed.column,
      `"(" is never closed (${stack.length} still open at the end of the input, line ${last.line})`,
    );
  }
  if (result === undefined) throw new PddlError(source, first.line, first.column, "no expression");
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Domain and problem structures (zod schemas: the readers' output is checked against them before use)

const name = z.string().regex(/^[a-z][a-z0-9_-]*$/, "a PDDL name");
const variable = z.string().regex(/^\?[a-z0-9_-]+$/, "a PDDL variable");

/** A predicate applied to terms: variables (`?ob`) in schemas, object names in ground atoms. */
export const atomSchema = z.object({ predicate: name, args: z.array(z.string()) });
export type Atom = z.infer<typeof atomSchema>;

const typedName = z.object({ name: z.string(), type: name });

export const actionSchemaSchema = z.object({
  name,
  parameters: z.array(typedName.extend({ name: variable })),
  /** Positive conjunction (STRIPS). */
  precondition: z.array(atomSchema),
  add: z.array(atomSchema),
  del: z.array(atomSchema),
});
export type ActionSchema = z.infer<typeof actionSchemaSchema>;

export const domainSchema = z.object({
  name,
  requirements: z.array(z.string()),
  /** Type → parent type; every type descends from `object`. Empty when untyped. */
  types: z.record(z.string(), z.string()),
  constants: z.array(typedName.extend({ name })),
  /** Predicate → its parameter types (their count is the arity). */
  predicates: z.record(z.string(), z.array(name)),
  actions: z.array(actionSchemaSchema),
});
export type Domain = z.infer<typeof domainSchema>;

export const problemSchema = z.object({
  name,
  domain: name,
  objects: z.array(typedName.extend({ name })),
  init: z.array(atomSchema),
  /** Positive conjunction of ground atoms. */
  goal: z.array(atomSchema),
});
export type Problem = z.infer<typeof problemSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Readers

class Reader {
  readonly source: string;

  constructor(source: string) {
    this.source = source;
  }

  error(at: SExpr, message: string): PddlError {
    return new PddlError(this.source, at.line, at.column, message);
  }

  list(e: SExpr, what: string): SList {
    if (e.kind !== "list") throw this.error(e, `expected ${what} in parentheses, found "${e.value}"`);
    return e;
  }

  symbol(e: SExpr | undefined, parent: SExpr, what: string): string {
    if (!e) throw this.error(parent, `missing ${what}`);
    if (e.kind !== "atom") throw this.error(e, `expected ${what}, found a parenthesised list`);
    return e.value;
  }

  /** `(define (KIND name) sections…)` → the name and the sections. */
  define(root: SExpr, kind: "domain" | "problem"): { name: string; sections: SList[] } {
    const top = this.list(root, `(define (${kind} …) …)`);
    if (this.symbol(top.items[0], top, '"define"') !== "define") {
      throw this.error(top, `expected "(define (${kind} NAME) …)"`);
    }
    const head = top.items[1];
    if (!head) throw this.error(top, `missing "(${kind} NAME)" after define`);
    const headList = this.list(head, `(${kind} NAME)`);
    const found = this.symbol(headList.items[0], headList, `"${kind}"`);
    if (found !== kind) throw this.error(headList, `expected a ${kind} definition, found "(${found} …)"`);
    const defName = this.symbol(headList.items[1], headList, `the ${kind} name`);
    const sections = top.items.slice(2).map((s) => {
      const l = this.list(s, "a section such as (:init …)");
      const key = l.items[0];
      if (key?.kind !== "atom" || !key.value.startsWith(":")) {
        throw this.error(l, 'expected a section starting with a keyword such as ":init"');
      }
      return l;
    });
    return { name: defName, sections };
  }

  /** A typed list `a b - t c` (untyped names get `object`). `isName` checks each name. */
  typedList(items: readonly SExpr[], parent: SExpr, what: string, isName: (s: string) => boolean) {
    const out: { name: string; type: string; at: SExpr }[] = [];
    let pending: { name: string; at: SExpr }[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as SExpr;
      const value = this.symbol(item, parent, what);
      if (value === "-") {
        const typeExpr = items[i + 1];
        if (typeExpr?.kind !== "atom") {
          throw this.error(typeExpr ?? item, `expected a type name after "-"`);
        }
        if (pending.length === 0) throw this.error(item, `"-" with no ${what} before it`);
        for (const p of pending) out.push({ ...p, type: typeExpr.value });
        pending = [];
        i++;
      } else {
        if (!isName(value)) throw this.error(item, `"${value}" is not a valid ${what}`);
        pending.push({ name: value, at: item });
      }
    }
    for (const p of pending) out.push({ ...p, type: "object" });
    return out;
  }

  /**
   * A conjunction of literals: `()`, one literal, or `(and …)` (nested `and`s flatten). Negative literals are
   * returned separately so callers decide whether `not` is allowed there.
   */
  conjunction(e: SExpr): { positive: { atom: Atom; at: SExpr }[]; negative: { atom: Atom; at: SExpr }[] } {
    const positive: { atom: Atom; at: SExpr }[] = [];
    const negative: { atom: Atom; at: SExpr }[] = [];
    const visit = (f: SExpr, negated: boolean): void => {
      const l = this.list(f, "a formula");
      const head = l.items[0];
      if (!head) {
        if (negated) throw this.error(l, '"not" of an empty formula');
        return;
      }
      const op = this.symbol(head, l, "a predicate or connective");
      if (op === "and") {
        if (negated) throw this.error(l, '"not" of a conjunction is not STRIPS');
        for (const g of l.items.slice(1)) visit(g, false);
      } else if (op === "not") {
        if (negated) throw this.error(l, 'double "not" is not supported');
        if (l.items.length !== 2) throw this.error(l, '"not" takes exactly one atom');
        visit(l.items[1] as SExpr, true);
      } else if (["or", "imply", "exists", "forall", "when", "="].includes(op)) {
        throw this.error(l, `"${op}" is not supported (STRIPS conjunctions of atoms only)`);
      } else {
        const args = l.items.slice(1).map((a) => this.symbol(a, l, `an argument of ${op}`));
        (negated ? negative : positive).push({ atom: { predicate: op, args }, at: l });
      }
    };
    visit(e, false);
    return { positive, negative };
  }

  checked<T>(schema: z.ZodType<T>, value: unknown, at: SExpr): T {
    const r = schema.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw this.error(at, `invalid structure at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "?"}`);
    }
    return r.data;
  }
}

function sectionKey(s: SList): string {
  const key = s.items[0];
  return key?.kind === "atom" ? key.value : "";
}

const isName = (s: string) => /^[a-z][a-z0-9_-]*$/.test(s);
const isVariable = (s: string) => /^\?[a-z0-9_-]+$/.test(s);

/** Read a STRIPS domain (`:strips`, optionally `:typing`), checking every atom against the predicates. */
export function parseDomain(text: string, source = "<domain>"): Domain {
  const r = new Reader(source);
  const root = parseSExpr(text, source);
  const { name: domainName, sections } = r.define(root, "domain");
  const requirements: string[] = [];
  const types: Record<string, string> = {};
  const constants: { name: string; type: string }[] = [];
  const predicates: Record<string, string[]> = {};
  const actions: ActionSchema[] = [];
  // Atoms of each action with their positions, checked once all predicates are known.
  const actionAtoms = new Map<string, { atom: Atom; at: SExpr }[]>();
  const seen = new Set<string>();
  for (const section of sections) {
    const key = sectionKey(section);
    const body = section.items.slice(1);
    if (key !== ":action" && seen.has(key)) throw r.error(section, `duplicate ${key} section`);
    seen.add(key);
    if (key === ":requirements") {
      for (const item of body) {
        const req = r.symbol(item, section, "a requirement");
        if (req !== ":strips" && req !== ":typing") {
          throw r.error(item, `requirement ${req} is not supported (only :strips and :typing)`);
        }
        requirements.push(req);
      }
    } else if (key === ":types") {
      for (const t of r.typedList(body, section, "type name", isName)) types[t.name] = t.type;
    } else if (key === ":constants") {
      for (const c of r.typedList(body, section, "constant", isName))
        constants.push({ name: c.name, type: c.type });
    } else if (key === ":predicates") {
      for (const item of body) {
        const p = r.list(item, "a predicate declaration such as (on ?x ?y)");
        const pName = r.symbol(p.items[0], p, "a predicate name");
        if (!isName(pName)) throw r.error(p, `"${pName}" is not a valid predicate name`);
        if (pName in predicates) throw r.error(p, `predicate ${pName} is declared twice`);
        predicates[pName] = r.typedList(p.items.slice(1), p, "parameter", isVariable).map((a) => a.type);
      }
    } else if (key === ":action") {
      const read = readAction(r, section);
      if (actionAtoms.has(read.schema.name))
        throw r.error(section, `action ${read.schema.name} is defined twice`);
      actions.push(read.schema);
      actionAtoms.set(read.schema.name, read.atoms);
    } else {
      throw r.error(section, `section ${key} is not supported in a STRIPS domain`);
    }
  }
  const knownTypes = new Set(["object", ...Object.keys(types)]);
  for (const [t, parent] of Object.entries(types)) {
    if (!knownTypes.has(parent)) throw r.error(root, `type ${t} has undeclared parent type ${parent}`);
  }
  const constantNames = new Set(constants.map((c) => c.name));
  for (const a of actions) {
    const names = new Set<string>();
    for (const p of a.parameters) {
      if (names.has(p.name)) throw r.error(root, `action ${a.name}: parameter ${p.name} is declared twice`);
      if (!knownTypes.has(p.type)) throw r.error(root, `action ${a.name}: unknown type ${p.type}`);
      names.add(p.name);
    }
  }
  for (const [action, atoms] of actionAtoms) {
    const params = new Set(actions.find((a) => a.name === action)?.parameters.map((p) => p.name) ?? []);
    for (const { atom, at } of atoms) {
      const arity = predicates[atom.predicate];
      if (!arity) throw r.error(at, `action ${action}: unknown predicate ${atom.predicate}`);
      if (arity.length !== atom.args.length) {
        throw r.error(
          at,
          `action ${action}: ${atom.predicate} takes ${arity.length} argument(s), found ${atom.args.length}`,
        );
      }
      for (const arg of atom.args) {
        if (isVariable(arg) ? !params.has(arg) : !constantNames.has(arg)) {
          throw r.error(at, `action ${action}: ${arg} is neither a parameter nor a constant`);
        }
      }
    }
  }
  return r.checked(
    domainSchema,
    { name: domainName, requirements, types, constants, predicates, actions },
    root,
  );
}

function readAction(r: Reader, section: SList): { schema: ActionSchema; atoms: { atom: Atom; at: SExpr }[] } {
  const actionName = r.symbol(section.items[1], section, "the action name");
  if (!isName(actionName)) throw r.error(section, `"${actionName}" is not a valid action name`);
  let parameters: { name: string; type: string }[] = [];
  let precondition: Atom[] = [];
  let add: Atom[] = [];
  let del: Atom[] = [];
  const atoms: { atom: Atom; at: SExpr }[] = [];
  const rest = section.items.slice(2);
  const seen = new Set<string>();
  for (let i = 0; i < rest.length; i += 2) {
    const keyExpr = rest[i] as SExpr;
    const key = r.symbol(keyExpr, section, "an action keyword");
    const value = rest[i + 1];
    if (!value) throw r.error(keyExpr, `${key} has no value`);
    if (seen.has(key)) throw r.error(keyExpr, `${key} appears twice in action ${actionName}`);
    seen.add(key);
    if (key === ":parameters") {
      const l = r.list(value, "a parameter list");
      parameters = r
        .typedList(l.items, l, "parameter", isVariable)
        .map((p) => ({ name: p.name, type: p.type }));
    } else if (key === ":precondition") {
      const c = r.conjunction(value);
      const neg = c.negative[0];
      if (neg) throw r.error(neg.at, `action ${actionName}: negative preconditions are not STRIPS`);
      precondition = c.positive.map((p) => p.atom);
      atoms.push(...c.positive);
    } else if (key === ":effect") {
      const c = r.conjunction(value);
      add = c.positive.map((p) => p.atom);
      del = c.negative.map((p) => p.atom);
      atoms.push(...c.positive, ...c.negative);
    } else {
      throw r.error(keyExpr, `action keyword ${key} is not supported`);
    }
  }
  return { schema: { name: actionName, parameters, precondition, add, del }, atoms };
}

/**
 * Read a problem. With `domain`, the problem must name it and every atom must use its predicates with the right
 * arity and declared objects (or the domain's constants).
 */
export function parseProblem(text: string, source = "<problem>", domain?: Domain): Problem {
  const r = new Reader(source);
  const root = parseSExpr(text, source);
  const { name: problemName, sections } = r.define(root, "problem");
  let domainName: string | undefined;
  let objects: { name: string; type: string; at: SExpr }[] = [];
  let init: { atom: Atom; at: SExpr }[] | undefined;
  let goal: { atom: Atom; at: SExpr }[] | undefined;
  const seen = new Set<string>();
  for (const section of sections) {
    const key = sectionKey(section);
    const body = section.items.slice(1);
    if (seen.has(key)) throw r.error(section, `duplicate ${key} section`);
    seen.add(key);
    if (key === ":domain") {
      domainName = r.symbol(body[0], section, "the domain name");
      if (body.length > 1) throw r.error(section, ":domain takes one name");
    } else if (key === ":objects") {
      objects = r.typedList(body, section, "object name", isName);
    } else if (key === ":init") {
      init = body.map((item) => {
        const l = r.list(item, "an initial atom such as (on a b)");
        const c = r.conjunction(l);
        const atom = c.positive[0];
        if (c.negative.length > 0 || c.positive.length !== 1 || !atom || sectionKeyIsAnd(l)) {
          throw r.error(l, "each :init entry must be one positive atom");
        }
        return atom;
      });
    } else if (key === ":goal") {
      if (body.length !== 1) throw r.error(section, ":goal takes one formula");
      const c = r.conjunction(body[0] as SExpr);
      const neg = c.negative[0];
      if (neg) throw r.error(neg.at, "negative goals are not STRIPS");
      goal = c.positive;
    } else if (key === ":requirements") {
      // Accepted and ignored: the domain's requirements govern.
    } else {
      throw r.error(section, `section ${key} is not supported in a STRIPS problem`);
    }
  }
  if (domainName === undefined) throw r.error(root, "missing (:domain NAME)");
  if (init === undefined) throw r.error(root, "missing (:init …)");
  if (goal === undefined) throw r.error(root, "missing (:goal …)");
  const objectNames = new Set<string>();
  for (const o of objects) {
    if (objectNames.has(o.name)) throw r.error(o.at, `object ${o.name} is declared twice`);
    objectNames.add(o.name);
  }
  if (domain) {
    if (domainName !== domain.name) {
      throw r.error(root, `problem is for domain ${domainName}, not ${domain.name}`);
    }
    const known = new Set([...objectNames, ...domain.constants.map((c) => c.name)]);
    const types = new Set(["object", ...Object.keys(domain.types)]);
    for (const o of objects) {
      if (!types.has(o.type)) throw r.error(o.at, `object ${o.name} has unknown type ${o.type}`);
    }
    for (const { atom, at } of [...init, ...goal]) {
      const arity = domain.predicates[atom.predicate];
      if (!arity) throw r.error(at, `unknown predicate ${atom.predicate}`);
      if (arity.length !== atom.args.length) {
        throw r.error(at, `${atom.predicate} takes ${arity.length} argument(s), found ${atom.args.length}`);
      }
      for (const arg of atom.args) {
        if (!known.has(arg)) throw r.error(at, `${arg} is not a declared object`);
      }
    }
  }
  return r.checked(
    problemSchema,
    {
      name: problemName,
      domain: domainName,
      objects: objects.map((o) => ({ name: o.name, type: o.type })),
      init: init.map((a) => a.atom),
      goal: goal.map((a) => a.atom),
    },
    root,
  );
}

function sectionKeyIsAnd(l: SList): boolean {
  const head = l.items[0];
  return head?.kind === "atom" && head.value === "and";
}

/** Canonical PDDL text of an atom: `(on a b)`, `(handempty)`. */
export function atomText(atom: Atom): string {
  return atom.args.length === 0 ? `(${atom.predicate})` : `(${atom.predicate} ${atom.args.join(" ")})`;
}
