/**
 * A local GGUF model run in-process by llama.cpp (through `node-llama-cpp`, an optional peer dependency loaded
 * only when a model is first used).
 *
 * Semantics a caller can rely on:
 *
 * - **Prompt.** When the GGUF has a chat template (`tokenizer.chat_template`), messages are rendered through it
 *   (node-llama-cpp's `resolveChatWrapper`). Otherwise a plain fallback is used — see `FALLBACK_TEMPLATE` — and
 *   generation also stops at a new turn header (`"\n### "`). `score` and `nextTokenDistribution` take raw text,
 *   no template. A BOS token is prepended whenever the model asks for one and the template did not write it.
 * - **Sampling.** Done natively by llama.cpp: logits → (grammar) → top-p → temperature → draw. No top-k, no
 *   min-p, no repeat penalty. `temperature` defaults to 1; 0 means greedy. `topP` defaults to 1 (off).
 * - **Seeds.** Sample k (k = `sampleIndex + i`) draws with seed `(seed + k) mod 2^32`, so sample k of a prompt is
 *   the same whether it was asked for alone or as part of a batch. Without `seed` every sample is fresh.
 * - **Samples in parallel.** The n samples run on separate sequences of one llama.cpp context and are evaluated in
 *   shared batches; at most `maxParallel` sequences exist, further samples and concurrent calls wait for one.
 * - **Log-probabilities** are natural logs under the model's *raw* next-token distribution — temperature 1, no
 *   top-p, no grammar mask — i.e. log p_model(token | everything before it). This is what `score` returns, so the
 *   two agree, and it is the quantity a critic or a posterior wants; it is not the probability of the draw under
 *   the modified sampling distribution. They are computed by re-evaluating the chosen tokens after sampling.
 *   They cover the tokens of the returned text (tokens lying wholly after a stop string are dropped).
 * - **Usage.** `inputTokens` is the prompt's token count (counted once, however many samples); `outputTokens`
 *   counts every token generated across samples, including those of a stop string that was cut from the text;
 *   the end-of-generation token that ends a sample is not a token of the text and is not counted.
 * - **Finish.** `length` when `maxTokens` (or the context) ran out, else `stop` (end-of-generation token, stop
 *   string, or end of the grammar).
 * - **Structured output.** `responseFormat` becomes a grammar through node-llama-cpp's JSON-schema converter,
 *   which knows a subset of JSON Schema and ignores the rest (e.g. `minimum`); `anyOf` is passed as `oneOf` (see
 *   `grammarSchema`). Its `integer` admits an exponent, so a grammar-valid answer can still fail validation
 *   (`generateObject` validates either way).
 */
import { open, stat } from "node:fs/promises";
import os from "node:os";
import type {
  ChatHistoryItem,
  ChatWrapper,
  ControlledEvaluateInputItem,
  GbnfJsonSchema,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
  LlamaText,
  Token,
} from "node-llama-cpp";
import { z } from "zod";
import { LlmError } from "../errors.ts";
import { readGgufFile } from "../llamacpp/gguf.ts";
import type {
  Capabilities,
  ChatMessage,
  Choice,
  FinishReason,
  GenerateRequest,
  GenerateResult,
  JsonSchema,
  LanguageModel,
  ScoreResult,
  TokenLogprob,
} from "../types.ts";

type NodeLlamaCpp = typeof import("node-llama-cpp");

export interface LlamaCppModelOptions {
  /** Path of the `.gguf` file. */
  readonly modelPath: string;
  /** Tokens per sequence (default: the model's trained context, at most 4096). */
  readonly contextSize?: number;
  /** `false` (default): CPU only. `"auto"`: let node-llama-cpp pick a GPU backend if one is usable. */
  readonly gpu?: false | "auto";
  /**
   * CPU threads (default: the cores llama.cpp counts as useful for math — physical cores, without SMT siblings —
   * but never more than `os.availableParallelism()`). node-llama-cpp's own default on a CPU is at least 4, which
   * oversubscribes small machines: see `describe().threads`.
   */
  readonly threads?: number;
  /** A LoRA adapter (GGUF) applied on top of the model, e.g. one a `command:` trainer produced. */
  readonly lora?: string;
  /** Sequences in the context, i.e. samples evaluated in parallel (default 4). */
  readonly maxParallel?: number;
  /** Model spec (default `llamacpp:<modelPath>`). */
  readonly id?: string;
}

/** One entry of a full next-token distribution. */
export interface TokenProbability {
  readonly id: number;
  readonly token: string;
  /** Natural log of the raw model probability. */
  readonly logprob: number;
}

/** The outcome of one real call made by `check()`: `detail` says what came back, or why it failed. */
export interface LlamaCppCheck {
  readonly ok: boolean;
  readonly detail: string;
}

