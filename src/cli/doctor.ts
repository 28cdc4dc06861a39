import { existsSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { createModel, llamaCppOptions } from "../llm/create.ts";
import { writeTinyLlamaGguf } from "../llm/llamacpp/tiny-model.ts";
import { type LlamaCppChecks, type LlamaCppDescription, LlamaCppModel } from "../llm/providers/llamacpp.ts";
import { type ModelSpec, parseModelSpec } from "../llm/spec.ts";
import type { Capabilities } from "../llm/types.ts";
import type { Output } from "./output.ts";

export interface DoctorOptions {
  model?: string;
  /** Write the generated tiny GGUF model here and probe it (a smoke test of the local-model path). */
  tinyGguf?: string;
  json: boolean;
  timeoutMs: number;
}

export interface DoctorReport {
  bayesact: string;
  node: string;
  platform: string;
  cpus: number;
  memoryGiB: number;
  nodeLlamaCpp: "installed" | "not installed";
  data: { path: string; found: boolean };
  model?: {
    spec: string;
    provider: string;
    endpoint: string;
    capabilities: Capabilities;
    /** Local GGUF models: what llama.cpp loaded, and what a real grammar and score call gave. */
    llamacpp?: LlamaCppDescription & LlamaCppChecks;
  };
}

/** Is a package resolvable from here, without loading it (node-llama-cpp loads native code on import). */
function resolvable(name: string): boolean {
  try {
    import.meta.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * Describe the machine and, with `--model`, connect to the model and probe what it supports. The probe makes a
 * few tiny requests (max 16 tokens each); the key comes from the environment and is never printed.
 */
export async function runDoctor(
  version: string,
  options: DoctorOptions,
  output: Output,
): Promise<DoctorReport> {
  const dataPath = resolve(process.cwd(), "..", "shared", "data");
  const report: DoctorReport = {
    bayesact: version,
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    cpus: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    nodeLlamaCpp: resolvable("node-llama-cpp") ? "installed" : "not installed",
    data: { path: dataPath, found: existsSync(dataPath) },
  };
  if (options.tinyGguf !== undefined) {
    // Byte-level tokens make prompts long (one token per byte): give the smoke-test model room for real prompts.
    const written = await writeTinyLlamaGguf(resolve(options.tinyGguf), { contextLength: 8192 });
    output.err(`wrote ${written.path} (${written.sizeBytes} bytes, random weights, byte-level vocabulary)`);
    options.model ??= `llamacpp:${written.path}?threads=1&ctx=8192`;
  }
  if (options.model !== undefined) {
    const spec = parseModelSpec(options.model);
    if (spec.kind === "llamacpp") report.model = await probeLlamaCpp(spec, options.timeoutMs);
    else {
      const model = createModel(spec, { timeoutMs: options.timeoutMs, retry: { maxRetries: 1 } });
      try {
        const capabilities = await model.capabilities();
        report.model = { spec: spec.spec, provider: model.provider, endpoint: model.endpoint, capabilities };
      } finally {
        await model.close?.();
      }
    }
  }
  if (options.json) {
    output.out(JSON.stringify(report, null, 2));
    return report;
  }
  output.out(
    `bayesact ${report.bayesact} on Node ${report.node} (${report.platform}, ${report.cpus} CPUs, ${report.memoryGiB} GiB)`,
  );
  output.out(
    `node-llama-cpp: ${report.nodeLlamaCpp}${report.nodeLlamaCpp === "installed" ? "" : " (needed only for llamacpp: specs)"}`,
  );
  output.out(`benchmark data: ${report.data.found ? "found" : "not found"} at ${report.data.path}`);
  if (report.model) {
    const c = report.model.capabilities;
    const yes = (b: boolean) => (b ? "yes" : "no");
    output.out(`model ${report.model.spec} (${report.model.provider} at ${report.model.endpoint}):`);
    output.out(
      `  JSON schema: ${yes(c.jsonSchema)}, grammar: ${yes(c.grammar)}, logprobs: ${yes(c.logprobs)}`,
    );
    output.out(`  n > 1: ${yes(c.multipleSamples)}, seed: ${yes(c.seed)}, exact scoring: ${yes(c.score)}`);
    for (const note of c.notes ?? []) output.out(`  note: ${note}`);
    if (report.model.llamacpp)
      for (const line of describeLines(report.model.llamacpp)) output.out(`  ${line}`);
  }
  return report;
}

/**
 * Load a local GGUF model and measure it: the provider itself, not the middleware stack, since `describe()` and
 * `check()` are not part of the model interface (and a local model has no transient faults to retry). A missing or corrupt
 * file throws one line naming it.
 */
async function probeLlamaCpp(
  spec: Extract<ModelSpec, { kind: "llamacpp" }>,
  timeoutMs: number,
): Promise<NonNullable<DoctorReport["model"]>> {
  const model = new LlamaCppModel(llamaCppOptions(spec));
  try {
    const description = await model.describe();
    const checks = await model.check({ timeoutMs });
    // Grammar and scoring as measured; logprobs come from the same evaluation as score.
    const capabilities: Capabilities = {
      ...(await model.capabilities()),
      grammar: checks.grammar.ok,
      score: checks.score.ok,
      logprobs: checks.score.ok,
    };
    return {
      spec: spec.spec,
      provider: model.provider,
      endpoint: model.endpoint,
      capabilities,
      llamacpp: { ...description, ...checks },
    };
  } finally {
    await model.close();
  }
}

function describeLines(d: LlamaCppDescription & LlamaCppChecks): string[] {
  const check = (c: { ok: boolean; detail: string }) => `${c.ok ? "yes" : "no"} (${c.detail})`;
  const v = d.vocabulary;
  const token = (text: string | null) => (text === null ? "none" : JSON.stringify(text));
  const t = d.threads;
  return [
    `file: ${d.sizeBytes} bytes, ${d.architecture}${d.name !== undefined ? ` "${d.name}"` : ""}, ${d.gpu === false ? "CPU" : `GPU (${d.gpu})`}`,
    `context size: ${d.context.size} tokens per sequence × ${d.context.sequences} sequences (trained context: ${d.context.trained})`,
    `vocabulary: ${v.size ?? "unknown"} tokens, ${v.type}${v.tokenizer !== undefined ? ` (${v.tokenizer} tokenizer)` : ""}, BOS ${token(v.bos)}${v.addsBos ? " (prepended)" : ""}, EOS ${token(v.eos)}`,
    `chat template: ${d.chatTemplate.present ? `yes${d.chatTemplate.wrapper !== undefined ? ` (${d.chatTemplate.wrapper})` : ""}` : "none (the plain fallback format)"}`,
    `threads: ${t.used} (${t.source === "option" ? `asked for with threads=${t.used}` : `default: min(${t.cpuMathCores} math cores, ${t.availableParallelism} CPUs available)`})`,
    `grammar-constrained JSON: ${check(d.grammar)}`,
    `score: ${check(d.score)}`,
  ];
}
