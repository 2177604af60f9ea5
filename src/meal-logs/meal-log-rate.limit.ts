/** The window that MEAL_LOGS_PER_MINUTE counts a user's new logs over. */
export const MEAL_LOG_RATE_WINDOW_MS = 60_000;

/**
 * `Retry-After` for a POST refused by the rate limit, given the milliseconds until the log that
 * fills the user's window leaves it: whole seconds rounded up, so that a client waiting exactly
 * that long is let in, and at least 1 (a header of 0 would invite a retry that is refused too).
 */
export function retryAfterSeconds(msUntilFree: number): number {
  return Math.max(1, Math.ceil(msUntilFree / 1000));
}
