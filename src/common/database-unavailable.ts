/**
 * What node-postgres and pg-pool say when a wait on the server ran out or the connection is gone:
 * a connection that was cut or never established, no free connection in the pool in time, a
 * query that got no answer in time (its client is then closed, so whatever was queued behind it
 * on that client fails too).
 */
const UNREACHABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Query read timeout|Client was closed and is not queryable/i;

/**
 * True for errors that mean "PostgreSQL cannot serve this right now" (connection refused or
 * reset, no answer within the timeouts, server shutting down, statement cancelled for taking too
 * long) as opposed to a bad query. Such a failure is answered 503 + Retry-After, and workers
 * simply try again later.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Node socket errors, PostgreSQL's class 08 (connection), 57014 (cancelled: the statement
    // timeout) and 57P0x (shutdown) states.
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code))
      return true;
    if (code.startsWith('08') || code === '57014' || /^57P0[1-3]$/.test(code)) return true;
  }
  return UNREACHABLE_MESSAGES.test(error.message);
}

/**
 * True for a statement that lost a race with another transaction (deadlock, serialization
 * failure) and would succeed if simply run again.
 */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