/** What a loaded GGUF model is, as llama.cpp sees it. */
export interface LlamaCppDescription {
  readonly path: string;
  readonly sizeBytes: number;
  /** `general.architecture`, e.g. `llama`. */
  readonly architecture: string;
  /** `general.name`, when the file has one. */
  readonly name: string | undefined;
  readonly context: {
    /** Tokens per sequence of the context llama.cpp created. */
    readonly size: number;
    readonly sequences: number;
    /** The context length the model was trained with (`<arch>.context_length`). */
    readonly trained: number;
  };
  readonly vocabulary: {
    /** Tokens in the GGUF vocabulary (`tokenizer.ggml.tokens`); undefined when the file has no token list. */
    readonly size: number | undefined;
    /** llama.cpp's vocabulary type: `spm`, `bpe`, `wpm`, `ugm`, … */
    readonly type: string;
    /** `tokenizer.ggml.model`, e.g. `llama` or `gpt2`. */
    readonly tokenizer: string | undefined;
    /** Text of the BOS / EOS token, null when the model has none. */
    readonly bos: string | null;
    readonly eos: string | null;
    /** Whether prompts get a BOS token prepended. */
    readonly addsBos: boolean;
  };
  readonly chatTemplate: {
    /** Whether the GGUF has `tokenizer.chat_template` (otherwise `FALLBACK_TEMPLATE` is used). */
    readonly present: boolean;
    /** node-llama-cpp's chat wrapper for it, e.g. `JinjaTemplate`. */
    readonly wrapper: string | undefined;
  };
  readonly threads: {
    /** Threads llama.cpp's context holds (`llama_n_threads`), i.e. the number really used. */
    readonly used: number;
    /** `option`: `threads` / `?threads=`; `default`: min(cpuMathCores, availableParallelism). */
    readonly source: "option" | "default";
    /** Cores llama.cpp counts as useful for math (`common_cpu_get_num_math`). */
    readonly cpuMathCores: number;
    readonly availableParallelism: number;
  };
  /** The GPU backend in use, or false for CPU only. */
  readonly gpu: string | false;
}

/** What `check()` measured with real calls. */
export interface LlamaCppChecks {
  /** A tiny generation under a JSON-schema grammar: does the answer parse and validate? */
  readonly grammar: LlamaCppCheck;
  /** One `score()` call: is the log-likelihood finite and ≤ 0? */
  readonly score: LlamaCppCheck;
}

/**
 * The prompt format for models without a chat template. Each message becomes `### <Role>:\n<content>\n\n`
 * (roles `System`, `User`, `Assistant`), and the prompt ends with `### Assistant:\n`. A final assistant message is
 * a prefill: it is rendered without the trailing blank line and the model continues it.
 */
export const FALLBACK_TEMPLATE = {
  header: (role: ChatMessage["role"]) =>
    `### ${role === "system" ? "System" : role === "user" ? "User" : "Assistant"}:\n`,
  separator: "\n\n",
  stop: "\n### ",
} as const;

/** Render messages with the fallback template (exported so tests and tools can reproduce the prompt). */
export function renderFallbackChat(messages: readonly ChatMessage[]): string {
  let text = "";
  for (const [i, m] of messages.entries()) {
    const last = i === messages.length - 1;
    text += FALLBACK_TEMPLATE.header(m.role) + m.content;
    if (!(last && m.role === "assistant")) text += FALLBACK_TEMPLATE.separator;
  }
  if (messages.at(-1)?.role !== "assistant") text += FALLBACK_TEMPLATE.header("assistant");
  return text;
}

interface Loaded {
  readonly lib: NodeLlamaCpp;
  readonly llama: Llama;
  readonly model: LlamaModel;
  readonly context: LlamaContext;
  readonly pool: SequencePool;
  /** The model's own chat template, when it has one (resolved once: Jinja templates are parsed). */
  readonly chatWrapper: ChatWrapper | undefined;
  readonly sizeBytes: number;
  readonly threadsSource: "option" | "default";
}

interface RenderedPrompt {
  readonly text: string;
  readonly tokens: Token[];
  /** Plain-text stop strings implied by the template. */
  readonly stopTexts: string[];
  /** Token sequences (special tokens) that end a turn. */
  readonly stopTokens: Token[][];
}

interface SampleOutcome {
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly generatedTokens: number;
  readonly logprobs: TokenLogprob[] | undefined;
}

const CAPABILITIES: Capabilities = Object.freeze({
  jsonSchema: false,
  grammar: true,
  logprobs: true,
  multipleSamples: true,
  seed: true,
  score: true,
});

const MAX_CACHED_GRAMMARS = 64;

/** The grammar check of `check()`: an enum and a boolean, so every grammar-valid answer also validates. */
const CHECK_ANSWER = z.strictObject({ answer: z.enum(["yes", "no"]), sure: z.boolean() });
const CHECK_SCHEMA: JsonSchema = z.toJSONSchema(CHECK_ANSWER, { target: "draft-2020-12" });
/** Room for `{"answer": "yes", "sure": false}` one byte per token, plus whitespace the grammar allows. */
const CHECK_MAX_TOKENS = 96;

export class LlamaCppModel implements LanguageModel {
  readonly id: string;
  readonly provider = "llamacpp";
  readonly endpoint: string;
  private readonly options: LlamaCppModelOptions;
  private loading: Promise<Loaded> | undefined;
  /** Aborted by `close()`: every running call stops at its next token. */
  private readonly lifetime = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private closing: Promise<void> | undefined;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly tokenLabels = new Map<number, string>();
  /** Recent llama.cpp warnings and errors, quoted in load failures (the library never prints). */
  private readonly engineLog: string[] = [];

