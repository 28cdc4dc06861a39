/**
 * reason/: planners over the role interfaces (elite, model, critic). Each planner is a search algorithm that
 * runs on any `Roles<S, A>` and returns a `PlanResult` (first action, best plan, value, search tree, cost):
 *
 * - `beamSearch`: ToT-style BFS, greedy top-b per depth (RAFA's Game-of-24 planner, spec §3.1).
 * - `treeSearch`: exhaustive depth-U, breadth-B search (RAFA's deterministic planner, spec §1.3, §3.3).
 * - `Mcts` / `mctsSearch`: UCT with priors and a persistent tree that learns observed transitions (spec §3.2).
 *
 * Every search asks each question once (`RoleMemo`): states are identified by `stateKey` (default
 * `structuralKey`), critic questions by `criticKey`.
 */
export { type BeamOptions, beamSearch } from "./beam.ts";
export { structuralKey } from "./keys.ts";
export {
  type BestPath,
  type Edge,
  Mcts,
  type MctsNode,
  type MctsOptions,
  mctsSearch,
  rankedPriors,
  rapReward,
} from "./mcts.ts";
export { type MemoKeys, memoKeys, RoleMemo, statsDelta } from "./memo.ts";
export { argmax, TreeRecorder, topK } from "./tree.ts";
export { type TreeSearchOptions, treeSearch } from "./tree-search.ts";
export {
  hasPriors,
  hasSamples,
  type PlanResult,
  type PriorElite,
  type Proposal,
  type SampledCritic,
  SearchAborted,
  type SearchOptions,
  type SearchStats,
} from "./types.ts";
