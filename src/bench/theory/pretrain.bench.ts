/**
 * `npm run bench:pretrain [-- --out DIR] [--samples 1000,10000,100000] [--jobs 2]` — the full recipe of the
 * learned probe-trap planner (issue 12, docs/theory.md "A planner pretrained here"), and what it costs:
 *
 * 1. training throughput of the recipe's model on TensorFlow.js's WebAssembly backend against its pure-JavaScript
 *    CPU backend, the same batches on both, measured in this run (the ratio is the reason for the default);
 * 2. one `bayesact pretrain probe-trap` run per N_p (K = 4, perfect probe, 2,500 steps), `--jobs` at a time, each
 *    in its own folder under DIR (a run already there is resumed, a finished one is read back);
 * 3. inference: next-subgoal distributions per second through llama.cpp (`score`, the served GGUF) against
 *    TensorFlow.js's forward pass on the same held-out contexts;
 * 4. the theory lab's probe trap with the largest-N_p model as the `llm` planner arm (sampled with `generate`),
 *    beside exact BAIL and ε-BAIL: Reg(T)/T and the log–log slope of each arm.
 *
 * Every number printed is measured in this run or read from the run folders it names.
 */
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createProbeTrap } from "../../envs/theory/probe-trap.ts";
import { toExample } from "../../learn/batches.ts";
import { readCheckpoint } from "../../learn/checkpoint.ts";
import { contextLimit } from "../../learn/context.ts";
import { pretrainSample } from "../../learn/data.ts";
import { servedSubgoalDistribution, subgoalDistribution } from "../../learn/evaluate.ts";
import {
  PretrainConfigSchema,
  type PretrainSummary,
  ProbeTrapConfigSchema,
  runDigest,
} from "../../learn/pretrain.ts";
import { loadTf } from "../../learn/tf.ts";
import { DEFAULT_OPTIMIZER, Trainer } from "../../learn/trainer.ts";
import { initWeights, type LlamaConfig, LlamaTransformer } from "../../learn/transformer.ts";
import { LlamaCppModel } from "../../llm/providers/llamacpp.ts";
import { writeTheoryReport } from "../../report/theory.ts";
import { type LearnedRun, learnedPlannerResult } from "./learned-planner.ts";

const BIN = new URL("../../../bin/bayesact.js", import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    out: { type: "string", default: "runs/bench-pretrain" },
    samples: { type: "string", default: "1000,10000,100000" },
    jobs: { type: "string", default: "2" },
    steps: { type: "string", default: "2500" },
  },
});
const out = resolve(values.out);
const sizes = values.samples.split(",").map(Number);
const jobs = Number(values.jobs);
const K = 4;
const P = 1;
const MAX_EPISODES = 30;
const MODEL: LlamaConfig = {
  vocab: 260,
  dim: 64,
  layers: 2,
  heads: 2,
  ffn: 168,
  context: 1024,
  ropeBase: 10_000,
  eps: 1e-5,
};
const env = createProbeTrap({ K, p: P });

function recipe(samples: number, dir: string): string[] {
  return [
    "pretrain",
    "probe-trap",
    ...["--K", String(K), "--p", String(P), "--samples", String(samples), "--heldout", "300"],
    ...["--max-episodes", String(MAX_EPISODES), "--dim", "64", "--layers", "2", "--heads", "2"],
    ...["--steps", values.steps, "--batch", "16", "--lr", "0.003", "--warmup", "50"],
    ...["--served-eval", "50", "--deploy-runs", "20", "--deploy-episodes", String(MAX_EPISODES)],
    ...["--out", dir],
  ];
}

// —— 1. training throughput: WebAssembly against pure JavaScript ———————————————————————————————————————————
async function throughput(): Promise<void> {
  const examples = Array.from({ length: 64 }, (_, i) => {
    const s = pretrainSample(env, "bench", i, { maxEpisodes: MAX_EPISODES });
    return toExample(s.prompt, s.answer);
  });
  const tf = await loadTf("wasm");
  const rate = async (backend: "wasm" | "cpu", steps: number, batchSize: number) => {
    await tf.setBackend(backend);
    const model = new LlamaTransformer(tf, MODEL, initWeights(MODEL, "bench"));
    const trainer = new Trainer(tf, model, examples, {
      ...DEFAULT_OPTIMIZER,
      batchSize,
      steps: steps + 1,
      seed: 0,
    });
    trainer.trainStep(); // warm-up: kernels compiled, buffers allocated
    let tokens = 0;
    let ms = 0;
    for (let i = 0; i < steps; i++) {
      const r = trainer.trainStep();
      tokens += r.tokens;
      ms += r.ms;
    }
    trainer.dispose();
    model.dispose();
    return (tokens / ms) * 1000;
  };
  const wasm = await rate("wasm", 8, 8);
  const cpu = await rate("cpu", 2, 2);
  await tf.setBackend("wasm");
  console.log(
    `training throughput (dim ${MODEL.dim}, ${MODEL.layers} layers): wasm ${Math.round(wasm)} tokens/s, cpu ${Math.round(cpu)} tokens/s — wasm/cpu ${(wasm / cpu).toFixed(1)}×`,
  );
}

