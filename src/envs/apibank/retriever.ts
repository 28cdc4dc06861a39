/**
 * Retrieval for ToolSearcher and SearchEngine.
 *
 * API-Bank's ToolSearcher embeds the keywords and every API's "split class name + description" with
 * `sentence-transformers/paraphrase-MiniLM-L3-v2` and returns the API of highest cosine similarity. That model
 * cannot be fetched here, so the default retriever is lexical: keywords that spell an API's name find it;
 * otherwise BM25 (Okapi, k1 = 1.5, b = 0.75, the `rank_bm25` defaults API-Bank's SearchEngine uses) over the
 * API names and descriptions, with CamelCase split into words, a light suffix-stripping stemmer and a short
 * stop-word list; ties go to the earlier API in name order. `EmbeddingRetriever` plugs in any
 * OpenAI-compatible `/v1/embeddings` endpoint and then scores exactly as API-Bank does (argmax cosine).
 */
import { UserError } from "../../core/errors.ts";

/** BM25Okapi as `rank_bm25` computes it (negative idf replaced by 0.25 × the mean idf). */
export class Bm25 {
  private readonly docFreqs: Map<string, number>[];
  private readonly docLens: number[];
  private readonly avgdl: number;
  private readonly idf = new Map<string, number>();
  private readonly k1: number;
  private readonly b: number;

  constructor(corpus: readonly (readonly string[])[], k1 = 1.5, b = 0.75, epsilon = 0.25) {
    this.k1 = k1;
    this.b = b;
    this.docFreqs = corpus.map((doc) => {
      const freq = new Map<string, number>();
      for (const w of doc) freq.set(w, (freq.get(w) ?? 0) + 1);
      return freq;
    });
    this.docLens = corpus.map((d) => d.length);
    this.avgdl = this.docLens.reduce((a, x) => a + x, 0) / Math.max(1, corpus.length);
    const nd = new Map<string, number>();
    for (const freq of this.docFreqs) for (const w of freq.keys()) nd.set(w, (nd.get(w) ?? 0) + 1);
    let idfSum = 0;
    const negative: string[] = [];
    const n = corpus.length;
    for (const [w, f] of nd) {
      const idf = Math.log(n - f + 0.5) - Math.log(f + 0.5);
      this.idf.set(w, idf);
      idfSum += idf;
      if (idf < 0) negative.push(w);
    }
    const eps = (epsilon * idfSum) / Math.max(1, this.idf.size);
    for (const w of negative) this.idf.set(w, eps);
  }

  scores(query: readonly string[]): number[] {
    return this.docFreqs.map((freq, i) => {
      let score = 0;
      const len = this.docLens[i] ?? 0;
      for (const q of query) {
        const tf = freq.get(q) ?? 0;
        score +=
          ((this.idf.get(q) ?? 0) * (tf * (this.k1 + 1))) /
          (tf + this.k1 * (1 - this.b + (this.b * len) / this.avgdl));
      }
      return score;
    });
  }
}

