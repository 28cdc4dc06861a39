/**
 * Hand-made problems for the planners' tests: a finite graph given as a table, with roles that count every
 * question they are asked. States and actions are strings.
 */
import type { Roles } from "../../core/roles.ts";

export interface GraphSpec {
  /** Outgoing edges per state, in the elite's order: [action, next state, reward]. */
  readonly edges: Readonly<Record<string, readonly (readonly [string, string, number])[]>>;
  /** States where the model says done. */
  readonly terminal?: readonly string[];
  /** The critic's value per state (0 when absent). */
  readonly values?: Readonly<Record<string, number>>;
}

export interface Calls {
  readonly elite: string[];
  readonly model: string[];
  readonly critic: string[];
  /** Batched critic requests (`values`) and the n asked each time. */
  readonly batches: number[];
}

export type CountingRoles = Roles<string, string> & { readonly calls: Calls };

/** Roles that answer from the table and log every call (`state`, `state:action`). */
export function graphRoles(spec: GraphSpec): CountingRoles {
  const calls: Calls = { elite: [], model: [], critic: [], batches: [] };
  const terminal = new Set(spec.terminal ?? []);
  return {
    calls,
    elite: {
      async propose(state, breadth) {
        calls.elite.push(state);
        return (spec.edges[state] ?? []).slice(0, breadth).map(([a]) => a);
      },
    },
    model: {
      async predict(state, action) {
        calls.model.push(`${state}:${action}`);
        const edge = (spec.edges[state] ?? []).find(([a]) => a === action);
        if (!edge) throw new Error(`no action ${action} in ${state}`);
        const [, next, reward] = edge;
        return { state: next, reward, done: terminal.has(next) };
      },
    },
    critic: {
      async value(state) {
        calls.critic.push(state);
        return spec.values?.[state] ?? 0;
      },
    },
  };
}

/**
 * Greedy is wrong, depth 2 is right: `a` pays 1 now and nothing after; `b` pays 0 now and 10 next.
 * S -a(1)-> A -c(0)-> A2 ;  S -b(0)-> B -d(10)-> G.  The critic knows nothing (0 everywhere).
 */
export const TRAP: GraphSpec = {
  edges: {
    S: [
      ["a", "A", 1],
      ["b", "B", 0],
    ],
    A: [["c", "A2", 0]],
    B: [["d", "G", 10]],
  },
  terminal: ["A2", "G"],
};

/**
 * A diamond: S -a-> L -c-> D and S -b-> R -d-> D (all rewards 0), then D -e-> E (reward 1, terminal).
 * The critic values L, R, D at 0.5.
 */
export const DIAMOND: GraphSpec = {
  edges: {
    S: [
      ["a", "L", 0],
      ["b", "R", 0],
    ],
    L: [["c", "D", 0]],
    R: [["d", "D", 0]],
    D: [["e", "E", 1]],
  },
  terminal: ["E"],
  values: { L: 0.5, R: 0.5, D: 0.5 },
};
