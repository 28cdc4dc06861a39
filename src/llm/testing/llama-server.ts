/**
 * A real llama.cpp `llama-server`, built from the llama.cpp source that the node-llama-cpp package ships
 * (`node_modules/node-llama-cpp/llama/gitRelease.bundle`, a git bundle), for tests, `.ci/run` and anyone who wants
 * to try the OpenAI-compatible path against a server the project did not write. Nothing is downloaded: the build
 * uses the machine's git, cmake and a C++ compiler.
 *
 * The binary is cached per bundle hash (`$BAYESACT_LLAMA_SERVER_CACHE`, else `$XDG_CACHE_HOME/bayesact/llama-server`,
 * else `~/.cache/bayesact/llama-server`), so a node-llama-cpp upgrade builds afresh and nothing else does. A cold
 * build takes about 4.5 minutes on 2 cores (docs/llm.md). Concurrent builders wait on one lock directory.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { mkdtemp, rename } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** CMake options: only the server target, static, CPU, no network features (no HTTPS, no downloaded web UI). */
export const LLAMA_SERVER_CMAKE_FLAGS: readonly string[] = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_EXAMPLES=OFF",
  "-DLLAMA_BUILD_TOOLS=ON",
  "-DLLAMA_BUILD_SERVER=ON",
  "-DLLAMA_BUILD_APP=OFF",
  "-DLLAMA_BUILD_UI=OFF",
  "-DLLAMA_USE_PREBUILT_UI=OFF",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_CURL=OFF",
];

export interface LlamaServerBuild {
  /** The `llama-server` executable. */
  readonly binary: string;
  /** First 16 hex digits of the bundle's SHA-256: the cache key. */
  readonly bundleHash: string;
  /** True when this call built it; false when it came from the cache. */
  readonly built: boolean;
  /** Seconds the build took (this call's, or the cached build's as recorded). */
  readonly buildSeconds: number;
}

/** What is missing on this machine to build, in one line, or undefined when everything is there. */
export function missingBuildTools(): string | undefined {
  const missing = ["git", "cmake", "c++"].filter((tool) => !onPath(tool));
  if (missing.length === 0) return undefined;
  return `building llama-server needs ${missing.join(", ")} on PATH (Debian: apt-get install git cmake g++)`;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? "")
    .split(":")
    .some((dir) => dir !== "" && existsSync(join(dir, tool)) && statSync(join(dir, tool)).isFile());
}

/** The git bundle of llama.cpp inside the installed node-llama-cpp package. */
export function llamaCppBundle(): string {
  let entry: string;
  try {
    // The package exports no package.json: find its root from the entry point (dist/index.js).
    entry = fileURLToPath(import.meta.resolve("node-llama-cpp"));
  } catch {
    throw new Error(
      "node-llama-cpp is not installed: its llama.cpp source bundle is what llama-server is built from",
    );
  }
  let root = dirname(entry);
  while (!existsSync(join(root, "package.json")) && dirname(root) !== root) root = dirname(root);
  const bundle = join(root, "llama", "gitRelease.bundle");
  if (!existsSync(bundle)) throw new Error(`node-llama-cpp has no llama.cpp source bundle at ${bundle}`);
  return bundle;
}