  constructor(options: LlamaCppModelOptions) {
    const maxParallel = options.maxParallel ?? 4;
    if (!Number.isInteger(maxParallel) || maxParallel < 1) {
      throw new LlmError("bad_request", `maxParallel must be a positive integer, got ${maxParallel}`);
    }
    if (
      options.contextSize !== undefined &&
      !(Number.isInteger(options.contextSize) && options.contextSize > 0)
    ) {
      throw new LlmError("bad_request", `contextSize must be a positive integer, got ${options.contextSize}`);
    }
    if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads > 0)) {
      throw new LlmError("bad_request", `threads must be a positive integer, got ${options.threads}`);
    }
    this.options = { ...options, maxParallel };
    this.id = options.id ?? `llamacpp:${options.modelPath}`;
    this.endpoint = options.modelPath;
  }

  /**
   * Loads the model first, so a missing or corrupt file fails here (`bench` asks before it creates a run folder);
   * what llama.cpp then supports does not depend on the file. `check()` makes real calls.
   */
  async capabilities(options: { signal?: AbortSignal } = {}): Promise<Capabilities> {
    await this.run(options.signal, undefined, () => this.load());
    return CAPABILITIES;
  }

  /** Load the model and report what llama.cpp made of it (a file that cannot be loaded throws, as every call does). */
  async describe(options: { signal?: AbortSignal } = {}): Promise<LlamaCppDescription> {
    const loaded = await this.run(options.signal, undefined, () => this.load());
    const { model, context, llama } = loaded;
    const metadata = model.fileInfo.metadata;
    const tokens: unknown = metadata.tokenizer?.ggml?.tokens;
    const tokenizerModel: unknown = metadata.tokenizer?.ggml?.model;
    const name: unknown = metadata.general?.name;
    return {
      path: this.options.modelPath,
      sizeBytes: loaded.sizeBytes,
      architecture: String(model.architecture),
      name: typeof name === "string" ? name : undefined,
      context: {
        size: context.contextSize,
        sequences: context.totalSequences,
        trained: model.trainContextSize,
      },
      vocabulary: {
        size: Array.isArray(tokens) ? tokens.length : undefined,
        type: String(model.vocabularyType),
        tokenizer: typeof tokenizerModel === "string" ? tokenizerModel : undefined,
        bos: model.tokens.bosString,
        eos: model.tokens.eosString,
        addsBos: model.tokens.shouldPrependBosToken,
      },
      chatTemplate: { present: loaded.chatWrapper !== undefined, wrapper: loaded.chatWrapper?.wrapperName },
      threads: {
        used: context.currentThreads,
        source: loaded.threadsSource,
        cpuMathCores: llama.cpuMathCores,
        availableParallelism: os.availableParallelism(),
      },
      gpu: llama.gpu,
    };
  }

  /**
   * Make one grammar-constrained generation and one `score()` call and say what they gave. A check that fails is
   * reported (`ok: false` and why), not thrown.
   */
  async check(options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<LlamaCppChecks> {
    return { grammar: await this.checkGrammar(options), score: await this.checkScore(options) };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const started = performance.now();
    const params = validateRequest(request);
    return this.run(request.signal, request.timeoutMs, async (signal) => {
      const loaded = await this.load();
      throwIfAborted(signal);
      const prompt = this.render(loaded, request.messages);
      const contextSize = loaded.context.contextSize;
      if (prompt.tokens.length >= contextSize) {
        throw new LlmError(
          "context_length",
          `the prompt has ${prompt.tokens.length} tokens; the context holds ${contextSize}`,
        );
      }
      const grammar = request.responseFormat
        ? await this.grammarFor(loaded, request.responseFormat.schema)
        : undefined;
      throwIfAborted(signal);

      // A failing sample stops its siblings, and every sample settles (releasing its sequence) before we return.
      const siblings = new AbortController();
      const sampleSignal = AbortSignal.any([signal, siblings.signal]);
      let firstError: unknown;
      const first = request.sampleIndex ?? 0;
      const settled = await Promise.allSettled(
        Array.from({ length: params.n }, (_, i) =>
          this.sample(loaded, prompt, grammar, params, first + i, sampleSignal).catch((error: unknown) => {
            if (firstError === undefined) firstError = error;
            siblings.abort();
            throw error;
          }),
        ),
      );
      if (firstError !== undefined) throw firstError;

      const choices: Choice[] = [];
      let outputTokens = 0;
      for (const [i, result] of settled.entries()) {
        if (result.status !== "fulfilled") throw result.reason;
        const o = result.value;
        outputTokens += o.generatedTokens;
        choices.push({
          index: first + i,
          text: o.text,
          finishReason: o.finishReason,
          ...(o.logprobs !== undefined ? { logprobs: o.logprobs } : {}),
        });
      }
      return {
        model: this.id,
        choices,
        usage: { inputTokens: prompt.tokens.length, outputTokens },
        latencyMs: performance.now() - started,
        ...(request.responseFormat ? { structuredMode: "grammar" as const } : {}),
      };
    });
  }

  /** Exact log-likelihood of `continuation` after the raw text `prefix` (no chat template). */
  async score(
    prefix: string,
    continuation: string,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<ScoreResult> {
    return this.run(options.signal, options.timeoutMs, async (signal) => {
      const loaded = await this.load();
      throwIfAborted(signal);
      const context = this.tokenizeRaw(loaded, prefix);
      if (context.length === 0) {
        throw new LlmError(
          "bad_request",
          "score needs a non-empty prefix: this model has no BOS token to start from",
        );
      }
      const targets = this.continuationTokens(loaded, prefix, continuation, context);
      if (context.length + targets.length > loaded.context.contextSize) {
        throw new LlmError(
          "context_length",
          `prefix and continuation have ${context.length + targets.length} tokens; the context holds ${loaded.context.contextSize}`,
        );
      }
      if (targets.length === 0) return { logprob: 0, tokens: [] };
      const seq = await loaded.pool.acquire(signal, context);
      try {
        const tokens = await this.scoreTokens(loaded, seq, context, targets, 0, signal);
        return { logprob: tokens.reduce((s, t) => s + t.logprob, 0), tokens };
      } finally {
        loaded.pool.release(seq);
      }
    });
  }

  /**
   * The model's full raw next-token distribution after the raw text `text` (no chat template), most likely first:
   * one entry per vocabulary token, natural logs normalised in double precision.
   */
  async nextTokenDistribution(
    text: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<TokenProbability[]> {
    return this.run(options.signal, undefined, async (signal) => {
      const loaded = await this.load();
      throwIfAborted(signal);
      const tokens = this.tokenizeRaw(loaded, text);
      if (tokens.length === 0) {
        throw new LlmError(
          "bad_request",
          "nextTokenDistribution needs non-empty text: this model has no BOS token",
        );
      }
      if (tokens.length >= loaded.context.contextSize) {
        throw new LlmError(
          "context_length",
          `the text has ${tokens.length} tokens; the context holds ${loaded.context.contextSize}`,
        );
      }
      const seq = await loaded.pool.acquire(signal, tokens);
      try {
        const keep = await alignSequence(seq, tokens, tokens.length - 1);
        const last = tokens[tokens.length - 1];
        if (last === undefined) throw new LlmError("bad_request", "nothing to evaluate");
        const input: ControlledEvaluateInputItem[] = tokens.slice(keep, -1);
        const lastIndex = input.length;
        input.push([last, { generateNext: { logits: true } }]);
        const output = await seq.controlledEvaluate(input);
        throwIfAborted(signal);
        const logits = output[lastIndex]?.next.logits;
        if (logits === undefined)
          throw new LlmError("server", "llama.cpp returned no logits", { retryable: false });
        let max = Number.NEGATIVE_INFINITY;
        for (const v of logits.values()) if (v > max) max = v;
        let sum = 0;
        for (const v of logits.values()) sum += Math.exp(v - max);
        const lse = max + Math.log(sum);
        const out: TokenProbability[] = [];
        for (const [id, v] of logits) out.push({ id, token: this.label(loaded, id), logprob: v - lse });
        return out.sort((a, b) => b.logprob - a.logprob || a.id - b.id);
      } finally {
        loaded.pool.release(seq);
      }
    });
  }

  /** The prompt text `generate` would feed the model for these messages (special tokens shown as text). */
  async renderChat(messages: readonly ChatMessage[]): Promise<string> {
    return this.run(undefined, undefined, async () => this.render(await this.load(), messages).text);
  }

  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.lifetime.abort();
      await Promise.allSettled([...this.running]);
      const loaded = await this.loading?.catch(() => undefined);
      this.grammars.clear();
      if (loaded !== undefined && !loaded.llama.disposed) await loaded.llama.dispose();
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------------------------

  /** Runs one public call: links the caller's signal, timeout and `close()`, and maps every failure to `LlmError`. */
  private async run<T>(
    userSignal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    body: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    if (this.closing !== undefined) throw new LlmError("bad_request", `model ${this.id} is closed`);
    // AbortSignal.timeout takes whole milliseconds only.
    const timeout = timeoutMs !== undefined ? AbortSignal.timeout(Math.ceil(timeoutMs)) : undefined;
    const signals = [this.lifetime.signal];
    if (userSignal !== undefined) signals.push(userSignal);
    if (timeout !== undefined) signals.push(timeout);
    const signal = AbortSignal.any(signals);
    const task = (async () => {
      try {
        throwIfAborted(signal);
        return await body(signal);
      } catch (error) {
        if (signal.aborted) {
          if (this.lifetime.signal.aborted)
            throw new LlmError("aborted", `model ${this.id} was closed`, { cause: error });
          if (userSignal?.aborted) throw new LlmError("aborted", "the call was aborted", { cause: error });
          if (timeout?.aborted)
            throw new LlmError("timeout", `no answer within ${timeoutMs} ms`, { cause: error });
        }
        if (error instanceof LlmError) throw error;
        throw new LlmError("server", `llama.cpp failed: ${firstLine(error)}`, {
          cause: error,
          retryable: false,
        });
      }
    })();
    this.running.add(task);
    try {
      return await task;
    } finally {
      this.running.delete(task);
    }
  }

  private async checkGrammar(calls: { signal?: AbortSignal; timeoutMs?: number }): Promise<LlamaCppCheck> {
    try {
      const result = await this.generate({
        messages: [{ role: "user", content: 'Answer in JSON, e.g. {"answer": "yes", "sure": true}.' }],
        responseFormat: { type: "json_schema", name: "doctor_check", schema: CHECK_SCHEMA },
        temperature: 0,
        seed: 0,
        maxTokens: CHECK_MAX_TOKENS,
        ...calls,
      });
      const choice = result.choices[0];
      const text = choice?.text ?? "";
      const quoted = JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
      if (choice?.finishReason === "length") {
        return { ok: false, detail: `the answer did not end within ${CHECK_MAX_TOKENS} tokens: ${quoted}` };
      }
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false, detail: `the answer is not JSON: ${quoted}` };
      }
      const parsed = CHECK_ANSWER.safeParse(value);
      if (!parsed.success) return { ok: false, detail: `the answer does not match the schema: ${quoted}` };
      return {
        ok: true,
        detail: `${JSON.stringify(parsed.data)} parses and validates (${result.usage.outputTokens} tokens)`,
      };
    } catch (error) {
      return { ok: false, detail: firstLine(error) };
    }
  }

  private async checkScore(calls: { signal?: AbortSignal; timeoutMs?: number }): Promise<LlamaCppCheck> {
    const prefix = "The answer is";
    const continuation = " yes";
    try {
      const result = await this.score(prefix, continuation, calls);
      const finite =
        Number.isFinite(result.logprob) &&
        result.logprob <= 0 &&
        result.tokens.every((t) => Number.isFinite(t.logprob) && t.logprob <= 0);
      const what = `log p(${JSON.stringify(continuation)} | ${JSON.stringify(prefix)}) = ${result.logprob.toFixed(3)} over ${result.tokens.length} tokens`;
      if (result.tokens.length === 0) return { ok: false, detail: `${what}: nothing was scored` };
      return finite
        ? { ok: true, detail: what }
        : { ok: false, detail: `${what}: not a finite log-probability` };
    } catch (error) {
      return { ok: false, detail: firstLine(error) };
    }
  }

  private load(): Promise<Loaded> {
    if (this.loading === undefined) {
      const loading = this.loadOnce();
      this.loading = loading;
      // A failed load is not remembered: the file may exist next time.
      loading.catch(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    }
    return this.loading;
  }

  private async loadOnce(): Promise<Loaded> {
    const path = this.options.modelPath;
    let lib: NodeLlamaCpp;
    try {
      lib = await import("node-llama-cpp");
    } catch (error) {
      throw new LlmError("unsupported", "node-llama-cpp is not installed; run: npm install node-llama-cpp", {
        cause: error,
      });
    }
    const sizeBytes = await checkModelFile(path);

    let llama: Llama;
    try {
      llama = await lib.getLlama({
        gpu: this.options.gpu ?? false,
        // A library must never compile llama.cpp behind the user's back: prebuilt binaries or nothing.
        build: "never",
        logLevel: lib.LlamaLogLevel.warn,
        logger: (_level, message) => {
          this.engineLog.push(message.trim());
          if (this.engineLog.length > 20) this.engineLog.shift();
        },
      });
    } catch (error) {
      throw new LlmError("unsupported", `cannot start llama.cpp: ${firstLine(error)}`, { cause: error });
    }
    // node-llama-cpp's CPU default is max(4, math cores) — 4 threads on a 2-core machine, where every token then
    // waits for threads that have no core to run on. Math cores are physical cores (no SMT siblings); a
    // container may give the process fewer CPUs than the machine has.
    const threads =
      this.options.threads ?? Math.max(1, Math.min(llama.cpuMathCores, os.availableParallelism()));
    // The context's `threads` is what llama.cpp is given; `maxThreads` caps what the Llama instance's thread
    // splitter allows all its contexts together, and would otherwise clamp an explicit `threads` above 4.
    llama.maxThreads = threads;
    try {
      let model: LlamaModel;
      try {
        model = await llama.loadModel({ modelPath: path });
      } catch (error) {
        // llama.cpp's log lines arrive through a thread-safe callback, after the rejection: let them in.
        await new Promise((resolve) => setImmediate(resolve));
        const reason = loadFailureReason(this.engineLog) ?? firstLine(error);
        throw new LlmError("bad_request", `model file ${path} could not be loaded: ${reason}`, {
          cause: error,
        });
      }
      const maxParallel = this.options.maxParallel ?? 4;
      let context: LlamaContext;
      try {
        context = await model.createContext({
          contextSize: this.options.contextSize ?? Math.min(model.trainContextSize || 4096, 4096),
          sequences: maxParallel,
          threads,
          ...(this.options.lora !== undefined
            ? { lora: { adapters: [{ filePath: this.options.lora }] } }
            : {}),
        });
      } catch (error) {
        throw new LlmError("bad_request", `cannot create a context for ${path}: ${firstLine(error)}`, {
          cause: error,
        });
      }
      const sequences = Array.from({ length: maxParallel }, () => context.getSequence());
      const template = model.fileInfo.metadata.tokenizer?.chat_template;
      const hasTemplate = typeof template === "string" && template.trim() !== "";
      return {
        lib,
        llama,
        model,
        context,
        pool: new SequencePool(sequences),
        chatWrapper: hasTemplate ? lib.resolveChatWrapper(model) : undefined,
        sizeBytes,
        threadsSource: this.options.threads !== undefined ? "option" : "default",
      };
    } catch (error) {
      await llama.dispose();
      throw error;
    }
  }

  private render(loaded: Loaded, messages: readonly ChatMessage[]): RenderedPrompt {
    const { model, chatWrapper } = loaded;
    if (chatWrapper === undefined) {
      const text = renderFallbackChat(messages);
      return {
        text,
        tokens: this.tokenizeRaw(loaded, text),
        stopTexts: [FALLBACK_TEMPLATE.stop],
        stopTokens: [],
      };
    }
    const history: ChatHistoryItem[] = messages.map((m) =>
      m.role === "system"
        ? { type: "system", text: m.content }
        : m.role === "user"
          ? { type: "user", text: m.content }
          : { type: "model", response: [m.content] },
    );
    // The wrapper renders the last model turn open-ended: an empty one is the generation prompt.
    if (messages.at(-1)?.role !== "assistant") history.push({ type: "model", response: [] });
    const state = chatWrapper.generateContextState({ chatHistory: history });
    const stopTexts: string[] = [];
    const stopTokens: Token[][] = [];
    for (const trigger of state.stopGenerationTriggers) {
      if (isPlainText(trigger)) stopTexts.push(trigger.toString());
      else stopTokens.push(trigger.tokenize(model.tokenizer));
    }
    const tokens = state.contextText.tokenize(model.tokenizer);
    // As llama.cpp's server does: a template that does not write the BOS token still gets one if the model wants it.
    const bos = model.tokens.bos;
    if (model.tokens.shouldPrependBosToken && bos !== null && tokens[0] !== bos) tokens.unshift(bos);
    return { text: state.contextText.toString(), tokens, stopTexts, stopTokens };
  }

  /** BOS (when the model wants one) + the text tokenized as plain text: model output never becomes control tokens. */
  private tokenizeRaw(loaded: Loaded, text: string): Token[] {
    const { model } = loaded;
    const tokens = text === "" ? [] : model.tokenize(text, false);
    const bos = model.tokens.bos;
    return model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
  }

  /**
   * Tokens of `continuation` after `prefix`: the tail of tokenize(prefix + continuation) when tokenize(prefix) is
   * a prefix of it (so a word split at the boundary is scored as the model would read the joined text), else the
   * continuation tokenized alone.
   */
  private continuationTokens(
    loaded: Loaded,
    prefix: string,
    continuation: string,
    context: Token[],
  ): Token[] {
    if (continuation === "") return [];
    const joined = this.tokenizeRaw(loaded, prefix + continuation);
    if (joined.length > context.length && context.every((t, i) => joined[i] === t))
      return joined.slice(context.length);
    return loaded.model.tokenize(continuation, false, "trimLeadingSpace");
  }

  private async grammarFor(loaded: Loaded, schema: JsonSchema): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let grammar = this.grammars.get(key);
    if (grammar === undefined) {
      grammar = loaded.llama.createGrammarForJsonSchema<GbnfJsonSchema>(
        grammarSchema(schema) as unknown as GbnfJsonSchema,
      );
      this.grammars.set(key, grammar);
      grammar.catch(() => this.grammars.delete(key));
      if (this.grammars.size > MAX_CACHED_GRAMMARS) {
        const oldest = this.grammars.keys().next().value;
        if (oldest !== undefined) this.grammars.delete(oldest);
      }
    }
    try {
      return await grammar;
    } catch (error) {
      throw new LlmError("unsupported", `cannot turn the JSON schema into a grammar: ${firstLine(error)}`, {
        cause: error,
      });
    }
  }

  private async sample(
    loaded: Loaded,
    prompt: RenderedPrompt,
    grammar: LlamaGrammar | undefined,
    params: RequestParams,
    sampleIndex: number,
    signal: AbortSignal,
  ): Promise<SampleOutcome> {
    const { model, lib } = loaded;
    const seq = await loaded.pool.acquire(signal, prompt.tokens);
    try {
      const keep = await alignSequence(seq, prompt.tokens, prompt.tokens.length - 1);
      const room = seq.contextSize - prompt.tokens.length;
      const limit = Math.min(params.maxTokens ?? room, room);
      const stopTexts = [...params.stop, ...prompt.stopTexts, ...(grammar ? grammarStops(grammar) : [])];
      const generated: Token[] = [];
      let finishReason: FinishReason = "stop";
      let cut: number | undefined;
      let stopTokenCount = 0;
      if (limit <= 0) finishReason = "length";
      else {
        const seed = params.seed !== undefined ? (params.seed + sampleIndex) >>> 0 : randomSeed();
        const iterator = seq.evaluate(prompt.tokens.slice(keep), {
          temperature: params.temperature,
          topP: params.topP,
          // node-llama-cpp defaults to top-k 40; 0 turns top-k off.
          topK: 0,
          minP: 0,
          seed,
          ...(grammar
            ? { grammarEvaluationState: new lib.LlamaGrammarEvaluationState({ model, grammar }) }
            : {}),
        });
        for await (const token of iterator) {
          generated.push(token);
          if (signal.aborted) break;
          const tokenStop = prompt.stopTokens.find((s) => s.length > 0 && endsWith(generated, s));
          if (tokenStop !== undefined) {
            stopTokenCount = tokenStop.length;
            break;
          }
          if (stopTexts.length > 0) {
            const text = model.detokenize(generated);
            const at = earliest(text, stopTexts);
            if (at !== undefined) {
              cut = at;
              break;
            }
          }
          if (generated.length >= limit) {
            finishReason = "length";
            break;
          }
        }
      }
      throwIfAborted(signal);

      let textTokens = generated.slice(0, generated.length - stopTokenCount);
      let text = model.detokenize(textTokens);
      if (cut !== undefined) {
        text = text.slice(0, cut);
        textTokens = tokensCovering(model, textTokens, text);
      }
      if (grammar?.trimWhitespaceSuffix) text = text.trimEnd();

      let logprobs: TokenLogprob[] | undefined;
      if (params.logprobsTop !== undefined) {
        logprobs =
          textTokens.length === 0
            ? []
            : await this.scoreTokens(loaded, seq, prompt.tokens, textTokens, params.logprobsTop, signal);
      }
      return { text, finishReason, generatedTokens: generated.length, logprobs };
    } finally {
      loaded.pool.release(seq);
    }
  }

  /**
   * Raw log p(target_j | context, target_<j) for each target, with the `top` most likely alternatives at each
   * position, in one batched evaluation. Each position asks llama.cpp for the target's logit, the top logits and
   * the total weight Σ exp(logit − max), so the vocabulary never crosses into JS.
   */
  private async scoreTokens(
    loaded: Loaded,
    seq: LlamaContextSequence,
    context: Token[],
    targets: Token[],
    top: number,
    signal: AbortSignal,
  ): Promise<TokenLogprob[]> {
    const all = [...context, ...targets];
    const firstPredicting = context.length - 1;
    const keep = await alignSequence(seq, all, firstPredicting);
    const input = all.slice(keep, all.length - 1).map((token, j): ControlledEvaluateInputItem => {
      const target = targets[keep + j - firstPredicting];
      if (target === undefined) return token;
      // includeTop ≥ 1 brings back the maximum logit, which the total weight is relative to.
      const logits = { filter: { tokens: [target], includeTop: Math.max(1, top) } };
      return [token, { generateNext: { logits, totalLogitWeight: true } }];
    });
    throwIfAborted(signal);
    const output = await seq.controlledEvaluate(input);
    throwIfAborted(signal);
    const result: TokenLogprob[] = [];
    for (const [t, target] of targets.entries()) {
      const next = output[firstPredicting - keep + t]?.next;
      const logit = next?.logits?.get(target);
      const weight = next?.totalLogitWeight;
      if (next?.logits === undefined || logit === undefined || weight === undefined) {
        throw new LlmError("server", "llama.cpp returned no logits for a scored position", {
          retryable: false,
        });
      }
      let max = Number.NEGATIVE_INFINITY;
      for (const v of next.logits.values()) if (v > max) max = v;
      const norm = max + Math.log(weight);
      const entry: { token: string; logprob: number; top?: { token: string; logprob: number }[] } = {
        token: this.label(loaded, target),
        logprob: logit - norm,
      };
      if (top > 0) {
        entry.top = [...next.logits.entries()]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .filter(([id], i, arr) => arr.findIndex(([other]) => other === id) === i)
          .slice(0, top)
          .map(([id, v]) => ({ token: this.label(loaded, id), logprob: v - norm }));
      }
      result.push(entry);
    }
    return result;
  }

  /** Display text of one token; control tokens show as their name (e.g. `</s>`). */
  private label(loaded: Loaded, id: Token): string {
    let text = this.tokenLabels.get(id);
    if (text === undefined) {
      text = loaded.model.detokenize([id], true);
      this.tokenLabels.set(id, text);
    }
    return text;
  }
}

