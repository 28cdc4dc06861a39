import { createLookaheadAgent } from "../agents/lookahead.ts";
import { runEpisode } from "../core/episode.ts";
import type { Trajectory } from "../core/trajectory.ts";
import { renderBoard } from "../envs/tictactoe/board.ts";
import {
  minimaxOpponent,
  type Opponent,
  randomOpponent,
  TicTacToeEnv,
  type TicTacToeObservation,
} from "../envs/tictactoe/env.ts";
import { exactRoles } from "../envs/tictactoe/exact.ts";
import type { Output } from "./output.ts";

export interface DemoOptions {
  seed: number;
  games: number;
}

/**
 * The offline demo: Tic-Tac-Toe on the exact twins. It shows one game in full, then plays `games` seeded games
 * against an optimal and a random opponent and prints the tallies. Everything is computed, nothing is canned.
 */
export async function runDemo(options: DemoOptions, output: Output): Promise<void> {
  const agent = createLookaheadAgent<TicTacToeObservation, TicTacToeObservation["board"], number>({
    name: "exact-lookahead",
    roles: exactRoles,
    stateOf: (o) => o.board,
  });
  output.out("bayesact demo: Tic-Tac-Toe on the exact twins (offline, no LLM)");
  output.out("  X moves first; the agent plays O with a depth-1 planner whose roles are exact twins:");
  output.out("  elite = legal cells, model = game rules, critic = minimax value (RAFA spec section 3.3).");
  output.out("");

  const env = new TicTacToeEnv(minimaxOpponent);
  const shown = await runEpisode(env, agent, { seed: options.seed, maxSteps: 5 });
  output.out(`One game against a minimax X (seed ${options.seed}):`);
  output.out(indent(renderBoard(shown.steps[0]?.observation.board ?? [])));
  for (const step of shown.steps) {
    output.out(`  ${step.feedback}`);
    output.out(indent(renderBoard(step.nextObservation.board)));
  }
  output.out(`  result: ${outcome(shown)}`);
  output.out("");

  for (const opponent of [minimaxOpponent, randomOpponent]) {
    const tally = await playMany(agent, opponent, options);
    output.out(
      `${options.games} games against a ${opponent.name} X (seeds ${options.seed}..${options.seed + options.games - 1}): ` +
        `O won ${tally.win}, drew ${tally.draw}, lost ${tally.loss}`,
    );
  }
}

async function playMany(
  agent: Parameters<typeof runEpisode<TicTacToeObservation, number>>[1],
  opponent: Opponent,
  options: DemoOptions,
): Promise<{ win: number; draw: number; loss: number }> {
  const env = new TicTacToeEnv(opponent);
  const tally = { win: 0, draw: 0, loss: 0 };
  for (let i = 0; i < options.games; i++) {
    const t = await runEpisode(env, agent, { seed: options.seed + i, maxSteps: 5 });
    if (t.totalReturn > 0) tally.win++;
    else if (t.totalReturn < 0) tally.loss++;
    else tally.draw++;
  }
  return tally;
}

function outcome(t: Trajectory<unknown, unknown>): string {
  return t.totalReturn > 0 ? "O wins" : t.totalReturn < 0 ? "X wins" : "draw";
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
