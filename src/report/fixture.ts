/**
 * An in-memory `RunData` that looks like a real run: RAFA on Tic-Tac-Toe with an LLM, several instances and seeds,
 * steps with feedback, LLM calls with prompts and sampled answers, and search trees of depth 3 on most steps.
 * The summary is computed from the episodes, so tests can check what the report derives against it.
 * Deterministic: the same options give the same data.
 */

import { summarize as summarizeRun } from "../bench/summary.ts";
import type {
  EpisodeRecord,
  LlmCallRecord,
  Manifest,
  RunData,
  StepRecord,
  Summary,
  TreeRecord,
} from "../bench/types.ts";
import type { SearchNode } from "../core/episode.ts";
import { Rng } from "../core/rng.ts";

/** Which kind of text a fixture string is, so a test can inject content into chosen places. */
export type FixtureTextField =
  | "instance"
  | "observation"
  | "action"
  | "feedback"
  | "state"
  | "message"
  | "response"
  | "config";

export interface RunFixtureOptions {
  readonly runId?: string;
  readonly env?: string;
  readonly agent?: string;
  readonly model?: string;
  readonly split?: string;
  readonly instances?: readonly string[];
  readonly seeds?: readonly number[];
  readonly maxSteps?: number;
  /** Seeds the fixture's own randomness: different values give different outcomes. */
  readonly seed?: number;
  /** USD per 1,000 tokens (input and output alike); 0 gives a free model. */
  readonly usdPer1kTokens?: number;
  /** Environment-specific curves to include (by default `success_by_episode` and `cumulative_regret`). */
  readonly curves?: readonly string[];
  /** Rewrites every text the fixture generates, e.g. to inject hostile strings. */
  readonly text?: (field: FixtureTextField, text: string) => string;
}

type Cell = "X" | "O" | ".";

function renderBoard(board: readonly Cell[]): string {
  const rows: string[] = [];
  for (let r = 0; r < 3; r++) {
    rows.push(` ${board[r * 3]} | ${board[r * 3 + 1]} | ${board[r * 3 + 2]}`);
  }
  return rows.join("\n---+---+---\n");
}

function emptyCells(board: readonly Cell[]): number[] {
  const out: number[] = [];
  board.forEach((c, i) => {
    if (c === ".") out.push(i);
  });
  return out;
}

function place(board: readonly Cell[], cell: number, mark: Cell): Cell[] {
  const next = [...board];
  next[cell] = mark;
  return next;
}

const cellName = (cell: number): string => `(${Math.floor(cell / 3) + 1},${(cell % 3) + 1})`;

