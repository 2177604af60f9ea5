/**
 * True for errors that mean "PostgreSQL cannot be reached right now" (connection refused or
 * reset, pool timeout, server shutting down) as opposed to a bad query. Such a failure is
 * answered 503 + Retry-After, and workers simply try again later.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    // Node socket errors, and PostgreSQL's class 08 (connection) and 57P0x (shutdown) states.
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND'].includes(code))
      return true;
    if (code.startsWith('08') || /^57P0[1-3]$/.test(code)) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    error.message,
  );
}

/**
 * True for a statement that lost a race with another transaction (deadlock, serialization
 * failure) and would succeed if simply run again.
 */
export function isTransientConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}
