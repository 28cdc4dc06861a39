/**
 * The contract of a theory-lab experiment and of its `result.json` (issue 4): each experiment runs its planner arms
 * over many seeds on an environment with an exact posterior, and reports regret curves, slope fits and the checks
 * its theorem predicts, measured in that run.
 */
import type { z } from "zod";
import type { PlannerMemory, PlannerStyle } from "../../envs/theory/prompts.ts";
import type { LanguageModel } from "../../llm/types.ts";

/** A series over t (checkpoints), mean and standard error across seeds. */
export interface Series {
  t: number[];
  mean: number[];
  se: number[];
}

export interface ArmResult {
  /** Arm name, e.g. `bail-exact`, `eps-bail (t^-1/2)`. */
  name: string;
  /** Episodes (or steps) per seed. */
  horizon: number;
  final_regret_mean: number;
  final_regret_se: number;
  /** Growth exponent of cumulative regret (see `theory/regret.ts`); for horizon-tuned arms, across horizons. */
  slope: number;
  slope_ci95: [number, number];
  /** How `slope_ci95` was obtained: resampling seeds, or (where only mean curves exist) the fit's residuals. */
  slope_interval?: "seed-bootstrap" | "fit-residuals";
  /** Cumulative regret over t. */
  curve: Series;
  /** Optional extra series and numbers the report plots when present. */
  posterior_true?: Series;
  probe_rate?: Series;
  success_rate?: Series;
  miscoordination_rate?: number;
  /**
   * ε-greedy arms: the regret of the episodes the base Planner played alone (what it learned), apart from the
   * exploring episodes (what exploration cost): Reg(T) = exploit + exploration cost.
   */
  exploit?: {
    curve: Series;
    final_mean: number;
    final_se: number;
    slope: number;
    slope_ci95: [number, number];
    exploration_episodes_mean: number;
    exploration_cost_mean: number;
    exploration_cost_se: number;
  };
  /** RAFA: number of policy switches, and (H0 − HT)/log 2 beside it. */
  switches?: { mean: number; se: number; entropy_drop_bits: number };
  /** Anything else worth recording (parameters of the arm such as ε, c). */
  info?: Record<string, number | string>;
}

/** A sweep over a parameter, e.g. final regret against ε (the U-shape). */
export interface Sweep {
  name: string;
  x_label: string;
  y_label: string;
  points: { x: number; mean: number; se: number }[];
}

/** One acceptance check from the issue, with what was measured. */
export interface Check {
  claim: string;
  pass: boolean;
  measured: string;
}

export interface ExperimentResult {
  experiment: string;
  /** What the experiment illustrates (theorem / section). */
  theorem: string;
  params: Record<string, unknown>;
  seeds: number;
  arms: ArmResult[];
  sweeps: Sweep[];
  checks: Check[];
  /** Wall time in seconds and environment steps simulated (for bench:theory). */
  wall_s: number;
  env_steps: number;
}

export interface ExperimentContext {
  /** Number of seeds (each draws its own latent z*). */
  seeds: number;
  /** Base seed: seed i uses `new Rng(baseSeed).stream(\`${experiment}/${arm}/${i}\`)` or similar. */
  baseSeed: number;
  /** A real LLM for the planner arm(s) that support it (the exact arms still run). */
  model?: LanguageModel;
  /** Past episodes shown to an LLM planner (window); all when absent. */
  contextEpisodes?: number;
  /** How an LLM planner writes its prompt (default: full, every episode); a pretrained model needs its own. */
  plannerFormat?: { readonly memory: PlannerMemory; readonly style: PlannerStyle };
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export interface TheoryExperiment<P extends Record<string, unknown> = Record<string, unknown>> {
  name: string;
  title: string;
  /** The claim it makes observable, with its source (paper and section). */
  theorem: string;
  /** Parameters with defaults; CLI flags map onto these keys (`--K 4` → `{ K: 4 }`). */
  params: z.ZodType<P>;
  run(params: P, ctx: ExperimentContext): Promise<ExperimentResult>;
}