export function makeRunData(options: RunFixtureOptions = {}): RunData {
  const tx = options.text ?? ((_field: FixtureTextField, text: string) => text);
  const seeded = new Rng(options.seed ?? 7);
  const random = () => seeded.float();
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(random() * items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  };
  const env = options.env ?? "tictactoe";
  const agent = options.agent ?? "rafa";
  const model = options.model ?? "openai:gpt-4o-mini";
  const split = options.split ?? "test";
  const instances = (options.instances ?? ["minimax-1", "minimax-2", "random-1", "random-2"]).map((name) =>
    tx("instance", name),
  );
  const seeds = options.seeds ?? [1, 2, 3];
  const maxSteps = options.maxSteps ?? 5;
  const usdPer1k = options.usdPer1kTokens ?? 0.0006;
  const runId = options.runId ?? "20250101-120000-rafa";

  const episodes: EpisodeRecord[] = [];
  const steps = new Map<string, StepRecord[]>();
  const trees = new Map<string, TreeRecord[]>();
  const calls = new Map<string, LlmCallRecord[]>();

  const systemPrompt = tx(
    "message",
    "You play Tic-Tac-Toe as O against X. Reason about the future, act for now: propose moves, predict the board, judge who wins.",
  );

  instances.forEach((instance, i) => {
    // Some instances are easier than others, so per-instance rates differ.
    const skill = 0.25 + 0.6 * ((i * 37) % 10) * 0.1;
    for (const seed of seeds) {
      const id = `${instance}#${seed}`;
      let board: Cell[] = place([".", ".", ".", ".", ".", ".", ".", ".", "."], pick([0, 2, 4, 6, 8]), "X");
      const wins = random() < skill;
      const length = Math.min(maxSteps, 1 + Math.floor(random() * maxSteps));
      const epSteps: StepRecord[] = [];
      const epTrees: TreeRecord[] = [];
      const epCalls: LlmCallRecord[] = [];
      let seq = 0;
      let totalReturn = 0;
      let success = false;
      let end = "max_steps";
      for (let t = 0; t < length; t++) {
        const observation = tx("observation", `${renderBoard(board)}\nYou are O. Move ${t + 1}.`);
        const free = emptyCells(board);
        // The search tree: root, up to three candidate moves, two X replies each, and one deeper line.
        const nodes: SearchNode[] = [
          { id: 0, parent: null, action: null, state: observation, value: null, visits: 12 },
        ];
        const candidates = free.slice(0, 3);
        let best = -1;
        let bestCell: number | undefined;
        let bestValue = -Infinity;
        for (const cell of candidates) {
          const after = place(board, cell, "O");
          const value = Math.round((random() * 2 - 1) * 100) / 100 + 0 /* no -0: JSON has none */;
          const childId = nodes.length;
          nodes.push({
            id: childId,
            parent: 0,
            action: tx("action", `O ${cellName(cell)}`),
            state: tx("state", renderBoard(after)),
            value,
            visits: 2 + Math.floor(random() * 5),
            reward: 0,
          });
          if (value > bestValue) {
            bestValue = value;
            best = childId;
            bestCell = cell;
          }
          for (const reply of emptyCells(after).slice(0, 2)) {
            const replied = place(after, reply, "X");
            const grandId = nodes.length;
            nodes.push({
              id: grandId,
              parent: childId,
              action: tx("action", `X ${cellName(reply)}`),
              state: tx("state", renderBoard(replied)),
              value: Math.round((random() * 2 - 1) * 100) / 100 + 0,
              visits: 1 + Math.floor(random() * 2),
              reward: 0,
            });
            const deeper = emptyCells(replied)[0];
            if (deeper !== undefined && grandId % 3 === 0) {
              nodes.push({
                id: nodes.length,
                parent: grandId,
                action: tx("action", `O ${cellName(deeper)}`),
                state: tx("state", renderBoard(place(replied, deeper, "O"))),
                value: null,
                visits: 0,
                reward: random() < 0.3 ? 1 : 0,
              });
            }
          }
        }
        // Every third step runs without a search (a cached plan), as real agents sometimes do.
        const searched = t % 3 !== 2 && candidates.length > 0;
        if (searched) epTrees.push({ episodeId: id, t, nodes, chosen: best >= 0 ? best : null });

        const cell = (searched ? bestCell : free[0]) ?? 0;
        const action = tx("action", `O ${cellName(cell)}`);
        board = place(board, cell, "O");
        const last = t === length - 1;
        const finished = last && (wins || length < maxSteps);
        let reward = 0;
        let feedback: string;
        if (finished && wins) {
          reward = 1;
          feedback = "O completes a line. You win.";
        } else if (finished) {
          reward = -1;
          feedback = "X completes a line. You lose.";
        } else {
          const replies = emptyCells(board);
          const reply = replies.length > 0 ? pick(replies) : -1;
          if (reply >= 0) board = place(board, reply, "X");
          feedback = reply >= 0 ? `X plays ${cellName(reply)}.` : "The board is full.";
        }
        totalReturn += reward;
        epSteps.push({
          episodeId: id,
          t,
          observation,
          action,
          reward,
          feedback: tx("feedback", feedback),
          done: finished,
          nextObservation: tx("observation", renderBoard(board)),
          info: { legalActions: free.length },
        });
        if (finished) {
          success = wins;
          end = "done";
        }

        // Two LLM calls per step: the elite proposes moves, the critic judges the chosen one.
        const roles = ["elite", "critic"] as const;
        for (const role of roles) {
          const user =
            role === "elite"
              ? `Board:\n${observation}\nPropose 3 moves as JSON {"moves": [...]}.`
              : `Board after O ${cellName(cell)}:\n${renderBoard(board)}\nWho wins with best play? Answer win, draw or lose.`;
          const responses =
            role === "elite"
              ? [
                  tx("response", `{"moves": ["O ${cellName(cell)}", "O ${cellName(free[1] ?? cell)}"]}`),
                  tx("response", `{"moves": ["O ${cellName(free[2] ?? cell)}"]}`),
                ]
              : [tx("response", wins ? "win" : "draw")];
          const inputTokens = Math.ceil((systemPrompt.length + user.length) / 4);
          const outputTokens = responses.reduce((n, r) => n + Math.ceil(r.length / 4), 0);
          const cached = role === "critic" && t === 0 && seed !== seeds[0];
          const failed = role === "critic" && t === 1 && seed === seeds[seeds.length - 1] && i === 1;
          const retried = role === "elite" && t === 0 && seed === seeds[0];
          epCalls.push({
            episodeId: id,
            t,
            seq: seq++,
            requestHash: `${role}-${t}-${cell}`,
            model,
            messages: [
              { role: "system", content: systemPrompt },
              { role: "user", content: tx("message", user) },
            ],
            responses: failed ? [] : responses,
            inputTokens,
            outputTokens: failed ? 0 : outputTokens,
            latencyMs: 200 + Math.floor(random() * 600),
            costUsd: cached || failed ? 0 : ((inputTokens + outputTokens) / 1000) * usdPer1k,
            cacheHits: cached ? 1 : 0,
            samples: responses.length,
            // The first seed's opening proposals timed out once and were answered on the retry; the failed call
            // timed out on all five attempts, as the retry middleware reports them.
            retries: failed ? 4 : retried ? 1 : 0,
            retryWaitMs: failed ? 3750 : retried ? 420 : 0,
            timeouts: failed ? 5 : retried ? 1 : 0,
            ok: !failed,
            ...(failed ? { errorCategory: "timeout" } : {}),
          });
        }
        if (finished) break;
      }
      steps.set(id, epSteps);
      trees.set(id, epTrees);
      calls.set(id, epCalls);
      episodes.push({
        id,
        index: episodes.length,
        instance,
        seed,
        status: "done",
        success,
        totalReturn,
        steps: epSteps.length,
        end,
        llmCalls: epCalls.length,
        inputTokens: epCalls.reduce((n, c) => n + c.inputTokens, 0),
        outputTokens: epCalls.reduce((n, c) => n + c.outputTokens, 0),
        costUsd: epCalls.reduce((n, c) => n + c.costUsd, 0),
        cacheHits: epCalls.reduce((n, c) => n + c.cacheHits, 0),
        retries: epCalls.reduce((n, c) => n + c.retries, 0),
        retryWaitMs: epCalls.reduce((n, c) => n + c.retryWaitMs, 0),
        timeouts: epCalls.reduce((n, c) => n + c.timeouts, 0),
        wallMs: epCalls.reduce((n, c) => n + c.latencyMs, 0) + 3,
      });
    }
  });

  const config = {
    env,
    agent,
    model,
    split,
    instances,
    seeds,
    concurrency: 4,
    maxSteps,
    budgetUsd: 5,
    prices:
      usdPer1k > 0 ? { [model]: { inputPerMTok: usdPer1k * 1000, outputPerMTok: usdPer1k * 1000 } } : {},
    cache: { path: tx("config", "/tmp/bayesact-cache/llm.sqlite"), mode: "read-write" as const },
    dataDir: tx("config", "../shared/data"),
    options: { opponent: tx("config", "minimax"), breadth: 3, depth: 2 },
  };
  const manifest: Manifest = {
    runId,
    createdAt: "2025-01-01T12:00:00.000Z",
    bayesact: "0.1.0",
    node: "v24.21.0",
    platform: "linux-x64",
    gitCommit: "0123456789abcdef0123456789abcdef01234567",
    config,
    dataFiles: { [tx("config", "../shared/data/tictactoe/openings.jsonl")]: "ab".repeat(32) },
    models:
      model === "exact"
        ? {}
        : {
            [model]: {
              jsonSchema: true,
              grammar: false,
              logprobs: true,
              multipleSamples: true,
              seed: true,
              score: false,
              notes: [tx("config", "seed honoured at temperature 0.7")],
            },
          },
  };
  return {
    dir: `/tmp/runs/${runId}`,
    manifest,
    summary: summarize(manifest, episodes, options.curves ?? ["success_by_episode", "cumulative_regret"]),
    episodes,
    steps: (id) => steps.get(id) ?? [],
    trees: (id) => trees.get(id) ?? [],
    llmCalls: (id) => calls.get(id) ?? [],
  };
}

/** The summary the runner would write: the bench's own `summarize`, plus the fixture's curves. */
function summarize(
  manifest: Manifest,
  episodes: readonly EpisodeRecord[],
  curveNames: readonly string[],
): Summary {
  const curves: Record<string, number[]> = {};
  let solved = 0;
  let regret = 0;
  const running: number[] = [];
  const cumulative: number[] = [];
  episodes.forEach((e, i) => {
    solved += e.success ? 1 : 0;
    regret += e.success ? 0 : 1;
    running.push(solved / (i + 1));
    cumulative.push(regret);
  });
  if (curveNames.includes("success_by_episode")) curves.success_by_episode = running;
  if (curveNames.includes("cumulative_regret")) curves.cumulative_regret = cumulative;
  return summarizeRun(manifest.config, episodes, 12_500, curves);
}
