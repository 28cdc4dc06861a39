/**
 * Loading BlocksWorld data (RAFA spec §0 "Data used"): the domain, the NL vocabulary (`bw_config.yaml`), the
 * `step_4` / `step_6` splits with their gold plans, and any folder of PDDL problems of the same domain (optimal
 * lengths from the planner). Everything is read synchronously (the bench registry lists instances synchronously)
 * and every path read is returned, so the runner can hash the data. Missing or malformed files end in one-line
 * `UserError`s.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, isAbsolute, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserError } from "../../core/errors.ts";
import { type GroundAction, makeTask, type Task } from "./domain.ts";
import {
  parseActionText,
  type Vocabulary,
  vocabularyFileSchema,
  vocabularyFromFile,
  vocabularyProblem,
} from "./nl.ts";
import { type Domain, parseDomain, parseProblem } from "./pddl.ts";
import { DistanceOracle } from "./planner.ts";

export interface BlocksWorldInstance {
  /** The problem file's name without `.pddl`, e.g. `instance-1`. */
  readonly id: string;
  readonly file: string;
  readonly task: Task;
  /** Length of an optimal plan (from the step file, checked against its gold plan, or from the planner). */
  readonly optimalLength: number;
  /** The data set's plan, when the split ships one. */
  readonly goldPlan?: readonly GroundAction[];
}

export interface BlocksWorldData {
  readonly domain: Domain;
  readonly vocabulary: Vocabulary;
  readonly instances: readonly BlocksWorldInstance[];
  /** Every file read, in reading order. */
  readonly files: readonly string[];
  /** The instance with this id; a `UserError` naming the split's ids when there is none. */
  instance(id: string): BlocksWorldInstance;
}

/** The splits of the RAP/RAFA setting, and the whole `generated_basic` folder (planner-computed lengths). */
export const BLOCKSWORLD_SPLITS = ["step_4", "step_6", "generated_basic"] as const;
export type BlocksWorldSplit = (typeof BLOCKSWORLD_SPLITS)[number];

/** The folder of the BlocksWorld data inside the data root (`--data`, default `../shared/data`). */
export function blocksworldDir(dataDir: string): string {
  return join(dataDir, "blocksworld");
}

const STEP_PREFIX = "gpt-plan-benchmark/gpt_plan_test/instances/";

const stepFileSchema = z.array(z.tuple([z.string().min(1), z.string(), z.number().int().positive()]));

const firstLine = (s: string) => s.split("\n")[0] ?? s;

class Files {
  readonly read: string[] = [];

  text(path: string, what: string): string {
    try {
      const text = readFileSync(path, "utf8");
      this.read.push(path);
      return text;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === "ENOENT") throw new UserError(`missing ${what}: ${path}`, { category: "missing_data" });
      throw new UserError(`cannot read ${what} ${path}: ${firstLine(String(e))}`, {
        category: "missing_data",
      });
    }
  }
}

function loadDomain(files: Files, path: string): Domain {
  return parseDomain(files.text(path, "PDDL domain"), path);
}

function loadVocabulary(files: Files, path: string, domain: Domain): Vocabulary {
  const text = files.text(path, "BlocksWorld config");
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new UserError(`${path}: not valid YAML: ${firstLine(e instanceof Error ? e.message : String(e))}`, {
      category: "bad_data",
    });
  }
  const r = vocabularyFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(`${path}: ${issue?.path.join(".") || "(top)"}: ${issue?.message ?? "invalid"}`, {
      category: "bad_data",
    });
  }
  const vocabulary = vocabularyFromFile(r.data);
  const problem = vocabularyProblem(vocabulary, domain);
  if (problem) throw new UserError(`${path}: ${problem}`, { category: "bad_data" });
  return vocabulary;
}

function loadInstance(files: Files, path: string, domain: Domain, vocabulary: Vocabulary): Task {
  const id = basename(path).replace(/\.pddl$/i, "");
  const problem = parseProblem(files.text(path, "PDDL problem"), path, domain);
  for (const o of problem.objects) {
    if (!(o.name in vocabulary.objects)) {
      throw new UserError(`${path}: object ${o.name} has no name in the config's encoded_objects`, {
        category: "bad_data",
      });
    }
  }
  return makeTask(domain, problem, id);
}

function makeData(
  domain: Domain,
  vocabulary: Vocabulary,
  instances: BlocksWorldInstance[],
  files: readonly string[],
  label: string,
): BlocksWorldData {
  const byId = new Map<string, BlocksWorldInstance>();
  for (const inst of instances) {
    if (byId.has(inst.id))
      throw new UserError(`${label}: instance ${inst.id} appears twice`, { category: "bad_data" });
    byId.set(inst.id, inst);
  }
  return {
    domain,
    vocabulary,
    instances,
    files,
    instance(id) {
      const inst = byId.get(id);
      if (!inst) {
        const ids = instances.map((i) => i.id);
        const shown = ids.length > 5 ? `${ids.slice(0, 5).join(", ")}, …` : ids.join(", ");
        throw new UserError(`${label} has no instance "${id}" (it has ${shown})`, { category: "bad_option" });
      }
      return inst;
    },
  };
}

/**
 * A `step_4` / `step_6` split: records `[instance_path, gold_plan, optimal_length]`, paths under
 * `gpt-plan-benchmark/gpt_plan_test/instances/` mapped into the data folder, gold plans in colour words.
 */
