import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserError } from "../../core/errors.ts";
import { type ApiBankData, loadApiBank } from "./data.ts";
import { evaluatePoints, exactPredictor, Judge, summarizeEvaluation } from "./evaluate.ts";
import { ApiBankWorld } from "./executor.ts";
import { levelPoints } from "./points.ts";
import {
  Bm25,
  Bm25Retriever,
  EmbeddingRetriever,
  embed,
  parseEmbeddingSpec,
  searchTerms,
  splitByUppercase,
  stem,
} from "./retriever.ts";
import { foundApiName, level3Library, level12Library, recordedSearches } from "./toolsearcher.ts";

const DATA_DIR = fileURLToPath(new URL("../../../../shared/data", import.meta.url));

let data: ApiBankData;
beforeAll(() => {
  // Fails every test here with the loader's one-line message (path included) when the shared data is missing.
  data = loadApiBank(DATA_DIR);
});

describe("BM25 and the search terms", () => {
  it("scores as rank_bm25's BM25Okapi (idf floor for words in most documents)", () => {
    const bm25 = new Bm25([
      ["a", "b"],
      ["a", "c"],
      ["a", "d"],
    ]);
    const [s0, s1, s2] = bm25.scores(["b"]);
    // idf(b) = ln((3 - 1 + 0.5) / (1 + 0.5)); tf 1, doc length = average: score = idf.
    expect(s0).toBeCloseTo(Math.log(2.5 / 1.5), 12);
    expect([s1, s2]).toEqual([0, 0]);
    // "a" is in every document: its negative idf is replaced by 0.25 × the mean idf (negative idfs included,
    // as rank_bm25 averages them, so here it stays negative).
    const mean = (3 * Math.log(2.5 / 1.5) + Math.log(0.5 / 3.5)) / 4;
    for (const score of bm25.scores(["a"])) expect(score).toBeCloseTo(0.25 * mean, 12);
  });

  it("splits CamelCase, drops stop words and stems", () => {
    expect(splitByUppercase("QueryHealthData")).toBe("Query Health Data");
    expect(searchTerms("set the AlarmClock")).toEqual(["set", "alarm", "clock"]);
    expect([stem("setting"), stem("calculator"), stem("calculate"), stem("meetings")]).toEqual([
      "set",
      "calculat",
      "calculat",
      "meet",
    ]);
  });
});

describe("ToolSearcher fidelity: how often plain BM25 returns the recorded API", () => {
  it("level 2: 34 of the 45 recorded searches; level 3: 114 of 114", async () => {
    const lib2 = level12Library(data, [...new ApiBankWorld(data, { level: 2 }).schemas.values()]);
    const bm2 = new Bm25Retriever(lib2.documents);
    let hits2 = 0;
    let total2 = 0;
    for (const d of data.dialogues[2]) {
      for (const t of d.turns) {
        if (t.role !== "API" || t.api_name !== "ToolSearcher") continue;
        total2++;
        const i = await bm2.best(String(t.param_dict.keywords));
        if (i !== undefined && lib2.schemas[i]?.name === foundApiName(t.result.output)) hits2++;
      }
    }
    expect([hits2, total2]).toEqual([34, 45]);
    const lib3 = level3Library(data);
    const bm3 = new Bm25Retriever(lib3.documents);
    let hits3 = 0;
    let total3 = 0;
    for (const s of data.level3.samples) {
      for (const step of s.apis) {
        if (step.api_name !== "ToolSearcher") continue;
        total3++;
        const i = await bm3.best(splitByUppercase(String(step.input.keywords)));
        if (i !== undefined && lib3.schemas[i]?.name === foundApiName(step.output.output)) hits3++;
      }
    }
    expect([hits3, total3]).toEqual([114, 114]);
    expect(lib2.schemas).toHaveLength(49);
    expect(lib3.schemas).toHaveLength(21);
    expect(recordedSearches(data, 2).size).toBeGreaterThan(30);
  });
});

/** A loopback `/v1/embeddings` server: hashed bag-of-words vectors, so similar words give similar vectors. */
function embeddingServer(): Promise<{ server: Server; url: string; requests: unknown[] }> {
  const requests: unknown[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      if (req.url !== "/v1/embeddings" || req.method !== "POST") {
        res.writeHead(404).end();
        return;
      }
      const parsed = JSON.parse(body) as { model: string; input: string[] };
      requests.push(parsed);
      if (parsed.model === "broken") {
        res.writeHead(500).end("{}");
        return;
      }
      const data = parsed.input.map((text, index) => {
        const v = new Array<number>(64).fill(0);
        for (const w of searchTerms(text)) {
          let h = 7;
          for (const ch of w) h = (h * 31 + ch.charCodeAt(0)) % 64;
          v[h] = (v[h] ?? 0) + 1;
        }
        return { object: "embedding", index, embedding: v };
      });
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ object: "list", data }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/v1`, requests });
    });
  });
}

describe("an embedding model through an OpenAI-compatible /v1/embeddings endpoint", () => {
  let srv: Awaited<ReturnType<typeof embeddingServer>>;
  beforeAll(async () => {
    srv = await embeddingServer();
  });
  afterAll(() => new Promise<void>((resolve) => srv.server.close(() => resolve())));

  it("parses URL#model specs, one line on mistakes", () => {
    expect(parseEmbeddingSpec("http://127.0.0.1:9/v1/#mini", {})).toEqual({
      baseURL: "http://127.0.0.1:9/v1",
      model: "mini",
    });
    expect(() => parseEmbeddingSpec("mini", {})).toThrow(UserError);
  });

  it("ranks by cosine similarity and drives ToolSearcher in the evaluator", async () => {
    const world = new ApiBankWorld(data, {
      level: 2,
      retriever: (library) => new EmbeddingRetriever({ baseURL: srv.url, model: "bow" }, library.documents),
    });
    expect(world.retriever.kind).toBe("embeddings:bow");
    const book = await world.retriever.best("book hotel room");
    expect(book === undefined ? undefined : world.library.schemas[book]?.name).toBe("BookHotel");
    const records = await evaluatePoints(
      new Judge(world, { scoring: "corrected" }),
      levelPoints(data, 2),
      exactPredictor,
    );
    const s = summarizeEvaluation(2, "exact", records, {
      scoring: "corrected",
      state: "dialogue",
      reference: "executed",
      icl: false,
      retriever: world.retriever.kind,
    });
    expect(s.toolsearcher.points).toBe(45);
    // The gold keywords find what they find under this model, so the gold calls still score.
    expect(s.toolsearcher.correct).toBeGreaterThan(0);
    const first = srv.requests[0] as { model: string; input: string[] };
    expect(first.model).toBe("bow");
    // The documents are API-Bank's desc_for_search: split class name and description run together.
    expect(first.input).toContain(
      "add agendaThe API for adding a schedule item includes parameters for token, content, time, and location.",
    );
  });

  it("server errors and unreachable servers are one-line user errors", async () => {
    await expect(embed({ baseURL: srv.url, model: "broken" }, ["x"])).rejects.toThrow(/HTTP 500/);
    const closed = await embeddingServer();
    await new Promise<void>((resolve) => closed.server.close(() => resolve()));
    await expect(embed({ baseURL: closed.url, model: "m" }, ["x"])).rejects.toThrow(UserError);
  });
});
