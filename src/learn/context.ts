/**
 * The context limit (issue 12; Krishnamurthy et al. 2024 summarised the history for the same reason): a planner
 * model sees only as many tokens as its window. With the memory written episode by episode the prompt grows with
 * every episode, and once it no longer fits only the last W episodes can be shown — BAIL of that window is not BAIL of
 * the whole memory. The summarised memory (`summary`, counts of transitions) stays the same length whatever the
 * number of episodes, and in the probe trap its counts are a sufficient statistic of the Variant-A posterior, so its
 * BAIL equals the whole memory's (by construction, not a finding).
 *
 * `contextLimit` measures both on the ε-greedy Planner loop with exact BAIL choosing the subgoals: prompt tokens per
 * memory mode at episode t, the largest window of whole episodes that fits, and the TV between BAIL of that window
 * and BAIL of the whole memory.
 */
import { Rng } from "../core/rng.ts";
import { EpisodeTrace, type ParEnv, ParWorld } from "../envs/theory/par.ts";
import { toExample } from "./batches.ts";
import { exactBail, type HistoryEpisode, plannerPrompt } from "./data.ts";
import { deploymentEpsilon } from "./deploy.ts";
import { totalVariation } from "./evaluate.ts";

export interface ContextPoint {
  /** Past episodes in memory. */
  readonly episodes: number;
  readonly summaryTokens: number;
  readonly episodesTokens: number;
  /** Most recent episodes whose episode-by-episode prompt fits the window (all of them when everything fits). */
  readonly window: number;
  /** Mean over runs of TV(BAIL of the window, BAIL of the whole memory). */
  readonly windowTv: number;
}

export function contextLimit(
  env: ParEnv,
  options: { contextTokens: number; checkpoints: readonly number[]; runs: number; seed: number | string },
): ContextPoint[] {
  const last = Math.max(...options.checkpoints);
  const sums = new Map<number, { summary: number; episodes: number; window: number; tv: number }>();
  for (let r = 0; r < options.runs; r++) {
    const rng = new Rng(options.seed).stream(`context #${r}`);
    const z = rng.categorical(env.prior);
    const world = new ParWorld(env, z, rng.stream("world"));
    const history: HistoryEpisode[] = [];
    for (let t = 1; t <= last + 1; t++) {
      const o1 = world.reset();
      const current = new EpisodeTrace(env.H);
      current.start(o1);
      const bail = exactBail(env, history, current);
      if (options.checkpoints.includes(history.length)) {
        const tokens = (memory: "summary" | "episodes", shown: readonly HistoryEpisode[]) =>
          toExample(plannerPrompt(env, shown, current, { memory, style: "compact" }), "").ids.length;
        // The window: the most recent episodes that fit (binary search on the count shown).
        let lo = 0;
        let hi = history.length;
        while (lo < hi) {
          const mid = Math.ceil((lo + hi) / 2);
          if (tokens("episodes", history.slice(history.length - mid)) <= options.contextTokens) lo = mid;
          else hi = mid - 1;
        }
        const windowBail = exactBail(env, history.slice(history.length - lo), current);
        const entry = sums.get(history.length) ?? { summary: 0, episodes: 0, window: 0, tv: 0 };
        entry.summary += tokens("summary", history);
        entry.episodes += tokens("episodes", history);
        entry.window += lo;
        entry.tv += totalVariation(windowBail, bail);
        sums.set(history.length, entry);
      }
      const g =
        env.probes.length > 0 && rng.float() < deploymentEpsilon(t)
          ? (env.probes[rng.int(env.probes.length)] as number)
          : rng.categorical(bail);
      const out = world.step(g, 0);
      history.push({ observations: [o1, out.observation], subgoals: [g] });
    }
  }
  return options.checkpoints.map((n) => {
    const s = sums.get(n) ?? { summary: 0, episodes: 0, window: 0, tv: 0 };
    return {
      episodes: n,
      summaryTokens: s.summary / options.runs,
      episodesTokens: s.episodes / options.runs,
      window: s.window / options.runs,
      windowTv: s.tv / options.runs,
    };
  });
}
