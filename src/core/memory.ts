/**
 * The memory buffer D_t of RAFA (and the planner's history in Words-to-Actions): an append-only list of records.
 *
 * Append-only makes "the information frozen at the last switch" (D_{t_k}) a plain length: `view(k)` is the prefix
 * the learner may use, while acting keeps appending.
 */
export class Memory<T> {
  private readonly records: T[] = [];

  constructor(initial: Iterable<T> = []) {
    for (const r of initial) this.records.push(r);
  }

  add(record: T): void {
    this.records.push(record);
  }

  get size(): number {
    return this.records.length;
  }

  /** All records, oldest first. */
  all(): readonly T[] {
    return this.records;
  }

  /** The first `length` records: the buffer as it was when it had that many entries. */
  view(length: number = this.records.length): readonly T[] {
    return this.records.slice(0, Math.max(0, Math.min(length, this.records.length)));
  }

  /** The last `n` records (a context window). */
  last(n: number): readonly T[] {
    return n <= 0 ? [] : this.records.slice(-n);
  }
}
