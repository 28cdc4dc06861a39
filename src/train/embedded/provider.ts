/**
 * The embedded learner behind the `LanguageModel` interface, so rollouts (`llmPolicy`), the critic-free parts of
 * the loop and `bayesact eval apibank` drive it exactly as they drive a served model:
 *
 *   embedded:base               π₀ (`BASE_WEIGHTS`)
 *   embedded:/path/model.json   weights an `embedded` trainer wrote
 *
 * Sample i of a request is drawn with an rng keyed by (seed, i), so a rollout replays exactly; temperature 0 is
 * greedy. It reports no tokens: it has no tokenizer, and its cost is CPU time only.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { UserError } from "../../core/errors.ts";
import { Rng } from "../../core/rng.ts";
import { type CreateModelOptions, createModel } from "../../llm/create.ts";
import { type ModelSpec, parseModelSpec } from "../../llm/spec.ts";
import type {
  Capabilities,
  Choice,
  GenerateRequest,
  GenerateResult,
  LanguageModel,
} from "../../llm/types.ts";
import { BASE_WEIGHTS, decode, parseWeightsFile } from "./model.ts";
import { readPrompt } from "./prompt.ts";

const CAPABILITIES: Capabilities = {
  jsonSchema: false,
  grammar: false,
  logprobs: false,
  multipleSamples: true,
  seed: true,
  score: false,
  notes: ["embedded log-linear API-Bank policy (no text generation beyond calls and a templated reply)"],
};

export class EmbeddedModel implements LanguageModel {
  readonly id: string;
  readonly provider = "embedded";
  readonly endpoint: string;
  readonly weights: ReadonlyMap<string, number>;

  constructor(options: { id: string; weights: ReadonlyMap<string, number>; endpoint?: string }) {
    this.id = options.id;
    this.weights = options.weights;
    this.endpoint = options.endpoint ?? options.id;
  }

  /** `embedded:base` or `embedded:PATH` (a weights file). */
  static open(spec: string | ModelSpec): EmbeddedModel {
    const parsed = typeof spec === "string" ? parseModelSpec(spec) : spec;
    if (parsed.kind !== "embedded") {
      throw new UserError(`${parsed.spec} is not an embedded model`, { category: "bad_model_spec" });
    }
    if (parsed.path === undefined) {
      return new EmbeddedModel({ id: parsed.spec, weights: new Map(Object.entries(BASE_WEIGHTS)) });
    }
    const path = resolve(parsed.path);
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      throw new UserError(`no embedded model at ${path}`, { category: "bad_model" });
    }
    const file = parseWeightsFile(text, path);
    return new EmbeddedModel({
      id: parsed.spec,
      weights: new Map(Object.entries(file.weights)),
      endpoint: path,
    });
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    request.signal?.throwIfAborted();
    const started = performance.now();
    const ctx = readPrompt(request.messages);
    const n = request.n ?? 1;
    const first = request.sampleIndex ?? 0;
    const temperature = request.temperature ?? 1;
    const choices: Choice[] = [];
    for (let i = 0; i < n; i++) {
      const index = first + i;
      const rng = new Rng(`embedded:${request.seed ?? 0}:${index}`);
      choices.push({ index, text: decode(this.weights, ctx, { temperature, rng }), finishReason: "stop" });
    }
    return {
      model: this.id,
      choices,
      usage: { inputTokens: 0, outputTokens: 0 },
      latencyMs: performance.now() - started,
    };
  }

  async capabilities(): Promise<Capabilities> {
    return CAPABILITIES;
  }

  async close(): Promise<void> {}
}

/** A model for an agent role: the embedded learner for `embedded:` specs, otherwise `createModel`. */
export function createAgentModel(spec: string | ModelSpec, options: CreateModelOptions = {}): LanguageModel {
  const parsed = typeof spec === "string" ? parseModelSpec(spec, options.env) : spec;
  return parsed.kind === "embedded" ? EmbeddedModel.open(parsed) : createModel(parsed, options);
}
