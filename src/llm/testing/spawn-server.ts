import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { OpenAIServerOptions } from "./openai-server.ts";

export interface SpawnedServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Start `serve.ts` in a child process with JSON-serialisable options (no `respond` function) and wait for its URL.
 * Uses the same Node binary as the parent, which runs TypeScript directly.
 */
export async function spawnOpenAIServer(
  options: Omit<OpenAIServerOptions, "respond"> = {},
): Promise<SpawnedServer> {
  const child = spawn(
    process.execPath,
    [new URL("./serve.ts", import.meta.url).pathname, JSON.stringify(options)],
    {
      stdio: ["pipe", "pipe", "inherit"],
    },
  );
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`test server exited early with code ${code}`)));
    lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) {
          resolve();
          return;
        }
        child.once("exit", () => resolve());
        child.stdin.end();
      }),
  };
}
