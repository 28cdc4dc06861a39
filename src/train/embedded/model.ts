/**
 * The embedded learner: a log-linear policy over the decisions of `features.ts`, small enough to train on a laptop
 * CPU in seconds, so the self-training loop runs offline as a real, if small, learner.
 *
 *   p(option | decision) ∝ exp(w · f(option) / T)
 *
 * A value that several options stand for (the same text in two turns) has the sum of their probabilities; decoding
 * picks or samples values, not options. Training is supervised fine-tuning in the paper's sense — the negative
 * log-likelihood of the kept trajectories' agent turns, here of the decisions that produce each turn — with an L2
 * pull towards the base weights (fine-tuning starts from π₀ and should not forget what the data does not speak
 * to), optimised with AdaGrad over a seeded shuffle, so the same data set always gives the same weights.
 */
import { z } from "zod";
import { UserError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { formatCall, parseCall } from "../../envs/apibank/call.ts";
import { pyRepr } from "../../envs/apibank/values.ts";
import type { ChatMessage } from "../../llm/types.ts";
import { actDecision, apiDecision, argDecision, type Decision } from "./features.ts";
import { type PromptContext, readPrompt } from "./prompt.ts";

export const EMBEDDED_FORMAT = "bayesact-embedded";

/**
 * π₀, the base model: a weak, hand-set prior that knows the protocol (search before calling what the search found,
 * reply once a call has answered, get a token before calling what needs one) and a little about values (a value
 * follows words naming its parameter; a result key equal to the parameter is its value). It knows nothing of value
 * shapes, span lengths or phrasing; that is what self-training has to learn. Listed in docs/self-training.md.
 */
export const BASE_WEIGHTS: Readonly<Record<string, number>> = {
  "act:call|last:user": 2,
  "act:call|last:search": 2,
  "act:reply|last:api": 2,
  "act:reply|last:err": 1,
  "api:searcher=true|found:false": 1,
  "api:offered=true": 2,
  "api:called_ok=1": -2,
  "api:top_last": 1,
  "api:top_all": 0.5,
  "api:top_ai": 0.5,
  "api:named": 1,
  "api:needs_token|have:false": -1,
  "api:needs_token|have:true": 1,
  "api:gives_token|have:false|wanted:true": 1,
  "arg:ctx_name": 1.5,
  "arg:key_eq": 2,
  "arg:omit": -1,
  "arg:used": -1,
  "arg:edge_stop": -0.5,
  "arg:contains_param_name": -1,
};

const WeightsFile = z.object({
  format: z.literal(EMBEDDED_FORMAT),
  version: z.literal(1),
  weights: z.record(z.string(), z.number().finite()),
  training: z.record(z.string(), z.unknown()).optional(),
});
export type WeightsFile = z.infer<typeof WeightsFile>;

export function parseWeightsFile(text: string, where: string): WeightsFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${where}: not JSON (${e instanceof Error ? e.message : String(e)})`, {
      category: "bad_model",
    });
  }
  const r = WeightsFile.safeParse(value);
  if (!r.success) {
    throw new UserError(
      `${where}: not an embedded model (${z.prettifyError(r.error).split("\n")[0] ?? ""})`,
      {
        category: "bad_model",
      },
    );
  }
  return r.data;
}

export function weightsFile(
  weights: ReadonlyMap<string, number>,
  training?: Record<string, unknown>,
): WeightsFile {
  const sorted = [...weights.entries()]
    .filter(([, v]) => v !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    format: EMBEDDED_FORMAT,
    version: 1,
    weights: Object.fromEntries(sorted.map(([k, v]) => [k, Number(v.toPrecision(8))])),
    ...(training === undefined ? {} : { training }),
  };
}

/** w · f(option) for each option of a decision. */
function optionScores(weights: ReadonlyMap<string, number>, d: Decision): number[] {
  return d.options.map((o) => o.features.reduce((s, f) => s + (weights.get(f) ?? 0), 0));
}

/** Per value of a decision: its probability (options standing for one value summed). */
function valueProbabilities(
  weights: ReadonlyMap<string, number>,
  d: Decision,
  temperature: number,
): Map<string | null, number> {
  const t = Math.max(temperature, 1e-6);
  const scores = optionScores(weights, d).map((x) => x / t);
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const z = exps.reduce((a, b) => a + b, 0);
  const byValue = new Map<string | null, number>();
  d.options.forEach((o, i) => {
    byValue.set(o.value, (byValue.get(o.value) ?? 0) + (exps[i] ?? 0) / z);
  });
  return byValue;
}

/** The value chosen: the most probable at temperature 0 (first on ties), else a sample. */
function choose(
  weights: ReadonlyMap<string, number>,
  d: Decision,
  temperature: number,
  rng: Rng | undefined,
): string | null | undefined {
  if (d.options.length === 0) return undefined;
  const probs = valueProbabilities(weights, d, temperature);
  const entries = [...probs.entries()];
  if (temperature <= 0 || rng === undefined) {
    let best = entries[0];
    for (const e of entries) if (best === undefined || e[1] > best[1]) best = e;
    return best?.[0];
  }
  return entries[rng.categorical(entries.map(([, p]) => p))]?.[0];
}

/** The reply the embedded policy gives: it does not learn wording, it reports the last result. */
export function replyText(ctx: PromptContext): string {
  const last = [...ctx.turns].reverse().find((t) => t.kind === "call");
  if (last?.kind === "call" && last.exception === null && last.output !== undefined) {
    return `Here is the result of ${last.name}: ${pyRepr(last.output)}`;
  }
  return "Sorry, I could not complete that request.";
}

export interface DecodeOptions {
  readonly temperature: number;
  readonly rng?: Rng;
}

/** One agent turn: a call `API-Request: [Name(k='v', …)]` or a reply. */
export function decode(
  weights: ReadonlyMap<string, number>,
  ctx: PromptContext,
  options: DecodeOptions,
): string {
  const { temperature, rng } = options;
  if (ctx.want === "reply" || ctx.apis.length === 0) return replyText(ctx);
  if (ctx.want === "any" && choose(weights, actDecision(ctx), temperature, rng) === "reply")
    return replyText(ctx);
  const name = choose(weights, apiDecision(ctx), temperature, rng);
  const api = ctx.apis.find((a) => a.name === name);
  if (!api) return replyText(ctx);
  const args: Record<string, string> = {};
  const used = new Set<string>();
  for (const param of api.inputs) {
    const value = choose(weights, argDecision(ctx, param, used, api.inputs), temperature, rng);
    if (value === null || value === undefined) continue;
    args[param.name] = value;
    used.add(value);
  }
  return formatCall(api.name, args);
}

// ---- training ----------------------------------------------------------------------------------------------------

/** A decision of a training turn and the options that stand for its target value. */
export interface Example {
  readonly decision: Decision;
  readonly gold: readonly number[];
}

export interface ExampleStats {
  turns: number;
  decisions: number;
  /** Decisions whose target no option offers (a value the candidates cannot write): left out of the loss. */
  unreachable: number;
  /** Target APIs the prompt never described: the turn's argument decisions are left out too. */
  unknownApi: number;
}

const norm = (v: string | null) => (v === null ? null : v.toLowerCase().replace(/\s+/g, " ").trim());

/** The decisions that produce agent turn `target` after `messages`, each with its target options. */
export function turnExamples(
  messages: readonly ChatMessage[],
  target: string,
  stats: ExampleStats,
): Example[] {
  const ctx = readPrompt(messages);
  const out: Example[] = [];
  stats.turns++;
  const push = (decision: Decision, value: string | null): boolean => {
    stats.decisions++;
    const want = norm(value);
    const gold = decision.options.flatMap((o, i) => (norm(o.value) === want ? [i] : []));
    if (gold.length === 0) {
      stats.unreachable++;
      return false;
    }
    out.push({ decision, gold });
    return true;
  };
  const parsed = parseCall(target);
  const isCall = parsed.ok && /API-Request/.test(target);
  if (ctx.want === "any") push(actDecision(ctx), isCall ? "call" : "reply");
  if (!isCall || !parsed.ok) return out;
  const api = ctx.apis.find((a) => a.name === parsed.call.name);
  push(apiDecision(ctx), parsed.call.name);
  if (!api) {
    stats.unknownApi++;
    return out;
  }
  const used = new Set<string>();
  for (const param of api.inputs) {
    const value = parsed.call.args.find((a) => a.key === param.name)?.text ?? null;
    push(argDecision(ctx, param, used, api.inputs), value);
    if (value !== null) used.add(value);
  }
  return out;
}

/** Every agent turn of chat records `{messages}` (TRL / OpenAI export) as examples. */
export function datasetExamples(records: readonly { readonly messages: readonly ChatMessage[] }[]): {
  examples: Example[];
  stats: ExampleStats;
} {
  const stats: ExampleStats = { turns: 0, decisions: 0, unreachable: 0, unknownApi: 0 };
  const examples: Example[] = [];
  for (const r of records) {
    r.messages.forEach((m, i) => {
      if (m.role !== "assistant") return;
      examples.push(...turnExamples(r.messages.slice(0, i), m.content, stats));
    });
  }
  return { examples, stats };
}

export interface FitOptions {
  readonly epochs?: number;
  readonly learningRate?: number;
  /** L2 pull towards the starting weights. */
  readonly l2?: number;
  readonly seed?: number;
  /** Return the average of the weights after each epoch (default) rather than the last epoch's weights. */
  readonly average?: boolean;
  readonly signal?: AbortSignal;
}

export interface FitResult {
  /** The average of the weights after each epoch (Polyak–Ruppert averaging), or the last epoch's weights. */
  readonly weights: Map<string, number>;
  /** Mean negative log-likelihood per decision of the running weights, before the first epoch and after each. */
  readonly loss: readonly number[];
  /** Mean negative log-likelihood per decision of the returned weights. */
  readonly averagedLoss: number;
}

function nll(weights: ReadonlyMap<string, number>, e: Example): { loss: number; grad: Map<string, number> } {
  const scores = optionScores(weights, e.decision);
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const z = exps.reduce((a, b) => a + b, 0);
  const goldMass = e.gold.reduce((s, i) => s + (exps[i] ?? 0), 0);
  const grad = new Map<string, number>();
  const add = (f: string, v: number) => grad.set(f, (grad.get(f) ?? 0) + v);
  // ∂/∂w of −log Σ_gold p = E_model[f] − E_posterior-over-gold[f].
  e.decision.options.forEach((o, i) => {
    const p = (exps[i] ?? 0) / z;
    if (p > 1e-9) for (const f of o.features) add(f, p);
  });
  for (const i of e.gold) {
    const q = (exps[i] ?? 0) / goldMass;
    for (const f of e.decision.options[i]?.features ?? []) add(f, -q);
  }
  return { loss: -Math.log(goldMass / z), grad };
}

/**
 * Fit the weights to the examples, starting from (and regularised towards) `start`. The result averages the
 * weights over epochs: early iterations train on a few dozen trajectories, and a single AdaGrad path over so few
 * examples lands wherever its last updates push it; the average is the steadier estimate (docs/self-training.md
 * gives the loop's spread over seeds with and without it).
 */
export function sft(
  start: ReadonlyMap<string, number>,
  examples: readonly Example[],
  options: FitOptions = {},
): FitResult {
  const { epochs = 8, learningRate = 0.3, l2 = 0.01, seed = 0, average: averaged = true } = options;
  const weights = new Map(start);
  const squares = new Map<string, number>();
  const average = new Map<string, number>();
  const rng = new Rng(seed);
  const meanLoss = (w: ReadonlyMap<string, number>) =>
    examples.length === 0 ? 0 : examples.reduce((s, e) => s + nll(w, e).loss, 0) / examples.length;
  const loss = [meanLoss(weights)];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const e of rng.shuffle(examples)) {
      options.signal?.throwIfAborted();
      const { grad } = nll(weights, e);
      for (const [f, g0] of grad) {
        const w = weights.get(f) ?? 0;
        const g = g0 + l2 * (w - (start.get(f) ?? 0));
        const s = (squares.get(f) ?? 0) + g * g;
        squares.set(f, s);
        weights.set(f, w - (learningRate * g) / Math.sqrt(s + 1e-8));
      }
    }
    loss.push(meanLoss(weights));
    for (const [f, v] of weights) average.set(f, (average.get(f) ?? 0) + v / epochs);
  }
  if (epochs === 0) return { weights, loss, averagedLoss: loss[0] ?? 0 };
  if (!averaged) return { weights, loss, averagedLoss: loss.at(-1) ?? 0 };
  return { weights: average, loss, averagedLoss: meanLoss(average) };
}