// ---------------------------------------------------------------------------------------------------------------

interface RequestParams {
  readonly n: number;
  readonly temperature: number;
  readonly topP: number;
  readonly maxTokens: number | undefined;
  readonly stop: readonly string[];
  readonly seed: number | undefined;
  readonly logprobsTop: number | undefined;
}

function validateRequest(r: GenerateRequest): RequestParams {
  const bad = (message: string) => new LlmError("bad_request", message);
  const n = r.n ?? 1;
  if (!Number.isInteger(n) || n < 1) throw bad(`n must be a positive integer, got ${n}`);
  if (r.sampleIndex !== undefined && !(Number.isSafeInteger(r.sampleIndex) && r.sampleIndex >= 0)) {
    throw bad(`sampleIndex must be a non-negative integer, got ${r.sampleIndex}`);
  }
  const temperature = r.temperature ?? 1;
  if (!(Number.isFinite(temperature) && temperature >= 0))
    throw bad(`temperature must be >= 0, got ${temperature}`);
  const topP = r.topP ?? 1;
  if (!(topP > 0 && topP <= 1)) throw bad(`topP must be in (0, 1], got ${topP}`);
  if (r.maxTokens !== undefined && !(Number.isInteger(r.maxTokens) && r.maxTokens >= 0)) {
    throw bad(`maxTokens must be a non-negative integer, got ${r.maxTokens}`);
  }
  if (r.seed !== undefined && !Number.isSafeInteger(r.seed))
    throw bad(`seed must be an integer, got ${r.seed}`);
  const top = r.logprobs?.top;
  if (top !== undefined && !(Number.isInteger(top) && top >= 0))
    throw bad(`logprobs.top must be >= 0, got ${top}`);
  const stop = r.stop ?? [];
  if (stop.some((s) => s === "")) throw bad("stop strings must be non-empty");
  if (r.timeoutMs !== undefined && !(r.timeoutMs > 0)) throw bad(`timeoutMs must be > 0, got ${r.timeoutMs}`);
  return { n, temperature, topP, maxTokens: r.maxTokens, stop, seed: r.seed, logprobsTop: top };
}

