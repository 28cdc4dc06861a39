/**
 * BlocksWorld (RAFA spec §3.2, the RAP setting): PDDL reading, the STRIPS simulator, the official NL rendering,
 * a plan validator, an optimal planner, the data loaders, the environment, its exact twins and prompts, the
 * imperfect twins with their learner, and the LLM roles.
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
  type BlocksWorldKnowledge,
  type BlocksWorldLearner,
  type BlocksWorldLearnerOptions,
  blocksKey,
  corruptionSeed,
  createBlocksWorldLearner,
  createImperfectRoles,
  DEFAULT_RATE,
  edgeKey,
  type ImperfectOptions,
  learnFrom,
  lookaheadPriors,
  type WeighingElite,
  withoutRefused,
} from "./imperfect.ts";
export {
  createLlmRoles,
  type LlmBlocksWorld,
  type LlmPriorMode,
  type LlmRoleCounts,
  type LlmRolesOptions,
  type ModelFailure,
  solvedExamples,
} from "./llm-roles.ts";
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
  choicePrompt,
  judgePrompt,
  PROMPT_VERSION,
  parseJudgement,
  predictPrompt,
  priorContinuation,
  priorPrompt,
  proposePrompt,
  type SolvedExample,
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
