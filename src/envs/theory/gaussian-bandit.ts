/**
 * DPT's bandit (Lee et al., NeurIPS 2023; spec words-to-actions.md §9, checked against `jon--lee/
 * decision-pretrained-transformer` envs/bandit_env.py): K arms with means μ_a ~ U[0, 1] independently, a pull of arm
 * a pays μ_a + N(0, σ²) (σ = 0.3, unclipped). The latent is μ; the expert π*_μ pulls argmax μ, so exact BAIL at a
 * history D is Σ_μ π*_μ(a)·P(μ | D) = P(a* = a | D), the posterior probability that a is the best arm — what a
 * model trained with cross-entropy on (D, a*) converges to, and what posterior (Thompson) sampling samples.
 *
 * The Planner sees the history summarised per arm (pulls and mean reward, two decimals), as Krishnamurthy et al.
 * (2024) found LLMs need: for Gaussian rewards with known σ, (n_a, ȳ_a) are sufficient statistics, so the summary
 * loses only the rounding. The exact posterior here is computed from the numbers as shown (rounded), so it is a
 * function of the prompt alone.
 */
import type { Rng } from "../../core/rng.ts";
import type { ChatMessage } from "../../llm/types.ts";

export interface GaussianBanditOptions {
  /** K (default 5, as DPT). */
  readonly arms?: number;
  /** Reward noise sd (default 0.3, as DPT). */
  readonly sigma?: number;
}

export interface GaussianBanditSpec {
  readonly name: string;
  readonly arms: number;
  readonly sigma: number;
  /** The Planner's answers: "arm 1" … "arm K". */
  readonly subgoals: readonly string[];
  readonly task: string;
}

export function gaussianBanditSpec(options: GaussianBanditOptions = {}): GaussianBanditSpec {
  const arms = options.arms ?? 5;
  const sigma = options.sigma ?? 0.3;
  if (!(Number.isInteger(arms) && arms >= 2 && arms <= 9))
    throw new RangeError(`gaussian bandit: arms must be an integer in 2..9, got ${arms}`);
  if (!(sigma > 0)) throw new RangeError(`gaussian bandit: sigma must be positive, got ${sigma}`);
  return {
    name: `gaussian-bandit(K=${arms}, sigma=${sigma})`,
    arms,
    sigma,
    subgoals: Array.from({ length: arms }, (_, a) => `arm ${a + 1}`),
    task: `pull the best of ${arms} arms (hidden means in [0, 1], reward noise sd ${sigma}).`,
  };
}

/** One bandit instance: its means, best arm and pull. */
export class GaussianBandit {
  readonly means: Float64Array;
  readonly best: number;
  readonly bestMean: number;
  readonly sigma: number;

  constructor(means: ArrayLike<number>, sigma: number) {
    this.sigma = sigma;
    this.means = Float64Array.from(means);
    let best = 0;
    // First index wins ties, as numpy's argmax.
    for (let a = 1; a < this.means.length; a++)
      if ((this.means[a] as number) > (this.means[best] as number)) best = a;
    this.best = best;
    this.bestMean = this.means[best] as number;
  }

  static sample(spec: GaussianBanditSpec, rng: Rng): GaussianBandit {
    return new GaussianBandit(
      Float64Array.from({ length: spec.arms }, () => rng.float()),
      spec.sigma,
    );
  }

  pull(arm: number, rng: Rng): number {
    return (this.means[arm] as number) + rng.normal(0, this.sigma);
  }

  /** The pseudo-regret μ* − μ_a of one pull. */
  gap(arm: number): number {
    return this.bestMean - (this.means[arm] as number);
  }
}

/** A history summarised per arm: pulls and reward sums. */
export class ArmStats {
  readonly counts: Int32Array;
  readonly sums: Float64Array;
  readonly arms: number;

  constructor(arms: number) {
    this.arms = arms;
    this.counts = new Int32Array(arms);
    this.sums = new Float64Array(arms);
  }

  add(arm: number, reward: number): void {
    this.counts[arm] = (this.counts[arm] as number) + 1;
    this.sums[arm] = (this.sums[arm] as number) + reward;
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts) n += c;
    return n;
  }

  /** ȳ_a, 0 for an arm never pulled (as DPT's empirical-mean rule). */
  mean(arm: number): number {
    const n = this.counts[arm] as number;
    return n > 0 ? (this.sums[arm] as number) / n : 0;
  }

  /** ȳ_a as the Planner reads it: rounded to two decimals. */
  shownMean(arm: number): number {
    return Number(this.mean(arm).toFixed(2));
  }
}

