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

/**
 * The most recent sign of life among a user's sessions (`seenAt` reads one's, in epoch ms), or
 * null when there is none. Reads them where they are: the admin sampler asks for every user's
 * every few seconds, and a copied array per user is measurable at 19,000 sessions.
 */
export function latestSeen<T>(
  sessions: Iterable<T>,
  seenAt: (session: T) => number,
): number | null {
  let latest: number | null = null;
  for (const session of sessions) {
    const value = seenAt(session);
    if (latest === null || value > latest) latest = value;
  }
  return latest;
}
