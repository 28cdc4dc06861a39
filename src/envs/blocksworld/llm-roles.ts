/**
 * The LLM roles of RAP/RAFA on BlocksWorld (spec §3.2), behind the same interfaces as the exact twins:
 *
 * - **Elite** with prior r₀: the legal actions by rule (as RAP enumerates them), weighted by the softmax of the
 *   LLM's log-likelihood of each action's plan line after a few solved examples and the current problem
 *   (`LanguageModel.score`, exact on local models such as llama.cpp). A provider that cannot score gets one
 *   structured choice among the legal actions per state instead (the chosen one holds half the prior mass), or
 *   uniform priors when asked; `priorMode` says which was used.
 * - **Model**: the LLM writes the state after the action in words; `parseStateText` reads it back. An answer that
 *   does not parse (or was cut off) is a named failure: the simulator answers instead and the failure is counted.
 * - **Critic** = RAP's goal reward r₁ of a state (100 when every goal atom holds, else the satisfied fraction
 *   + 0.5): a rule applied to the predicted state, as in RAP, so it costs no call.
 *
 * Each question is asked once per roles object (build one per episode): greedy decoding makes answers
 * deterministic, and RAFA's tree asks the same question from many paths.
 */
import { z } from "zod";
import type { Prediction, RoleContext, Roles } from "../../core/roles.ts";
import { LlmError } from "../../llm/errors.ts";
import { generateObject } from "../../llm/structured.ts";
import type { LanguageModel } from "../../llm/types.ts";
import { type GroundAction, ground } from "./domain.ts";
import type { BlocksWorldState } from "./env.ts";
import { createExactRoles, goalReward } from "./exact.ts";
import { edgeKey, groundingCache, outcome, type WeighingElite } from "./imperfect.ts";
import { parseStateText, renderAction, type Vocabulary } from "./nl.ts";
import type { Domain } from "./pddl.ts";
import { optimalPlan } from "./planner.ts";
import {
  choicePrompt,
  predictPrompt,
  priorContinuation,
  priorPrompt,
  type SolvedExample,
} from "./prompts.ts";
import { applicableOperators, makeState } from "./state.ts";

/**
 * How the prior r₀ is obtained; `auto` = `score` when the provider scores text (it has `score` and its
 * capabilities say `score: true` — an OpenAI-compatible server scores only when it is llama.cpp's), else `choice`.
 */
export type LlmPriorMode = "auto" | "score" | "choice" | "uniform";

export interface LlmRolesOptions {
  readonly model: LanguageModel;
  readonly domain: Domain;
  readonly vocabulary: Vocabulary;
  readonly prior?: LlmPriorMode;
  /** Solved examples in the prior's prompt (default 2, at most 4). */
  readonly shots?: number;
  /** Token limit of a predicted state (default 200). */
  readonly maxTokens?: number;
}

/** Named failures of the model role (the simulator answered instead). */
export type ModelFailure =
  | "empty_state"
  | "unknown_fact"
  | "unknown_object"
  | "object_not_in_problem"
  | "state_truncated";

export interface LlmRoleCounts {
  /** `score` calls (one per legal action of each state the prior weighed). */
  scoreCalls: number;
  /** Structured choices asked, and those that failed (uniform priors then). */
  choiceCalls: number;
  choiceFailures: number;
  /** States predicted by the LLM, and the answers replaced by the simulator, by failure. */
  predictCalls: number;
  fallbacks: Partial<Record<ModelFailure, number>>;
}

export interface LlmBlocksWorld extends Roles<BlocksWorldState, GroundAction> {
  readonly elite: WeighingElite<BlocksWorldState, GroundAction>;
  readonly counts: LlmRoleCounts;
  /**
   * The prior actually used (`auto` resolved). Until the first prior is weighed it is the guess from the model's
   * methods; the first weighing checks the model's capabilities and may turn an `auto` "score" into "choice".
   */
  readonly priorMode: Exclude<LlmPriorMode, "auto">;
}

