/** envs/game24: the Game of 24 as RAFA plays it (spec §3.1) — environment, exact twins, prompts, data. */
export {
  DEFAULT_SPLIT,
  type Game24Data,
  type Game24Puzzle,
  type Game24Split,
  game24Instances,
  game24Path,
  loadGame24,
  puzzleById,
  SPLITS,
  splitPuzzles,
} from "./data.ts";
export { Game24Env, type Game24Observation, type Game24Options, MAX_ATTEMPTS } from "./env.ts";
export {
  answerLine,
  completionPlan,
  criticLabel,
  exactRoles,
  goldPlan,
  MAX_PROPOSALS,
  moves,
  solutionExpression,
  type ValueLabel,
} from "./exact.ts";
export { type Expr, type ExpressionErrorCategory, evaluateExpression, show } from "./expression.ts";
export {
  arithmeticModel,
  type CorruptionRates,
  DEFAULT_CORRUPTION_RATE,
  type ImperfectOptions,
  ImperfectTwin,
  imperfectRoles,
  lineKey,
  numbersKey,
  predictLine,
} from "./imperfect.ts";
export {
  correctedRoles,
  countRoles,
  type Game24Lessons,
  type LabelScale,
  type Lesson,
  learnLessons,
  lessonsOf,
  NO_LESSONS,
  newRoleCounts,
  type RoleCounts,
  type TwinLearnerOptions,
  twinLearner,
  UNIT_SCALE,
} from "./learner.ts";
export {
  type LlmLearnerOptions,
  type LlmRoleStats,
  type LlmRolesOptions,
  llmLearner,
  llmRoles,
  NEUTRAL_VALUE,
  newLlmRoleStats,
  VALUE_SCALE,
} from "./llm-roles.ts";
export { formatStep, type PlanLine, parsePlanLine, planLines, type Step } from "./plan.ts";
export {
  answerPrompt,
  answerValuePrompt,
  choosePrompt,
  type LearnedLine,
  learnedPrompt,
  PROMPT_VERSION,
  type PromptQuestion,
  parseProposals,
  parseValueLabel,
  proposePrompt,
  readPrompt,
  statePrompt,
  TASK,
  VALUE_WEIGHTS,
  valueChoicePrompt,
  valuePrompt,
} from "./prompts.ts";
export { format as formatRational, parseRational, type Rational, rational } from "./rational.ts";
export {
  ANSWER_REWARD,
  describeState,
  type Game24State,
  initialState,
  judgePlan,
  type LineJudgement,
  STEP_REWARD,
} from "./rules.ts";
export { solvable, solve, type Witness } from "./solver.ts";
