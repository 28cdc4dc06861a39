/**
 * Run the loopback OpenAI-compatible test server in its own process, so a benchmark measures the client and not
 * a server sharing its event loop. Started by `spawnOpenAIServer`; prints its URL as one JSON line on stdout and
 * exits when stdin closes (so it never outlives its parent).
 *
 *   node src/llm/testing/serve.ts '{"latencyMs":50}'
 */
import { type OpenAIServerOptions, startOpenAIServer } from "./openai-server.ts";

const options = JSON.parse(process.argv[2] ?? "{}") as OpenAIServerOptions;
const server = await startOpenAIServer(options);
process.stdout.write(`${JSON.stringify({ url: server.url })}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void server.close().then(() => process.exit(0));
});
