import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BayesactError, UserError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { ground, groundAction } from "./domain.ts";
import { type Domain, PddlError, parseDomain, parseProblem, parseSExpr } from "./pddl.ts";
import { requireData } from "./testing/data.ts";

const BW = join(requireData(), "blocksworld");
const domainText = readFileSync(join(BW, "generated_domain.pddl"), "utf8");

function pddlError(f: () => unknown): PddlError {
  try {
    f();
  } catch (e) {
    if (e instanceof PddlError) return e;
    throw e;
  }
  throw new Error("expected a PddlError");
}

describe("s-expressions", () => {
  it("parses nested lists, lower-cases symbols, skips comments and records positions", () => {
    const e = parseSExpr("; header\n(A (b C) ; trailing\n  d)");
    expect(e).toMatchObject({ kind: "list", line: 2, column: 1 });
    if (e.kind !== "list") throw new Error("list expected");
    expect(e.items.map((i) => (i.kind === "atom" ? i.value : "list"))).toEqual(["a", "list", "d"]);
    expect(e.items[2]).toMatchObject({ line: 3, column: 3 });
    const odd = parseSExpr("(a\u00a0b\vc\r\n\td)");
    expect(odd.kind === "list" && odd.items.map((i) => (i.kind === "atom" ? i.value : "list"))).toEqual([
      "a",
      "b",
      "c",
      "d",
    ]);
  });

  it("reports broken input with line and column", () => {
    expect(pddlError(() => parseSExpr("", "x.pddl")).message).toBe(
      "x.pddl:1:1: empty input: expected a parenthesised expression",
    );
    expect(pddlError(() => parseSExpr("(a\n  (b c)\n  (d e", "x.pddl")).message).toBe(
      'x.pddl:3:3: "(" is never closed (2 still open at the end of the input, line 3)',
    );
    expect(pddlError(() => parseSExpr("(a b))", "x.pddl")).message).toBe(
      'x.pddl:1:6: unexpected ")" after the end of the expression',
    );
    expect(pddlError(() => parseSExpr(")", "x.pddl")).message).toBe(
      'x.pddl:1:1: unexpected ")" with no matching "("',
    );
    const e = pddlError(() => parseSExpr("(a)\n(b)", "x.pddl"));
    expect(e).toBeInstanceOf(UserError);
    expect(e).toMatchObject({ line: 2, column: 1, category: "bad_pddl" });
  });
});

