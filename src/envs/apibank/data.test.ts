import { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../core/errors.ts";
import { type ApiBankData, instructionSchemas, loadApiBank, parseDialogue } from "./data.ts";

const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

let data: ApiBankData;
beforeAll(() => {
  // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
  data = loadApiBank(DATA_DIR);
});

describe("the API-Bank loader", () => {
  it("reads every file the evaluator uses, validated", () => {
    expect(data.dialogues[1]).toHaveLength(214);
    expect(data.dialogues[2]).toHaveLength(50);
    expect(data.dialogues[1].filter((d) => d.turns.length === 0).map((d) => d.file)).toEqual([
      "SearchEngine-level-1-1.jsonl",
    ]);
    expect([data.tests[1].api.length, data.tests[1].response.length]).toEqual([399, 375]);
    expect([data.tests[2].api.length, data.tests[2].response.length]).toEqual([135, 103]);
    expect([data.level3.samples.length, data.level3.steps.length, data.level3.responses.length]).toEqual([
      50, 245, 50,
    ]);
    expect(Object.keys(data.databases)).toHaveLength(19);
    expect(data.files.length).toBe(214 + 50 + 4 + 4 + 19 + 1);
    const names = new Set<string>();
    for (const level of [1, 2] as const) {
      for (const r of [...data.tests[level].api, ...data.tests[level].response]) {
        for (const s of instructionSchemas(r.instruction)) names.add(s.name);
      }
    }
    expect(names.size).toBe(50);
  });

  it("a missing folder is a one-line UserError naming the path", () => {
    let error: unknown;
    try {
      loadApiBank("/nonexistent-bayesact-data");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain("/nonexistent-bayesact-data/api-bank");
    expect((error as Error).message).not.toContain("\n");
  });

  it("malformed records name the file, line and field", () => {
    expect(() =>
      parseDialogue('{"role": "User", "text": "hi"}\n{"role": "API", "api_name": "X"}', "d.jsonl"),
    ).toThrow(/d\.jsonl: line 2: /);
    expect(() => parseDialogue("{not json", "d.jsonl")).toThrow(/d\.jsonl: line 1: not JSON/);
    expect(parseDialogue("\n", "d.jsonl")).toEqual([]);
  });

  describe("a damaged copy", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "apibank-"));
      cpSync(join(DATA_DIR, "api-bank"), join(dir, "api-bank"), { recursive: true });
      // The shared data is read-only and copies keep modes: make the copy writable (and removable).
      const writable = (path: string) => {
        const dirEntry = statSync(path).isDirectory();
        chmodSync(path, dirEntry ? 0o755 : 0o644);
        if (dirEntry) for (const name of readdirSync(path)) writable(join(path, name));
      };
      writable(join(dir, "api-bank"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("a test file with a bad record is a one-line UserError", () => {
      writeFileSync(join(dir, "api-bank", "test-data", "level-2-api.json"), '[{"file": "x", "id": -1}]');
      expect(() => loadApiBank(dir)).toThrow(/level-2-api\.json: 0\.id/);
    });
  });
});
