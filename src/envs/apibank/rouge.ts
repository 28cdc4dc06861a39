/**
 * ROUGE-L F as API-Bank computes it with the `rouge` Python package (pltrdy/rouge, `Rouge().get_scores(hyp,
 * ref)[0]["rouge-l"]["f"]`), reproduced step for step:
 *   - each text is split into "sentences" at every "."; a piece counts when it is non-empty *before* its
 *     whitespace is collapsed (so a piece of spaces becomes the empty sentence "");
 *   - tokens are the pieces of `sentence.split(" ")`: case-sensitive, punctuation attached, "" possible;
 *   - summary-level LCS with set semantics: for every (reference sentence, hypothesis sentence) pair the words
 *     of one LCS (reconstructed with the package's tie-breaking) are collected into one set U;
 *   - R = |U| / |distinct reference tokens|, P = |U| / |distinct hypothesis tokens|, F = 2PR / (P + R + 1e-8).
 * The package raises on a text with no sentence at all; API-Bank scores an empty prediction 0, and so do we for
 * any text without a sentence.
 */

/** The package's sentence split: pieces between dots, kept when non-empty, whitespace then collapsed. */
export function rougeSentences(text: string): string[] {
  return text
    .split(".")
    .filter((piece) => piece.length > 0)
    .map((piece) =>
      piece
        .split(/\s+/)
        .filter((w) => w !== "")
        .join(" "),
    );
}

function words(sentence: string): string[] {
  return sentence.split(" ");
}

/** The words of one LCS of `x` (reference) and `y` (hypothesis), with pltrdy's backtracking order. */
export function lcsWords(x: readonly string[], y: readonly string[]): string[] {
  const n = x.length;
  const m = y.length;
  const table: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = 1; i <= n; i++) {
    const row = table[i] ?? [];
    const prev = table[i - 1] ?? [];
    for (let j = 1; j <= m; j++) {
      row[j] = x[i - 1] === y[j - 1] ? (prev[j - 1] ?? 0) + 1 : Math.max(prev[j] ?? 0, row[j - 1] ?? 0);
    }
  }
  const out: string[] = [];
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    if (x[i - 1] === y[j - 1]) {
      out.push(x[i - 1] ?? "");
      i--;
      j--;
    } else if ((table[i - 1]?.[j] ?? 0) > (table[i]?.[j - 1] ?? 0)) i--;
    else j--;
  }
  return out.reverse();
}

export interface RougeScore {
  readonly f: number;
  readonly p: number;
  readonly r: number;
}

/** ROUGE-L of a hypothesis against a reference (both raw texts). */
export function rougeL(reference: string, hypothesis: string): RougeScore {
  const refs = rougeSentences(reference);
  const hyps = rougeSentences(hypothesis);
  if (refs.length === 0 || hyps.length === 0) return { f: 0, p: 0, r: 0 };
  const refWords = new Set(refs.flatMap(words));
  const hypWords = new Set(hyps.flatMap(words));
  const union = new Set<string>();
  for (const ref of refs) {
    const rw = words(ref);
    for (const hyp of hyps) for (const w of lcsWords(rw, words(hyp))) union.add(w);
  }
  const r = union.size / refWords.size;
  const p = union.size / hypWords.size;
  return { f: (2 * p * r) / (p + r + 1e-8), p, r };
}