export function loadStepSplit(dataDir: string, split: "step_4" | "step_6"): BlocksWorldData {
  const dir = blocksworldDir(dataDir);
  const files = new Files();
  const domain = loadDomain(files, join(dir, "generated_domain.pddl"));
  const vocabulary = loadVocabulary(files, join(dir, "bw_config.yaml"), domain);
  const stepPath = join(dir, `${split}.json`);
  let raw: unknown;
  try {
    raw = JSON.parse(files.text(stepPath, `BlocksWorld split ${split}`));
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${stepPath}: not valid JSON: ${firstLine(String(e))}`, { category: "bad_data" });
  }
  const parsed = stepFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const [record, field] = issue?.path ?? [];
    const fieldName =
      typeof field === "number" ? ["instance_path", "gold_plan", "optimal_length"][field] : undefined;
    const where =
      record === undefined ? "(top)" : `record ${String(record)}${fieldName ? `, ${fieldName}` : ""}`;
    throw new UserError(
      `${stepPath}: ${where}: ${issue?.message ?? "invalid"} (expected [instance_path, gold_plan, optimal_length])`,
      { category: "bad_data" },
    );
  }
  const instances = parsed.data.map(([instancePath, goldText, length], i): BlocksWorldInstance => {
    const rel = instancePath.startsWith(STEP_PREFIX) ? instancePath.slice(STEP_PREFIX.length) : instancePath;
    if (isAbsolute(rel) || rel.split(/[\\/]/).includes("..")) {
      throw new UserError(`${stepPath}: record ${i}: instance path ${instancePath} leaves the data folder`, {
        category: "bad_data",
      });
    }
    const file = join(dir, rel);
    const task = loadInstance(files, file, domain, vocabulary);
    const objects = task.grounding.objects.map((o) => o.name);
    const goldPlan = goldText
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((line) => {
        const a = parseActionText(line, { vocabulary, objects });
        if (!a.ok) {
          throw new UserError(
            `${stepPath}: record ${i} (${task.id}): gold plan line "${line}": ${a.message}`,
            {
              category: "bad_data",
            },
          );
        }
        return a.value;
      });
    if (goldPlan.length !== length) {
      throw new UserError(
        `${stepPath}: record ${i} (${task.id}): the gold plan has ${goldPlan.length} steps, the record says ${length}`,
        { category: "bad_data" },
      );
    }
    return { id: task.id, file, task, optimalLength: length, goldPlan };
  });
  return makeData(domain, vocabulary, instances, files.read, `blocksworld split ${split}`);
}

/** Natural order, so `instance-2` comes before `instance-10`. */
const natural = new Intl.Collator("en", { numeric: true }).compare;

export interface FolderOptions {
  /** The domain file; default: the one `.pddl` file in the folder that defines a domain. */
  readonly domainFile?: string;
  /** The NL vocabulary; default: `bw_config.yaml` in the folder. */
  readonly configFile?: string;
}

/**
 * Every PDDL problem in a folder (instance id = file name without `.pddl`), with optimal lengths from the
 * planner. Problems whose goal is unreachable are rejected.
 */
export function loadPddlFolder(dir: string, options: FolderOptions = {}): BlocksWorldData {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((n) => n.toLowerCase().endsWith(".pddl"))
      .sort(natural);
  } catch {
    throw new UserError(`missing folder of PDDL problems: ${dir}`, { category: "missing_data" });
  }
  const files = new Files();
  const texts = new Map<string, string>();
  const domainFiles: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    const text = files.text(path, "PDDL file");
    texts.set(path, text);
    if (/\(\s*define\s*\(\s*domain\b/i.test(text)) domainFiles.push(path);
  }
  let domainPath = options.domainFile;
  if (domainPath === undefined) {
    if (domainFiles.length > 1) {
      throw new UserError(`${dir} holds ${domainFiles.length} domain files; name the one to use`, {
        category: "bad_data",
      });
    }
    domainPath = domainFiles[0];
  }
  if (domainPath === undefined) {
    throw new UserError(`${dir} holds no PDDL domain file; name one`, { category: "missing_data" });
  }
  const domainText = texts.get(domainPath) ?? files.text(domainPath, "PDDL domain");
  const domain = parseDomain(domainText, domainPath);
  const vocabulary = loadVocabulary(files, options.configFile ?? join(dir, "bw_config.yaml"), domain);
  const instances: BlocksWorldInstance[] = [];
  for (const [path, text] of texts) {
    if (domainFiles.includes(path)) continue;
    const problem = parseProblem(text, path, domain);
    for (const o of problem.objects) {
      if (!(o.name in vocabulary.objects)) {
        throw new UserError(`${path}: object ${o.name} has no name in the config's encoded_objects`, {
          category: "bad_data",
        });
      }
    }
    const task = makeTask(domain, problem, basename(path).replace(/\.pddl$/i, ""));
    const { plan } = new DistanceOracle(task.grounding, task.goal).solve(task.init);
    if (!plan)
      throw new UserError(`${path}: the goal cannot be reached from the initial state`, {
        category: "bad_data",
      });
    instances.push({ id: task.id, file: path, task, optimalLength: plan.length });
  }
  if (instances.length === 0)
    throw new UserError(`${dir} holds no PDDL problems`, { category: "missing_data" });
  return makeData(domain, vocabulary, instances, files.read, dir);
}

/** A named split of the data root: `step_4`, `step_6`, or `generated_basic` (all 502 problems). */
export function loadBlocksWorld(dataDir: string, split: string): BlocksWorldData {
  const dir = blocksworldDir(dataDir);
  if (split === "step_4" || split === "step_6") return loadStepSplit(dataDir, split);
  if (split === "generated_basic") {
    return loadPddlFolder(join(dir, "generated_basic"), {
      domainFile: join(dir, "generated_domain.pddl"),
      configFile: join(dir, "bw_config.yaml"),
    });
  }
  throw new UserError(`unknown blocksworld split "${split}" (known: ${BLOCKSWORLD_SPLITS.join(", ")})`, {
    category: "bad_option",
  });
}