describe("STRIPS domain", () => {
  it("reads generated_domain.pddl: 4 actions with preconditions, add and delete lists", () => {
    const d = parseDomain(domainText);
    expect(d.name).toBe("blocksworld-4ops");
    expect(Object.keys(d.predicates).sort()).toEqual(["clear", "handempty", "holding", "on", "ontable"]);
    expect(d.actions.map((a) => a.name)).toEqual(["pick-up", "put-down", "stack", "unstack"]);
    const unstack = d.actions[3];
    expect(unstack?.parameters.map((p) => p.name)).toEqual(["?ob", "?underob"]);
    expect(unstack?.precondition).toEqual([
      { predicate: "on", args: ["?ob", "?underob"] },
      { predicate: "clear", args: ["?ob"] },
      { predicate: "handempty", args: [] },
    ]);
    expect(unstack?.add.map((a) => a.predicate)).toEqual(["holding", "clear"]);
    expect(unstack?.del.map((a) => a.predicate)).toEqual(["on", "clear", "handempty"]);
  });

  it("grounds 60 operators over 5 objects, stack with both arguments", () => {
    const g = ground(
      parseDomain(domainText),
      ["a", "b", "c", "d", "e"].map((name) => ({ name, type: "object" })),
    );
    expect(g.operators).toHaveLength(5 + 5 + 25 + 25);
    const op = g.operator(groundAction("stack", ["a", "b"]));
    expect(op).toEqual({
      action: groundAction("stack", ["a", "b"]),
      pre: ["(clear b)", "(holding a)"],
      add: ["(handempty)", "(clear a)", "(on a b)"],
      del: ["(clear b)", "(holding a)"],
    });
    expect(groundAction("stack", ["a", "b"])).toBe(op?.action); // interned
  });

  it("is case-insensitive and reads typed parameters, constants and comments", () => {
    const typed = `; typed variant
      (DEFINE (DOMAIN Typed)
        (:requirements :strips :typing)
        (:types block - object peg)
        (:constants table - peg)
        (:predicates (On ?x - block ?y - object) (Free ?x))
        (:action Move :parameters (?b - block ?from ?to - object)
          :precondition (AND (on ?b ?from) (free ?b) (free ?to))
          :effect (and (on ?b ?to) (not (on ?b ?from)) (free ?from) (not (free ?to)))))`;
    const d = parseDomain(typed);
    expect(d.types).toEqual({ block: "object", peg: "object" });
    expect(d.constants).toEqual([{ name: "table", type: "peg" }]);
    expect(d.actions[0]?.parameters).toEqual([
      { name: "?b", type: "block" },
      { name: "?from", type: "object" },
      { name: "?to", type: "object" },
    ]);
    const p = parseProblem(
      "(define (problem p) (:domain typed) (:objects x y - block) (:init (on x table) (free x)) (:goal (on x y)))",
      "p",
      d,
    );
    const g = ground(d, p.objects);
    // ?b ranges over the 2 blocks only; ?from and ?to over blocks and the constant.
    expect(g.operators).toHaveLength(2 * 3 * 3);
    expect(g.operators.some((o) => o.action.args[0] === "table")).toBe(false);
  });

  it("names the line of semantic errors", () => {
    const bad = (body: string) =>
      pddlError(() => parseDomain(`(define (domain d)\n(:predicates (p ?x))\n${body})`, "d.pddl"));
    expect(bad("(:action a :parameters (?x)\n :precondition (q ?x) :effect (p ?x))").message).toBe(
      "d.pddl:4:16: action a: unknown predicate q",
    );
    expect(bad("(:action a :parameters (?x) :precondition (p ?x ?x) :effect (p ?x))").message).toBe(
      "d.pddl:3:43: action a: p takes 1 argument(s), found 2",
    );
    expect(bad("(:action a :parameters (?x) :precondition (p ?y) :effect (p ?x))").message).toBe(
      "d.pddl:3:43: action a: ?y is neither a parameter nor a constant",
    );
    expect(bad("(:action a :parameters (?x) :precondition (not (p ?x)) :effect (p ?x))").message).toBe(
      "d.pddl:3:48: action a: negative preconditions are not STRIPS",
    );
    expect(bad("(:action a :parameters (?x) :precondition (or (p ?x)) :effect (p ?x))").message).toBe(
      'd.pddl:3:43: "or" is not supported (STRIPS conjunctions of atoms only)',
    );
    expect(bad("(:functions (f))").message).toBe(
      "d.pddl:3:1: section :functions is not supported in a STRIPS domain",
    );
    expect(pddlError(() => parseDomain("(define (problem p))", "d.pddl")).message).toBe(
      'd.pddl:1:9: expected a domain definition, found "(problem …)"',
    );
  });
});

