/**
 * `npm run bench:train` — the offline self-training loop (spec critic-training-apibank §1.3) over seeds and critic
 * arms, every number measured in this run. Each run is `bayesact train apibank --model embedded:base --trainer
 * embedded --critic ARM --seed S` (the command a user types), two at a time; the table reads each run's
 * summary.json. Printed per arm: API-Bank level-1 (and level-2) call accuracy at every iteration for every seed,
 * the mean per iteration, how many seeds end above iteration 0, and the critic's precision and recall against
 * the exact twin at the last rollout stage. Then the expert-imitation control (spec §1.3): the embedded trainer,
 * with its defaults, on every gold lv3 trajectory, evaluated by `bayesact eval apibank` at levels 1 and 2.
 *
 *   npm run bench:train [-- --seeds 8 --arms exact,prefilter,none --samples 8 --iterations 3 --validation 0
 *                          --trainer embedded[:lr=…,epochs=…,l2=…,average=on|off] --no-control --out DIR]
 *
 * `--validation N` with `--trainer` and `--samples` is the sweep of docs/self-training.md: choices read off the
 * held-out training requests; `--no-control` skips the expert-imitation control, which does not depend on them.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";
import { Rng } from "../../core/rng.ts";
import { loadApiBank } from "../../envs/apibank/data.ts";
import type { Predictor } from "../../envs/apibank/evaluate.ts";
import { levelPoints } from "../../envs/apibank/points.ts";
import { scoreLevel, scoringWorld } from "../../envs/apibank/score.ts";
import { SCORINGS, type Scoring } from "../../envs/apibank/scoring.ts";
import { bootstrapMeanCi, mean } from "../../theory/stats.ts";
import { exportRecords, toJsonl } from "../../train/export.ts";
import { goldTrajectory } from "../../train/gold.ts";
import { loadInstructions } from "../../train/instructions.ts";
import { createTrainer } from "../../train/trainers/index.ts";

const { values: flags } = parseArgs({
  options: {
    seeds: { type: "string", default: "8" },
    arms: { type: "string", default: "exact,prefilter,none" },
    samples: { type: "string", default: "8" },
    iterations: { type: "string", default: "3" },
    validation: { type: "string", default: "0" },
    trainer: { type: "string", default: "embedded" },
    "no-control": { type: "boolean", default: false },
    data: { type: "string", default: "../shared/data" },
    out: { type: "string" },
  },
});
const Count = z.coerce.number().int().min(1).max(1000);
const parsed = z
  .object({
    seeds: Count,
    samples: Count,
    iterations: Count,
    validation: z.coerce.number().int().min(0).max(300),
    arms: z.string().regex(/^[^,]+(,[^,]+)*$/),
    trainer: z
      .string()
      .regex(/^embedded(:.*)?$/, "the bench trains the embedded learner: embedded[:options]"),
  })
  .safeParse(flags);
if (!parsed.success) {
  console.error(`bench:train: bad options (${z.prettifyError(parsed.error).replace(/\n/g, " ")})`);
  process.exit(2);
}
const OPTIONS = parsed.data;
let TRAINER: ReturnType<typeof createTrainer>;
try {
  TRAINER = createTrainer(OPTIONS.trainer);
} catch (e) {
  console.error(`bench:train: ${(e as Error).message}`);
  process.exit(2);
}
const SEEDS = Array.from({ length: OPTIONS.seeds }, (_, i) => i);
const ARMS = OPTIONS.arms.split(",");
const OUT = resolve(flags.out ?? mkdtempSync(join(tmpdir(), "bayesact-bench-train-")));
const DATA = resolve(flags.data);
const BIN = fileURLToPath(new URL("../../../bin/bayesact.js", import.meta.url));
const WORKERS = Math.max(1, Math.min(2, availableParallelism()));

const Agreement = z.object({ precision: z.number().nullable(), recall: z.number().nullable() }).nullable();
const Summary = z.object({
  iterations: z.array(
    z.object({
      evaluation: z.record(z.string(), z.object({ points: z.number(), call_correct: z.number() })),
      validation: z
        .object({ requests: z.number(), solved: z.number(), calls: z.number(), callsCorrect: z.number() })
        .optional(),
      critic: z.object({ agreement: Agreement, truthAccepted: z.number() }).nullable().optional(),
      dataset: z.object({ trajectories: z.number() }).nullable().optional(),
    }),
  ),
});
type Summary = z.infer<typeof Summary>;

/** `bayesact ARGS…`; resolves when it exits 0. */
function cli(args: readonly string[], what: string): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    child.once("error", fail);
    child.once("exit", (code) => {
      if (code === 0) done();
      else fail(new Error(`${what} exited ${code}: ${stderr.trim().split("\n").at(-1) ?? ""}`));
    });
  });
}

