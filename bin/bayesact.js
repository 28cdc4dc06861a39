#!/usr/bin/env node
// In a checkout the CLI runs from TypeScript sources (Node >= 22.18 strips types natively); an installed package
// runs the compiled dist/. npm scripts and npx put the project's own Node 24 first on PATH.
import { existsSync } from "node:fs";

const source = new URL("../src/cli/main.ts", import.meta.url);
const useSource = existsSync(source);
if (useSource && !process.features.typescript) {
  console.error(
    `bayesact: Node ${process.versions.node} cannot run TypeScript sources; use Node >= 22.18 (run through npx or npm scripts, which use the project's Node 24)`,
  );
  process.exit(2);
}
const entry = useSource ? source : new URL("../dist/cli/main.js", import.meta.url);
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