describe("problems", () => {
  const domain: Domain = parseDomain(domainText);

  // The spec says goals of 1-3 atoms; 8 problems have 4.
  it("all 502 generated_basic problems parse: 4 or 5 blocks, goals of 1-4 on atoms", () => {
    const dir = join(BW, "generated_basic");
    const names = readdirSync(dir).filter((n) => n.endsWith(".pddl"));
    expect(names).toHaveLength(502);
    const blockCounts = new Map<number, number>();
    const goalSizes = new Map<number, number>();
    for (const n of names) {
      const p = parseProblem(readFileSync(join(dir, n), "utf8"), n, domain);
      blockCounts.set(p.objects.length, (blockCounts.get(p.objects.length) ?? 0) + 1);
      goalSizes.set(p.goal.length, (goalSizes.get(p.goal.length) ?? 0) + 1);
      expect(p.goal.every((a) => a.predicate === "on")).toBe(true);
      expect(p.init.some((a) => a.predicate === "handempty")).toBe(true);
    }
    expect(Object.fromEntries(blockCounts)).toEqual({ 4: 447, 5: 55 });
    expect(Object.fromEntries(goalSizes)).toEqual({ 1: 64, 2: 243, 3: 187, 4: 8 });
  });

  it("reads instance-0 exactly", () => {
    const p = parseProblem(
      readFileSync(join(BW, "generated_basic", "instance-0.pddl"), "utf8"),
      "i0",
      domain,
    );
    expect(p).toEqual({
      name: "bw-rand-4",
      domain: "blocksworld-4ops",
      objects: ["a", "b", "c", "d"].map((name) => ({ name, type: "object" })),
      init: [
        { predicate: "handempty", args: [] },
        { predicate: "on", args: ["a", "c"] },
        { predicate: "on", args: ["b", "a"] },
        { predicate: "on", args: ["c", "d"] },
        { predicate: "ontable", args: ["d"] },
        { predicate: "clear", args: ["b"] },
      ],
      goal: [
        { predicate: "on", args: ["b", "c"] },
        { predicate: "on", args: ["d", "b"] },
      ],
    });
  });

  it("rejects broken problems with the line", () => {
    const bad = (init: string, goal = "(on a b)") =>
      pddlError(() =>
        parseProblem(
          `(define (problem p) (:domain blocksworld-4ops)\n(:objects a b)\n(:init ${init})\n(:goal ${goal}))`,
          "p.pddl",
          domain,
        ),
      ).message;
    expect(bad("(on a)")).toBe("p.pddl:3:8: on takes 2 argument(s), found 1");
    expect(bad("(under a b)")).toBe("p.pddl:3:8: unknown predicate under");
    expect(bad("(clear z)")).toBe("p.pddl:3:8: z is not a declared object");
    expect(bad("(clear a)", "(and (on a b) (not (on b a)))")).toBe(
      "p.pddl:4:27: negative goals are not STRIPS",
    );
    expect(bad("(not (clear a))")).toBe("p.pddl:3:8: each :init entry must be one positive atom");
    expect(
      pddlError(() => parseProblem("(define (problem p) (:domain other) (:init) (:goal ()))", "p", domain))
        .message,
    ).toBe("p:1:1: problem is for domain other, not blocksworld-4ops");
    expect(pddlError(() => parseProblem("(define (problem p) (:domain x) (:init))", "p")).message).toBe(
      "p:1:1: missing (:goal …)",
    );
    expect(new PddlError("f", 1, 1, "m")).toBeInstanceOf(BayesactError);
  });
});

describe("robustness", () => {
  it("random token soup either parses or fails with a PddlError, never anything else", () => {
    const rng = new Rng(5);
    const pieces = [
      "(",
      ")",
      "(",
      ")",
      "define",
      "(domain d)",
      "(problem p)",
      ":action",
      ":parameters",
      "(?x)",
      ":precondition",
      ":effect",
      "and",
      "not",
      "(p ?x)",
      "(:predicates (p ?x))",
      "(:domain d)",
      ":init",
      ":goal",
      "(:objects a b)",
      "?x",
      "-",
      "a",
      ";c\n",
      "\n",
      " ",
      "\u00a0",
    ];
    for (let n = 0; n < 2000; n++) {
      const text = Array.from({ length: rng.int(31) }, () => rng.pick(pieces)).join(" ");
      for (const read of [parseDomain, parseProblem]) {
        try {
          read(text, "fuzz");
        } catch (e) {
          expect(e, text).toBeInstanceOf(PddlError);
        }
      }
    }
  });
});
