import { existsSync } from "node:fs";
import os from "node:os";
import { resolve } from "node:path";
import { createModel } from "../llm/create.ts";
import { writeTinyLlamaGguf } from "../llm/llamacpp/tiny-model.ts";
import { parseModelSpec } from "../llm/spec.ts";
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
  model?: { spec: string; provider: string; endpoint: string; capabilities: Capabilities };
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
    const model = createModel(spec, { timeoutMs: options.timeoutMs, retry: { maxRetries: 1 } });
    try {
      const capabilities = await model.capabilities();
      report.model = { spec: spec.spec, provider: model.provider, endpoint: model.endpoint, capabilities };
    } finally {
      await model.close?.();
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
  }
  return report;
}
