/**
 * ToolSearcher (levels 2 and 3): find an API by keywords and return its description.
 *
 * The library searched is every other API of the level. For levels 1–2 each API's description is the one the
 * recorded ToolSearcher results carry when they carry it (the dialogues were recorded with older descriptions
 * than the test instructions list, and ToolSearcher's correctness rule compares its output exactly), else the
 * description from the test instructions. An API that takes a token comes back behind GetUserToken, whose entry
 * keeps its `desc_for_search` field as API-Bank's code (and every recorded result) does. At level 3 the keywords
 * are split at capital letters first and the library is the 21 level-3 APIs of `level-3.json`.
 */
import type { ApiBankData, ApiSchema } from "./data.ts";
import { ApiSchemaSchema } from "./data.ts";
import { type Retriever, type SearchDocument, splitByUppercase, splitClassName } from "./retriever.ts";
import { isObject, type Json, type JsonObject } from "./values.ts";

export interface ToolLibrary {
  /** Schemas in search order (ties go to the earlier one). */
  readonly schemas: readonly ApiSchema[];
  /** What each schema is found by: API-Bank's `desc_for_search`, split class name + description. */
  readonly documents: readonly SearchDocument[];
  /** Whether a found API is returned behind GetUserToken (levels 1–2). */
  readonly tokenWrapping: boolean;
}

export function schemaJson(schema: ApiSchema): JsonObject {
  return {
    name: schema.name,
    description: schema.description,
    input_parameters: schema.input_parameters,
    output_parameters: schema.output_parameters,
  };
}

export function searchDocument(schema: ApiSchema): SearchDocument {
  return {
    name: schema.name,
    description: schema.description,
    text: `${splitClassName(schema.name)}${schema.description}`,
  };
}

function recordedOutputs(data: ApiBankData): Json[] {
  const out: Json[] = [];
  for (const level of [1, 2] as const) {
    for (const d of data.dialogues[level]) {
      for (const t of d.turns) {
        if (t.role !== "API" || t.api_name !== "ToolSearcher") continue;
        const o = t.result.output;
        if (Array.isArray(o)) out.push(...o);
        else out.push(o);
      }
    }
  }
  return out;
}

/** The level-1/2 library: `schemas` are the test instructions' descriptions of every API but ToolSearcher. */
export function level12Library(data: ApiBankData, schemas: readonly ApiSchema[]): ToolLibrary {
  const recorded = new Map<string, ApiSchema>();
  for (const o of recordedOutputs(data)) {
    const parsed = ApiSchemaSchema.safeParse(o);
    if (parsed.success) recorded.set(parsed.data.name, parsed.data);
  }
  const chosen = schemas
    .filter((s) => s.name !== "ToolSearcher")
    .map((s) => recorded.get(s.name) ?? s)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { schemas: chosen, documents: chosen.map(searchDocument), tokenWrapping: true };
}

/** The level-3 library: the schemas the gold ToolSearcher results of `level-3.json` return. */
export function level3Library(data: ApiBankData): ToolLibrary {
  const found = new Map<string, ApiSchema>();
  for (const sample of data.level3.samples) {
    for (const step of sample.apis) {
      if (step.api_name !== "ToolSearcher") continue;
      const parsed = ApiSchemaSchema.safeParse(step.output.output);
      if (parsed.success) found.set(parsed.data.name, parsed.data);
    }
  }
  const schemas = [...found.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { schemas, documents: schemas.map(searchDocument), tokenWrapping: false };
}

/** ToolSearcher's output for the best hit of a retriever (API-Bank raises when nothing matches at all). */
export async function toolSearch(
  library: ToolLibrary,
  retriever: Retriever,
  keywords: string,
): Promise<Json> {
  const index = await retriever.best(keywords);
  const schema = index === undefined ? undefined : library.schemas[index];
  if (!schema) throw new NoMatchError();
  const hit = schemaJson(schema);
  if (library.tokenWrapping && "token" in schema.input_parameters) {
    const token = library.schemas.find((s) => s.name === "GetUserToken");
    if (token) {
      const doc = searchDocument(token);
      return [{ ...schemaJson(token), desc_for_search: doc.text }, hit];
    }
  }
  return hit;
}

/** No API scored above zero (API-Bank's loop would leave `best_match` as None and fail on it). */
export class NoMatchError extends Error {
  constructor() {
    super("'NoneType' object has no attribute 'pop'");
  }
}

/** Is a recorded or computed ToolSearcher output about API `name` (first non-GetUserToken entry)? */
export function foundApiName(output: Json): string | undefined {
  const entries = Array.isArray(output) ? output : [output];
  const named = entries.map((e) => (isObject(e) && typeof e.name === "string" ? e.name : undefined));
  return named.find((n) => n !== undefined && n !== "GetUserToken") ?? named[0];
}

/** Keywords as the recorded-search table keys them: CamelCase split, lower-cased, whitespace collapsed. */
export function normalizeKeywords(keywords: string): string {
  return splitByUppercase(keywords).toLowerCase().split(/\s+/).filter(Boolean).join(" ");
}

/** The ToolSearcher calls recorded in the data: normalized keywords → the API API-Bank's model found. */
export function recordedSearches(data: ApiBankData, level: 1 | 2 | 3): Map<string, string> {
  const found = new Map<string, string>();
  const add = (keywords: Json | undefined, output: Json) => {
    const name = foundApiName(output);
    if (typeof keywords === "string" && name !== undefined) found.set(normalizeKeywords(keywords), name);
  };
  if (level === 3) {
    for (const sample of data.level3.samples) {
      for (const step of sample.apis)
        if (step.api_name === "ToolSearcher") add(step.input.keywords, step.output.output);
    }
  } else {
    for (const l of [1, 2] as const) {
      for (const d of data.dialogues[l]) {
        for (const t of d.turns) {
          if (t.role === "API" && t.api_name === "ToolSearcher") add(t.param_dict.keywords, t.result.output);
        }
      }
    }
  }
  return found;
}

/**
 * Recorded first: keywords API-Bank's embedding model was seen answering (the data's own ToolSearcher calls)
 * find what it found; any other keywords go to the fallback retriever. This reproduces the official result
 * wherever it is known and approximates it elsewhere.
 */
export class RecordedFirstRetriever implements Retriever {
  readonly kind: string;
  private readonly recorded: ReadonlyMap<string, string>;
  private readonly names: readonly string[];
  private readonly fallback: Retriever;

  constructor(recorded: ReadonlyMap<string, string>, library: ToolLibrary, fallback: Retriever) {
    this.recorded = recorded;
    this.names = library.schemas.map((s) => s.name);
    this.fallback = fallback;
    this.kind = `recorded+${fallback.kind}`;
  }

  async best(query: string): Promise<number | undefined> {
    const name = this.recorded.get(normalizeKeywords(query));
    const index = name === undefined ? -1 : this.names.indexOf(name);
    return index >= 0 ? index : this.fallback.best(query);
  }
}
