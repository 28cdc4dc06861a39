/**
 * envs/apibank: API-Bank (Li et al., EMNLP 2023) offline — its level-1/2 APIs implemented over `init_database`,
 * level-3 APIs answered from the recorded gold chains, the call tokenizer, ToolSearcher's retrievers, the
 * evaluator with the paper's error taxonomy, ROUGE-L, and the agent protocol as an environment.
 */
export { type ApiDefinition, ApiError, type ParamSpec, type ParamType } from "./api.ts";
export {
  type CallArgument,
  type CallParse,
  formatCall,
  type ParsedCall,
  parseCall,
  parsePyLiteral,
  tokenizeArguments,
} from "./call.ts";
export {
  type ApiBankData,
  type ApiResult,
  type ApiSchema,
  apiBankRoot,
  type Dialogue,
  instructionSchemas,
  loadApiBank,
  parseDialogue,
  type Turn,
} from "./data.ts";
export { type ApiBankAction, ApiBankEnv, type ApiBankObservation, renderResult } from "./env.ts";
export {
  type ApiBankSummary,
  type CallVerdict,
  ERROR_CATEGORIES,
  type ErrorCategory,
  type EvalManifest,
  evaluatePoints,
  exactPredictor,
  Judge,
  llmPredictor,
  OFFICIAL_BUCKET,
  type PointRecord,
  type Predictor,
  responseText,
  summarizeEvaluation,
} from "./evaluate.ts";
export { ApiBankWorld, ApiSystem, coerce, type Execution, LEVEL12_APIS, type Level } from "./executor.ts";
export {
  type CallPoint,
  INTERNET_APIS,
  levelPoints,
  type Point,
  pointPrompt,
  type ResponsePoint,
} from "./points.ts";
export { PUBLISHED, PUBLISHED_ERRORS } from "./published.ts";
export {
  Bm25,
  Bm25Retriever,
  EmbeddingRetriever,
  parseEmbeddingSpec,
  type Retriever,
  searchTerms,
} from "./retriever.ts";
export { rougeL } from "./rouge.ts";
export { foundApiName, level3Library, level12Library, type ToolLibrary } from "./toolsearcher.ts";
export { pyEqual, pyRepr, strptime } from "./values.ts";
