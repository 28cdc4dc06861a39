import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { UserError } from "../core/errors.ts";
import type { Manifest } from "./types.ts";

export const MANIFEST = "manifest.json";
export const SUMMARY = "summary.json";
export const REPORT = "report.html";

/** Write a file so that readers see the old or the new content, never half of it. */
export function writeFileAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** `writeFileAtomic` without blocking the event loop (reports can be megabytes); a failed write leaves no temp file. */
export async function writeFileAtomicAsync(path: string, content: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, content, "utf8");
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export function writeJson(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** `git rev-parse HEAD` of the working directory, or null outside a checkout (recorded in manifests). */
export function gitCommit(): string | null {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

const Price = z.strictObject({
  inputPerMTok: z.number().nonnegative(),
  outputPerMTok: z.number().nonnegative(),
});

const RunConfigSchema = z.strictObject({
  env: z.string(),
  agent: z.string(),
  model: z.string(),
  split: z.string(),
  instances: z.array(z.string()),
  seeds: z.array(z.number().int()),
  concurrency: z.number().int().positive(),
  llmConcurrency: z.number().int().positive().optional(),
  maxSteps: z.number().int().positive(),
  budgetUsd: z.number().positive().optional(),
  llmTimeoutMs: z.number().positive().optional(),
  prices: z.record(z.string(), Price),
  cache: z.strictObject({ path: z.string(), mode: z.enum(["read-write", "cache-only", "off"]) }),
  dataDir: z.string(),
  options: z.record(z.string(), z.unknown()),
});

const CapabilitiesSchema = z.strictObject({
  jsonSchema: z.boolean(),
  grammar: z.boolean(),
  logprobs: z.boolean(),
  multipleSamples: z.boolean(),
  seed: z.boolean(),
  score: z.boolean(),
  notes: z.array(z.string()).optional(),
});

export const ManifestSchema = z.strictObject({
  runId: z.string().min(1),
  createdAt: z.string(),
  bayesact: z.string(),
  node: z.string(),
  platform: z.string(),
  gitCommit: z.string().nullable(),
  config: RunConfigSchema,
  dataFiles: z.record(z.string(), z.string()),
  models: z.record(z.string(), CapabilitiesSchema),
});

/** Read and validate `manifest.json`; a missing or foreign file is one line for the user. */
export function readManifest(dir: string): Manifest {
  const path = join(dir, MANIFEST);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`${path} is missing: ${dir} is not a bayesact run folder`, { category: "bad_run" });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`${path} is not JSON`, { category: "bad_run" });
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new UserError(`${path} is not a bayesact manifest (${first?.path.join(".")}: ${first?.message})`, {
      category: "bad_run",
    });
  }
  return parsed.data as Manifest;
}
