/** Test helpers for the core vocabulary. */
import { UserError } from "./errors.ts";

/** The `UserError` that `f` throws; any other outcome fails the test. */
export function userError(f: () => unknown): UserError {
  try {
    f();
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error("expected a UserError");
}
