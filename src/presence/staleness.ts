/**
 * The staleness rules, as plain functions so they can be table-tested. A session is fresh while
 * its last inbound frame is younger than `staleAfterMs`; a user is online while any session is.
 */
export function isFresh(lastSeenAt: number, now: number, staleAfterMs: number): boolean {
  return now - lastSeenAt < staleAfterMs;
}

export function isStale(lastSeenAt: number, now: number, staleAfterMs: number): boolean {
  return !isFresh(lastSeenAt, now, staleAfterMs);
}

/**
 * Whether the sweep ends a session as stale. Its silence counts from its welcome: before it, the
 * server may still be recording the opening, and the client cannot be expected to ping.
 */
export function isSweptAsStale(
  session: { welcomed: boolean; lastSeenAt: number },
  now: number,
  staleAfterMs: number,
): boolean {
  return session.welcomed && isStale(session.lastSeenAt, now, staleAfterMs);
}

/** The most recent sign of life among a user's sessions, or null when there is none. */
export function latestSeen(lastSeen: Iterable<number>): number | null {
  let latest: number | null = null;
  for (const value of lastSeen) if (latest === null || value > latest) latest = value;
  return latest;
}
