/**
 * Trajectory critics (spec §1.3): the rule prefilter (exact, free), the exact twin (execution-based match against
 * the gold chain) and the LLM critic (a rubric judge answering `{score, reason}`), plus the agreement of any critic
 * with the exact twin as precision/recall.
 */
import { z } from "zod";
import { type CallArgument, parseCall, parsePyLiteral } from "../envs/apibank/call.ts";
import { type ApiSchema, ApiSchemaSchema } from "../envs/apibank/data.ts";
import { canonical } from "../envs/apibank/executor.ts";
import { foundApiName } from "../envs/apibank/toolsearcher.ts";
import type { Json } from "../envs/apibank/values.ts";
import { isUnusableAnswer } from "../llm/errors.ts";
import { generateObject } from "../llm/structured.ts";
import type { LanguageModel } from "../llm/types.ts";
import type { GoldChain, Instruction } from "./instructions.ts";
import { finalReply, type Trajectory, trajectoryCalls } from "./trajectory.ts";

export type PrefilterReason =
  | "parse_error"
  | "unknown_api"
  | "invalid_parameter"
  | "missing_parameter"
  | "unresolved_exception"
  | "no_final_reply"
  | "repeated_call";

export type PrefilterVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: PrefilterReason; readonly message: string };

/** A critic's judgement on a 1–10 scale; `error` names why a judgement could not be made (then `score` is 0). */
export interface CriticVerdict {
  readonly score: number;
  readonly reason: string;
  readonly error?: "unparseable_verdict" | "no_gold_chain";
}

