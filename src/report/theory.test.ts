import { describe, expect, it } from "vitest";
import type { ArmResult, ExperimentResult } from "../bench/theory/types.ts";
import { checkpoints, tailSlope } from "../theory/regret.ts";
import { armLabel, renderTheoryReport } from "./theory.ts";

function arm(name: string, f: (t: number) => number, extra: Partial<ArmResult> = {}): ArmResult {
  const t = checkpoints(10_000);
  const mean = t.map(f);
  const fit = tailSlope({ t, mean });
  return {
    name,
    horizon: 10_000,
    final_regret_mean: mean.at(-1) ?? 0,
    final_regret_se: 1,
    slope: fit.slope,
    slope_ci95: fit.ci95,
    curve: { t, mean, se: t.map(() => 1) },
    ...extra,
  };
}

const HOSTILE = '<script>window.__pwned=1</script>"><img src=x onerror=alert(1)>';

function result(): ExperimentResult {
  const t = checkpoints(10_000);
  return {
    experiment: "probe-trap",
    theorem: `Naive BAIL has linear regret ${HOSTILE}`,
    params: { K: 4, p: 1, note: HOSTILE },
    seeds: 200,
    arms: [
      arm("bail-exact", (x) => 0.75 * x, {
        posterior_true: { t, mean: t.map(() => 0.25), se: t.map(() => 0) },
      }),
      arm(`eps-bail ${HOSTILE}`, (x) => 3 * Math.sqrt(x), {
        probe_rate: { t, mean: t.map((x) => 1 / Math.sqrt(x)), se: t.map(() => 0) },
        switches: { mean: 7, se: 0.5, entropy_drop_bits: 9 },
        exploit: {
          curve: { t, mean: t.map(() => 0.5), se: t.map(() => 0) },
          final_mean: 0.5,
          final_se: 0.1,
          slope: 0,
          slope_ci95: [0, 0],
          exploration_episodes_mean: 382.4,
          exploration_cost_mean: 382.4,
          exploration_cost_se: 2,
        },
        info: { epsilon_c: 1 },
      }),
    ],
    sweeps: [
      {
        name: "final regret against ε",
        x_label: "ε",
        y_label: "Reg(T)",
        points: [0.01, 0.1, 0.5].map((x) => ({ x, mean: 100 * (x + 0.01 / x), se: 1 })),
      },
    ],
    checks: [
      { claim: "BAIL is linear", pass: true, measured: "slope 1.000" },
      { claim: `ε-BAIL is sublinear ${HOSTILE}`, pass: false, measured: "slope 0.7" },
    ],
    wall_s: 1.5,
    env_steps: 4_000_000,
  };
}

describe("theory report", () => {
  it("draws the regret curves with slopes, the extra series, the sweep, switches and checks", async () => {
    const page = await renderTheoryReport(result());
    expect(page.match(/<figure class="chart"/g)?.length).toBe(5); // regret, regret/√t, posterior, probe rate, sweep
    expect((page.match(/<svg/g) ?? []).length).toBe(5);
    expect(page).toContain(armLabel(result().arms[0] as ArmResult).replaceAll("(", "("));
    expect(page).toContain("slope 1.00");
    expect(page).toContain('id="switches-table"');
    // The exploit-only table lists the ε arm, not BAIL (which never explores).
    const exploit = page.slice(
      page.indexOf('id="exploit-table"'),
      page.indexOf("</table>", page.indexOf('id="exploit-table"')),
    );
    expect(exploit).toContain("382.4");
    expect(exploit).not.toContain(">bail-exact<");
    expect(page).toContain("checks passed: 1 / 2");
    expect(page).toContain('<tr class="fail">');
  });

  it("escapes every string that came from the experiment", async () => {
    const page = await renderTheoryReport(result());
    expect(page).not.toContain("<script>window");
    expect(page).not.toContain("<img src=x");
    expect(page).toContain("&lt;script&gt;window.__pwned=1&lt;/script&gt;");
    expect(page).not.toMatch(/<script[\s>]/);
  });
});