/** The Planner's prompt (one user message, compact): the task, the arms, the per-arm summary, the question. */
export function banditMessages(spec: GaussianBanditSpec, stats: ArmStats): ChatMessage[] {
  const lines = [`Task: ${spec.task}`, `Subgoals: ${spec.subgoals.join("; ")}`];
  lines.push(`Memory: ${stats.total} past pulls, summarised per arm.`);
  for (let a = 0; a < spec.arms; a++) {
    const n = stats.counts[a] as number;
    lines.push(
      n === 0
        ? `${spec.subgoals[a]}: never pulled`
        : `${spec.subgoals[a]}: ${n} pulls, mean ${stats.shownMean(a).toFixed(2)}`,
    );
  }
  lines.push(`Now: pull ${stats.total + 1} | ?`);
  lines.push('Answer {"subgoal": "<one of the subgoals>"}');
  return [{ role: "user", content: lines.join("\n") }];
}

/** Grid points for the posterior integrals (midpoints on [0, 1]): error O(1/GRID), far below the TVs measured. */
const GRID = 2000;

/**
 * Exact BAIL for the bandit: P(a* = a | summary) under μ_a ~ U[0, 1], rewards N(μ_a, σ²), from the shown (rounded)
 * means. Each μ_a's posterior is N(ȳ_a, σ²/n_a) truncated to [0, 1] (uniform when never pulled), independent across
 * arms, and P(a* = a) = ∫ f_a(x)·Π_{b≠a} F_b(x) dx, integrated on a midpoint grid.
 */
export function bestArmPosterior(spec: GaussianBanditSpec, stats: ArmStats): Float64Array {
  const K = spec.arms;
  const pdf = Array.from({ length: K }, () => new Float64Array(GRID));
  for (let a = 0; a < K; a++) {
    const f = pdf[a] as Float64Array;
    const n = stats.counts[a] as number;
    const m = stats.shownMean(a);
    const precision = n / (spec.sigma * spec.sigma);
    let total = 0;
    // Work in log space relative to the largest value on the grid: a sharp posterior far outside [0, 1] must not
    // underflow to 0 everywhere.
    let maxLog = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < GRID; i++) {
      const x = (i + 0.5) / GRID;
      const l = -0.5 * precision * (x - m) ** 2;
      f[i] = l;
      if (l > maxLog) maxLog = l;
    }
    for (let i = 0; i < GRID; i++) {
      const w = Math.exp((f[i] as number) - maxLog);
      f[i] = w;
      total += w;
    }
    for (let i = 0; i < GRID; i++) f[i] = (f[i] as number) / total;
  }
  // F_b at the grid point, counting half of its own cell: ties inside a cell split evenly.
  const cdf = pdf.map((f) => {
    const F = new Float64Array(GRID);
    let acc = 0;
    for (let i = 0; i < GRID; i++) {
      F[i] = acc + (f[i] as number) / 2;
      acc += f[i] as number;
    }
    return F;
  });
  const out = new Float64Array(K);
  let total = 0;
  for (let a = 0; a < K; a++) {
    const f = pdf[a] as Float64Array;
    let s = 0;
    for (let i = 0; i < GRID; i++) {
      const fi = f[i] as number;
      if (fi === 0) continue;
      let prod = fi;
      for (let b = 0; b < K; b++) if (b !== a) prod *= (cdf[b] as Float64Array)[i] as number;
      s += prod;
    }
    out[a] = s;
    total += s;
  }
  for (let a = 0; a < K; a++) out[a] = (out[a] as number) / total;
  return out;
}

/**
 * DPT's context policy (collect_data.py `rollin_bandit`): per context, ω ~ U{0, 0.1, …, 1} and pulls drawn from
 * (1 − ω)·Dir(1) + ω·δ_j with j a uniformly random arm — from spread-out to all on one arm.
 */
export function contextPolicy(arms: number, rng: Rng): Float64Array {
  const omega = rng.int(11) / 10;
  const dir = rng.dirichlet(Array.from({ length: arms }, () => 1));
  const j = rng.int(arms);
  return Float64Array.from(dir, (w, a) => (1 - omega) * w + (a === j ? omega : 0));
}
