/**
 * The learned planner at deployment: it plays a PAR environment (the probe trap, the gridworld) episode after
 * episode, one decision per step; its memory is what its own choices produced, and at every decision its
 * next-subgoal distribution (read through the served model's `score`, as the theory lab's `llm` arm reads it) is
 * compared with exact BAIL of that same memory. Pretraining contexts come from a behaviour policy that probes at
 * every rate; the Planner loop produces its own contexts (naive BAIL never probes, ε-greedy probes at rate ε_t), so
 * the held-out TV on pretraining contexts and the TV met at deployment can differ: the coverage effect of spec §5 /
 * S1b.
 *
 * Two loops: `naive` samples every subgoal from the model; `eps` explores a whole episode with probability
 * ε_t = min(1, t^{-1/2}), consulting a probe at every step [our choice: "always probe" exploration, the spec's
 * r_exp = 1 case], and otherwise samples from the model.
 */
import { Rng } from "../core/rng.ts";
import { EpisodeTrace, type ParEnv, ParWorld } from "../envs/theory/par.ts";
import type { LanguageModel } from "../llm/types.ts";
import { checkpoints } from "../theory/regret.ts";
import { argmax, meanSe } from "../theory/stats.ts";
import { exactBail, type HistoryEpisode, type PromptFormat, plannerPrompt } from "./data.ts";
import { servedSubgoalDistribution, totalVariation } from "./evaluate.ts";

export type DeploymentLoop = "naive" | "eps";

export interface DeploymentOptions {
  readonly loop: DeploymentLoop;
  /** Independent plays (a fresh z ~ P_Z each). */
  readonly runs: number;
  /** Episodes per play. */
  readonly episodes: number;
  readonly seed: number | string;
  readonly format: PromptFormat;
  readonly signal?: AbortSignal;
  /** After each decision (progress). */
  readonly onDecision?: () => void;
}

export interface DeploymentReport {
  readonly loop: DeploymentLoop;
  readonly runs: number;
  readonly episodes: number;
  /** Decisions where the Planner asked the model (exploration steps do not). */
  readonly decisions: number;
  /** Mean TV between the model's distribution and exact BAIL over those decisions. */
  readonly tv: number;
  /**
   * Among decisions where exact BAIL has one clear favourite (probability ≥ 0.9), the share where the model's most
   * likely subgoal is it (a tie among m favourites counts 1/m); `chance` is what a planner ignoring the memory
   * scores at best: one over the number of subgoals some expert takes (1/K in the probe trap).
   */
  readonly agreement: { readonly share: number; readonly decisions: number; readonly chance: number };
  /** Per-episode regret of the loop, averaged over runs: J(π*_z) − reward, episode by episode. */
  readonly regret: readonly number[];
  /** Cumulative regret at log-spaced checkpoints: mean and standard error across runs. */
  readonly curve: { t: number[]; mean: number[]; se: number[] };
  /**
   * The last 20% of episodes (spec S1b's tail): measured regret per episode, and the floor the measured TV predicts,
   * ε̄·r_exp + (1 − ε̄)·(regret of exact BAIL at those decisions + TV) — for rewards in [0, 1] a decision sampled
   * from the model loses at most TV more than one sampled from exact BAIL.
   */
  readonly tail: {
    readonly from: number;
    readonly regret: number;
    /** Standard error of `regret` across runs. */
    readonly regretSe: number;
    readonly epsilon: number;
    readonly tv: number;
    readonly bailRegret: number;
    readonly predicted: number;
  };
  readonly calls: number;
  readonly seconds: number;
}

/** ε_t of the `eps` loop (episode t is 1-based). */
export function deploymentEpsilon(t: number): number {
  return Math.min(1, 1 / Math.sqrt(t));
}

