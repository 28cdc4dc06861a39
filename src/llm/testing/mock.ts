import { abortableSleep, LlmError } from "../errors.ts";
import type { Capabilities, Choice, GenerateRequest, GenerateResult, LanguageModel } from "../types.ts";

export interface MockCall {
  readonly request: GenerateRequest;
}

/** What the mock answers for one sample: text, or an error to throw for the whole call. */
export type MockReply = string | LlmError;

export interface MockModelOptions {
  id?: string;
  endpoint?: string;
  /**
   * Produces the text of sample `index` for a request (default: echoes the last message and the index).
   * Return an `LlmError` to make the whole call fail.
   */
  respond?: (request: GenerateRequest, index: number, callNumber: number) => MockReply;
  capabilities?: Partial<Capabilities>;
  /** Simulated latency per call, in milliseconds (abortable). */
  latencyMs?: number;
}

/**
 * Tokens charged per call: input = message characters / 4, output = text characters / 4, rounded up.
 *
 * A deterministic in-process model for tests and examples (like the Vercel AI SDK's mock model): records every
 * call, answers from a function, charges a simple token count, and honours abort signals.
 */
export class MockLanguageModel implements LanguageModel {
  readonly id: string;
  readonly provider = "mock";
  readonly endpoint: string;
  readonly calls: MockCall[] = [];
  private readonly options: MockModelOptions;

  constructor(options: MockModelOptions = {}) {
    this.options = options;
    this.id = options.id ?? "mock:echo";
    this.endpoint = options.endpoint ?? "mock://local";
  }

  async capabilities(): Promise<Capabilities> {
    return {
      jsonSchema: false,
      grammar: false,
      logprobs: false,
      multipleSamples: true,
      seed: true,
      score: false,
      ...this.options.capabilities,
    };
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const callNumber = this.calls.length;
    this.calls.push({ request });
    const started = performance.now();
    if (this.options.latencyMs) await abortableSleep(this.options.latencyMs, request.signal);
    if (request.signal?.aborted) throw new LlmError("aborted", "the call was aborted");
    const n = request.n ?? 1;
    const first = request.sampleIndex ?? 0;
    const choices: Choice[] = [];
    for (let i = 0; i < n; i++) {
      const reply = this.options.respond
        ? this.options.respond(request, first + i, callNumber)
        : `echo[${first + i}]: ${request.messages.at(-1)?.content ?? ""}`;
      if (reply instanceof LlmError) throw reply;
      choices.push({ index: first + i, text: reply, finishReason: "stop" });
    }
    const inputChars = request.messages.reduce((s, m) => s + m.content.length, 0);
    const outputChars = choices.reduce((s, c) => s + c.text.length, 0);
    return {
      model: this.id,
      choices,
      usage: { inputTokens: Math.ceil(inputChars / 4), outputTokens: Math.ceil(outputChars / 4) },
      latencyMs: performance.now() - started,
    };
  }
}

/**
 * A model that only scores: `logprob(prefix, continuation)` gives the log-likelihood (an exact twin reading its
 * answer off the prompt, in tests of code that reads distributions through `score`).
 */
export function scoringModel(logprob: (prefix: string, continuation: string) => number): LanguageModel {
  return {
    id: "scoring-mock",
    provider: "mock",
    endpoint: "mock",
    generate: () => Promise.reject(new Error("scoringModel only scores")),
    capabilities: () => Promise.reject(new Error("scoringModel only scores")),
    score: (prefix, continuation) => Promise.resolve({ logprob: logprob(prefix, continuation), tokens: [] }),
  };
}