async function run(arm: string, seed: number): Promise<Summary> {
  const dir = join(OUT, `${arm}-s${seed}`);
  await cli(
    [
      "train",
      "apibank",
      "--model",
      "embedded:base",
      "--trainer",
      TRAINER.spec,
      "--critic",
      arm,
      "--seed",
      String(seed),
      "--samples",
      String(OPTIONS.samples),
      "--iterations",
      String(OPTIONS.iterations),
      "--eval-levels",
      "1,2",
      "--validation",
      String(OPTIONS.validation),
      "--data",
      DATA,
      "--out",
      dir,
    ],
    `${arm} seed ${seed}`,
  );
  return Summary.parse(JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")));
}

/** SFT of π₀ on every gold lv3 trajectory (the trainer's defaults), and its level-1 and level-2 calls correct. */
async function expertImitation(): Promise<{ turns: number; correct: Record<string, number> }> {
  const dir = join(OUT, "expert-imitation");
  mkdirSync(join(dir, "train"), { recursive: true });
  const set = loadInstructions(DATA);
  const gold = set.instructions.flatMap((i) => i.golds.map((g) => goldTrajectory(i, g)));
  const path = (format: "openai" | "trl" | "apibank") => {
    const file = join(dir, `dataset.${format}.jsonl`);
    writeFileSync(file, toJsonl(exportRecords(format, set, gold)));
    return file;
  };
  const outcome = await TRAINER.train({
    iteration: 0,
    baseModel: "embedded:base",
    dataset: {
      openai: path("openai"),
      trl: path("trl"),
      apibank: path("apibank"),
      trajectories: gold.length,
      samples: 0,
    },
    outputDir: join(dir, "train"),
  });
  const correct: Record<string, number> = {};
  for (const level of ["1", "2"]) {
    for (const scoring of SCORINGS) {
      const out = join(dir, `eval-level-${level}-${scoring}`);
      await cli(
        [
          ...["eval", "apibank", "--model", outcome.model, "--level", level, "--scoring", scoring],
          ...["--data", DATA, "--out", out],
        ],
        `eval level ${level}`,
      );
      correct[`${level} ${scoring}`] = EvalSummary.parse(
        JSON.parse(readFileSync(join(out, "summary.json"), "utf8")),
      ).call_correct;
    }
  }
  return { turns: Number(outcome.details.turns ?? 0), correct };
}
const EvalSummary = z.object({ call_correct: z.number() });

const jobs = ARMS.flatMap((arm) => SEEDS.map((seed) => ({ arm, seed })));
const results = new Map<string, Summary>();
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: WORKERS }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (job === undefined) break;
      results.set(`${job.arm}:${job.seed}`, await run(job.arm, job.seed));
      process.stderr.write(`done ${job.arm} seed ${job.seed} (${results.size}/${jobs.length})\n`);
    }
  }),
);

const pct = (x: number, n: number) => ((100 * x) / n).toFixed(1);

/** Per iteration, the mean over seeds of one number per iteration. */
const meanPerIteration = (rows: readonly (readonly number[])[]) =>
  Array.from(
    { length: rows[0]?.length ?? 0 },
    (_, it) => rows.reduce((s, r) => s + (r[it] ?? 0), 0) / rows.length,
  );

const correct = (s: Summary, level: string) =>
  s.iterations.map((i) => i.evaluation[level]?.call_correct ?? 0);
