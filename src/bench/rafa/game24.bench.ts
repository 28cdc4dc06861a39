/**
 * `npm run bench:rafa` — RAFA on the Game of 24 (spec §3.1, §6). Every number printed is measured in this run.
 *
 * 1. Offline table: rafa, tot, reflexion and react on the 100 test puzzles × 10 seeds, on the exact twins and on
 *    the imperfect twins at the default corruption; success within 20 steps with its 95% Wilson interval (from each
 *    run's summary.json), mean environment steps, and the questions that reached the elite and the critic per step
 *    (what a language model would have been asked). Then breadth b = 2 and ablations that explain the order.
 * 2. Cost and speed with a language model: RAFA through the real OpenAI client against the loopback server, whose
 *    `respond` hook answers the project's own prompts as the imperfect twins would, with 50 ms latency per call, 16
 *    episodes at a time. Prints LLM calls per solved puzzle and per step, tokens and distinct prompts per step, and
 *    wall time against the critical-path lower bound: each episode's sequential rounds of calls × latency,
 *    scheduled on 16 workers in grid order as the runner schedules them (goal: within 1.3×).
 *
 *   npm run bench:rafa [-- --seeds 10 --out DIR --part offline|llm|all --inflight 1024]
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { UserError } from "../../core/errors.ts";
import { loadGame24 } from "../../envs/game24/data.ts";
import { createModel } from "../../llm/create.ts";
import { UsageMeter } from "../../llm/middleware/usage.ts";
import { type OpenAIServer, startOpenAIServer } from "../../llm/testing/openai-server.ts";
import { RunStore } from "../store.ts";
import type { Summary } from "../types.ts";
import {
  type Game24Agent,
  type Game24AgentName,
  type Game24RunOptions,
  runGame24,
  twinResponder,
} from "./game24.ts";

const { values: flags } = parseArgs({
  options: {
    seeds: { type: "string", default: "10" },
    out: { type: "string" },
    part: { type: "string", default: "all" },
    data: { type: "string", default: "../shared/data" },
    serve: { type: "boolean", default: false },
    inflight: { type: "string", default: "1024" },
  },
});
const SEEDS = Array.from({ length: Number(flags.seeds) }, (_, i) => i + 1);
const OUT = resolve(flags.out ?? mkdtempSync(join(tmpdir(), "bayesact-bench-rafa-")));
const DATA = resolve(flags.data);
const LATENCY_MS = 50;
const CONCURRENCY = 16;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

interface Row {
  readonly label: string;
  readonly agent: Game24AgentName;
  readonly options: Readonly<Record<string, unknown>>;
  readonly env?: Game24RunOptions["env"];
}

async function offlineRow(row: Row, index: number): Promise<void> {
  const agents: Game24Agent[] = [];
  const started = performance.now();
  const summary: Summary = await runGame24({
    agent: row.agent,
    dataDir: DATA,
    out: join(OUT, `offline-${String(index).padStart(2, "0")}-${row.agent}`),
    seeds: SEEDS,
    options: row.options,
    ...(row.env ? { env: row.env } : {}),
    concurrency: 4,
    onAgent: (a) => agents.push(a),
  });
  const wall = (performance.now() - started) / 1000;
  const steps = summary.mean_steps * summary.episodes;
  const elite = agents.reduce((s, a) => s + a.stats.roles.elite, 0);
  const critic = agents.reduce((s, a) => s + a.stats.roles.critic, 0);
  const solved = Math.round(summary.success_rate * summary.episodes);
  console.log(
    [
      row.label.padEnd(52),
      `${solved}/${summary.episodes}`.padStart(9),
      pct(summary.success_rate).padStart(7),
      `[${pct(summary.success_ci95.low)}, ${pct(summary.success_ci95.high)}]`.padStart(17),
      summary.mean_steps.toFixed(2).padStart(6),
      (elite / steps).toFixed(2).padStart(7),
      (critic / steps).toFixed(2).padStart(7),
      wall.toFixed(1).padStart(6),
    ].join(" "),
  );
}

async function offline(): Promise<void> {
  const imperfect = { roles: "imperfect" };
  const rows: Row[] = [
    ...(["rafa", "tot", "reflexion", "react"] as const).map((agent) => ({
      label: `${agent}, exact twins`,
      agent,
      options: { roles: "exact" },
    })),
    ...(["rafa", "tot", "reflexion", "react"] as const).map((agent) => ({
      label: `${agent}, imperfect twins (rate 0.3)`,
      agent,
      options: imperfect,
    })),
    { label: "rafa b=2, imperfect", agent: "rafa", options: { ...imperfect, breadth: 2 } },
    { label: "tot b=2, imperfect", agent: "tot", options: { ...imperfect, breadth: 2 } },
    { label: "ablation: rafa act=first, imperfect", agent: "rafa", options: { ...imperfect, act: "first" } },
    {
      label: "ablation: rafa without memory, imperfect",
      agent: "rafa",
      options: { ...imperfect, memory: false },
    },
    {
      label: "ablation: tot, errors drawn afresh every attempt",
      agent: "tot",
      options: { ...imperfect, corruption: "step" },
    },
    {
      label: "ablation: reflexion without memory, imperfect",
      agent: "reflexion",
      options: { ...imperfect, memory: false },
    },
    {
      label: "ablation: reflexion in rafa's environment (commit)",
      agent: "reflexion",
      options: imperfect,
      env: { feedback: true },
    },
  ];
  console.log(
    `offline: 100 test puzzles x ${SEEDS.length} seeds, success within 20 steps (95% Wilson interval); ` +
      "questions per env step; runs in",
  );
  console.log(`  ${OUT}`);
  console.log(
    `${"agent".padEnd(52)} ${"solved".padStart(9)} ${"rate".padStart(7)} ${"95% interval".padStart(17)} ${"steps".padStart(6)} ${"elite".padStart(7)} ${"critic".padStart(7)} ${"wall_s".padStart(6)}`,
  );
  for (const [i, row] of rows.entries()) await offlineRow(row, i);
}

/** Makespan of episodes of the given lengths on `workers` workers pulling them in order (the runner's schedule). */
function schedule(lengths: readonly number[], workers: number): number {
  const free = Array.from({ length: workers }, () => 0);
  for (const length of lengths) {
    let w = 0;
    for (let i = 1; i < free.length; i++) if ((free[i] ?? 0) < (free[w] ?? 0)) w = i;
    free[w] = (free[w] ?? 0) + length;
  }
  return Math.max(...free);
}