/** A call's arguments as a canonical text: keys sorted, values read as literals, lower case, spaces collapsed. */
export function normaliseArgs(args: readonly CallArgument[]): string {
  const entries = args.map((a): [string, string] => {
    let value: Json = a.text;
    if (!a.quoted || /^\s*[[{]/.test(a.text)) {
      const lit = parsePyLiteral(a.text);
      if (lit.ok) value = lit.value;
    }
    const text =
      typeof value === "string" ? value : typeof value === "number" ? String(value) : canonical(value);
    return [a.key, text.toLowerCase().replace(/\s+/g, " ").trim()];
  });
  return JSON.stringify(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** API descriptions in a result: ToolSearcher answers with one schema or a list of them. */
function schemasIn(output: Json): ApiSchema[] {
  const items = Array.isArray(output) ? output : [output];
  return items.flatMap((item) => {
    const r = ApiSchemaSchema.safeParse(item);
    return r.success ? [r.data] : [];
  });
}

/** Optional parameters are only marked in prose in the lv3 schemas, so "optional" in a description is the rule. */
function required(schema: ApiSchema): string[] {
  return Object.entries(schema.input_parameters)
    .filter(([, p]) => !/optional/i.test(p.description))
    .map(([k]) => k);
}

/**
 * The rule prefilter: reject on a call that does not parse, an API the agent was never shown (the instruction's
 * documents or a schema an earlier result returned), an argument not in the schema or a required one absent, an
 * executor exception not followed by a successful call of the same API, a repeated identical call, or no final
 * reply. The first failure, in dialogue order, is the verdict.
 */
export function prefilter(instruction: Instruction, t: Trajectory): PrefilterVerdict {
  const known = new Map(instruction.docs.map((s) => [s.name, s]));
  const seen = new Set<string>();
  const calls = trajectoryCalls(t);
  const names: string[] = [];
  for (const [i, call] of calls.entries()) {
    const parsed = parseCall(call.request);
    if (!parsed.ok) return { ok: false, reason: "parse_error", message: `call ${i + 1}: ${parsed.message}` };
    const { name, args } = parsed.call;
    const schema = known.get(name);
    if (!schema)
      return { ok: false, reason: "unknown_api", message: `call ${i + 1}: ${name} was never shown` };
    const extra = args.find((a) => !(a.key in schema.input_parameters));
    if (extra) {
      return {
        ok: false,
        reason: "invalid_parameter",
        message: `call ${i + 1}: ${name} has no ${extra.key}`,
      };
    }
    const absent = required(schema).find((k) => !args.some((a) => a.key === k));
    if (absent !== undefined) {
      return { ok: false, reason: "missing_parameter", message: `call ${i + 1}: ${name} needs ${absent}` };
    }
    const key = `${name}${normaliseArgs(args)}`;
    if (seen.has(key))
      return { ok: false, reason: "repeated_call", message: `call ${i + 1}: ${call.request}` };
    seen.add(key);
    names.push(name);
    for (const s of schemasIn(call.output)) known.set(s.name, s);
  }
  for (const [i, call] of calls.entries()) {
    if (call.exception === null) continue;
    const resolved = calls.slice(i + 1).some((c, j) => c.exception === null && names[i + 1 + j] === names[i]);
    if (!resolved) {
      return { ok: false, reason: "unresolved_exception", message: `call ${i + 1}: ${call.exception}` };
    }
  }
  const reply = finalReply(t);
  if (reply === undefined || reply.trim() === "" || parseCall(reply).ok) {
    return { ok: false, reason: "no_final_reply", message: "the trajectory does not end with a reply" };
  }
  return { ok: true };
}

/** What one call must equal: ToolSearcher by the API it found (its keywords are free text, as in §2.6). */
export function callKey(request: string, output: Json): string | undefined {
  const parsed = parseCall(request);
  if (!parsed.ok) return undefined;
  const { name, args } = parsed.call;
  return name === "ToolSearcher"
    ? `ToolSearcher→${foundApiName(output) ?? ""}`
    : `${name}${normaliseArgs(args)}`;
}

function matchesChain(t: Trajectory, gold: GoldChain): boolean {
  const calls = trajectoryCalls(t);
  if (calls.length !== gold.calls.length) return false;
  return calls.every((c, i) => {
    const g = gold.calls[i];
    const key = callKey(c.request, c.output);
    return (
      g !== undefined && key !== undefined && c.exception === null && key === callKey(g.request, g.output)
    );
  });
}

/**
 * The exact twin: 10 when the calls match a gold chain of the instruction (same APIs and normalised arguments, in
 * order, none failing) and a final reply is present, else 1; `no_gold_chain` (score 0) when the data has none.
 */
export function exactTwinCritic(instruction: Instruction, t: Trajectory): CriticVerdict {
  if (instruction.golds.length === 0) {
    return { score: 0, reason: "no gold chain for this instruction", error: "no_gold_chain" };
  }
  const reply = finalReply(t);
  if (reply === undefined || reply.trim() === "" || parseCall(reply).ok)
    return { score: 1, reason: "no final reply" };
  const hit = instruction.golds.findIndex((g) => matchesChain(t, g));
  return hit >= 0
    ? { score: 10, reason: `calls match gold chain ${hit + 1}` }
    : { score: 1, reason: "calls differ from every gold chain" };
}

export const CriticAnswer = z.object({
  score: z.number().int().min(1).max(10),
  reason: z.string(),
});

const RUBRIC = `You grade one attempt by an AI assistant to serve a user request with API calls.
The assistant writes calls as API-Request: [ApiName(key='value', ...)]; each call's result follows it after "->".
Judge the whole attempt against these points:
1. It calls the right APIs, in an order that makes sense for the request.
2. Every argument value comes from the request or from an earlier result; invented values and placeholders are wrong.
3. Every call is well formed.
4. No call ends in an error that is left unresolved.
5. The final reply is faithful to the results and answers what the user asked.
Score 10 when all points hold, 1 when the attempt is useless; use the scale between for partial success.
Answer with one JSON object: {"score": <integer 1 to 10>, "reason": "<one line>"}.`;

/** The dialogue as the critic reads it: `User: …`, `API-Request: …->result`, `AI: …`. */
export function renderTrajectory(t: Trajectory): string {
  const lines: string[] = [];
  for (const turn of t.turns) {
    if (turn.role === "user") lines.push(`User: ${turn.text}`);
    else if (turn.role === "agent")
      lines.push(turn.text.startsWith("API-Request") ? turn.text : `AI: ${turn.text}`);
    else {
      const last = lines.pop() ?? "";
      lines.push(`${last}->${turn.text}`);
    }
  }
  return lines.join("\n");
}

/** The critic prompt: rubric, then request, the API documents shown to the agent, and the full trajectory. */
export function criticMessages(instruction: Instruction, t: Trajectory) {
  return [
    { role: "system" as const, content: RUBRIC },
    {
      role: "user" as const,
      content: `User request: ${instruction.request}\n\nAPI documents shown to the assistant:\n${instruction.docs
        .map((d) => JSON.stringify(d))
        .join("\n")}\n\nThe attempt:\n${renderTrajectory(t)}`,
    },
  ];
}

export interface LlmCriticOptions {
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly signal?: AbortSignal;
}

/**
 * The LLM critic. An answer that is not a valid `{score, reason}` even after `generateObject`'s repair round (or is
 * cut off) is score 0 with `unparseable_verdict`; transport failures (network, auth, budget) are thrown, since
 * they say nothing about the trajectory.
 */
export function llmCritic(model: LanguageModel, options: LlmCriticOptions = {}) {
  return async (instruction: Instruction, t: Trajectory): Promise<CriticVerdict> => {
    try {
      const r = await generateObject(model, {
        schema: CriticAnswer,
        name: "verdict",
        messages: criticMessages(instruction, t),
        temperature: options.temperature ?? 0,
        ...(options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return { score: r.object.score, reason: r.object.reason };
    } catch (e) {
      if (isUnusableAnswer(e)) {
        return { score: 0, reason: e.message, error: "unparseable_verdict" };
      }
      throw e;
    }
  };
}

export interface Agreement {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
  /** tp / (tp + fp); null when the critic accepted nothing. */
  readonly precision: number | null;
  /** tp / (tp + fn); null when the reference accepted nothing. */
  readonly recall: number | null;
}

/** Precision and recall of a critic's accept decisions against a reference's (the exact twin). */
export function criticAgreement(
  pairs: readonly { readonly accepted: boolean; readonly reference: boolean }[],
): Agreement {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const p of pairs) {
    if (p.accepted && p.reference) tp++;
    else if (p.accepted) fp++;
    else if (p.reference) fn++;
    else tn++;
  }
  return {
    tp,
    fp,
    fn,
    tn,
    precision: tp + fp === 0 ? null : tp / (tp + fp),
    recall: tp + fn === 0 ? null : tp / (tp + fn),
  };
}
