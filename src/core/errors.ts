/**
 * Error vocabulary shared by every layer.
 *
 * Every error the library throws on purpose is a `BayesactError` with a stable `category` string, so callers
 * (the CLI, the run store, retry logic) branch on categories, never on message text.
 */
export class BayesactError extends Error {
  /** Stable machine-readable category, e.g. `rate_limit`, `bad_model_spec`, `parse_error`. */
  readonly category: string;
  /** True when the user can fix it (bad flag, missing file, unreachable server): the CLI prints one line, exit 2. */
  readonly userFacing: boolean;

  constructor(category: string, message: string, options: { cause?: unknown; userFacing?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "BayesactError";
    this.category = category;
    this.userFacing = options.userFacing ?? false;
  }
}

/** A mistake the user made (bad flag, bad spec, missing data): reported as one line with exit code 2. */
export class UserError extends BayesactError {
  constructor(message: string, options: { cause?: unknown; category?: string } = {}) {
    super(options.category ?? "user_error", message, { ...options, userFacing: true });
    this.name = "UserError";
  }
}

/** Result of parsing untrusted text (model output, data files): never throws, always says why. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; category: string; message: string };

export function ok<T>(value: T): ParseResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(category: string, message: string): ParseResult<T> {
  return { ok: false, category, message };
}
