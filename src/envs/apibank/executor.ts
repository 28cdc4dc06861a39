/**
 * The executor: API-Bank's ToolManager in TypeScript. It checks a call against the API's parameters (unknown
 * names are rejected, required ones must be there), converts each value to the declared type exactly as
 * `tool_manager.api_call` does (int: digits only; float: digits with one dot; bool: `True`; lists: a Python
 * literal), runs the implementation on this system's own copy of the databases and wraps the outcome in
 * API-Bank's result shape `{api_name, input, output, exception}`.
 *
 * A `ApiBankWorld` holds what every check shares (API definitions, read-only initial databases, ToolSearcher's
 * library and retriever, the recorded answers of the internet APIs); `world.system(seed)` is a fresh system
 * with its own databases, as API-Bank builds a fresh ToolManager for every check.
 */
import { Rng } from "../../core/rng.ts";
import {
  type ApiDefinition,
  ApiError,
  type ApiServices,
  exactRule,
  type ParamSpec,
  type ParamType,
} from "./api.ts";
import { PERSONAL_APIS } from "./apis-personal.ts";
import { languageCode, SERVICE_APIS } from "./apis-services.ts";
import { parsePyLiteral } from "./call.ts";
import {
  type ApiBankData,
  type ApiResult,
  type ApiSchema,
  type DatabaseName,
  instructionSchemas,
} from "./data.ts";
import { Bm25Retriever, type Retriever, splitByUppercase } from "./retriever.ts";
import {
  level3Library,
  level12Library,
  NoMatchError,
  RecordedFirstRetriever,
  recordedSearches,
  type ToolLibrary,
  toolSearch,
} from "./toolsearcher.ts";
import { cloneJson, isObject, type Json, pyEqual, pyRepr } from "./values.ts";

export type Level = 1 | 2 | 3;

/** Why a call could not be run. */
export type RejectCategory = "api_hallucination" | "invalid_parameters" | "missing_parameters";

export type Execution =
  | { readonly ok: true; readonly result: ApiResult }
  | { readonly ok: false; readonly category: RejectCategory; readonly message: string };

/** The level-1/2 APIs implemented here (ToolSearcher is added per world). */
export const LEVEL12_APIS: readonly ApiDefinition[] = [...PERSONAL_APIS, ...SERVICE_APIS];

export interface WorldOptions {
  readonly level: Level;
  /**
   * ToolSearcher's retriever over the level's library (default: the recorded searches first, then BM25; see
   * `RecordedFirstRetriever`).
   */
  readonly retriever?: (library: ToolLibrary) => Retriever;
}

/** Canonical text of a JSON value (sorted keys): keys of the recorded-result tables. */
export function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k] ?? null)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Convert one value to a parameter type as API-Bank's ToolManager does; an error message when it cannot. */
export function coerce(
  type: ParamType,
  value: Json,
): { ok: true; value: Json } | { ok: false; message: string } {
  const bad = () => ({ ok: false as const, message: `invalid parameter type. parameter: ${pyRepr(value)}` });
  if (typeof value !== "string") {
    if (type === "int")
      return typeof value === "number" && Number.isInteger(value) && value >= 0 ? { ok: true, value } : bad();
    if (type === "float") return typeof value === "number" && value >= 0 ? { ok: true, value } : bad();
    if (type === "bool") return typeof value === "boolean" ? { ok: true, value } : bad();
    if (type === "list" || type === "list(str)") return Array.isArray(value) ? { ok: true, value } : bad();
    return { ok: true, value: pyRepr(value) };
  }
  switch (type) {
    case "str":
      return { ok: true, value };
    case "int":
      return /^\d+$/.test(value) ? { ok: true, value: Number(value) } : bad();
    case "float":
      return /^\d+$/.test(value.replace(".", "")) ? { ok: true, value: Number(value) } : bad();
    case "bool":
      // `input_value == 'True'`: anything else is False, as in API-Bank.
      return { ok: true, value: value === "True" };
    default: {
      const parsed = parsePyLiteral(value);
      if (!parsed.ok || !Array.isArray(parsed.value)) return bad();
      if (type === "list(str)" && !parsed.value.every((v) => typeof v === "string")) return bad();
      return { ok: true, value: parsed.value };
    }
  }
}

function paramType(type: string): ParamType {
  return (["str", "int", "float", "bool", "list", "list(str)"] as const).find((t) => t === type) ?? "str";
}

/**
 * How the arguments of a call are read: whether a parameter's second name is accepted, and how a value becomes
 * the declared type. The project's reading accepts both names and converts with `coerce`; the official one
 * (`scoring.ts`) takes the declared name only and converts as `tool_manager.api_call` does.
 */
export interface ValueReading {
  readonly aliases: boolean;
  convert(type: ParamType, value: Json): { ok: true; value: Json } | { ok: false; message: string };
}

export const PROJECT_READING: ValueReading = { aliases: true, convert: coerce };