export function llamaServerCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env.BAYESACT_LLAMA_SERVER_CACHE) return env.BAYESACT_LLAMA_SERVER_CACHE;
  const base = env.XDG_CACHE_HOME || join(os.homedir(), ".cache");
  return join(base, "bayesact", "llama-server");
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * The cached `llama-server` for the installed bundle, building it first when absent. `log` receives one line per
 * stage (the build's own output goes to `build.log` in the cache, quoted when the build fails).
 */
export async function ensureLlamaServer(
  options: { log?: (line: string) => void; cacheDir?: string; jobs?: number } = {},
): Promise<LlamaServerBuild> {
  const log = options.log ?? (() => {});
  const bundle = llamaCppBundle();
  const bundleHash = (await sha256(bundle)).slice(0, 16);
  const dir = join(options.cacheDir ?? llamaServerCacheDir(), bundleHash);
  const binary = join(dir, "llama-server");
  const infoPath = join(dir, "build-info.json");
  const cached = (): LlamaServerBuild | undefined => {
    if (!existsSync(binary) || !existsSync(infoPath)) return undefined;
    const info = JSON.parse(readFileSync(infoPath, "utf8")) as { buildSeconds?: number };
    return { binary, bundleHash, built: false, buildSeconds: info.buildSeconds ?? Number.NaN };
  };
  const hit = cached();
  if (hit) return hit;

  mkdirSync(dirname(dir), { recursive: true });
  const lock = `${dir}.lock`;
  await acquireLock(lock, log);
  try {
    const again = cached(); // another process may have built it while we waited
    if (again) return again;
    const tools = missingBuildTools();
    if (tools) throw new Error(tools);
    mkdirSync(dir, { recursive: true });
    const work = await mkdtemp(join(dirname(dir), `build-${bundleHash}-`));
    const buildLog = join(dir, "build.log");
    writeFileSync(buildLog, "");
    const started = performance.now();
    const jobs = options.jobs ?? os.availableParallelism();
    try {
      log(`llama-server: building from ${bundle} (cmake, ${jobs} jobs; a cold build takes minutes)`);
      await run("git", ["clone", "--quiet", bundle, join(work, "src")], buildLog);
      await run(
        "cmake",
        ["-S", join(work, "src"), "-B", join(work, "build"), ...LLAMA_SERVER_CMAKE_FLAGS],
        buildLog,
      );
      await run(
        "cmake",
        ["--build", join(work, "build"), "--target", "llama-server", "-j", String(jobs)],
        buildLog,
      );
      const tmp = `${binary}.tmp`;
      await rename(join(work, "build", "bin", "llama-server"), tmp);
      await rename(tmp, binary);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
    writeFileSync(
      infoPath,
      `${JSON.stringify({ bundleHash, bundle, cmakeFlags: LLAMA_SERVER_CMAKE_FLAGS, buildSeconds, jobs, builtAt: new Date().toISOString() }, null, 2)}\n`,
    );
    log(`llama-server: built in ${buildSeconds} s → ${binary}`);
    return { binary, bundleHash, built: true, buildSeconds };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** mkdir is atomic: the directory is the lock. A lock older than an hour is a crashed builder's and is taken over. */
async function acquireLock(lock: string, log: (line: string) => void): Promise<void> {
  let told = false;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    try {
      if (Date.now() - statSync(lock).mtimeMs > 3_600_000) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
    } catch {
      continue; // released between our mkdir and stat
    }
    if (!told) {
      log(`llama-server: waiting for another build (${lock})`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function run(command: string, args: readonly string[], logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    const keep = (chunk: Buffer) => {
      chunks.push(chunk);
      writeFileSync(logFile, chunk, { flag: "a" });
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) {
        resolve();
        return;
      }
      const tail = Buffer.concat(chunks).toString("utf8").trim().split("\n").slice(-15).join("\n");
      reject(
        new Error(
          `${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`}); log ${logFile}:\n${tail}`,
        ),
      );
    });
  });
}

export interface LlamaServerOptions {
  readonly binary: string;
  /** The GGUF file to serve. */
  readonly model: string;
  /** Served model name (`--alias`; default "tiny"). */
  readonly alias?: string;
  /** Context size over all slots (`-c`, default 8192). */
  readonly contextSize?: number;
  /** Slots (`-np`, default 4): requests in parallel, and the largest `n` the server accepts. */
  readonly parallel?: number;
  /** CPU threads (`-t`, default 1: the tests share 2 cores with the test runner). */
  readonly threads?: number;
  /** Require this key (`--api-key`). */
  readonly apiKey?: string;
  readonly extraArgs?: readonly string[];
}

export interface RunningLlamaServer {
  /** `http://127.0.0.1:PORT`: the server's own endpoints (`/health`, `/completion`, `/tokenize`). */
  readonly origin: string;
  /** `origin + "/v1"`: the OpenAI-compatible base URL. */
  readonly baseURL: string;
  readonly alias: string;
  readonly process: ChildProcess;
  /** Everything the server printed so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
  close(): Promise<void>;
}

/** Start `llama-server` on 127.0.0.1 on a free port and wait until `/health` says it is ready. */
export async function startLlamaServer(options: LlamaServerOptions): Promise<RunningLlamaServer> {
  const alias = options.alias ?? "tiny";
  const args = [
    "-m",
    options.model,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--alias",
    alias,
    "-c",
    String(options.contextSize ?? 8192),
    "-np",
    String(options.parallel ?? 4),
    "-t",
    String(options.threads ?? 1),
    "-tb",
    String(options.threads ?? 1),
    "--no-webui",
    ...(options.apiKey ? ["--api-key", options.apiKey] : []),
    ...(options.extraArgs ?? []),
  ];
  const child = spawn(options.binary, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (m?.[1]) resolve(Number(m[1]));
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      reject(
        new Error(
          `llama-server exited before listening (${signal ?? `exit ${code}`}):\n${output.slice(-2000)}`,
        ),
      ),
    );
  });
  const origin = `http://127.0.0.1:${port}`;
  const close = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  // The port opens before the model is loaded: /health answers 503 until then.
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${origin}/health`);
      if (res.ok) break;
    } catch {
      // not accepting yet
    }
    if (child.exitCode !== null || i > 600) {
      await close();
      throw new Error(`llama-server did not become ready:\n${output.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { origin, baseURL: `${origin}/v1`, alias, process: child, log: () => output, close };
}