/** Small solved problems (objects a–d) for the prior's prompt, solved optimally here: no text is copied. */
const EXAMPLE_PROBLEMS: readonly { init: readonly string[]; goal: readonly string[] }[] = [
  {
    init: ["(clear b)", "(clear c)", "(handempty)", "(on b a)", "(ontable a)", "(ontable c)"],
    goal: ["(on a c)"],
  },
  {
    init: [
      "(clear b)",
      "(clear c)",
      "(clear d)",
      "(handempty)",
      "(on d a)",
      "(ontable a)",
      "(ontable b)",
      "(ontable c)",
    ],
    goal: ["(on a b)", "(on d c)"],
  },
  {
    init: ["(clear a)", "(clear c)", "(handempty)", "(on c b)", "(ontable a)", "(ontable b)"],
    goal: ["(on b c)"],
  },
  {
    init: ["(clear a)", "(clear d)", "(handempty)", "(on a b)", "(on d c)", "(ontable b)", "(ontable c)"],
    goal: ["(on c a)"],
  },
];

/** The first `shots` example problems the vocabulary can name, with optimal plans. */
export function solvedExamples(domain: Domain, vocabulary: Vocabulary, shots: number): SolvedExample[] {
  const out: SolvedExample[] = [];
  for (const p of EXAMPLE_PROBLEMS) {
    if (out.length >= shots) break;
    const names = [...new Set(p.init.flatMap((a) => a.replace(/[()]/g, "").split(" ").slice(1)))].sort();
    if (!names.every((n) => n in vocabulary.objects)) continue;
    const grounding = ground(
      domain,
      names.map((name) => ({ name, type: "object" })),
    );
    const init = makeState(p.init);
    const goal = makeState(p.goal);
    const { plan } = optimalPlan(grounding, init, goal);
    if (plan) out.push({ init, goal, plan });
  }
  return out;
}

/** Softmax of log-likelihoods (shifted by the maximum, so long texts do not underflow to all zeros). */
export function softmax(logits: readonly number[]): number[] {
  const top = Math.max(...logits);
  const w = logits.map((l) => Math.exp(l - top));
  const total = w.reduce((s, x) => s + x, 0);
  return w.map((x) => x / total);
}

/** LLM answer problems that end in a fallback; anything else (transport, budget, setup) propagates. */
const ANSWER_ERRORS = new Set(["schema_violation", "truncated", "malformed_response"]);