/** The loopback server answering as the imperfect twins (run in a child process: see `serve`). */
async function startTwinServer(): Promise<OpenAIServer> {
  const respond = twinResponder({ seed: "bench" });
  return startOpenAIServer({
    latencyMs: LATENCY_MS,
    model: "twin",
    respond: (body, index) =>
      respond(
        {
          messages: body.messages,
          structured: body.response_format?.type === "json_schema",
          ...(body.seed !== undefined ? { seed: body.seed } : {}),
        },
        index,
      ),
  });
}

/** Child-process mode: serve, print the URL as one JSON line, exit when stdin closes (never outlives the bench). */
async function serve(): Promise<void> {
  const server = await startTwinServer();
  process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => {
    void server.close().then(() => process.exit(0));
  });
}

/**
 * The server runs in its own process, as in bench:llm: in-process it would compete with the agents for the event
 * loop, and the benchmark would measure the server's CPU as the client's latency.
 */
async function spawnTwinServer(): Promise<{ url: string; close(): Promise<void> }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`twin server exited early with code ${code}`)));
    lines.once("line", (line) => resolveUrl((JSON.parse(line) as { url: string }).url));
  });
  return {
    url,
    close: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) {
          done();
          return;
        }
        child.once("exit", () => done());
        child.stdin.end();
      }),
  };
}

