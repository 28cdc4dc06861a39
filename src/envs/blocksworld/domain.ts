/**
 * Grounding: a STRIPS domain and a problem's objects become ground actions and operators (precondition, add and
 * delete lists of ground atoms in canonical PDDL text, e.g. `(on a b)`).
 */
import { atomText, type Domain, type Problem } from "./pddl.ts";
import { makeState, type State } from "./state.ts";

/**
 * A ground action such as `(stack a b)`. Interned: the same name and arguments always give the same frozen object,
 * so `===` and `Array.includes` compare actions (agents match proposals against legal actions that way).
 */
export interface GroundAction {
  readonly name: string;
  readonly args: readonly string[];
  /** Canonical PDDL text, e.g. `(stack a b)`. */
  readonly text: string;
}

const interned = new Map<string, GroundAction>();

export function groundAction(name: string, args: readonly string[]): GroundAction {
  const text = args.length === 0 ? `(${name})` : `(${name} ${args.join(" ")})`;
  let action = interned.get(text);
  if (!action) {
    action = Object.freeze({ name, args: Object.freeze([...args]), text });
    interned.set(text, action);
  }
  return action;
}

/** A ground action with its effects on states (atom texts). */
export interface Operator {
  readonly action: GroundAction;
  readonly pre: readonly string[];
  readonly add: readonly string[];
  readonly del: readonly string[];
}

export interface TypedObject {
  readonly name: string;
  readonly type: string;
}

/** All ground operators of a domain over a set of objects. */
export interface Grounding {
  readonly domain: Domain;
  /** The problem's objects then the domain's constants. */
  readonly objects: readonly TypedObject[];
  /** In domain action order, then argument tuples in object order (the order `legalActions` lists them). */
  readonly operators: readonly Operator[];
  /** The operator of a ground action, or undefined when the action is not one of this grounding's. */
  operator(action: GroundAction): Operator | undefined;
}

function isSubtype(domain: Domain, type: string, ancestor: string): boolean {
  let t: string | undefined = type;
  // Bounded walk: a cyclic type declaration must not loop forever.
  for (let hops = 0; t !== undefined && hops <= Object.keys(domain.types).length + 1; hops++) {
    if (t === ancestor) return true;
    t = t === "object" ? undefined : (domain.types[t] ?? "object");
  }
  return false;
}

export function ground(domain: Domain, objects: readonly TypedObject[]): Grounding {
  const all = [...objects, ...domain.constants];
  const operators: Operator[] = [];
  for (const schema of domain.actions) {
    const candidates = schema.parameters.map((p) =>
      all.filter((o) => isSubtype(domain, o.type, p.type)).map((o) => o.name),
    );
    const tuple: string[] = [];
    const emit = (i: number): void => {
      if (i === candidates.length) {
        const binding = new Map(schema.parameters.map((p, j) => [p.name, tuple[j] as string]));
        const sub = (atoms: typeof schema.precondition) =>
          atoms.map((a) =>
            atomText({ predicate: a.predicate, args: a.args.map((x) => binding.get(x) ?? x) }),
          );
        operators.push({
          action: groundAction(schema.name, tuple),
          pre: sub(schema.precondition),
          add: sub(schema.add),
          del: sub(schema.del),
        });
        return;
      }
      for (const o of candidates[i] ?? []) {
        tuple.push(o);
        emit(i + 1);
        tuple.pop();
      }
    };
    emit(0);
  }
  const byAction = new Map(operators.map((op) => [op.action, op]));
  return { domain, objects: all, operators, operator: (action) => byAction.get(action) };
}

/** A grounded problem: what the simulator, validator and planner work on. */
export interface Task {
  /** Instance id, e.g. `instance-1`. */
  readonly id: string;
  readonly problem: Problem;
  readonly grounding: Grounding;
  readonly init: State;
  /** Goal atoms (canonical text), sorted. */
  readonly goal: readonly string[];
}

export function makeTask(domain: Domain, problem: Problem, id: string): Task {
  return {
    id,
    problem,
    grounding: ground(domain, problem.objects),
    init: makeState(problem.init.map(atomText)),
    goal: makeState(problem.goal.map(atomText)),
  };
}
