import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { UserError } from "../../core/errors.ts";
import { writeJson } from "../files.ts";
import { banditExperiment } from "./bandit.ts";
import { gridworldExperiment } from "./gridworld.ts";
import { linearBanditExperiment } from "./linear-bandit.ts";
import { multiAgentExperiment } from "./multi-agent.ts";
import { pretrainErrorExperiment } from "./pretrain-error.ts";
import { probeTrapExperiment } from "./probe-trap.ts";
import { riverswimExperiment } from "./riverswim.ts";
import type { ExperimentContext, ExperimentResult, TheoryExperiment } from "./types.ts";
import { worldModelExperiment } from "./world-model.ts";

/** Every experiment of the theory lab, in the order `all` runs them. */
export const EXPERIMENTS: readonly TheoryExperiment[] = [
  probeTrapExperiment as unknown as TheoryExperiment,
  pretrainErrorExperiment as unknown as TheoryExperiment,
  gridworldExperiment as unknown as TheoryExperiment,
  worldModelExperiment as unknown as TheoryExperiment,
  multiAgentExperiment as unknown as TheoryExperiment,
  banditExperiment as unknown as TheoryExperiment,
  linearBanditExperiment as unknown as TheoryExperiment,
  riverswimExperiment as unknown as TheoryExperiment,
];

export function experiment(name: string): TheoryExperiment {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (!found) {
    throw new UserError(
      `unknown experiment "${name}" (known: ${[...EXPERIMENTS.map((e) => e.name), "all"].join(", ")})`,
      {
        category: "bad_option",
      },
    );
  }
  return found;
}

interface ParamSchema {
  type?: string;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  enum?: readonly unknown[];
  items?: ParamSchema;
  minItems?: number;
}

/** An experiment's parameters as its zod schema declares them (JSON Schema of the input: type, default, range). */
export function experimentParams(exp: TheoryExperiment): [string, ParamSchema][] {
  const json = z.toJSONSchema(exp.params, { io: "input", unrepresentable: "any" }) as {
    properties?: Record<string, ParamSchema>;
  };
  return Object.entries(json.properties ?? {});
}

/** "integer ≥ 2", "number in [0, 1]", "probe | uniform", "list of integer ≥ 10 (at least 2)". */
function rangeText(s: ParamSchema): string {
  if (s.enum) return s.enum.map(String).join(" | ");
  if (s.type === "array" && s.items) {
    const n = s.minItems === undefined || s.minItems <= 0 ? "" : ` (at least ${s.minItems})`;
    return `list of ${rangeText(s.items)}${n}, comma-separated`;
  }
  const big = (x: number | undefined) => x === undefined || Math.abs(x) >= Number.MAX_SAFE_INTEGER;
  const lo =
    s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : big(s.minimum) ? "" : `≥ ${s.minimum}`;
  const hi =
    s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : big(s.maximum) ? "" : `≤ ${s.maximum}`;
  const type = s.type ?? "value";
  if (lo.startsWith("≥") && hi.startsWith("≤")) return `${type} in [${s.minimum}, ${s.maximum}]`;
  return [type, lo, hi].filter((x) => x !== "").join(" ");
}

/** The `theory <name> --help` section: every parameter with its default, range and meaning. */
export function experimentHelp(exp: TheoryExperiment): string {
  const rows = experimentParams(exp).map(([key, s]) => {
    const flag = `--${key}`;
    const def =
      s.default === undefined
        ? "required"
        : `default ${Array.isArray(s.default) ? s.default.join(",") : String(s.default)}`;
    return `  ${flag.padEnd(22)} ${rangeText(s)}; ${def}${s.description ? `\n  ${"".padEnd(22)} ${s.description}` : ""}`;
  });
  return [`Parameters of ${exp.name} (${exp.title}):`, ...rows].join("\n");
}

/** Validate raw CLI parameters against an experiment's schema: one line per mistake. */
export function parseParams(exp: TheoryExperiment, rawIn: Record<string, unknown>): Record<string, unknown> {
  const raw = withPluralAliases(exp, rawIn);
  const known = new Set(experimentParams(exp).map(([key]) => key));
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new UserError(
      `${exp.name}: unknown parameter --${unknown[0]} (it takes ${[...known].map((k) => `--${k}`).join(", ")}; see bayesact theory ${exp.name} --help)`,
      { category: "bad_option" },
    );
  }
  let parsed = exp.params.safeParse(raw);
  // A single value where the schema wants a list (`--Ks 4`) means a one-element list.
  const wantsList = parsed.success
    ? []
    : parsed.error.issues.filter(
        (i) =>
          i.code === "invalid_type" &&
          i.expected === "array" &&
          i.path.length === 1 &&
          !Array.isArray(raw[String(i.path[0])]),
      );
  if (wantsList.length > 0) {
    const fixed = { ...raw };
    for (const issue of wantsList) fixed[String(issue.path[0])] = [raw[String(issue.path[0])]];
    parsed = exp.params.safeParse(fixed);
  }
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `--${issue.path.join(".")}` : "parameters";
  throw new UserError(`${exp.name}: ${where}: ${issue?.message ?? "invalid"}`, { category: "bad_option" });
}

/**
 * `--K 4` where the experiment takes a list `Ks` (and `--delta` for `deltas`): the singular names one value of the
 * list, as the issue's examples write it.
 */
function withPluralAliases(exp: TheoryExperiment, raw: Record<string, unknown>): Record<string, unknown> {
  const shape = (exp.params as unknown as { shape?: Record<string, unknown> }).shape;
  if (!shape) return raw;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const plural = `${key}s`;
    if (!(key in shape) && plural in shape && !(plural in raw))
      out[plural] = Array.isArray(value) ? value : [value];
    else out[key] = value;
  }
  return out;
}

/** Run one experiment and write `dir/result.json`; the caller writes the report. */
export async function runExperiment(
  exp: TheoryExperiment,
  raw: Record<string, unknown>,
  ctx: ExperimentContext,
  dir: string,
): Promise<ExperimentResult> {
  const params = parseParams(exp, raw);
  const result = await exp.run(params, ctx);
  mkdirSync(resolve(dir), { recursive: true });
  writeJson(join(dir, "result.json"), result);
  return result;
}