async function llm(): Promise<void> {
  const server = await spawnTwinServer();
  const spec = `openai-compatible:${server.url}#twin`;
  // The run's model stack (usage, retry, rate limit, provider); by default with room for every call RAFA issues
  // at once (`--inflight 8` measures createModel's default per-endpoint limit).
  const inflight = Number(flags.inflight);
  const model = createModel(spec, {
    env: {},
    meter: new UsageMeter({}),
    rateLimit: { concurrency: inflight },
  });
  try {
    const capabilities = await model.capabilities();
    const rounds: number[] = [];
    const agents: Game24Agent[] = [];
    const out = join(OUT, "llm-rafa");
    const started = performance.now();
    const cpuStart = process.cpuUsage();
    const summary = await runGame24({
      agent: "rafa",
      dataDir: DATA,
      out,
      seeds: [1],
      model,
      modelSpec: spec,
      concurrency: CONCURRENCY,
      onAgent: (a, i) => {
        agents[i] = a;
      },
    });
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuStart);
    for (const a of agents) rounds.push(a.stats.llmRounds);
    const store = RunStore.open(out);
    let calls = 0;
    let samples = 0;
    let criticCalls = 0;
    let duplicates = 0;
    let distinct = 0;
    for (const e of store.episodes()) {
      const byStep = new Map<number, Set<string>>();
      for (const c of store.llmCalls(e.id)) {
        calls += 1;
        samples += c.samples;
        if (c.samples > 1) criticCalls += 1;
        const prompts = byStep.get(c.t) ?? new Set<string>();
        const prompt = JSON.stringify(c.messages);
        if (prompts.has(prompt)) duplicates += 1;
        prompts.add(prompt);
        byStep.set(c.t, prompts);
      }
      for (const p of byStep.values()) distinct += p.size;
    }
    const episodes = store.episodes();
    await store.close();
    const steps = episodes.reduce((s, e) => s + e.steps, 0);
    const solved = episodes.filter((e) => e.success).length;
    const bound = schedule(rounds, CONCURRENCY) * LATENCY_MS;
    console.log("");
    console.log(
      `llm: rafa (roles=llm, defaults) on ${episodes.length} test puzzles, loopback OpenAI-compatible server answering ` +
        `as the imperfect twins, ${LATENCY_MS} ms per call, ${CONCURRENCY} episodes at a time`,
    );
    console.log(
      `  server capabilities: json_schema ${capabilities.jsonSchema}, n>1 ${capabilities.multipleSamples}; ` +
        `at most ${inflight} calls in flight`,
    );
    console.log(
      `  solved ${solved}/${episodes.length} (${pct(summary.success_rate)}), ${steps} env steps, mean ${summary.mean_steps.toFixed(2)} per puzzle`,
    );
    console.log(
      `  LLM calls ${calls}, ${(calls / Math.max(1, solved)).toFixed(1)} per solved puzzle, ${(calls / steps).toFixed(2)} per env step`,
    );
    console.log(
      `  critic: ${criticCalls} requests carried ${samples - (calls - criticCalls)} samples (n per request ${(criticCalls > 0 ? (samples - (calls - criticCalls)) / criticCalls : 0).toFixed(2)})`,
    );
    console.log(
      `  tokens per env step: input ${(summary.llm.input_tokens / steps).toFixed(0)}, output ${(summary.llm.output_tokens / steps).toFixed(0)}`,
    );
    console.log(
      `  distinct prompts per env step ${(distinct / steps).toFixed(2)}; prompts asked twice within one step: ${duplicates}`,
    );
    const totalRounds = rounds.reduce((s, r) => s + r, 0);
    console.log(
      `  sequential rounds of calls: ${totalRounds} (${(totalRounds / steps).toFixed(2)} per env step, longest episode ${Math.max(...rounds)})`,
    );
    console.log(
      `  wall ${(wallMs / 1000).toFixed(2)} s; critical-path lower bound ${(bound / 1000).toFixed(2)} s ` +
        `(rounds x ${LATENCY_MS} ms on ${CONCURRENCY} workers); ratio ${(wallMs / bound).toFixed(3)} (goal <= 1.3)`,
    );
    console.log(
      `  CPU of this process (agents, client, runner, journal): ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s; ` +
        `load average at the end ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")} on ${availableParallelism()} cores`,
    );
    console.log(`  run folder: ${out}`);
  } finally {
    await model.close?.();
    await server.close();
  }
}

async function main(): Promise<void> {
  if (flags.serve) {
    await serve();
    return;
  }
  loadGame24(DATA); // one clear line when the data is missing
  if (flags.part === "all" || flags.part === "offline") await offline();
  if (flags.part === "all" || flags.part === "llm") await llm();
}

try {
  await main();
} catch (error) {
  // A mistake the user can fix (e.g. the data folder is missing) is one line and exit code 2.
  if (!(error instanceof UserError)) throw error;
  console.error(`bench:rafa: ${error.message}`);
  process.exitCode = 2;
}
