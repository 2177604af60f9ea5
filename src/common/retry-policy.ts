/** Longest wait between two attempts, whatever the attempt number. */
export const MAX_RETRY_DELAY_MS = 5 * 60_000;

/**
 * Exponential backoff with ±20 % jitter (so jobs that failed together do not retry together):
 * base, 2×base, 4×base, … capped at MAX_RETRY_DELAY_MS. `random` is injectable for tests.
 */
export function retryDelayMs(
  attempt: number,
  baseDelayMs: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(baseDelayMs * 2 ** Math.max(attempt - 1, 0), MAX_RETRY_DELAY_MS);
  const jitter = 0.8 + 0.4 * random();
  return Math.round(Math.min(exponential * jitter, MAX_RETRY_DELAY_MS));
}