export async function evaluateDeployment(
  model: LanguageModel,
  env: ParEnv,
  options: DeploymentOptions,
): Promise<DeploymentReport> {
  const G = env.subgoals.length;
  const chance = 1 / expertSubgoals(env);
  const regret = new Float64Array(options.episodes);
  // Cumulative regret of each run at the checkpoints, for the mean and standard error across runs.
  const marks = checkpoints(options.episodes);
  const cumulative = marks.map(() => [] as number[]);
  const tailRegrets: number[] = [];
  let decisions = 0;
  let tvSum = 0;
  let clear = 0;
  let agree = 0;
  let calls = 0;
  const tailFrom = Math.floor(0.8 * options.episodes) + 1;
  // The tail's regret, decomposed step by step (performance difference: an episode's regret is the sum over its
  // steps of V*_z(τ_h) − Q*_z(τ_h, g_h)): exploration steps count their advantage, model decisions exact BAIL's
  // expected advantage plus the TV (advantages lie in [0, 1]).
  const tail = { decisions: 0, tv: 0, bailRegret: 0, explore: 0, exploreRegret: 0 };
  const expert = new Float64Array(G);
  const advantage = (z: number, trace: EpisodeTrace, g: number) => {
    env.expert(z, trace, expert);
    let v = 0;
    for (let k = 0; k < G; k++)
      if ((expert[k] as number) > 0) v += (expert[k] as number) * env.qValue(z, trace, k);
    return v - env.qValue(z, trace, g);
  };
  const started = performance.now();
  for (let r = 0; r < options.runs; r++) {
    const rng = new Rng(options.seed).stream(`deploy ${options.loop} #${r}`);
    const z = rng.categorical(env.prior);
    const world = new ParWorld(env, z, rng.stream("world"));
    const history: HistoryEpisode[] = [];
    let total = 0;
    let tailTotal = 0;
    let mark = 0;
    for (let t = 1; t <= options.episodes; t++) {
      const current = new EpisodeTrace(env.H);
      current.start(world.reset());
      const inTail = t >= tailFrom;
      // ε-greedy explores whole episodes: every subgoal a probe.
      const explore = options.loop === "eps" && env.probes.length > 0 && rng.float() < deploymentEpsilon(t);
      if (explore && inTail) tail.explore += 1;
      let reward = 0;
      for (let h = 0; h < env.H; h++) {
        let g: number;
        if (explore) {
          g = env.probes[rng.int(env.probes.length)] as number;
          if (inTail) tail.exploreRegret += advantage(z, current, g);
        } else {
          const bail = exactBail(env, history, current);
          const prompt = plannerPrompt(env, history, current, options.format);
          const learned = await servedSubgoalDistribution(model, prompt, env.subgoals, options.signal);
          calls += G;
          decisions += 1;
          const tv = totalVariation(learned.probs, bail);
          tvSum += tv;
          if (inTail) {
            tail.decisions += 1;
            tail.tv += tv;
            for (let k = 0; k < G; k++) {
              const w = bail[k] as number;
              if (w > 0) tail.bailRegret += w * advantage(z, current, k);
            }
          }
          const best = argmax(bail);
          if ((bail[best] as number) >= 0.9) {
            clear += 1;
            agree += favourShare(learned.probs, best);
          }
          g = rng.categorical(learned.probs);
        }
        const out = world.step(g, h);
        reward += out.reward;
        current.push(g, out.observation, Number.NaN);
      }
      const loss = env.optimalValue(z) - reward;
      regret[t - 1] = (regret[t - 1] as number) + loss;
      total += loss;
      if (inTail) tailTotal += loss;
      if (marks[mark] === t) {
        cumulative[mark]?.push(total);
        mark += 1;
      }
      history.push({
        observations: Array.from(current.obs),
        subgoals: Array.from(current.goals),
      });
      options.onDecision?.();
    }
    tailRegrets.push(tailTotal / (options.episodes - tailFrom + 1));
  }
  const curve: DeploymentReport["curve"] = { t: [...marks], mean: [], se: [] };
  for (const values of cumulative) {
    const { mean, se } = meanSe(values);
    curve.mean.push(mean);
    curve.se.push(se);
  }
  const tailEpisodes = options.runs * (options.episodes - tailFrom + 1);
  const epsilon = tailEpisodes > 0 ? tail.explore / tailEpisodes : 0;
  const tailTv = tail.decisions > 0 ? tail.tv / tail.decisions : 0;
  const tailBail = tail.decisions > 0 ? tail.bailRegret / tail.decisions : 0;
  const tailRegret =
    Array.from(regret.subarray(tailFrom - 1)).reduce((a, b) => a + b, 0) / Math.max(1, tailEpisodes);
  return {
    loop: options.loop,
    runs: options.runs,
    episodes: options.episodes,
    decisions,
    tv: decisions > 0 ? tvSum / decisions : Number.NaN,
    agreement: { share: clear > 0 ? agree / clear : Number.NaN, decisions: clear, chance },
    regret: Array.from(regret, (x) => x / options.runs),
    curve,
    tail: {
      from: tailFrom,
      regret: tailRegret,
      regretSe: meanSe(tailRegrets).se,
      epsilon,
      tv: tailTv,
      bailRegret: tailBail,
      predicted:
        tailEpisodes > 0 ? (tail.exploreRegret + tail.bailRegret + tail.tv) / tailEpisodes : Number.NaN,
    },
    calls,
    seconds: (performance.now() - started) / 1000,
  };
}

/** 1 when `g` is the model's unique favourite, 1/m when it ties with m − 1 others, else 0 (a tie is no agreement). */
function favourShare(p: ArrayLike<number>, g: number): number {
  const top = p[argmax(p)] as number;
  if ((p[g] as number) < top - 1e-9) return 0;
  let tied = 0;
  for (let i = 0; i < p.length; i++) if ((p[i] as number) >= top - 1e-9) tied += 1;
  return 1 / tied;
}

/** How many subgoals some expert π*_z takes at the start of an episode. */
function expertSubgoals(env: ParEnv): number {
  const taken = new Set<number>();
  const trace = new EpisodeTrace(env.H);
  const expert = new Float64Array(env.subgoals.length);
  const rng = new Rng("expert subgoals");
  for (let z = 0; z < env.latentCount; z++) {
    trace.start(new ParWorld(env, z, rng).reset());
    env.expert(z, trace, expert);
    expert.forEach((w, g) => {
      if (w > 0) taken.add(g);
    });
  }
  return Math.max(1, taken.size);
}
