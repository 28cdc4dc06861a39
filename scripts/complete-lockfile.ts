/**
 * `npm run lock:complete` — restore lockfile entries for optional platform binaries this machine's registry does
 * not serve.
 *
 * The registry reachable from the development machines serves only packages installable on linux-x64, so
 * `npm install` here leaves the other platforms' optional binaries (biome's `@biomejs/cli-darwin-arm64`,
 * node-llama-cpp's `@node-llama-cpp/mac-arm64-metal`, …) out of package-lock.json, and `npm ci` then rejects the
 * lockfile as out of sync. This script adds each missing optional dependency with its pinned version and the
 * os / cpu / libc that its name declares (the packages' own naming convention), so `npm ci` skips it here as
 * platform-incompatible and installs it from the full registry on a Mac or Windows machine.
 * Run it after every `npm install` that changes the lockfile; `.ci/run` fails if it was forgotten.
 */
import { readFileSync, writeFileSync } from "node:fs";

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  optionalDependencies?: Record<string, string>;
}

const OS: [RegExp, string][] = [
  [/(^|-)(darwin|mac)(-|$)/, "darwin"],
  [/(^|-)(win32|win)(-|$)/, "win32"],
  [/(^|-)android(-|$)/, "android"],
  [/(^|-)linux(-|$)/, "linux"],
  [/(^|-)freebsd(-|$)/, "freebsd"],
];
const CPU: [RegExp, string][] = [
  [/(^|-)arm64(-|$)/, "arm64"],
  [/(^|-)(x64|x86_64)(-|$)/, "x64"],
  [/(^|-)armv7l?(-|$)/, "arm"],
  [/(^|-)riscv64(-|$)/, "riscv64"],
  [/(^|-)ia32(-|$)/, "ia32"],
];

/** os / cpu / libc from a platform package's name, e.g. `cli-linux-x64-musl`; undefined when it names none. */
export function platformOf(name: string): Pick<LockEntry, "os" | "cpu" | "libc"> | undefined {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const os = OS.find(([re]) => re.test(base))?.[1];
  const cpu = CPU.find(([re]) => re.test(base))?.[1];
  if (!os || !cpu) return undefined;
  return {
    os: [os],
    cpu: [cpu],
    ...(os === "linux" ? { libc: [/-musl/.test(base) ? "musl" : "glibc"] } : {}),
  };
}

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8")) as { packages: Record<string, LockEntry> };
const added: string[] = [];
for (const [key, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = `node_modules/${name}`;
    if (lock.packages[at]) continue;
    const platform = platformOf(name);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) {
      throw new Error(
        `${key} needs ${name}@${version}, which is neither in the lockfile nor a pinned platform package`,
      );
    }
    lock.packages[at] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added.push(`${name}@${version}`);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(
  added.length ? `added ${added.length} platform entries: ${added.join(", ")}` : "lockfile already complete",
);