const fmt = (x: number | null | undefined) => (x === null || x === undefined ? "–" : x.toFixed(3));
console.log(`self-training loop, embedded learner: ${SEEDS.length} seeds × arms ${ARMS.join(", ")}`);
console.log(
  `K = ${OPTIONS.samples} samples per request, ${OPTIONS.iterations} iterations, trainer ${TRAINER.spec}; runs in ${OUT}`,
);
for (const level of ["1", "2"]) {
  const points = results.values().next().value?.iterations[0]?.evaluation[level]?.points ?? 0;
  console.log(`\nlevel ${level}: correct calls of ${points} per iteration (it0 = the base model π₀)`);
  for (const arm of ARMS) {
    const rows = SEEDS.map((seed) => correct(results.get(`${arm}:${seed}`) as Summary, level));
    for (const [i, row] of rows.entries()) console.log(`  ${arm.padEnd(10)} seed ${i}  ${row.join("  ")}`);
    const means = meanPerIteration(rows);
    const rose = rows.filter((r) => (r.at(-1) ?? 0) > (r[0] ?? 0)).length;
    console.log(
      `  ${arm.padEnd(10)} mean    ${means.map((m) => m.toFixed(1)).join("  ")}   (${means.map((m) => `${((100 * m) / points).toFixed(1)}%`).join(" → ")}); last > first in ${rose}/${rows.length} seeds`,
    );
  }
}
console.log("\nrollouts that solve their training request (the exact twin accepts them), mean per iteration");
for (const arm of ARMS) {
  const rows = SEEDS.map((seed) =>
    (results.get(`${arm}:${seed}`) as Summary).iterations.flatMap((i) =>
      i.critic ? [i.critic.truthAccepted] : [],
    ),
  );
  const means = meanPerIteration(rows);
  console.log(`  ${arm.padEnd(10)} ${means.map((m) => m.toFixed(1)).join(" → ")}`);
}
/** Every number of the tables below, per arm and seed, for sweeps that compare runs: OUT/bench.json. */
interface ArmRecord {
  /** Validation calls correct, and validation requests solved, per seed per iteration. */
  validation: number[][];
  solved: number[][];
  test: Record<string, { first: number[]; last: number[] }>;
}
const record = new Map<string, ArmRecord>(ARMS.map((arm) => [arm, { validation: [], solved: [], test: {} }]));
const armRecord = (arm: string) => record.get(arm) as ArmRecord;
if (OPTIONS.validation > 0) {
  const calls = results.values().next().value?.iterations[0]?.validation?.calls ?? 0;
  console.log(
    `\nvalidation (${OPTIONS.validation} held-out training requests, ${calls} gold calls): mean per iteration, last with a 95 % seed-bootstrap interval`,
  );
  const show = (
    what: "validation" | "solved",
    of: number,
    pick: (v: { solved: number; callsCorrect: number }) => number,
  ) => {
    for (const arm of ARMS) {
      const rows = SEEDS.map((seed) =>
        (results.get(`${arm}:${seed}`) as Summary).iterations.map((i) =>
          i.validation === undefined ? 0 : pick(i.validation),
        ),
      );
      const last = rows.map((r) => r.at(-1) ?? 0);
      const [lo, hi] = bootstrapMeanCi(last, new Rng(20261207));
      console.log(
        `  ${what === "validation" ? "calls  " : "solved "} ${arm.padEnd(10)} ${meanPerIteration(rows)
          .map((m) => m.toFixed(1))
          .join(" → ")}   it${OPTIONS.iterations} ${pct(mean(last), of)}% [${pct(lo, of)}, ${pct(hi, of)}]`,
      );
      armRecord(arm)[what] = rows;
    }
  };
  show("validation", calls, (v) => v.callsCorrect);
  show("solved", OPTIONS.validation, (v) => v.solved);
}
console.log(
  "\ncritic against the exact twin at the last rollout stage (mean over seeds): precision / recall",
);
for (const arm of ARMS) {
  const last = SEEDS.map((seed) => {
    const its = (results.get(`${arm}:${seed}`) as Summary).iterations;
    return its[its.length - 2]?.critic ?? null;
  });
  const mean = (xs: (number | null | undefined)[]) => {
    const v = xs.filter((x): x is number => typeof x === "number");
    return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
  };
  const a = last.map((c) => c?.agreement);
  console.log(
    `  ${arm.padEnd(10)} ${fmt(mean(a.map((x) => x?.precision)))} / ${fmt(mean(a.map((x) => x?.recall)))}`,
  );
}
/**
 * Every iteration's test predictions (the run's eval-level-L.jsonl) scored again under both scorings by the one
 * scoring function `eval apibank` uses: the loop itself scored them official.
 */