/** Indexes of the `k` best scores, best first; ties keep document order. */
export function topK(scores: readonly number[], k: number): number[] {
  return scores
    .map((score, i) => ({ score, i }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, k)
    .map((x) => x.i);
}

/** An approximation of NLTK's `word_tokenize` for SearchEngine queries (words, hyphenated words, 's, punctuation). */
export function wordTokenize(text: string): string[] {
  return text.match(/'s\b|\w+(?:-\w+)*|[^\w\s]/g) ?? [];
}

/** `split_by_uppercase` of API-Bank: a space before every capital letter, then trimmed (level-3 keywords). */
export function splitByUppercase(text: string): string {
  return text.replace(/([A-Z])/g, " $1").trim();
}

/** ToolSearcher's search text of a class name: `AddAgenda` → `add agenda` (API-Bank's `api_summery`). */
export function splitClassName(name: string): string {
  return name.replace(/([A-Z])/g, (c) => ` ${c.toLowerCase()}`).trim();
}

const STOP = new Set(
  "a an and are as at be by for from i in is it me my of on or that the this to with which can please you".split(
    " ",
  ),
);

/** Strip common English suffixes so that `setting`/`set`, `calculate`/`calculator` meet. */
export function stem(word: string): string {
  let w = word;
  for (const suffix of ["ations", "ation", "ings", "ing", "ers", "ors", "er", "or", "ed", "es", "s", "e"]) {
    if (w.length - suffix.length >= 3 && w.endsWith(suffix)) {
      w = w.slice(0, -suffix.length);
      break;
    }
  }
  // A doubled final consonant left by a suffix (sett → set).
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && w.length > 3) w = w.slice(0, -1);
  return w;
}

/** Words of a ToolSearcher text: CamelCase split, lower-cased, stop words dropped, stemmed. */
export function searchTerms(text: string): string[] {
  return (
    splitByUppercase(text)
      .toLowerCase()
      .match(/[a-z0-9]+/g) ?? []
  )
    .filter((w) => !STOP.has(w))
    .map(stem);
}

/** A document for ToolSearcher: the API name and the text it is found by. */
export interface SearchDocument {
  readonly name: string;
  readonly description: string;
  /** API-Bank's `desc_for_search`: split class name and description, run together (what embeddings see). */
  readonly text: string;
}

export interface Retriever {
  /** Short description for manifests and reports. */
  readonly kind: string;
  /** Index of the best document for a query (undefined when nothing scores above zero). */
  best(query: string): Promise<number | undefined>;
}

export class Bm25Retriever implements Retriever {
  readonly kind = "bm25";
  private readonly bm25: Bm25;
  private readonly names: readonly string[];

  constructor(docs: readonly SearchDocument[]) {
    this.names = docs.map((d) => d.name.toLowerCase());
    // The class name and description as separate words (`desc_for_search` runs them together: "tokenGet").
    this.bm25 = new Bm25(docs.map((d) => searchTerms(`${d.name} ${d.description}`)));
  }

  async best(query: string): Promise<number | undefined> {
    return this.bestSync(query);
  }

  bestSync(query: string): number | undefined {
    // Keywords that spell an API's name find that API (level 3 searches by names such as "Calculator", which
    // BM25 alone would share with "TaxCalculator").
    const squashed = query.toLowerCase().replace(/[^a-z0-9]/g, "");
    const named = this.names.indexOf(squashed);
    if (named >= 0) return named;
    const scores = this.bm25.scores(searchTerms(query));
    const [top] = topK(scores, 1);
    return top !== undefined && (scores[top] ?? 0) > 0 ? top : undefined;
  }
}

/** Where an embedding model is served: `URL#model`, e.g. `http://127.0.0.1:8080/v1#all-minilm`. */
export interface EmbeddingEndpoint {
  readonly baseURL: string;
  readonly model: string;
  readonly apiKey?: string;
  readonly timeoutMs?: number;
}

export function parseEmbeddingSpec(
  spec: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): EmbeddingEndpoint {
  const hash = spec.lastIndexOf("#");
  const url = hash < 0 ? "" : spec.slice(0, hash);
  const model = hash < 0 ? "" : spec.slice(hash + 1);
  if (!/^https?:\/\/\S+$/.test(url) || model === "") {
    throw new UserError(
      `bad --embeddings "${spec}": expected URL#MODEL, e.g. http://127.0.0.1:8080/v1#all-minilm`,
      {
        category: "bad_option",
      },
    );
  }
  const apiKey = env.BAYESACT_EMBEDDINGS_API_KEY;
  return { baseURL: url.replace(/\/+$/, ""), model, ...(apiKey ? { apiKey } : {}) };
}

/** Calls `POST {baseURL}/embeddings` with a batch of texts; one clear error line when the server fails. */
export async function embed(endpoint: EmbeddingEndpoint, texts: readonly string[]): Promise<number[][]> {
  let response: Response;
  try {
    response = await fetch(`${endpoint.baseURL}/embeddings`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify({ model: endpoint.model, input: texts }),
      signal: AbortSignal.timeout(endpoint.timeoutMs ?? 60_000),
    });
  } catch (e) {
    throw new UserError(
      `embeddings endpoint ${endpoint.baseURL} unreachable: ${e instanceof Error ? e.message : String(e)}`,
      { category: "unreachable", cause: e },
    );
  }
  if (!response.ok) {
    throw new UserError(`embeddings endpoint ${endpoint.baseURL} answered HTTP ${response.status}`, {
      category: "bad_response",
    });
  }
  const body: unknown = await response.json().catch(() => undefined);
  const data =
    typeof body === "object" && body !== null && "data" in body && Array.isArray(body.data) ? body.data : [];
  const vectors: number[][] = [];
  for (const item of data) {
    const vec: unknown =
      typeof item === "object" && item !== null && "embedding" in item ? item.embedding : undefined;
    const index: unknown =
      typeof item === "object" && item !== null && "index" in item ? item.index : undefined;
    if (!Array.isArray(vec) || !vec.every((x) => typeof x === "number")) break;
    vectors[typeof index === "number" ? index : vectors.length] = vec;
  }
  if (vectors.length !== texts.length || vectors.some((v) => v === undefined)) {
    throw new UserError(
      `embeddings endpoint ${endpoint.baseURL} returned ${vectors.length} vectors for ${texts.length} texts`,
      { category: "bad_response" },
    );
  }
  return vectors;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Argmax cosine similarity under an embedding model; the documents are embedded once, on first use. */
export class EmbeddingRetriever implements Retriever {
  readonly kind: string;
  private docVectors: Promise<number[][]> | undefined;
  private readonly endpoint: EmbeddingEndpoint;
  private readonly docs: readonly SearchDocument[];

  constructor(endpoint: EmbeddingEndpoint, docs: readonly SearchDocument[]) {
    this.endpoint = endpoint;
    this.docs = docs;
    this.kind = `embeddings:${endpoint.model}`;
  }

  async best(query: string): Promise<number | undefined> {
    this.docVectors ??= embed(
      this.endpoint,
      this.docs.map((d) => d.text),
    );
    const [docs, [q]] = await Promise.all([this.docVectors, embed(this.endpoint, [query])]);
    if (!q) return undefined;
    let best: number | undefined;
    let bestScore = 0;
    docs.forEach((v, i) => {
      const score = cosine(q, v);
      // Strictly greater, starting from 0: the first of equal scores wins, as in API-Bank's loop.
      if (score > bestScore) {
        best = i;
        bestScore = score;
      }
    });
    return best;
  }
}
