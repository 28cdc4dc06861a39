import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { userError } from "../../core/testing.ts";
import { blocksworldDir, loadBlocksWorld, loadPddlFolder, loadStepSplit } from "./data.ts";
import { DATA_DIR, requireData } from "./testing/data.ts";

const DATA = requireData();
const BW = blocksworldDir(DATA);
const tmp = mkdtempSync(join(tmpdir(), "bayesact-bw-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A scratch data root with the real domain and config and the given step file. */
function scratchRoot(name: string, stepFile: string): string {
  const root = join(tmp, name);
  mkdirSync(join(root, "blocksworld", "generated_basic"), { recursive: true });
  for (const f of ["generated_domain.pddl", "bw_config.yaml"])
    copyFileSync(join(BW, f), join(root, "blocksworld", f));
  copyFileSync(
    join(BW, "generated_basic", "instance-1.pddl"),
    join(root, "blocksworld", "generated_basic", "instance-1.pddl"),
  );
  writeFileSync(join(root, "blocksworld", "step_4.json"), stepFile);
  return root;
}

describe("test data", () => {
  it("is found at ../shared/data beside the project root, or the tests fail with one clear message", () => {
    expect(DATA).toBe(DATA_DIR);
    expect(DATA_DIR.endsWith(join("shared", "data"))).toBe(true);
    expect(() => requireData(join(tmp, "none"))).toThrow(
      `BlocksWorld test data not found at ${join(tmp, "none", "blocksworld")} (expected ../shared/data beside the project root)`,
    );
  });
});

describe("step splits", () => {
  it("step_4: 57 instances of length 4 (53 with 4 blocks, 4 with 5); every file read is listed", () => {
    const d = loadStepSplit(DATA, "step_4");
    expect(d.instances).toHaveLength(57);
    expect(d.instances.every((i) => i.optimalLength === 4 && i.goldPlan?.length === 4)).toBe(true);
    expect(d.instances.filter((i) => i.task.problem.objects.length === 5)).toHaveLength(4);
    expect(d.instances[0]?.id).toBe("instance-1");
    expect(d.instances[0]?.file).toBe(join(BW, "generated_basic", "instance-1.pddl"));
    expect(d.files).toHaveLength(3 + 57);
    expect(d.files.slice(0, 3)).toEqual(
      ["generated_domain.pddl", "bw_config.yaml", "step_4.json"].map((f) => join(BW, f)),
    );
    expect(d.instance("instance-1").goldPlan?.map((a) => a.text)).toEqual([
      "(unstack b c)",
      "(put-down b)",
      "(pick-up c)",
      "(stack c b)",
    ]);
  });

  it("step_6: 114 instances of length 6 (103 with 4 blocks, 11 with 5)", () => {
    const d = loadBlocksWorld(DATA, "step_6");
    expect(d.instances).toHaveLength(114);
    expect(d.instances.every((i) => i.optimalLength === 6)).toBe(true);
    expect(d.instances.filter((i) => i.task.problem.objects.length === 5)).toHaveLength(11);
    expect(d.files).toHaveLength(3 + 114);
  });

  it("unknown instances, splits and missing or malformed files are one-line user errors", () => {
    const d = loadStepSplit(DATA, "step_4");
    expect(userError(() => d.instance("instance-0")).message).toBe(
      'blocksworld split step_4 has no instance "instance-0" (it has instance-1, instance-2, instance-12, instance-16, instance-25, …)',
    );
    expect(userError(() => loadBlocksWorld(DATA, "step_5")).category).toBe("bad_option");
    const missing = userError(() => loadStepSplit(join(tmp, "nowhere"), "step_4"));
    expect(missing.message).toBe(
      `missing PDDL domain: ${join(tmp, "nowhere", "blocksworld", "generated_domain.pddl")}`,
    );
    expect(missing.category).toBe("missing_data");

    const cases: [string, string, RegExp][] = [
      ["json", "[[", /step_4\.json: not valid JSON: /],
      [
        "shape",
        '[["a.pddl", "(pick-up red)"]]',
        /step_4\.json: record 0: .*expected \[instance_path, gold_plan, optimal_length\]/,
      ],
      ["length", '[["a.pddl", "", 0]]', /step_4\.json: record 0, optimal_length: Too small/],
      [
        "missing-problem",
        '[["gpt-plan-benchmark/gpt_plan_test/instances/generated_basic/instance-9.pddl", "", 4]]',
        /^missing PDDL problem: .*instance-9\.pddl$/,
      ],
      [
        "escape",
        '[["../../etc/x.pddl", "", 4]]',
        /record 0: instance path \.\.\/\.\.\/etc\/x\.pddl leaves the data folder/,
      ],
      [
        "bad-gold",
        '[["generated_basic/instance-1.pddl", "(unstack blue purple)\\n", 4]]',
        /record 0 \(instance-1\): gold plan line "\(unstack blue purple\)": "purple" in .* names no block/,
      ],
      [
        "bad-length",
        '[["generated_basic/instance-1.pddl", "(unstack blue orange)\\n", 4]]',
        /the gold plan has 1 steps, the record says 4/,
      ],
    ];
    for (const [name, text, pattern] of cases) {
      const e = userError(() => loadStepSplit(scratchRoot(name, text), "step_4"));
      expect(e.message, name).toMatch(pattern);
      expect(e.message, name).not.toContain("\n");
    }
  });

  it("a broken PDDL or YAML file names the file and line", () => {
    const root = scratchRoot("broken-pddl", '[["generated_basic/instance-1.pddl", "", 4]]');
    writeFileSync(
      join(root, "blocksworld", "generated_basic", "instance-1.pddl"),
      "(define (problem p)\n(:domain blocksworld-4ops)\n(:init (on a)\n",
    );
    expect(userError(() => loadStepSplit(root, "step_4")).message).toMatch(
      /instance-1\.pddl:3:1: "\(" is never closed/,
    );
    writeFileSync(join(root, "blocksworld", "bw_config.yaml"), "actions: [unclosed\n");
    const yaml = userError(() => loadStepSplit(root, "step_4"));
    expect(yaml.message).toMatch(/bw_config\.yaml: not valid YAML: /);
    expect(yaml.message).not.toContain("\n");
    writeFileSync(
      join(root, "blocksworld", "bw_config.yaml"),
      "domain_intro: x\nactions: {}\npredicates: {}\n",
    );
    expect(userError(() => loadStepSplit(root, "step_4")).message).toMatch(
      /bw_config\.yaml: encoded_objects: /,
    );
  });
});

describe("folders of PDDL problems", () => {
  it("loads a folder: ids from file names in natural order, optimal lengths from the planner", () => {
    const dir = join(tmp, "folder");
    mkdirSync(dir);
    copyFileSync(join(BW, "generated_domain.pddl"), join(dir, "domain.pddl"));
    copyFileSync(join(BW, "bw_config.yaml"), join(dir, "bw_config.yaml"));
    for (const n of [12, 1, 2])
      copyFileSync(join(BW, "generated_basic", `instance-${n}.pddl`), join(dir, `p${n}.pddl`));
    const d = loadPddlFolder(dir);
    expect(d.instances.map((i) => [i.id, i.optimalLength])).toEqual([
      ["p1", 4],
      ["p2", 4],
      ["p12", 4],
    ]);
    expect(d.instances[0]?.goldPlan).toBeUndefined();
    expect(d.files).toHaveLength(5);

    writeFileSync(
      join(dir, "p99.pddl"),
      "(define (problem x) (:domain blocksworld-4ops) (:objects a b) (:init (handempty) (ontable a) (ontable b) (clear a) (clear b)) (:goal (on a a)))",
    );
    expect(userError(() => loadPddlFolder(dir)).message).toBe(
      `${join(dir, "p99.pddl")}: the goal cannot be reached from the initial state`,
    );
    writeFileSync(
      join(dir, "p99.pddl"),
      "(define (problem x) (:domain blocksworld-4ops) (:objects a z) (:init (handempty)) (:goal (on a z)))",
    );
    expect(userError(() => loadPddlFolder(dir)).message).toBe(
      `${join(dir, "p99.pddl")}: object z has no name in the config's encoded_objects`,
    );
    rmSync(join(dir, "domain.pddl"));
    expect(userError(() => loadPddlFolder(dir)).message).toBe(`${dir} holds no PDDL domain file; name one`);
    expect(userError(() => loadPddlFolder(join(tmp, "absent"))).message).toBe(
      `missing folder of PDDL problems: ${join(tmp, "absent")}`,
    );
  });

  it("generated_basic as a folder: 502 problems whose planner lengths agree with the step files", () => {
    const all = loadBlocksWorld(DATA, "generated_basic");
    expect(all.instances).toHaveLength(502);
    expect(all.files).toHaveLength(2 + 502);
    for (const split of ["step_4", "step_6"] as const) {
      for (const inst of loadStepSplit(DATA, split).instances) {
        expect(all.instance(inst.id).optimalLength, inst.id).toBe(inst.optimalLength);
      }
    }
    // The raw text is never rewritten: instance files are read as they are.
    expect(readFileSync(all.instance("instance-0").file, "utf8")).toContain("(:objects a b c d )");
  });
});
