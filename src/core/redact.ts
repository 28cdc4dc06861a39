import { UserError } from "./errors.ts";

/**
 * Credentials inside URLs (`https://user:password@host/…`) are secrets like API keys: nothing the project prints,
 * logs, journals or reports may carry them. `redactUrlCredentials` replaces the user-info part of every URL in a
 * text with `***`, so `https://user:pw@host/v1` reads `https://***@host/v1`. The user name goes too: a bare user
 * name is often a token.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]+@/gi;

export const REDACTED_USERINFO = "***";

export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, `$1${REDACTED_USERINFO}@`);
}

/** True when the text holds a URL whose credentials were redacted (it cannot be used to connect as it stands). */
export function hasRedactedCredentials(text: string): boolean {
  return text.includes(`://${REDACTED_USERINFO}@`);
}

/**
 * The spec a run was started with, from the redacted form its folder keeps: itself when it had no credentials,
 * else the one of `given` (the user's `resume --model` specs) that redacts to it. Missing: one clear line.
 */
export function restoreCredentials(stored: string, given: readonly string[], resumeCommand: string): string {
  const match = given.find((spec) => redactUrlCredentials(spec) === stored);
  if (match !== undefined) return match;
  if (!hasRedactedCredentials(stored)) return stored;
  throw new UserError(
    `this run's model ${stored} had credentials in its URL, which run folders never keep; give the spec again: ${resumeCommand} --model '<the spec with its credentials>'`,
    { category: "missing_key" },
  );
}
