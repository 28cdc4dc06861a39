/**
 * `npm run llama-server [-- --serve MODEL.gguf]` — build llama.cpp's `llama-server` from the source bundle inside
 * node-llama-cpp (cached per bundle hash, no download) and print its path; with `--serve`, also start it on
 * 127.0.0.1 and print its OpenAI-compatible URL until Ctrl-C. `.ci/run` calls it before the tests, so the build's
 * time shows on its own line and the tests find the cached binary.
 */
import { ensureLlamaServer, startLlamaServer } from "../src/llm/testing/llama-server.ts";

const args = process.argv.slice(2);
const serveAt = args.indexOf("--serve");
const build = await ensureLlamaServer({ log: (line) => process.stderr.write(`${line}\n`) });
process.stderr.write(
  `llama-server ${build.built ? "built" : "cached"} (bundle ${build.bundleHash}, build ${build.buildSeconds} s)\n`,
);
process.stdout.write(`${build.binary}\n`);
if (serveAt >= 0) {
  const model = args[serveAt + 1];
  if (model === undefined) {
    process.stderr.write("usage: npm run llama-server -- --serve MODEL.gguf\n");
    process.exit(2);
  }
  const server = await startLlamaServer({ binary: build.binary, model });
  process.stdout.write(`openai-compatible:${server.baseURL}#${server.alias}\n`);
  process.once("SIGINT", () => void server.close().then(() => process.exit(0)));
}
