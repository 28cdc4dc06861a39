/**
 * The theory-lab view of a bandit pretraining run (`bayesact pretrain bandit`, `learn/bandit.ts`): the DPT anchor of
 * spec §9. Online, the learned planner's regret curve beside exact posterior sampling, DPT's Thompson sampling,
 * UCB and the empirical mean on the same test bandits; offline, the regret of the arm each rule names against the
 * context length; and the checks, each paired over the same bandits. Rendered with the theory report.
 */
import { OFFLINE_RULES, type OfflineRule, ONLINE_RULES, type OnlineRuleName } from "../../learn/bandit.ts";
import type { BanditConfig, PretrainSummary } from "../../learn/pretrain.ts";
import { tailSlope } from "../../theory/regret.ts";
import { heldoutTvSweep, lossSweeps } from "./learned-planner.ts";
import type { ArmResult, Check, ExperimentResult, Sweep } from "./types.ts";

export interface BanditRun {
  readonly dir: string;
  readonly config: BanditConfig;
  readonly summary: PretrainSummary;
}

const fmt = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

const ONLINE_NAMES: Record<OnlineRuleName, string> = {
  learned: "learned (samples its distribution)",
  posterior: "exact posterior sampling",
  thompson: "Thompson sampling (DPT's Gaussian prior)",
  ucb: "UCB",
  emp: "empirical mean",
};
const OFFLINE_NAMES: Record<OfflineRule, string> = {
  learned: "learned (most likely arm)",
  bail: "exact BAIL (most likely arm)",
  thompson: "Thompson (mode of 100 draws)",
  emp: "empirical mean",
  lcb: "LCB",
};

/** Paired s.e. multiples a "no worse than" check allows. */
const SE = 3;

export function banditAnchorResult(runs: readonly BanditRun[]): ExperimentResult {
  if (runs.length === 0) throw new RangeError("banditAnchorResult: no runs");
  const sorted = [...runs].sort((a, b) => a.config.samples - b.config.samples);
  const largest = sorted.at(-1) as BanditRun;
  const sweeps: Sweep[] = [heldoutTvSweep(sorted), ...lossSweeps(sorted)];
  const arms: ArmResult[] = [];
  const checks: Check[] = [];
  const anchor = largest.summary.anchor;
  if (anchor) {
    const t = Array.from({ length: anchor.horizon }, (_, i) => i + 1);
    for (const rule of ONLINE_RULES) {
      const c = anchor.online.curves[rule];
      const curve = { t, mean: c.mean, se: c.se };
      const fit = tailSlope(curve);
      arms.push({
        name: ONLINE_NAMES[rule],
        horizon: anchor.horizon,
        final_regret_mean: c.mean.at(-1) ?? Number.NaN,
        final_regret_se: c.se.at(-1) ?? Number.NaN,
        slope: fit.slope,
        slope_ci95: fit.ci95,
        slope_interval: fit.interval,
        curve,
        info: { bandits: anchor.bandits, N_p: largest.config.samples },
      });
    }
    for (const rule of OFFLINE_RULES) {
      sweeps.push({
        name: `offline regret μ* − μ_â vs context pulls — ${OFFLINE_NAMES[rule]}`,
        x_label: "pulls in the context",
        y_label: "regret",
        points: anchor.offline.lengths.map((x, j) => ({
          x,
          mean: anchor.offline.regret[rule][j]?.mean ?? Number.NaN,
          se: anchor.offline.regret[rule][j]?.se ?? Number.NaN,
        })),
      });
    }
    const online = anchor.online.learnedMinus;
    const final = (r: OnlineRuleName) => anchor.online.curves[r].mean.at(-1) ?? Number.NaN;
    const diff = (d: { mean: number; se: number }) => `${fmt(d.mean, 2)} ± ${fmt(d.se, 2)}`;
    checks.push({
      claim: `online, the learned planner's regret is no worse than Thompson sampling's and UCB's (paired, within ${SE} s.e.)`,
      pass: online.thompson.mean <= SE * online.thompson.se && online.ucb.mean <= SE * online.ucb.se,
      measured: `after ${anchor.horizon} pulls: learned ${fmt(final("learned"), 2)}, Thompson ${fmt(final("thompson"), 2)}, UCB ${fmt(final("ucb"), 2)}; learned − Thompson ${diff(online.thompson)}, learned − UCB ${diff(online.ucb)}`,
    });
    checks.push({
      claim: `online, the learned planner's regret is clearly below the empirical mean's (by more than ${SE} paired s.e.)`,
      pass: online.emp.mean + SE * online.emp.se < 0,
      measured: `learned ${fmt(final("learned"), 2)}, empirical mean ${fmt(final("emp"), 2)}; learned − empirical mean ${diff(online.emp)}`,
    });
    checks.push({
      claim: `online, the learned planner does what its training targets: exact posterior sampling's regret within ${SE} paired s.e.`,
      pass: Math.abs(online.posterior.mean) <= SE * online.posterior.se,
      measured: `learned − exact posterior sampling ${diff(online.posterior)}; TV to exact BAIL on its own plays ${fmt(anchor.online.tv, 4)}`,
    });
    const j = anchor.offline.lengths.length - 1;
    const off = anchor.offline.learnedMinus;
    const at = (r: OfflineRule) => anchor.offline.regret[r][j]?.mean ?? Number.NaN;
    const offDiff = (r: OfflineRule) => off[r][j] ?? { mean: Number.NaN, se: Number.NaN };
    checks.push({
      claim: `offline, from ${anchor.offline.lengths[j]} pulls of context, the learned planner's arm is no worse than the empirical mean's (paired, within ${SE} s.e.)`,
      pass: offDiff("emp").mean <= SE * offDiff("emp").se,
      measured: `regret learned ${fmt(at("learned"))}, empirical mean ${fmt(at("emp"))}, exact BAIL ${fmt(at("bail"))}, Thompson ${fmt(at("thompson"))}, LCB ${fmt(at("lcb"))}; learned − empirical mean ${diff(offDiff("emp"))}`,
    });
  }
  return {
    experiment: "dpt-anchor",
    theorem:
      "Lee et al. 2023 (DPT), as spec §9 anchors Words-to-Actions: a transformer pretrained to predict the best arm " +
      "from a context converges to P(a* | context) — BAIL over bandits, with the reward in context — and sampling " +
      "from it is posterior sampling: online ≈ Thompson sampling ≈ UCB, below the empirical mean.",
    params: {
      runs: sorted.map((r) => r.dir),
      arms: largest.config.arms,
      sigma: largest.config.sigma,
      horizon: largest.config.horizon,
      model: largest.config.model,
      steps: largest.config.optimizer.steps,
      heldout_tv: largest.summary.heldoutTv.mean,
      online_tv: anchor?.online.tv ?? Number.NaN,
      offline_tv: anchor?.offline.tv ?? Number.NaN,
    },
    seeds: anchor?.bandits ?? 0,
    arms,
    sweeps: sweeps.filter((s) => s.points.length > 0),
    checks,
    wall_s: sorted.reduce((a, r) => a + r.summary.trainSeconds, 0),
    env_steps: anchor ? anchor.bandits * anchor.horizon * ONLINE_RULES.length : 0,
  };
}
