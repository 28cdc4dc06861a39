/**
 * The replay simulator (spec §1.3 (a)): a rollout environment for training instructions, whose APIs have no
 * implementations, built from the gold chains recorded in the lv3 training data.
 *
 * - A call that matches a step of one of the instruction's gold chains — same API name and normalised arguments
 *   (`normaliseArgs`, the exact twin's normalisation) — returns that step's recorded output.
 * - A ToolSearcher call is matched by the API it finds: keywords equal (CamelCase split, case and spacing aside) to
 *   a gold step's keywords return that step's output; any other keywords go to a retriever (BM25 by default) over
 *   every API the training data's ToolSearcher results describe, and when the API found is one a gold step of this
 *   instruction found, that step's output comes back. When the retriever finds another API, its description is
 *   returned as the training data recorded it (a search for the wrong thing is not an error in API-Bank; calling
 *   what it found then fails below). Nothing found is API-Bank's own failure (`NoMatchError`).
 * - Anything else is an error result (output `null`, an `exception`), worded as our executor words API-Bank's:
 *   `no API named X`, `invalid parameter name. parameter: k`, `call() missing 1 required positional argument: 'k'`,
 *   and for a known API called with arguments no gold chain recorded, `no recorded result for X with these
 *   arguments`.
 *
 * Stateless and deterministic: a result depends only on the instruction, the call and the session's sample index.
 * Two gold chains of one instruction can record different outputs for the same call (3 of 900 calls in
 * lv3-train); a session prefers chain `sampleIndex mod chains`, then the others in order, so sample k lives in one
 * recorded world and every chain replays exactly under its own index.
 */
import type { ParsedCall } from "../envs/apibank/call.ts";
import { parseCall } from "../envs/apibank/call.ts";
import { type ApiSchema, ApiSchemaSchema } from "../envs/apibank/data.ts";
import { Bm25Retriever, type Retriever, type SearchDocument } from "../envs/apibank/retriever.ts";
import {
  foundApiName,
  NoMatchError,
  normalizeKeywords,
  searchDocument,
} from "../envs/apibank/toolsearcher.ts";
import type { Json } from "../envs/apibank/values.ts";
import { normaliseArgs } from "./critics.ts";
import type { Instruction } from "./instructions.ts";

/** What the environment answers to one call: API-Bank's `output` and `exception` (null when the call ran). */
export interface ApiOutcome {
  readonly output: Json;
  readonly exception: string | null;
  /** Set when a language model wrote this result (simulator-llm.ts) rather than the recorded data. */
  readonly simulated?: boolean;
}

/** How the replay simulator's answer to a well-formed call that no gold chain recorded begins. */
export const NO_RECORDED_RESULT = "no recorded result for";

/** One rollout's view of an environment. */
export interface RolloutSession {
  execute(call: ParsedCall): Promise<ApiOutcome>;
}

/** A rollout environment (§1.3 (a)–(c)): a session per rollout, for one instruction and sample index. */
export interface RolloutEnvironment {
  /** Short name for manifests and reports. */
  readonly kind: string;
  start(instruction: Instruction, sampleIndex: number): RolloutSession;
}

export interface ReplaySimulatorOptions {
  /** The retriever for off-gold ToolSearcher keywords (default: BM25 over the library's search documents). */
  readonly retriever?: (documents: readonly SearchDocument[]) => Retriever;
}

/** One step of one gold chain, keyed for matching. */
interface Step {
  readonly key: string;
  readonly output: Json;
}

interface Prepared {
  /** Per gold chain, its steps. */
  readonly chains: readonly (readonly Step[])[];
  /** Schemas the gold ToolSearcher results of this instruction describe, by name. */
  readonly schemas: ReadonlyMap<string, ApiSchema>;
}

function schemasIn(output: Json): ApiSchema[] {
  const items = Array.isArray(output) ? output : [output];
  return items.flatMap((item) => {
    const r = ApiSchemaSchema.safeParse(item);
    return r.success ? [r.data] : [];
  });
}

/** Optional parameters are only marked in prose in the lv3 schemas (the prefilter's rule). */
function requiredParams(schema: ApiSchema): string[] {
  return Object.entries(schema.input_parameters)
    .filter(([, p]) => !/optional/i.test(p.description))
    .map(([k]) => k);
}

function keywordsKey(keywords: string): string {
  return `ToolSearcher?${normalizeKeywords(keywords)}`;
}

function foundKey(name: string): string {
  return `ToolSearcher→${name}`;
}

function callKey(call: ParsedCall): string {
  return `${call.name}${normaliseArgs(call.args)}`;
}

const failed = (exception: string): ApiOutcome => ({ output: null, exception });

export class ReplaySimulator implements RolloutEnvironment {
  readonly kind = "replay";
  /** Every API the training data's ToolSearcher results describe (first recorded description), by name. */
  readonly library: readonly ApiSchema[];
  private readonly libraryOutputs: ReadonlyMap<string, Json>;
  private readonly libraryByName: ReadonlyMap<string, ApiSchema>;
  /** Every API name a gold chain calls. */
  private readonly called: ReadonlySet<string>;
  private readonly retriever: Retriever;
  private readonly prepared = new Map<string, Prepared>();

