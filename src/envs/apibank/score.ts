/**
 * Scoring a level of API-Bank: the one function `eval apibank`, the self-training loop and the reports share,
 * so the same predictions get the same numbers wherever they are scored. Its options are the `eval` options.
 */
import type { ApiBankData } from "./data.ts";
import {
  type ApiBankSummary,
  type EvaluationOptions,
  evaluatePoints,
  Judge,
  type PointRecord,
  type Predictor,
  summarizeEvaluation,
} from "./evaluate.ts";
import { ApiBankWorld, type Level } from "./executor.ts";
import type { Point } from "./points.ts";
import { Bm25Retriever, type EmbeddingEndpoint, EmbeddingRetriever } from "./retriever.ts";
import { rulesLabel, type Scoring, type ScoringRule, scoringRules } from "./scoring.ts";
import { RecordedFirstRetriever, recordedSearches } from "./toolsearcher.ts";

export interface ApiBankScoringOptions {
  /** `official` (API-Bank's evaluator, bug for bug) or `corrected` (the project's reading). */
  readonly scoring: Scoring;
  /** Explicit rules (official plus these), overriding `scoring`. */
  readonly rules?: readonly ScoringRule[];
  /** ToolSearcher answers the data's recorded keywords with their recorded result first (default true). */
  readonly recordedSearch?: boolean;
  /** ToolSearcher through an embeddings endpoint instead of BM25. */
  readonly embeddings?: EmbeddingEndpoint;
  /** Seed of the values APIs generate. */
  readonly seed?: number;
  /** Level 3: the prompts with the one-shot planning example. */
  readonly icl?: boolean;
  /** The model's name in the summary (default: the predictor's id). */
  readonly model?: string;
}

/** The world of a level with the retriever the options choose. */
export function scoringWorld(data: ApiBankData, level: Level, options: ApiBankScoringOptions): ApiBankWorld {
  const embeddings = options.embeddings;
  return new ApiBankWorld(data, {
    level,
    retriever: (library) => {
      const search = embeddings
        ? new EmbeddingRetriever(embeddings, library.documents)
        : new Bm25Retriever(library.documents);
      return (options.recordedSearch ?? true)
        ? new RecordedFirstRetriever(recordedSearches(data, level), library, search)
        : search;
    },
  });
}

/** The name of the scoring a level is scored with (level 3: always corrected, see `scoreLevel`). */
export function scoringLabel(
  level: Level,
  options: Pick<ApiBankScoringOptions, "scoring" | "rules">,
): string {
  if (level === 3) return "corrected";
  return rulesLabel(new Set(options.rules ?? scoringRules(options.scoring)));
}

/**
 * Answer and judge `points` of one level; a fresh Judge for this pass. Level 3 is always scored corrected:
 * API-Bank's `lv3_evaluator.py` (483554e) cannot run as published — it passes a folder to `ToolManager()`, whose
 * constructor takes none, and the level-3 API implementations it would load are not public.
 */
export async function scoreLevel(
  data: ApiBankData,
  level: Level,
  points: readonly Point[],
  predictor: Predictor,
  options: ApiBankScoringOptions & EvaluationOptions,
  world: ApiBankWorld = scoringWorld(data, level, options),
): Promise<{ records: PointRecord[]; summary: ApiBankSummary; judge: Judge }> {
  const judge = new Judge(
    world,
    level === 3
      ? { scoring: "corrected", seed: options.seed ?? 0 }
      : {
          scoring: options.scoring,
          ...(options.rules ? { rules: options.rules } : {}),
          seed: options.seed ?? 0,
        },
  );
  const records = await evaluatePoints(judge, points, predictor, {
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const summary = summarizeEvaluation(level, options.model ?? predictor.id, records, {
    scoring: judge.scoring,
    state: judge.state,
    reference: judge.reference,
    icl: options.icl ?? false,
    retriever: world.retriever.kind,
    level3Samples: data.level3.samples.length,
  });
  return { records, summary, judge };
}