/** Everything shared by the checks of one level. */
export class ApiBankWorld {
  readonly level: Level;
  readonly apis: ReadonlyMap<string, ApiDefinition>;
  /** The descriptions shown to a model, by API name. */
  readonly schemas: ReadonlyMap<string, ApiSchema>;
  readonly library: ToolLibrary;
  readonly retriever: Retriever;
  private readonly databases: ApiBankData["databases"];
  private readonly services: ApiServices;

  constructor(data: ApiBankData, options: WorldOptions) {
    this.level = options.level;
    this.databases = data.databases;
    const schemas = new Map<string, ApiSchema>();
    if (options.level === 3) {
      this.library = level3Library(data);
      for (const s of this.library.schemas) schemas.set(s.name, s);
      schemas.set("ToolSearcher", TOOLSEARCHER_SCHEMA);
    } else {
      for (const level of [1, 2] as const) {
        for (const kind of ["api", "response"] as const) {
          for (const record of data.tests[level][kind])
            for (const s of instructionSchemasCached(record.instruction)) schemas.set(s.name, s);
        }
      }
      this.library = level12Library(data, [...schemas.values()]);
    }
    this.schemas = schemas;
    this.retriever =
      options.retriever?.(this.library) ??
      new RecordedFirstRetriever(
        recordedSearches(data, options.level),
        this.library,
        new Bm25Retriever(this.library.documents),
      );
    const dictionary = new Map<string, Json>();
    const translations = new Map<string, Json>();
    for (const level of [1, 2] as const) {
      for (const d of data.dialogues[level]) {
        for (const t of d.turns) {
          if (t.role !== "API" || t.result.exception !== null) continue;
          const input = isObject(t.result.input) ? t.result.input : {};
          if (t.api_name === "Dictionary") {
            dictionary.set(
              String(input.keyword ?? "")
                .replaceAll("_", " ")
                .trim()
                .toLowerCase(),
              t.result.output,
            );
          } else if (t.api_name === "Translate") {
            const key = translationKey(
              String(input.src ?? ""),
              input.tgt_lang === undefined ? undefined : String(input.tgt_lang),
              input.src_lang === undefined ? undefined : String(input.src_lang),
            );
            if (key) translations.set(key, t.result.output);
          }
        }
      }
    }
    const library = this.library;
    const retriever = this.retriever;
    this.services = {
      toolSearch: (keywords) => toolSearch(library, retriever, keywords),
      dictionary: (keyword) => dictionary.get(keyword),
      translate: (src, tgt, srcLang) => translations.get(`${src}\u0000${tgt}\u0000${srcLang ?? ""}`),
    };
    const apis = new Map<string, ApiDefinition>();
    if (options.level === 3) {
      for (const s of this.library.schemas) apis.set(s.name, replayApi(s, data));
      apis.set("ToolSearcher", toolSearcherApi(true));
    } else {
      for (const a of LEVEL12_APIS) apis.set(a.name, a);
      apis.set("ToolSearcher", toolSearcherApi(false));
    }
    this.apis = apis;
  }

  /** A fresh system: its own copy of every database, per-API state and random stream. */
  system(seed: number | string = 0): ApiSystem {
    const db = {} as Record<DatabaseName, Json>;
    for (const [name, value] of Object.entries(this.databases) as [DatabaseName, Json][]) {
      // The large read-only tables are shared; everything an API may change is copied.
      db[name] =
        name === "ImageCaptioning" || name === "Wiki" || name === "SearchEngine" ? value : cloneJson(value);
    }
    return new ApiSystem(this.apis, db, this.services, new Rng(seed));
  }

  /** The API's correctness rule, or exact equality for an unknown name. */
  correct(name: string, response: ApiResult, reference: ApiResult): boolean {
    return (this.apis.get(name)?.correct ?? exactRule)(response, reference);
  }
}

const schemaCache = new Map<string, ApiSchema[]>();

function instructionSchemasCached(instruction: string): ApiSchema[] {
  let found = schemaCache.get(instruction);
  if (!found) {
    found = instructionSchemas(instruction);
    schemaCache.set(instruction, found);
  }
  return found;
}

function translationKey(
  src: string,
  tgt: string | undefined,
  srcLang: string | undefined,
): string | undefined {
  try {
    return `${src}\u0000${languageCode(tgt)}\u0000${srcLang === undefined ? "" : languageCode(srcLang)}`;
  } catch {
    return undefined;
  }
}

/** ToolSearcher's level-1/2 description (as the test instructions give it), used for level 3 as well. */
export const TOOLSEARCHER_SCHEMA: ApiSchema = {
  name: "ToolSearcher",
  description: "Searches for relevant tools in library based on the keywords.",
  input_parameters: { keywords: { type: "str", description: "The keyword to search for." } },
  output_parameters: {
    best_matchs: { type: "Union[List[dict], dict]", description: "The best match tool(s)." },
  },
};

