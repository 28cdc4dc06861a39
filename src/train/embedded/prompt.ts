/**
 * What the embedded learner reads from a prompt. It sees exactly what a language model sees — chat messages —
 * and accepts the two renderings the project produces:
 *
 *   - the self-training rollouts (`train/export.ts` `chatMessages`): a system message with the protocol, the time
 *     and the API descriptions; the request as a user message; the agent's turns as assistant messages; each result
 *     as a user message starting with `->`;
 *   - API-Bank's test points (`envs/apibank/points.ts` `pointPrompt`): one user message holding the instruction,
 *     `API descriptions:` one JSON object per line, then the dialogue as `User:` / `AI:` /
 *     `API-Request: [Call(…)]->result` lines and the marker `Generate API Request:` or `Generate AI Response:`.
 *
 * Both become one line-oriented dialogue and are read by the same code, so what the learner learns on rollouts is
 * what it applies at evaluation. Descriptions come as `{name, description, input_parameters, output_parameters}` or
 * in the lv3 key style `{apiCode, description, parameters, response}`; results are Python literals, read with
 * `parsePyLiteral` (never evaluated). Anything unreadable is skipped, never fatal: model input is untrusted too.
 */
import { z } from "zod";
import { parseCall, parsePyLiteral } from "../../envs/apibank/call.ts";
import type { Json } from "../../envs/apibank/values.ts";
import type { ChatMessage } from "../../llm/types.ts";

export interface ParamDoc {
  readonly name: string;
  readonly type: string;
  readonly description: string;
}

export interface ApiDoc {
  readonly name: string;
  readonly description: string;
  readonly inputs: readonly ParamDoc[];
  readonly outputs: readonly ParamDoc[];
}

export type DialogueTurn =
  | { readonly kind: "user"; readonly text: string }
  | { readonly kind: "ai"; readonly text: string }
  | {
      readonly kind: "call";
      readonly name: string;
      readonly args: Readonly<Record<string, string>>;
      /** The result, when one came back and was readable; `undefined` otherwise. */
      readonly output: Json | undefined;
      readonly exception: string | null;
    };

export interface PromptContext {
  /** APIs the agent knows of: the listed descriptions, then those search results described, in order. */
  readonly apis: readonly ApiDoc[];
  /** Names of the listed (not searched) APIs. */
  readonly listed: ReadonlySet<string>;
  readonly turns: readonly DialogueTurn[];
  /** `YYYY-MM-DD HH:MM:SS` when the prompt states the time. */
  readonly time: string | undefined;
  /** The year relative dates fall in: the stated time's, else a year the instruction names, else 2023. */
  readonly year: number;
  /** What the prompt asks for: a call (`Generate API Request:`), a reply, or either (a rollout step). */
  readonly want: "call" | "reply" | "any";
}

const Param = z.object({ type: z.string().default("str"), description: z.string().default("") });
const Params = z.record(z.string(), Param).catch({});
const DocShape = z.union([
  z.object({
    name: z.string().min(1),
    description: z.string().default(""),
    input_parameters: Params.default({}),
    output_parameters: Params.default({}),
  }),
  z
    .object({
      apiCode: z.string().min(1),
      description: z.string().default(""),
      parameters: Params.default({}),
      response: Params.default({}),
    })
    .transform((d) => ({
      name: d.apiCode,
      description: d.description,
      input_parameters: d.parameters,
      output_parameters: d.response,
    })),
]);

function toDoc(value: unknown): ApiDoc | undefined {
  const r = DocShape.safeParse(value);
  if (!r.success) return undefined;
  const params = (p: Record<string, { type: string; description: string }>) =>
    Object.entries(p).map(([name, v]) => ({ name, type: v.type, description: v.description }));
  return {
    name: r.data.name,
    description: r.data.description,
    inputs: params(r.data.input_parameters),
    outputs: params(r.data.output_parameters),
  };
}

/** API descriptions inside a result (ToolSearcher answers with one description or a list of them). */
export function docsInResult(output: Json | undefined): ApiDoc[] {
  const items = Array.isArray(output) ? output : [output];
  return items.flatMap((item) => {
    const d = item !== null && typeof item === "object" && !Array.isArray(item) ? toDoc(item) : undefined;
    return d ? [d] : [];
  });
}

const MARKER_CALL = /^Generate API Request:?\s*$/;
const MARKER_REPLY = /^Generate AI Response:?\s*$/;
const TIME = /(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})/;