// —— 2. the recipe, one run per N_p ———————————————————————————————————————————————————————————————————————
function runOne(samples: number): Promise<void> {
  const dir = join(out, `N${samples}`);
  const args = existsSync(join(dir, "manifest.json")) ? ["resume", dir] : recipe(samples, dir);
  if (existsSync(join(dir, "summary.json"))) return Promise.resolve();
  mkdirSync(out, { recursive: true });
  const log = createWriteStream(join(out, `N${samples}.log`), { flags: "a" });
  console.log(`N_p = ${samples}: bayesact ${args.join(" ")} (log: ${join(out, `N${samples}.log`)})`);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, CI: "1" } });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    child.once("exit", (code) =>
      code === 0 ? done() : fail(new Error(`N_p = ${samples}: exit ${code}, see its log`)),
    );
  });
}

async function recipes(): Promise<void> {
  const queue = [...sizes];
  await Promise.all(
    Array.from({ length: Math.max(1, jobs) }, async () => {
      for (let n = queue.shift(); n !== undefined; n = queue.shift()) await runOne(n);
    }),
  );
  const runs: LearnedRun[] = sizes.map((n) => {
    const dir = join(out, `N${n}`);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { config: unknown };
    return {
      dir,
      config: ProbeTrapConfigSchema.parse(manifest.config),
      summary: JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as PretrainSummary,
    };
  });
  const result = learnedPlannerResult(runs);
  await writeTheoryReport(join(out, "report.html"), result);
  console.log(`\nreport: ${join(out, "report.html")}`);
  for (const c of result.checks) console.log(`${c.pass ? "PASS" : "FAIL"}  ${c.claim}: ${c.measured}`);
  console.log(
    "\nN_p      steps  train s  tokens/s  held-out TV  served TV  deploy TV naive  deploy TV ε  agreement ε  Reg/T naive  Reg/T ε  tail ε: measured / predicted",
  );
  for (const { config, summary: s } of runs) {
    const n = config.samples;
    const naive = s.deployment.find((d) => d.loop === "naive");
    const eps = s.deployment.find((d) => d.loop === "eps");
    if (naive === undefined || eps === undefined) throw new Error(`N_p = ${n}: no deployment report`);
    const perEpisode = (d: { regret: readonly number[] }) =>
      d.regret.reduce((a, b) => a + b, 0) / d.regret.length;
    console.log(
      [
        String(n).padEnd(8),
        String(s.steps).padStart(5),
        s.trainSeconds.toFixed(0).padStart(8),
        Math.round(s.trainTokensPerSecond).toString().padStart(9),
        s.heldoutTv.mean.toFixed(4).padStart(12),
        (s.servedTv?.mean ?? Number.NaN).toFixed(4).padStart(10),
        naive.tv.toFixed(4).padStart(16),
        eps.tv.toFixed(4).padStart(12),
        `${(100 * eps.agreement.share).toFixed(1)}%`.padStart(12),
        perEpisode(naive).toFixed(3).padStart(12),
        perEpisode(eps).toFixed(3).padStart(8),
        `${eps.tail.regret.toFixed(3)} / ${eps.tail.predicted.toFixed(3)}`.padStart(28),
      ].join(" "),
    );
  }
}

