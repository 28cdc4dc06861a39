import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.ts";
import { emptyPositions, isOver, winner } from "./board.ts";
import { minimaxOpponent, type Opponent } from "./env.ts";
import { boardFromKey, DEFAULT_GAMES, gameEndOf, TicTacToeMatchEnv } from "./match.ts";
import { sampleStyle, styledOpponent } from "./styles.ts";

/** Plays a match with O's moves from `choose`; returns every step. */
async function play(
  env: TicTacToeMatchEnv,
  seed: number,
  choose: (legal: readonly number[], rng: Rng) => number,
) {
  const rng = new Rng(seed).stream("test-o");
  const first = await env.reset(seed);
  const steps = [];
  while (!env.terminal) steps.push(await env.step(choose(env.legalActions(), rng)));
  return { first, steps };
}

describe("a Tic-Tac-Toe match", () => {
  it("plays N games, X first in each, paying +1/0/−1 per game and ending only after the last", async () => {
    const env = new TicTacToeMatchEnv({ opponent: minimaxOpponent, games: 7 });
    const { first, steps } = await play(env, 3, (legal, rng) => rng.pick(legal));
    expect(first).toMatchObject({ game: 1, games: 7 });
    expect(first.board.filter((c) => c === "X")).toHaveLength(1);
    const ends = steps.flatMap((s) => (gameEndOf(s.info) ? [s] : []));
    expect(ends.map((s) => gameEndOf(s.info)?.game)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(steps.filter((s) => s.done)).toEqual([steps.at(-1)]);
    for (const s of steps) {
      const end = gameEndOf(s.info);
      if (!end) {
        expect(s.reward).toBe(0);
        continue;
      }
      // The final board is the game's, and the score is read off it.
      const final = boardFromKey(end.final);
      expect(final && isOver(final)).toBe(true);
      const w = final ? winner(final) : null;
      expect(s.reward).toBe(end.outcome);
      expect(end.outcome).toBe(w === "O" ? 1 : w === "X" ? -1 : 0);
      if (!s.done) {
        // The next game has begun with X's opening.
        expect(s.observation.board.filter((c) => c !== null)).toHaveLength(1);
        expect(s.observation.game).toBe(end.game + 1);
      }
    }
    const lastStep = steps.at(-1);
    expect(lastStep?.success).toBe(!ends.some((s) => s.reward < 0));
    expect(lastStep?.info?.opponent).toBe("minimax");
    expect(env.legalActions()).toEqual([]);
    await expect(env.step(1)).rejects.toThrow(/after the match ended/);
    expect(new TicTacToeMatchEnv({ opponent: minimaxOpponent }).games).toBe(DEFAULT_GAMES);
  });

  it("draws X's hidden style once per run from the seed, the same for every game", async () => {
    const drawn: string[] = [];
    const source = (rng: Rng): Opponent => {
      const o = styledOpponent(sampleStyle("styled", rng));
      drawn.push(o.name);
      return o;
    };
    const env = new TicTacToeMatchEnv({ opponent: source, games: 3 });
    const a = await play(env, 21, (legal) => legal[0] ?? 1);
    const nameA = env.opponentName;
    const b = await play(env, 21, (legal) => legal[0] ?? 1);
    expect(env.opponentName).toBe(nameA);
    expect(b.steps.map((s) => s.feedback)).toEqual(a.steps.map((s) => s.feedback));
    expect(drawn).toHaveLength(2);
    const names = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      await env.reset(seed);
      names.add(env.opponentName ?? "");
    }
    expect(names.size).toBeGreaterThan(5);
  });

  it("an illegal move forfeits that game only", async () => {
    const env = new TicTacToeMatchEnv({ opponent: minimaxOpponent, games: 2 });
    const o = await env.reset(5);
    const taken = o.board.indexOf("X") + 1;
    const r = await env.step(taken);
    expect(r).toMatchObject({ reward: -1, done: false, info: { game: 1, outcome: -1, illegal: taken } });
    expect(r.observation.game).toBe(2);
    expect(emptyPositions(r.observation.board)).toHaveLength(8);
    expect(env.parseAction("cell 7 please")).toEqual({ ok: true, value: 7 });
  });
});
