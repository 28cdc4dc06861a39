/** train/: the self-training loop's data side — instructions, critics, selection, dataset export. */
export {
  type Agreement,
  type CriticVerdict,
  criticAgreement,
  criticMessages,
  exactTwinCritic,
  llmCritic,
  normaliseArgs,
  type PrefilterReason,
  type PrefilterVerdict,
  prefilter,
  renderTrajectory,
} from "./critics.ts";
export {
  type ApiBankSample,
  apiBankSamples,
  chatMessages,
  type ExportFormat,
  exportRecords,
  systemPrompt,
  toJsonl,
} from "./export.ts";
export { goldTrajectory } from "./gold.ts";
export {
  buildTestGuard,
  type GoldCall,
  type GoldChain,
  type Instruction,
  loadInstructions,
  normaliseText,
  parseTrainingRecords,
  type RefusedInstruction,
  repairDescription,
  TestTextGuard,
  type TrainingSet,
  textHash,
} from "./instructions.ts";
export {
  goldPolicy,
  type LlmPolicyOptions,
  llmPolicy,
  type Policy,
  type PolicyInput,
  type PolicyOutput,
  type RolloutManyOptions,
  type RolloutOptions,
  type RolloutResult,
  rollout,
  rolloutMany,
  type StopReason,
} from "./rollout.ts";
export { type Scored, type SelectOptions, selectTrajectories } from "./select.ts";
export {
  type ApiOutcome,
  ReplaySimulator,
  type ReplaySimulatorOptions,
  type RolloutEnvironment,
  type RolloutSession,
} from "./simulator.ts";
export {
  agentSteps,
  apiTurn,
  finalReply,
  type Trajectory,
  type TrajectoryCall,
  type TrajectoryTurn,
  trajectoryCalls,
} from "./trajectory.ts";
