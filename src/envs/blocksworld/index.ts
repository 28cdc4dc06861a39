/**
 * BlocksWorld (RAFA spec §3.2, the RAP setting): PDDL reading, the STRIPS simulator, the official NL rendering,
 * a plan validator, an optimal planner, the data loaders, the environment, its exact twins and prompts.
 */
export {
  BLOCKSWORLD_SPLITS,
  type BlocksWorldData,
  type BlocksWorldInstance,
  type BlocksWorldSplit,
  blocksworldDir,
  type FolderOptions,
  loadBlocksWorld,
  loadPddlFolder,
  loadStepSplit,
} from "./data.ts";
export {
  type GroundAction,
  type Grounding,
  ground,
  groundAction,
  makeTask,
  type Operator,
  type Task,
  type TypedObject,
} from "./domain.ts";
export {
  type BlocksWorldAction,
  BlocksWorldEnv,
  type BlocksWorldEnvOptions,
  type BlocksWorldObservation,
  type BlocksWorldState,
  DEFAULT_MAX_TRIES,
} from "./env.ts";
export {
  createExactRoles,
  type ExactBlocksWorld,
  type ExactRolesOptions,
  goalReward,
  UNREACHABLE_VALUE,
} from "./exact.ts";
export {
  type ActionParseCategory,
  actionPhrase,
  atomPhrase,
  negatedPhrase,
  type ParseScope,
  parseActionText,
  parseStateText,
  renderAction,
  renderGoal,
  renderPlan,
  renderState,
  type StateParseCategory,
  type Vocabulary,
} from "./nl.ts";
export {
  type Atom,
  type Domain,
  PddlError,
  type Problem,
  parseDomain,
  parseProblem,
  parseSExpr,
} from "./pddl.ts";
export { DistanceOracle, optimalPlan, type PlannerOptions, type PlanResult } from "./planner.ts";
export {
  judgePrompt,
  PROMPT_VERSION,
  parseJudgement,
  predictPrompt,
  proposePrompt,
  statement,
  taskText,
} from "./prompts.ts";
export {
  type ApplyResult,
  applicableOperators,
  applyOperator,
  makeState,
  type State,
  satisfiesGoal,
  stateKey,
  unsatisfiedGoals,
} from "./state.ts";
export { describeUnmet, type PlanVerdict, validatePlan, validatePlanText } from "./validate.ts";