/**
 * Hands out the context's sequences, one caller each; callers beyond the pool wait in order. A caller gets the
 * free sequence that already holds the longest prefix of its tokens, so repeated prompts skip re-evaluation.
 */
class SequencePool {
  private readonly free: LlamaContextSequence[];
  private readonly waiting: { grant: (seq: LlamaContextSequence) => void }[] = [];

  constructor(sequences: LlamaContextSequence[]) {
    this.free = sequences;
  }

  acquire(signal: AbortSignal, tokens: Token[]): Promise<LlamaContextSequence> {
    if (signal.aborted) return Promise.reject(signal.reason);
    if (this.free.length > 0) {
      let best = 0;
      let bestShared = -1;
      for (const [i, seq] of this.free.entries()) {
        const shared = seq.compareContextTokens(tokens).firstDifferentIndex;
        if (shared > bestShared) {
          best = i;
          bestShared = shared;
        }
      }
      const [seq] = this.free.splice(best, 1);
      if (seq !== undefined) return Promise.resolve(seq);
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: (seq: LlamaContextSequence) => {
          signal.removeEventListener("abort", onAbort);
          resolve(seq);
        },
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  release(seq: LlamaContextSequence): void {
    const next = this.waiting.shift();
    if (next !== undefined) next.grant(seq);
    else this.free.push(seq);
  }
}

/**
 * Make the sequence hold a prefix of `tokens` of length at most `maxKeep`, keeping whatever it already shares
 * with them; returns that length (the caller evaluates `tokens` from there).
 */
async function alignSequence(seq: LlamaContextSequence, tokens: Token[], maxKeep: number): Promise<number> {
  const keep = Math.max(0, Math.min(seq.compareContextTokens(tokens).firstDifferentIndex, maxKeep));
  if (seq.nextTokenIndex > keep)
    await seq.eraseContextTokenRanges([{ start: keep, end: seq.nextTokenIndex }]);
  return keep;
}

/**
 * The schema as node-llama-cpp's grammar converter should see it. The converter knows `oneOf` but silently turns
 * `anyOf` — what zod emits for unions — into `null`; for generating one value the two mean the same, so `anyOf`
 * becomes `oneOf`. Only schema positions are rewritten, never property names.
 */
export function grammarSchema(schema: unknown): unknown {
  if (!isRecord(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "properties" || key === "$defs" || key === "definitions") {
      out[key] = isRecord(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, grammarSchema(v)]))
        : value;
    } else if (key === "items" || key === "additionalProperties" || key === "not") {
      out[key] = grammarSchema(value);
    } else if (key === "anyOf" || key === "oneOf" || key === "allOf" || key === "prefixItems") {
      const name = key === "anyOf" && !("oneOf" in schema) ? "oneOf" : key;
      out[name] = Array.isArray(value) ? value.map(grammarSchema) : value;
    } else out[key] = value;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isPlainText(text: LlamaText): boolean {
  return text.values.every((v) => typeof v === "string");
}

/** node-llama-cpp's JSON grammars end with a run of newlines that marks the end of the object. */
function grammarStops(grammar: LlamaGrammar): string[] {
  const stops: string[] = [];
  for (const t of grammar.stopGenerationTriggers) {
    if (typeof t === "string") stops.push(t);
    else if (isLlamaTextLike(t) && isPlainText(t)) stops.push(t.toString());
    else if (Array.isArray(t) && t.every((v) => typeof v === "string")) stops.push(t.join(""));
  }
  return stops;
}

function isLlamaTextLike(value: unknown): value is LlamaText {
  return typeof value === "object" && value !== null && "values" in value && Array.isArray(value.values);
}

function endsWith(tokens: readonly Token[], suffix: readonly Token[]): boolean {
  if (suffix.length > tokens.length) return false;
  const offset = tokens.length - suffix.length;
  return suffix.every((t, i) => tokens[offset + i] === t);
}

function earliest(text: string, stops: readonly string[]): number | undefined {
  let best: number | undefined;
  for (const s of stops) {
    const at = text.indexOf(s);
    if (at >= 0 && (best === undefined || at < best)) best = at;
  }
  return best;
}

/**
 * The shortest prefix of `tokens` whose text starts with `text` (so a character split over several byte tokens
 * is covered by all of them, and a token straddling a stop string is kept).
 */
function tokensCovering(model: LlamaModel, tokens: Token[], text: string): Token[] {
  if (text === "") return [];
  for (let m = 1; m <= tokens.length; m++) {
    if (model.detokenize(tokens.slice(0, m)).startsWith(text)) return tokens.slice(0, m);
  }
  return tokens;
}

/**
 * Check that `path` is a readable file that starts with the GGUF magic; returns its size. Each failure is one
 * line naming the file and the reason.
 */
async function checkModelFile(path: string): Promise<number> {
  const fail = (category: "not_found" | "bad_request", reason: string, cause?: unknown) =>
    new LlmError(category, `model file ${path}: ${reason}`, { cause });
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw fail("bad_request", "not a file");
    size = info.size;
    const handle = await open(path, "r");
    try {
      const head = Buffer.alloc(4);
      const { bytesRead } = await handle.read(head, 0, 4, 0);
      if (bytesRead < 4 || head.toString("latin1") !== "GGUF") {
        throw fail("bad_request", `not a GGUF file (it does not start with "GGUF"; ${size} bytes)`);
      }
    } finally {
      await handle.close();
    }
    // The header, and whether the file holds all the tensor data it announces (the reader checks both): a cut-off
    // download or copy is named here, not deep inside llama.cpp's loader.
    try {
      await readGgufFile(path);
    } catch (error) {
      throw fail("bad_request", `not a valid GGUF file (${firstLine(error)})`, error);
    }
  } catch (error) {
    if (error instanceof LlmError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") throw fail("not_found", "no such file", error);
    throw fail("bad_request", `cannot be read (${firstLine(error)})`, error);
  }
  return size;
}

/**
 * The most telling llama.cpp log line of a failed load: the first error or failure that is not the generic
 * "failed to load model", without its `function_name: ` prefixes.
 */
function loadFailureReason(log: readonly string[]): string | undefined {
  for (const line of log) {
    if (!/error|fail|exceeds|invalid|corrupt/i.test(line)) continue;
    const text = line.replace(/^(?:\w+: )+(?:error loading model: )?(?:\w+: )*/, "").trim();
    if (text !== "" && !/^failed to load model\b/i.test(text)) return text;
  }
  return undefined;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new LlmError("aborted", "the call was aborted");
}

function randomSeed(): number {
  return Math.floor(Math.random() * 0x100000000);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n", 1)[0]?.trim() || "unknown error";
}
