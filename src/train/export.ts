/**
 * Kept trajectories as fine-tuning data, in three formats. Only the agent's turns are training targets:
 *
 * - `openai`: OpenAI chat fine-tuning JSONL, `{"messages": [...]}`. The agent's turns are `assistant` messages,
 *   each with `"weight": 1`; system and user messages are never trained on in that format, and API results are
 *   `user` messages, so they carry no loss either.
 * - `trl`: the conversational `{"messages": [...]}` JSONL Hugging Face TRL's SFTTrainer reads; set
 *   `assistant_only_loss=True` in `SFTConfig` so the loss covers `assistant` messages only (the agent's turns).
 * - `apibank`: API-Bank's own `{instruction, input, output}` records, one per agent turn (spec §1.3): the input is
 *   the dialogue up to that turn in the lv3 layout, the output the turn itself; an Alpaca-style trainer computes
 *   the loss on `output` tokens only.
 *
 * API results follow the agent's request as a user message `->result`: the continuation of API-Bank's
 * `API-Request: [...]->result` line. Agent reply text is stored without the `AI:` prefix (one is stripped if
 * present) and gets it back only in the API-Bank format, whose outputs carry it.
 */
import type { ApiSchema } from "../envs/apibank/data.ts";
import type { Instruction, TrainingSet } from "./instructions.ts";
import type { Trajectory } from "./trajectory.ts";

export type ExportFormat = "openai" | "trl" | "apibank";

export interface ChatMessage {
  readonly role: "system" | "user" | "assistant";
  readonly content: string;
  /** OpenAI format only: 1 marks a message trained on. */
  readonly weight?: 0 | 1;
}

export interface ApiBankSample {
  readonly instruction: string;
  readonly input: string;
  readonly output: string;
}

export const RESULT_PREFIX = "->";

function replyText(text: string): string {
  return text.replace(/^\s*AI:\s*/, "").trim();
}

/** The system message of the chat formats: the protocol, the time, and the API documents shown to the agent. */
export function systemPrompt(instruction: Instruction): string {
  return [
    "You are an AI assistant that can call APIs. To call one, answer with exactly",
    "API-Request: [ApiName(key1='value1', key2='value2', ...)]",
    `and its result comes back as the next message, starting with "${RESULT_PREFIX}". When you have what you need, answer the user directly.`,
    ...(instruction.time === undefined ? [] : [`The current time is ${instruction.time}.`]),
    "API descriptions:",
    ...instruction.docs.map((d) => JSON.stringify(d)),
  ].join("\n");
}

/** The trajectory as chat messages; `weight` marks the agent's turns when `weighted`. */
export function chatMessages(instruction: Instruction, t: Trajectory, weighted: boolean): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: "system", content: systemPrompt(instruction) }];
  for (const turn of t.turns) {
    if (turn.role === "user") messages.push({ role: "user", content: turn.text });
    else if (turn.role === "api") messages.push({ role: "user", content: `${RESULT_PREFIX}${turn.text}` });
    else {
      const content = turn.text.startsWith("API-Request") ? turn.text : replyText(turn.text);
      messages.push(weighted ? { role: "assistant", content, weight: 1 } : { role: "assistant", content });
    }
  }
  return messages;
}

/** Python `json.dumps` spacing (`", "`, `": "`), as the lv3 inputs print API documents. */
function pyJsonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${pyJsonDumps(v)}`)
      .join(", ")}}`;
  }
  return JSON.stringify(value);
}

function docLine(d: ApiSchema): string {
  return pyJsonDumps({
    apiCode: d.name,
    description: d.description,
    parameters: d.input_parameters,
    response: d.output_parameters,
  });
}

function fillTime(template: string, time: string | undefined): string {
  return time === undefined
    ? template.replace(/^.*\{\{time\}\}.*\n?/m, "")
    : template.replaceAll("{{time}}", time);
}

/** One API-Bank sample per agent turn: input = the dialogue before it, output = the turn. */
export function apiBankSamples(
  instruction: Instruction,
  t: Trajectory,
  templates: TrainingSet["templates"],
): ApiBankSample[] {
  const samples: ApiBankSample[] = [];
  const history: string[] = [...instruction.docs.map(docLine)];
  t.turns.forEach((turn, i) => {
    if (turn.role === "user") {
      history.push(`User: ${turn.text}${instruction.time === undefined ? "" : `TIME: ${instruction.time}`}`);
    } else if (turn.role === "api") {
      const last = history.pop() ?? "";
      history.push(`${last}${RESULT_PREFIX}${turn.text}`);
    } else {
      const isCall = t.turns[i + 1]?.role === "api" || turn.text.startsWith("API-Request");
      const marker = isCall ? "Generate API Request: " : "Generate AI Response: ";
      samples.push({
        instruction: fillTime(isCall ? templates.api : templates.response, instruction.time),
        input: [...history, marker].join("\n"),
        output: isCall ? turn.text : `AI: ${replyText(turn.text)}\n`,
      });
      history.push(turn.text);
    }
  });
  return samples;
}

/**
 * Records of one format for the kept trajectories (one per trajectory for the chat formats, one per agent turn
 * for API-Bank's). A trajectory whose instruction is not in `set` is an error: its prompt cannot be rebuilt.
 */
export function exportRecords(format: ExportFormat, set: TrainingSet, kept: readonly Trajectory[]): object[] {
  const byId = new Map(set.instructions.map((i) => [i.id, i]));
  return kept.flatMap((t): object[] => {
    const instruction = byId.get(t.instructionId);
    if (!instruction) throw new Error(`trajectory for unknown instruction ${t.instructionId}`);
    if (format === "apibank") return apiBankSamples(instruction, t, set.templates);
    return [{ messages: chatMessages(instruction, t, format === "openai") }];
  });
}

/** One JSON object per line, with a final newline. */
export function toJsonl(records: readonly object[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join("");
}