  constructor(instructions: readonly Instruction[], options: ReplaySimulatorOptions = {}) {
    const outputs = new Map<string, Json>();
    const byName = new Map<string, ApiSchema>();
    const called = new Set<string>();
    for (const instruction of instructions) {
      for (const chain of instruction.golds) {
        for (const call of chain.calls) {
          called.add(call.name);
          if (call.name !== "ToolSearcher") continue;
          const name = foundApiName(call.output);
          const schema = schemasIn(call.output).find((s) => s.name === name);
          if (name === undefined || !schema || outputs.has(name)) continue;
          outputs.set(name, call.output);
          byName.set(name, schema);
        }
      }
    }
    this.library = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.libraryOutputs = outputs;
    this.libraryByName = byName;
    this.called = called;
    const documents = this.library.map(searchDocument);
    this.retriever = options.retriever ? options.retriever(documents) : new Bm25Retriever(documents);
  }

  /** The API a ToolSearcher call with these keywords finds through the retriever (no recorded keywords). */
  async findsApi(keywords: string): Promise<string | undefined> {
    const index = await this.retriever.best(keywords);
    return index === undefined ? undefined : this.library[index]?.name;
  }

  start(instruction: Instruction, sampleIndex: number): RolloutSession {
    const prepared = this.prepare(instruction);
    const n = prepared.chains.length;
    const first = n === 0 ? 0 : ((sampleIndex % n) + n) % n;
    const order = prepared.chains.map((_, i) => prepared.chains[(first + i) % n] ?? []);
    const recorded = (key: string): Json | undefined => {
      for (const chain of order) {
        const step = chain.find((s) => s.key === key);
        if (step) return step.output;
      }
      return undefined;
    };
    return {
      execute: async (call) => this.execute(instruction, prepared, recorded, call),
    };
  }

  private prepare(instruction: Instruction): Prepared {
    const cached = this.prepared.get(instruction.id);
    if (cached) return cached;
    const schemas = new Map<string, ApiSchema>();
    const chains = instruction.golds.map((chain) =>
      chain.calls.flatMap((call): Step[] => {
        const parsed = parseCall(call.request);
        if (!parsed.ok) return [];
        if (parsed.call.name !== "ToolSearcher") return [{ key: callKey(parsed.call), output: call.output }];
        for (const s of schemasIn(call.output)) if (!schemas.has(s.name)) schemas.set(s.name, s);
        const keywords = parsed.call.args.find((a) => a.key === "keywords")?.text ?? "";
        const steps: Step[] = [{ key: keywordsKey(keywords), output: call.output }];
        const name = foundApiName(call.output);
        if (name !== undefined) steps.push({ key: foundKey(name), output: call.output });
        return steps;
      }),
    );
    const prepared = { chains, schemas };
    this.prepared.set(instruction.id, prepared);
    return prepared;
  }

  /** The description of API `name` as this instruction's agent could know it, if any. */
  schemaOf(instruction: Instruction, name: string): ApiSchema | undefined {
    return this.schemaFor(instruction, this.prepare(instruction), name);
  }

  private schemaFor(instruction: Instruction, prepared: Prepared, name: string): ApiSchema | undefined {
    return (
      prepared.schemas.get(name) ??
      instruction.docs.find((d) => d.name === name) ??
      this.libraryByName.get(name)
    );
  }

  private async execute(
    instruction: Instruction,
    prepared: Prepared,
    recorded: (key: string) => Json | undefined,
    call: ParsedCall,
  ): Promise<ApiOutcome> {
    // A recorded call answers first: some gold calls pass arguments their recorded schema lacks.
    const keywords = call.args.find((a) => a.key === "keywords")?.text ?? "";
    const exact = recorded(call.name === "ToolSearcher" ? keywordsKey(keywords) : callKey(call));
    if (exact !== undefined) return { output: exact, exception: null };
    const schema = this.schemaFor(instruction, prepared, call.name);
    if (!schema && !this.called.has(call.name)) return failed(`no API named ${call.name}`);
    if (schema) {
      const extra = call.args.find((a) => !(a.key in schema.input_parameters));
      if (extra) return failed(`invalid parameter name. parameter: ${extra.key}`);
      const missing = requiredParams(schema)
        .filter((k) => !call.args.some((a) => a.key === k))
        .map((k) => `'${k}'`);
      if (missing.length > 0) {
        const s = missing.length > 1 ? "s" : "";
        return failed(
          `call() missing ${missing.length} required positional argument${s}: ${missing.join(", ")}`,
        );
      }
    }
    if (call.name === "ToolSearcher") {
      const name = await this.findsApi(keywords);
      if (name === undefined) return failed(new NoMatchError().message);
      const output = recorded(foundKey(name)) ?? this.libraryOutputs.get(name);
      return output === undefined ? failed(new NoMatchError().message) : { output, exception: null };
    }
    return failed(`${NO_RECORDED_RESULT} ${call.name} with these arguments`);
  }
}