/** Chat messages as dialogue lines (the test-point layout), so one reader serves both renderings. */
function chatLines(messages: readonly ChatMessage[]): string[] {
  const lines: string[] = [];
  for (const m of messages) {
    if (m.role === "system") lines.push(...m.content.split("\n"));
    else if (m.role === "assistant") {
      const text = m.content.trim();
      const line =
        parseCall(text).ok && /API-Request/.test(text) ? text : `AI: ${text.replace(/^AI:\s*/, "")}`;
      lines.push(...line.split("\n"));
    } else if (m.content.startsWith("->") && lines.length > 0) {
      lines[lines.length - 1] = `${lines[lines.length - 1] ?? ""}${m.content.split("\n").join(" ")}`;
    } else if (messages.length === 1 || /API descriptions:/.test(m.content)) {
      lines.push(...m.content.split("\n"));
    } else lines.push(`User: ${m.content}`);
  }
  return lines;
}

function readResult(text: string): { output: Json | undefined; exception: string | null } {
  const t = text.trim();
  if (t.startsWith("Exception:")) return { output: null, exception: t.slice("Exception:".length).trim() };
  const lit = parsePyLiteral(t);
  return { output: lit.ok ? lit.value : t === "" ? undefined : t, exception: null };
}

/** Read a prompt (see the module comment). */
export function readPrompt(messages: readonly ChatMessage[]): PromptContext {
  const apis: ApiDoc[] = [];
  const listed = new Set<string>();
  const turns: DialogueTurn[] = [];
  let time: string | undefined;
  let yearHint: number | undefined;
  let want: PromptContext["want"] = "any";
  let inDocs = false;
  const addDoc = (d: ApiDoc, isListed: boolean) => {
    if (!apis.some((a) => a.name === d.name)) apis.push(d);
    if (isListed) listed.add(d.name);
  };
  let last: { kind: "user" | "ai"; text: string } | undefined;
  const flush = () => {
    if (last) turns.push({ kind: last.kind, text: last.text.trim() });
    last = undefined;
  };
  for (const raw of chatLines(messages)) {
    const line = raw.trimEnd();
    if (/API descriptions:/.test(line)) {
      inDocs = true;
      continue;
    }
    const trimmed = line.trim();
    if (trimmed.startsWith("{")) {
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch {
        value = undefined;
      }
      const d = toDoc(value);
      if (d) {
        addDoc(d, true);
        continue;
      }
    }
    if (MARKER_CALL.test(trimmed)) {
      flush();
      want = "call";
      continue;
    }
    if (MARKER_REPLY.test(trimmed)) {
      flush();
      want = "reply";
      continue;
    }
    const stated = /current time is (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})/i.exec(trimmed);
    if (stated) time = stated[1];
    const year = /current year is (\d{4})/i.exec(trimmed);
    if (year) yearHint = Number(year[1]);
    const user = /^User:\s?(.*)$/.exec(trimmed);
    const ai = /^AI:\s?(.*)$/.exec(trimmed);
    if (user) {
      flush();
      inDocs = false;
      let text = user[1] ?? "";
      const suffix = /\s*TIME:\s*(.+)$/.exec(text);
      if (suffix) {
        const t = TIME.exec(suffix[1] ?? "");
        if (t) time = t[1];
        text = text.slice(0, suffix.index);
      }
      last = { kind: "user", text };
    } else if (ai) {
      flush();
      inDocs = false;
      last = { kind: "ai", text: ai[1] ?? "" };
    } else if (/^API-Request:/.test(trimmed)) {
      flush();
      inDocs = false;
      const arrow = trimmed.indexOf(")]->");
      const request = arrow >= 0 ? trimmed.slice(0, arrow + 2) : trimmed;
      const parsed = parseCall(request);
      if (!parsed.ok) continue;
      const result =
        arrow >= 0 ? readResult(trimmed.slice(arrow + 4)) : { output: undefined, exception: null };
      const args: Record<string, string> = {};
      for (const a of parsed.call.args) args[a.key] = a.text;
      turns.push({ kind: "call", name: parsed.call.name, args, ...result });
      // Only a search describes APIs; other results can hold objects with a name and a description too.
      if (parsed.call.name === "ToolSearcher") for (const d of docsInResult(result.output)) addDoc(d, false);
    } else if (last && !inDocs && trimmed !== "") {
      last.text += `\n${trimmed}`;
    }
  }
  flush();
  const year = time ? Number(time.slice(0, 4)) : (yearHint ?? 2023);
  return { apis, listed, turns, time, year, want };
}