// —— 3. inference: llama.cpp against TensorFlow.js ——————————————————————————————————————————————————————
async function inference(dir: string): Promise<void> {
  const data = readFileSync(join(dir, "data.jsonl"), "utf8")
    .split("\n")
    .slice(1)
    .filter((l) => l.includes('"split":"heldout"'))
    .slice(0, 50)
    .map((l) => JSON.parse(l) as { prompt: string });
  const tf = await loadTf("wasm");
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { config: unknown };
  const runConfig = PretrainConfigSchema.parse(manifest.config);
  const config = runConfig.model;
  const checkpoint = readCheckpoint(dir, { run: runDigest(runConfig), model: config });
  if (checkpoint === undefined) throw new Error(`${dir}: no checkpoint`);
  const model = new LlamaTransformer(tf, config, checkpoint.weights);
  let t0 = performance.now();
  for (const d of data) subgoalDistribution(tf, model, d.prompt, env.subgoals);
  const tfRate = (data.length * 1000) / (performance.now() - t0);
  model.dispose();
  const served = new LlamaCppModel({
    modelPath: join(dir, "model.gguf"),
    threads: 1,
    contextSize: config.context,
    maxParallel: 1,
  });
  try {
    await servedSubgoalDistribution(served, data[0]?.prompt ?? "", env.subgoals);
    t0 = performance.now();
    for (const d of data) await servedSubgoalDistribution(served, d.prompt, env.subgoals);
    const cppRate = (data.length * 1000) / (performance.now() - t0);
    console.log(
      `\ninference (next-subgoal distributions, ${env.subgoals.length} answers scored each, ${data.length} held-out contexts): llama.cpp ${cppRate.toFixed(1)}/s (${(cppRate * env.subgoals.length).toFixed(0)} score calls/s), TensorFlow.js ${tfRate.toFixed(1)}/s — llama.cpp/TensorFlow.js ${(cppRate / tfRate).toFixed(1)}×`,
    );
  } finally {
    await served.close();
  }
}

// —— 4. the learned planner in the theory lab ———————————————————————————————————————————————————————————
async function theory(dir: string): Promise<void> {
  const theoryOut = join(out, "theory");
  const args = [
    "theory",
    "probe-trap",
    ...["--Ks", String(K), "--p", String(P), "--seeds", "100", "--horizon", "1000", "--horizons", "300,1000"],
    ...["--sweepEpsilons", "0.1", "--negativeControl", "false"],
    ...["--llmK", String(K), "--llmHorizon", "100", "--llmSeeds", "20", "--llmConcurrency", "1"],
    ...["--planner-prompt", "compact", "--planner-memory", "summary"],
    ...["--model", `llamacpp:${join(dir, "model.gguf")}?threads=1`, "--out", theoryOut],
  ];
  if (!existsSync(join(theoryOut, "result.json"))) {
    console.log(`\nbayesact ${args.join(" ")}`);
    await new Promise<void>((done, fail) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { ...process.env, CI: "1" },
        stdio: ["ignore", "ignore", "inherit"],
      });
      child.once("exit", (code) => (code === 0 ? done() : fail(new Error(`theory: exit ${code}`))));
    });
  }
  const result = JSON.parse(readFileSync(join(theoryOut, "result.json"), "utf8")) as {
    arms: {
      name: string;
      final_regret_mean: number;
      final_regret_se: number;
      slope: number;
      horizon?: number;
    }[];
  };
  console.log(`\nprobe trap K=${K}, p=${P}, learned planner as the llm arm (${theoryOut}/report.html):`);
  for (const a of result.arms.filter((a) => a.name.includes("(T=100)"))) {
    console.log(
      `  ${a.name.padEnd(34)} Reg(T) ${a.final_regret_mean.toFixed(2)} ± ${a.final_regret_se.toFixed(2)}  Reg(T)/T ${(a.final_regret_mean / 100).toFixed(3)}  slope ${a.slope.toFixed(2)}`,
    );
  }
}

// —— 5. the context limit: summarised memory against episode by episode ——————————————————————————————————
function context(): void {
  console.log(
    `\ncontext limit (${MODEL.context}-token window, ε-greedy exact BAIL loop, 50 runs): episodes | prompt tokens summary / episode by episode | episodes that fit | TV(BAIL of the window, BAIL of all)`,
  );
  for (const p of contextLimit(env, {
    contextTokens: MODEL.context,
    checkpoints: [0, 10, 30, 100, 1000],
    runs: 50,
    seed: 1,
  })) {
    console.log(
      `  ${String(p.episodes).padStart(5)} | ${p.summaryTokens.toFixed(0).padStart(5)} / ${p.episodesTokens.toFixed(0).padStart(6)} | ${p.window.toFixed(1).padStart(5)} | ${p.windowTv.toFixed(3)}`,
    );
  }
}

await throughput();
context();
await recipes();
const largest = join(out, `N${Math.max(...sizes)}`);
await inference(largest);
await theory(largest);