export function createLlmRoles(options: LlmRolesOptions): LlmBlocksWorld {
  const { model, domain, vocabulary } = options;
  const shots = Math.max(0, Math.min(4, options.shots ?? 2));
  const maxTokens = options.maxTokens ?? 200;
  const requested = options.prior ?? "auto";
  let priorMode: Exclude<LlmPriorMode, "auto"> =
    requested === "auto" ? (typeof model.score === "function" ? "score" : "choice") : requested;
  // A `score` method is not enough (every OpenAI-compatible model has one): the capabilities decide, once.
  let confirmed: Promise<void> | undefined;
  const confirmScoring = (ctx: RoleContext): Promise<void> => {
    confirmed ??= model.capabilities(signalOf(ctx)).then(
      (caps) => {
        if (caps.score) return;
        if (requested === "score") {
          throw new LlmError(
            "unsupported",
            `${model.id} cannot score text (its capabilities say no); use prior=choice or prior=uniform`,
          );
        }
        priorMode = "choice";
      },
      (error: unknown) => {
        confirmed = undefined; // a failed probe is tried again
        throw error;
      },
    );
    return confirmed;
  };
  if (priorMode === "score" && typeof model.score !== "function") {
    throw new LlmError(
      "unsupported",
      `${model.id} cannot score text (no log-likelihoods); use prior=choice or prior=uniform`,
    );
  }
  const simulator = createExactRoles(domain, { rank: "none" });
  const groundingOf = groundingCache(domain);
  const examples = solvedExamples(domain, vocabulary, shots);
  const counts: LlmRoleCounts = {
    scoreCalls: 0,
    choiceCalls: 0,
    choiceFailures: 0,
    predictCalls: 0,
    fallbacks: {},
  };
  const signalOf = (ctx: RoleContext) => (ctx.signal ? { signal: ctx.signal } : {});
  const legal = (state: BlocksWorldState, breadth: number) =>
    applicableOperators(groundingOf(state).operators, state.atoms)
      .map((op) => op.action)
      .slice(0, breadth);

  async function weights(state: BlocksWorldState, actions: readonly GroundAction[], ctx: RoleContext) {
    if (actions.length <= 1 || priorMode === "uniform") return actions.map(() => 1);
    if (priorMode === "score") await confirmScoring(ctx);
    if (priorMode === "score") {
      const score = model.score;
      if (!score) return actions.map(() => 1);
      const prefix = priorPrompt(vocabulary, examples, state);
      const logits = await Promise.all(
        actions.map((a) => {
          counts.scoreCalls += 1;
          return score
            .call(model, prefix, priorContinuation(vocabulary, a), signalOf(ctx))
            .then((r) => r.logprob);
        }),
      );
      return softmax(logits);
    }
    const texts = actions.map((a) => renderAction(vocabulary, a));
    counts.choiceCalls += 1;
    try {
      const { object } = await generateObject(model, {
        messages: [{ role: "user", content: choicePrompt(vocabulary, state, actions) }],
        schema: z.object({ action: z.enum(texts as [string, ...string[]]) }),
        name: "action",
        temperature: 0,
        maxTokens: 100,
        ...signalOf(ctx),
      });
      const n = actions.length;
      return texts.map((t) => (t === object.action ? 0.5 + 0.5 / n : 0.5 / n));
    } catch (error) {
      if (!(error instanceof LlmError) || !ANSWER_ERRORS.has(error.category)) throw error;
      counts.choiceFailures += 1;
      return actions.map(() => 1);
    }
  }

  const elite: WeighingElite<BlocksWorldState, GroundAction> = {
    async propose(state, breadth) {
      return legal(state, breadth);
    },
    async proposeWithPriors(state, breadth, ctx) {
      const actions = legal(state, breadth);
      const w = await weights(state, actions, ctx);
      return actions.map((action, i) => ({ action, prior: w[i] ?? 0 }));
    },
  };

  const asked = new Map<string, Promise<Prediction<BlocksWorldState>>>();
  async function predict(
    state: BlocksWorldState,
    action: GroundAction,
    ctx: RoleContext,
  ): Promise<Prediction<BlocksWorldState>> {
    counts.predictCalls += 1;
    const result = await model.generate({
      messages: [{ role: "user", content: predictPrompt(vocabulary, state, action) }],
      temperature: 0,
      maxTokens,
      ...signalOf(ctx),
    });
    const choice = result.choices[0];
    let failure: ModelFailure | undefined;
    if (!choice || choice.finishReason === "length") failure = "state_truncated";
    else {
      const parsed = parseStateText(choice.text, {
        vocabulary,
        objects: state.objects.map((o) => o.name),
      });
      if (parsed.ok) return outcome({ ...state, atoms: makeState(parsed.value) });
      failure = parsed.category as ModelFailure;
    }
    counts.fallbacks[failure] = (counts.fallbacks[failure] ?? 0) + 1;
    return simulator.model.predict(state, action, ctx);
  }

  return {
    get priorMode() {
      return priorMode;
    },
    counts,
    elite,
    model: {
      predict(state, action, ctx) {
        const key = edgeKey(state, action);
        let p = asked.get(key);
        if (!p) {
          p = predict(state, action, ctx);
          asked.set(key, p);
          // A failed call (transport, budget) is not an answer: ask again next time.
          p.catch(() => asked.delete(key));
        }
        return p;
      },
    },
    critic: {
      async value(state) {
        return goalReward(state.atoms, state.goal);
      },
    },
  };
}
