/**
 * Dates and times in dialogue text, rewritten the way API-Bank's APIs take them (`%Y-%m-%d`,
 * `%Y-%m-%d %H:%M:%S`). A candidate generator for the embedded learner — "March 20th at 2:30 PM" can only be
 * copied into `time='2023-03-20 14:30:00'` if someone writes it that way — not a decision: which rewrite (if any)
 * fills which parameter is learned. A date without a year takes the context's year.
 */

const MONTHS: Readonly<Record<string, number>> = {
  jan: 1,
  feb: 2,
  mar: 3,
  apr: 4,
  may: 5,
  jun: 6,
  jul: 7,
  aug: 8,
  sep: 9,
  sept: 9,
  oct: 10,
  nov: 11,
  dec: 12,
};
const MONTH =
  "(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
const ORD = "(?:st|nd|rd|th)?";

interface Mention {
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

export interface DateCandidate {
  /** The rewritten value, e.g. `2023-03-20` or `2023-03-20 14:30:00`. */
  readonly text: string;
  readonly kind: "date" | "datetime";
  /** Where the mention (date, or date through time) sits in the source text. */
  readonly start: number;
  readonly end: number;
}

const pad = (n: number) => String(n).padStart(2, "0");

function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= 31 && y >= 1900 && y <= 2100;
}

function dateMentions(text: string, year: number): Mention[] {
  const out: Mention[] = [];
  const push = (start: number, end: number, y: number, m: number, d: number) => {
    if (validDate(y, m, d) && !out.some((o) => start < o.end && o.start < end))
      out.push({ start, end, value: `${y}-${pad(m)}-${pad(d)}` });
  };
  for (const m of text.matchAll(/\b(\d{4})-(\d{1,2})-(\d{1,2})\b/g))
    push(m.index, m.index + m[0].length, Number(m[1]), Number(m[2]), Number(m[3]));
  const monthFirst = new RegExp(`\\b${MONTH}\\.?\\s+(\\d{1,2})${ORD}\\b(?:,?\\s*(\\d{4})\\b)?`, "gi");
  for (const m of text.matchAll(monthFirst)) {
    const month =
      MONTHS[(m[1] ?? "").slice(0, 4).toLowerCase()] ?? MONTHS[(m[1] ?? "").slice(0, 3).toLowerCase()];
    if (month !== undefined)
      push(m.index, m.index + m[0].length, m[3] ? Number(m[3]) : year, month, Number(m[2]));
  }
  const dayFirst = new RegExp(`\\b(\\d{1,2})${ORD}\\s+(?:of\\s+)?${MONTH}\\b(?:,?\\s*(\\d{4})\\b)?`, "gi");
  for (const m of text.matchAll(dayFirst)) {
    const month =
      MONTHS[(m[2] ?? "").slice(0, 4).toLowerCase()] ?? MONTHS[(m[2] ?? "").slice(0, 3).toLowerCase()];
    if (month !== undefined)
      push(m.index, m.index + m[0].length, m[3] ? Number(m[3]) : year, month, Number(m[1]));
  }
  for (const m of text.matchAll(/\b(\d{1,2})\/(\d{1,2})\/(\d{4})\b/g))
    push(m.index, m.index + m[0].length, Number(m[3]), Number(m[1]), Number(m[2]));
  return out.sort((a, b) => a.start - b.start);
}

function timeMentions(text: string): Mention[] {
  const out: Mention[] = [];
  const push = (start: number, end: number, h: number, min: number, s: number) => {
    if (
      h >= 0 &&
      h <= 23 &&
      min >= 0 &&
      min <= 59 &&
      s >= 0 &&
      s <= 59 &&
      !out.some((o) => start < o.end && o.start < end)
    )
      out.push({ start, end, value: `${pad(h)}:${pad(min)}:${pad(s)}` });
  };
  for (const m of text.matchAll(/\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\b\.?/gi)) {
    let h = Number(m[1]) % 12;
    if ((m[3] ?? "").toLowerCase() === "p") h += 12;
    push(m.index, m.index + m[0].length, h, Number(m[2] ?? 0), 0);
  }
  for (const m of text.matchAll(/\b(\d{1,2}):(\d{2})(?::(\d{2}))?\b/g))
    push(m.index, m.index + m[0].length, Number(m[1]), Number(m[2]), Number(m[3] ?? 0));
  for (const m of text.matchAll(/\bnoon\b/gi)) push(m.index, m.index + m[0].length, 12, 0, 0);
  for (const m of text.matchAll(/\bmidnight\b/gi)) push(m.index, m.index + m[0].length, 0, 0, 0);
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Every date in `text` as `YYYY-MM-DD` and `YYYY-MM-DD 00:00:00`, and with the first time mentioned after it (before
 * the next date) as `YYYY-MM-DD HH:MM:SS`. A date already written `YYYY-MM-DD HH:MM:SS` is a plain span and
 * needs no rewrite, but is produced too (harmless duplicates are merged by the learner).
 */
export function dateCandidates(text: string, year: number): DateCandidate[] {
  const dates = dateMentions(text, year);
  const times = timeMentions(text);
  const out: DateCandidate[] = [];
  dates.forEach((d, i) => {
    out.push({ text: d.value, kind: "date", start: d.start, end: d.end });
    out.push({ text: `${d.value} 00:00:00`, kind: "datetime", start: d.start, end: d.end });
    const nextDate = dates[i + 1]?.start ?? Number.POSITIVE_INFINITY;
    const t = times.find((x) => x.start >= d.end && x.start < nextDate && x.start - d.end <= 40);
    if (t) out.push({ text: `${d.value} ${t.value}`, kind: "datetime", start: d.start, end: t.end });
  });
  return out;
}
