/**
 * Default identities for memo tables. A planner asks each question once per search, so it needs a key that is
 * equal exactly when two states (or actions) are equal as data, whatever path built them.
 */

/**
 * Canonical text of a plain data value: JSON with object keys sorted at every depth, undefined fields dropped,
 * bigints as `123n` (Game-of-24 rationals), non-finite numbers by name. Arrays keep their order, so a state
 * whose meaning is a set should be kept sorted by its environment (BlocksWorld atoms are) or keyed by its own
 * `stateKey`. Functions and symbols are not data and throw.
 */
export function structuralKey(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : `"${String(value)}"`;
    case "bigint":
      return `${value}n`;
    case "boolean":
      return String(value);
    case "undefined":
      return "null";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map(structuralKey).join(",")}]`;
      const record = value as Record<string, unknown>;
      const fields = Object.keys(record)
        .sort()
        .filter((k) => record[k] !== undefined)
        .map((k) => `${JSON.stringify(k)}:${structuralKey(record[k])}`);
      return `{${fields.join(",")}}`;
    }
    default:
      throw new TypeError(`structuralKey: a ${typeof value} is not plain data; pass a stateKey/actionKey`);
  }
}
