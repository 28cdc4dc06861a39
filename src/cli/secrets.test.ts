/**
 * Secrets planted in every place a user can put them — a password in a server URL, an API key in the environment —
 * and searched for in every file a run writes (journal, manifest, summary, report, cache, iteration folders) and in
 * everything the CLI prints, including the one-line errors of failed starts and resumes.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type OpenAIServer, startOpenAIServer } from "../llm/testing/openai-server.ts";
import { DATA_DIR, requireApiBankData } from "../train/testing/data.ts";
import { main } from "./main.ts";
import { bufferOutput } from "./output.ts";

const PASSWORD = "pw-planted-3e9c1a7b55d2";
const USER = "alice-planted";
const KEY = "sk-planted-secrets-90b7c3d1e2f4";

const root = mkdtempSync(join(tmpdir(), "bayesact-secrets-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const printed: string[] = [];
async function cli(args: string[]) {
  const output = bufferOutput();
  const code = await main(args, output);
  printed.push(...output.stdout, ...output.stderr);
  return { code, ...output };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every file under these folders, and everything printed so far: no secret anywhere. */
function expectNoSecrets(...paths: string[]): void {
  const files = paths.flatMap((p) => (statSync(p).isDirectory() ? filesUnder(p) : [p]));
  expect(files.length).toBeGreaterThan(3);
  for (const file of files) {
    const bytes = readFileSync(file);
    for (const secret of [PASSWORD, USER, KEY])
      expect(bytes.includes(secret), `${secret} in ${file}`).toBe(false);
  }
  const text = printed.join("\n");
  for (const secret of [PASSWORD, USER, KEY]) expect(text).not.toContain(secret);
}

/** The loopback URL with the planted credentials in it. */
const withCredentials = (server: OpenAIServer) =>
  server.url.replace("http://", `http://${USER}:${encodeURIComponent(PASSWORD)}@`);

const tictactoe = (body: { messages: readonly { content: string }[] }) => {
  const legal = /Legal actions: ([0-9, ]+)/.exec(body.messages.at(-1)?.content ?? "")?.[1]?.split(", ")[0];
  return JSON.stringify({ action: legal ?? "5" });
};

describe("secrets never leave memory", () => {
  it("bench, resume and report: a URL password and an API key are in no file and no output", async () => {
    const proxied = await startOpenAIServer({ basicAuth: `${USER}:${PASSWORD}`, respond: tictactoe });
    const keyed = await startOpenAIServer({ apiKey: KEY, respond: tictactoe });
    const saved = process.env.BAYESACT_API_KEY;
    try {
      const spec = `openai-compatible:${withCredentials(proxied)}#m`;
      const runDir = join(root, "bench-password");
      const cache = join(root, "cache-password.sqlite");
      const bench = ["bench", "tictactoe", "--agent", "direct", "--model", spec, "--seeds", "1-2"];
      const first = await cli([...bench, "--cache-file", cache, "--out", runDir]);
      expect(first.code, first.stderr.join("\n")).toBe(0);
      // The credentials reached the server as HTTP Basic authentication, and only there.
      expect(proxied.requests.some((r) => r.headers.authorization?.startsWith("Basic "))).toBe(true);
      const manifest = JSON.parse(readFileSync(join(runDir, "manifest.json"), "utf8")) as {
        config: { model: string };
      };
      expect(manifest.config.model).toBe(
        `openai-compatible:${proxied.url.replace("http://", "http://***@")}#m`,
      );

      // resume cannot connect without the credentials: one line saying how to give them, exit 2
      const refused = await cli(["resume", runDir]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toHaveLength(1);
      expect(refused.stderr[0]).toMatch(/had credentials in its URL.*--model/);
      expect((await cli(["resume", runDir, "--model", spec])).code).toBe(0);
      expect((await cli(["report", runDir])).code).toBe(0);

      // a failed start (nothing listening) names the server without its credentials
      const dead = `openai-compatible:http://${USER}:${PASSWORD}@127.0.0.1:1/v1#m`;
      const failed = await cli([
        "bench",
        "tictactoe",
        "--agent",
        "direct",
        "--model",
        dead,
        "--out",
        join(root, "x"),
      ]);
      expect(failed.code).toBe(2);
      expect(failed.stderr.join("\n")).toContain("127.0.0.1:1");

      // and the API key, from the environment
      process.env.BAYESACT_API_KEY = KEY;
      const keyDir = join(root, "bench-key");
      const keyCache = join(root, "cache-key.sqlite");
      const keyRun = await cli([
        "bench",
        "tictactoe",
        "--agent",
        "direct",
        "--model",
        `openai-compatible:${keyed.url}#m`,
        "--cache-file",
        keyCache,
        "--out",
        keyDir,
      ]);
      expect(keyRun.code, keyRun.stderr.join("\n")).toBe(0);
      expect(keyed.requests.some((r) => r.headers.authorization === `Bearer ${KEY}`)).toBe(true);
      // both at once is refused in one line, naming neither
      const both = await cli([
        "bench",
        "tictactoe",
        "--agent",
        "direct",
        "--model",
        spec,
        "--out",
        join(root, "y"),
      ]);
      expect(both.code).toBe(2);
      expect(both.stderr[0]).toMatch(/carries credentials and an API key/);

      expectNoSecrets(runDir, cache, keyDir, keyCache);
    } finally {
      if (saved === undefined) delete process.env.BAYESACT_API_KEY;
      else process.env.BAYESACT_API_KEY = saved;
      await Promise.all([proxied.close(), keyed.close()]);
    }
  });

  it("train: a critic behind a password-protected URL; manifest, journal, iterations and report keep no secret", async () => {
    requireApiBankData();
    const server = await startOpenAIServer({
      basicAuth: `${USER}:${PASSWORD}`,
      respond: () => '{"score": 9, "reason": "looks right"}',
    });
    try {
      const critic = `openai-compatible:${withCredentials(server)}#judge`;
      const out = join(root, "train");
      const args = ["train", "apibank", "--model", "embedded:base", "--critic", critic, "--iterations", "1"];
      const small = ["--instructions", "6", "--samples", "2", "--eval-levels", "none", "--data", DATA_DIR];
      const run = await cli([...args, ...small, "--out", out]);
      expect(run.code, run.stderr.join("\n")).toBe(0);
      expect(server.requests.length).toBeGreaterThan(0);
      const refused = await cli(["resume", out]);
      expect(refused.code).toBe(2);
      expect(refused.stderr[0]).toMatch(/had credentials in its URL/);
      expect((await cli(["resume", out, "--model", critic])).code).toBe(0);
      expectNoSecrets(out);
    } finally {
      await server.close();
    }
  });
});
