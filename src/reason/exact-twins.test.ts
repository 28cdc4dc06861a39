/**
 * The planners on the environments' exact twins (spec §3.1–§3.3): with exact roles they must reproduce optimal
 * play. Tests may import environments; the library code in reason/ never does.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.ts";
import type { Roles } from "../core/roles.ts";
import {
  stateKey as atomsKey,
  BlocksWorldEnv,
  type BlocksWorldState,
  createExactRoles,
  type GroundAction,
  loadBlocksWorld,
  validatePlan,
} from "../envs/blocksworld/index.ts";
import {
  Game24Env,
  type Game24State,
  exactRoles as game24Roles,
  initialState,
  loadGame24,
  MAX_PROPOSALS,
  splitPuzzles,
} from "../envs/game24/index.ts";
import { multisetKey } from "../envs/game24/rational.ts";
import {
  type Board,
  boardKey,
  emptyPositions,
  isOver,
  play,
  renderBoard,
  winner,
} from "../envs/tictactoe/board.ts";
import { minimaxOpponent, randomOpponent, TicTacToeEnv } from "../envs/tictactoe/env.ts";
import { optimalMoves, exactRoles as tictactoeRoles } from "../envs/tictactoe/exact.ts";
import { beamSearch } from "./beam.ts";
import { Mcts, rankedPriors } from "./mcts.ts";
import { treeSearch } from "./tree-search.ts";
import type { PlanResult } from "./types.ts";

const DATA_DIR = fileURLToPath(new URL("../../../shared/data", import.meta.url));
for (const file of ["game24/24.csv", "blocksworld/step_4.json"]) {
  if (!existsSync(join(DATA_DIR, file)))
    throw new Error(
      `test data not found: ${join(DATA_DIR, file)} (expected ../shared/data beside the project root)`,
    );
}

describe("Tic-Tac-Toe (spec §3.3): the planners never lose", () => {
  /**
   * The paper's search model: O's move, then one predicted reply of X (here a minimax-optimal one), rewards
   * +1 / −1 when O / X wins. With a critic that knows nothing, only a search to the game's end can play well.
   */
  const replyRoles: Roles<Board, number> = {
    elite: { propose: async (board, breadth) => emptyPositions(board).slice(0, breadth) },
    model: {
      async predict(board, cell) {
        const afterO = play(board, cell, "O");
        if (isOver(afterO)) return { state: afterO, reward: winner(afterO) === "O" ? 1 : 0, done: true };
        const afterX = play(afterO, optimalMoves(afterO)[0] ?? 0, "X");
        return { state: afterX, reward: winner(afterX) === "X" ? -1 : 0, done: isOver(afterX) };
      },
    },
    critic: { value: async () => 0 },
  };
  const opponents = [minimaxOpponent, randomOpponent];

  async function playGame(
    opponent: (typeof opponents)[number],
    seed: number,
    plan: (board: Board, rng: Rng) => Promise<PlanResult<number> | number>,
  ): Promise<number> {
    const env = new TicTacToeEnv(opponent);
    let { board } = await env.reset(seed);
    const rng = new Rng(seed).stream("agent");
    for (;;) {
      const r = await plan(board, rng);
      const action = typeof r === "number" ? r : r.action;
      if (action === undefined) throw new Error(`no action on\n${renderBoard(board)}`);
      const step = await env.step(action);
      if (step.done) return step.reward;
      board = step.observation.board;
    }
  }

  it("depth-U search to the game's end with a blind critic (early stop on +1)", async () => {
    let wins = 0;
    for (const opponent of opponents) {
      for (let seed = 1; seed <= 4; seed++) {
        const reward = await playGame(opponent, seed, (board, rng) =>
          treeSearch(replyRoles, board, { breadth: 9, depth: 9, stateKey: boardKey, maxValue: 1 }, { rng }),
        );
        expect(reward, `${opponent.name} seed ${seed}`).toBeGreaterThanOrEqual(0);
        if (reward > 0) wins++;
      }
    }
    expect(wins).toBeGreaterThan(0); // the random opponent gets punished
  });

  it("depth 1 with the exact minimax critic", async () => {
    for (let seed = 1; seed <= 4; seed++) {
      const reward = await playGame(minimaxOpponent, seed, (board, rng) =>
        treeSearch(tictactoeRoles, board, { breadth: 9, depth: 1, stateKey: boardKey }, { rng }),
      );
      expect(reward).toBe(0); // minimax against minimax: a draw
    }
  });

  it("a persistent MCTS tree that learns the real replies", async () => {
    for (const opponent of opponents) {
      for (let seed = 1; seed <= 3; seed++) {
        const env = new TicTacToeEnv(opponent);
        let { board } = await env.reset(seed);
        const ctx = { rng: new Rng(seed).stream("agent") };
        const tree = new Mcts(replyRoles, board, {
          breadth: 9,
          depth: 9,
          stateKey: boardKey,
          aggrReward: "sum",
        });
        let reward = 0;
        for (;;) {
          await tree.search(150, ctx);
          const best = tree.best(ctx.rng);
          if (!best) throw new Error("no action");
          const step = await env.step(best.action);
          board = step.observation.board;
          await tree.step(best.action, { state: board, reward: step.reward, done: step.done }, ctx);
          if (step.done) {
            reward = step.reward;
            break;
          }
        }
        expect(reward, `${opponent.name} seed ${seed}`).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe("Game of 24 (spec §3.1): beam search over the exact twins", () => {
  const puzzles = splitPuzzles(loadGame24(DATA_DIR), "test");
  const criticKey = (s: Game24State) => multisetKey(s.remaining);

  it("solves every test puzzle with b = 1 (the plan is accepted by the environment)", async () => {
    expect(puzzles).toHaveLength(100);
    for (const p of puzzles) {
      const r = await beamSearch(
        game24Roles,
        initialState(p.numbers),
        { breadth: 1, proposals: MAX_PROPOSALS, depth: 4, criticKey },
        { rng: new Rng(p.rank) },
      );
      expect(r.plan, `puzzle ${p.rank}`).toHaveLength(4);
      expect(r.value).toBe(13); // three reachable steps (+1 each) and the answer (+10)
      const env = new Game24Env(p.numbers);
      await env.reset(0);
      const step = await env.step(r.plan.join("\n"));
      expect(step.success, `puzzle ${p.rank}: ${r.plan.join(" | ")}`).toBe(true);
    }
  });

  it("keying the critic by the numbers left saves critic calls on paths that meet", async () => {
    let byState = 0;
    let byNumbers = 0;
    for (const p of puzzles.slice(0, 20)) {
      const options = { breadth: 5, proposals: MAX_PROPOSALS, depth: 4 };
      const a = await beamSearch(game24Roles, initialState(p.numbers), options, { rng: new Rng(p.rank) });
      const b = await beamSearch(
        game24Roles,
        initialState(p.numbers),
        { ...options, criticKey },
        { rng: new Rng(p.rank) },
      );
      expect(b.plan).toHaveLength(4);
      expect(a.stats.modelCalls).toBe(b.stats.modelCalls);
      expect(b.stats.criticCalls + b.stats.hits.critic).toBe(a.stats.criticCalls);
      byState += a.stats.criticCalls;
      byNumbers += b.stats.criticCalls;
    }
    expect(byNumbers).toBeLessThan(byState * 0.9);
  });
});

describe("BlocksWorld step_4 (spec §3.2): MCTS with the STRIPS model", () => {
  const data = loadBlocksWorld(DATA_DIR, "step_4");
  const stateKey = (s: BlocksWorldState) => atomsKey(s.atoms);

  /** RAFA's loop: per real step one rollout, move toward the best final node, write the truth into the tree. */
  async function rafa(index: number, roles: Roles<BlocksWorldState, GroundAction>) {
    const instance = data.instances[index];
    if (!instance) throw new Error(`no instance ${index}`);
    const env = new BlocksWorldEnv(instance, data.vocabulary, { maxTries: 60 });
    const start = await env.reset(0);
    const ctx = { rng: new Rng(index).stream("agent") };
    const tree = new Mcts(roles, start.state, { breadth: Number.POSITIVE_INFINITY, depth: 4, stateKey });
    for (let t = 1; t <= 60; t++) {
      tree.rewind();
      for (;;) {
        await tree.search(1, ctx);
        const best = tree.best(ctx.rng);
        if (!best) throw new Error("no action");
        const step = await env.step(best.action);
        const info = step.info as { state: readonly string[]; tryEnded?: boolean };
        const observed = { ...tree.current.state, atoms: info.state };
        await tree.step(best.action, { state: observed, reward: step.reward, done: step.reward > 0 }, ctx);
        if (step.done) return { success: step.success === true, tries: t, tree };
        if (info.tryEnded) break;
      }
    }
    return { success: false, tries: 60, tree };
  }

  it("solves step_4 instances within 60 tries with an uninformed elite (uniform priors)", async () => {
    const roles = createExactRoles(data.domain, { rank: "none" });
    for (let i = 0; i < 8; i++) {
      const { success, tries, tree } = await rafa(i, roles);
      expect(success, `instance ${data.instances[i]?.id}`).toBe(true);
      expect(tries).toBeLessThanOrEqual(60);
      // The tree is memory: far fewer model calls than rollouts × branching.
      expect(tree.stats.cacheHits).toBeGreaterThan(0);
    }
  });

  it("with the elite's ranking as prior, the first try is optimal", async () => {
    const exact = createExactRoles(data.domain, { rank: "distance" });
    const roles = { ...exact, elite: rankedPriors(exact.elite) };
    for (let i = 0; i < 8; i++) {
      const { success, tries } = await rafa(i, roles);
      expect(success).toBe(true);
      expect(tries).toBe(1);
    }
  });

  it("open loop (the RAP baseline): 60 rollouts find a valid 4-step plan", async () => {
    const roles = createExactRoles(data.domain, { rank: "none" });
    for (const instance of data.instances.slice(0, 8)) {
      const tree = new Mcts(
        roles,
        await new BlocksWorldEnv(instance, data.vocabulary).reset(0).then((o) => o.state),
        {
          breadth: Number.POSITIVE_INFINITY,
          depth: 4,
          stateKey,
        },
      );
      const r = await tree.plan({ rng: new Rng(1) }, 60);
      expect(r.plan).toHaveLength(4);
      expect(validatePlan(instance.task, r.plan, data.vocabulary).valid, instance.id).toBe(true);
    }
  });
});