const apibank = loadApiBank(DATA);
/** Each level's call points and world, built once for every rescoring (both scorings read the same world). */
const scored = {
  1: {
    points: levelPoints(apibank, 1).filter((p) => p.kind === "call"),
    world: scoringWorld(apibank, 1, { scoring: "official" }),
  },
  2: {
    points: levelPoints(apibank, 2).filter((p) => p.kind === "call"),
    world: scoringWorld(apibank, 2, { scoring: "official" }),
  },
} as const;
const Prediction = z.object({ file: z.string(), id: z.number(), pred: z.string() });
async function rescore(
  arm: string,
  seed: number,
  level: 1 | 2,
  it: number,
  scoring: Scoring,
): Promise<number> {
  const file = join(OUT, `${arm}-s${seed}`, "iterations", `it${it}`, `eval-level-${level}.jsonl`);
  const preds = new Map(
    readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((l) => Prediction.parse(JSON.parse(l)))
      .map((p) => [`${p.file}#${p.id}`, p.pred]),
  );
  const predictor: Predictor = {
    id: "replay",
    predict: async (point) => ({ text: preds.get(point.key) ?? "" }),
  };
  const { points, world } = scored[level];
  const { summary } = await scoreLevel(apibank, level, points, predictor, { scoring, seed }, world);
  return summary.call_correct;
}
const bootRng = new Rng(20261207);
console.log("\ntest call accuracy under both scorings, mean over seeds with a 95 % seed-bootstrap interval");
for (const level of [1, 2] as const) {
  const n = scored[level].points.length;
  for (const scoring of SCORINGS) {
    for (const arm of ARMS) {
      const first: number[] = [];
      const last: number[] = [];
      for (const seed of SEEDS) {
        first.push(await rescore(arm, seed, level, 0, scoring));
        last.push(await rescore(arm, seed, level, OPTIONS.iterations, scoring));
      }
      armRecord(arm).test[`level ${level} ${scoring}`] = { first, last };
      const gain = last.map((x, i) => x - (first[i] ?? 0));
      const [lo, hi] = bootstrapMeanCi(last, bootRng);
      const [glo, ghi] = bootstrapMeanCi(gain, bootRng);
      console.log(
        `  level ${level} ${scoring.padEnd(9)} ${arm.padEnd(10)} π₀ ${pct(mean(first), n)}%  it${OPTIONS.iterations} ${pct(mean(last), n)}% [${pct(lo, n)}, ${pct(hi, n)}]  gain ${mean(gain).toFixed(1)} calls [${glo.toFixed(1)}, ${ghi.toFixed(1)}]  of ${n}`,
      );
    }
  }
}

writeFileSync(
  join(OUT, "bench.json"),
  `${JSON.stringify({ trainer: TRAINER.spec, options: OPTIONS, seeds: SEEDS.length, arms: Object.fromEntries(record) }, null, 1)}\n`,
);
if (!flags["no-control"]) {
  const control = await expertImitation();
  console.log(
    `\nexpert imitation (SFT of π₀ on all ${control.turns} gold lv3 agent turns), official / corrected: level 1 ${control.correct["1 official"]} / ${control.correct["1 corrected"]}, level 2 ${control.correct["2 official"]} / ${control.correct["2 corrected"]}`,
  );
}
console.log(`\nwall time ${((performance.now() - started) / 1000).toFixed(0)} s on ${WORKERS} workers`);
