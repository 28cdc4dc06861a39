import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RUN_DB, RunStore } from "../bench/store.ts";
import { userError } from "../core/testing.ts";
import { TrainStore } from "./store.ts";

const root = mkdtempSync(join(tmpdir(), "bayesact-train-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("the self-training store", () => {
  it("reopens what it wrote; refuses a second run in the same folder", () => {
    const dir = join(root, "run");
    const store = TrainStore.create(dir, "t1");
    store.finishStage(0, "evaluate", { "1": { points: 3 } }, 5);
    store.close();
    const again = TrainStore.open(dir);
    expect(again.stage(0, "evaluate")).toEqual({ "1": { points: 3 } });
    again.close();
    expect(userError(() => TrainStore.create(dir, "t2")).message).toMatch(/already holds a run/);
  });

  it("a missing folder and a bench run's journal are one-line user errors, the file left untouched", async () => {
    expect(userError(() => TrainStore.open(join(root, "nope"))).message).toMatch(/no run folder/);
    const bench = join(root, "bench");
    await RunStore.create(bench, "b1").close();
    const bytes = readFileSync(join(bench, RUN_DB));
    const e = userError(() => TrainStore.open(bench));
    expect(e.message).toMatch(/not a usable self-training run: it was not written by bayesact train/);
    expect(e.message).not.toContain("\n");
    expect(readFileSync(join(bench, RUN_DB)).equals(bytes)).toBe(true);
  });
});