function toolSearcherApi(level3: boolean): ApiDefinition {
  return {
    name: "ToolSearcher",
    params: [{ name: "keywords", type: "str" }],
    inputStyle: "signature",
    withApiName: true,
    async run(ctx, input) {
      const raw = typeof input.keywords === "string" ? input.keywords : "";
      try {
        // Level 3 splits CamelCase keywords first (lv3_evaluator's split_by_uppercase).
        return await ctx.services.toolSearch(level3 ? splitByUppercase(raw) : raw);
      } catch (error) {
        if (error instanceof NoMatchError) throw new ApiError(error.message);
        throw error;
      }
    },
    // Result only: the keywords may differ, the found API may not; a search that found nothing is never right.
    correct: (response, reference) =>
      response.exception === null &&
      pyEqual(response.output, reference.output) &&
      response.exception === reference.exception,
  };
}

/**
 * A level-3 API: its implementation is not public, so it answers from the recorded results of `level-3.json`,
 * keyed by the converted input. Any other input has no answer, which is an error result.
 */
function replayApi(schema: ApiSchema, data: ApiBankData): ApiDefinition {
  const params: ParamSpec[] = Object.entries(schema.input_parameters).map(([name, p]) => ({
    name,
    type: paramType(p.type),
  }));
  const table = new Map<string, Json>();
  for (const sample of data.level3.samples) {
    for (const step of sample.apis) {
      if (step.api_name !== schema.name) continue;
      const input: Record<string, Json> = {};
      for (const p of params) {
        const v = step.input[p.name];
        const c = v === undefined ? undefined : coerce(p.type, v);
        if (c?.ok) input[p.name] = c.value;
      }
      table.set(canonical(input), step.output.output);
    }
  }
  return {
    name: schema.name,
    params,
    inputStyle: "signature",
    withApiName: true,
    run(_ctx, input) {
      const found = table.get(canonical({ ...input }));
      if (found === undefined) throw new ApiError("no recorded result for these arguments (level-3 API)");
      return found;
    },
    correct: exactRule,
  };
}

/** One system: fresh databases and state; calls change it, as calls within one dialogue did. */
export class ApiSystem {
  private readonly state = new Map<string, Json>();
  private readonly apis: ReadonlyMap<string, ApiDefinition>;
  private readonly db: Record<DatabaseName, Json>;
  private readonly services: ApiServices;
  private readonly rng: Rng;

  constructor(
    apis: ReadonlyMap<string, ApiDefinition>,
    db: Record<DatabaseName, Json>,
    services: ApiServices,
    rng: Rng,
  ) {
    this.apis = apis;
    this.db = db;
    this.services = services;
    this.rng = rng;
  }

  /**
   * Run `name` with raw arguments (strings as the call gave them, or JSON values). `recorded` is the recorded
   * result when a dialogue's own call is replayed: randomly generated values (tokens, ids) are taken from it.
   */
  async execute(
    name: string,
    args: Readonly<Record<string, Json>>,
    recorded?: ApiResult,
    reading: ValueReading = PROJECT_READING,
  ): Promise<Execution> {
    const api = this.apis.get(name);
    if (!api) return { ok: false, category: "api_hallucination", message: `no API named ${name}` };
    const input: Record<string, Json> = {};
    const byKey = new Map<string, ParamSpec>();
    for (const p of api.params) {
      byKey.set(p.name, p);
      if (p.alias && reading.aliases) byKey.set(p.alias, p);
    }
    const given = new Set<ParamSpec>();
    for (const [key, raw] of Object.entries(args)) {
      const spec = byKey.get(key);
      if (!spec)
        return {
          ok: false,
          category: "invalid_parameters",
          message: `invalid parameter name. parameter: ${key}`,
        };
      if (given.has(spec))
        return { ok: false, category: "invalid_parameters", message: `parameter ${spec.name} given twice` };
      given.add(spec);
      const converted = reading.convert(spec.type, raw);
      if (!converted.ok) return { ok: false, category: "invalid_parameters", message: converted.message };
      input[key] = converted.value;
    }
    const missing = api.params.filter((p) => !p.optional && !given.has(p)).map((p) => `'${p.name}'`);
    if (missing.length > 0) {
      return {
        ok: false,
        category: "missing_parameters",
        message: `call() missing ${missing.length} required positional argument${missing.length > 1 ? "s" : ""}: ${missing.join(", ")}`,
      };
    }
    let recordedInput: Json;
    if (api.inputStyle === "none") recordedInput = null;
    else if (api.inputStyle === "given") recordedInput = input;
    else {
      const ordered: Record<string, Json> = {};
      for (const p of api.params) {
        const key = p.alias !== undefined && p.alias in input ? p.alias : p.name;
        ordered[key] = input[key] ?? null;
      }
      recordedInput = ordered;
    }
    const result = (output: Json, exception: string | null): ApiResult => ({
      ...(api.withApiName ? { api_name: api.name } : {}),
      input: recordedInput,
      output,
      exception,
    });
    try {
      const output = await api.run(
        { db: this.db, state: this.state, rng: this.rng, recorded, services: this.services },
        input,
      );
      return { ok: true, result: result(output, null) };
    } catch (error) {
      if (error instanceof ApiError) return { ok: true, result: result(null, error.message) };
      throw error;
    }
  }
}
