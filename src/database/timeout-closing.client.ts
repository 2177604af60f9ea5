import { Client, ClientConfig } from 'pg';

/** The error node-postgres gives a query that got no answer within `query_timeout`. */
export const QUERY_READ_TIMEOUT = 'Query read timeout';

function isReadTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === QUERY_READ_TIMEOUT;
}

/**
 * The pool's client: closes its connection when a query gets no answer within `query_timeout`.
 *
 * node-postgres reports the timeout but leaves the query active on the connection: released to
 * the pool, the client would queue every later query behind an answer that may never come, and
 * once a hung server resumed, run them in whatever transaction the abandoned query had open
 * (node-postgres issue 3399). Closed, it is dropped by the pool when released, the queries
 * queued behind (a transaction's ROLLBACK) fail at once, and the server rolls back what the
 * connection had open. A statement already sent may still run when the server resumes: a
 * timeout leaves its outcome unknown, as any lost answer does, which is why POSTs take an
 * Idempotency-Key.
 */
export class TimeoutClosingClient extends Client {
  constructor(config?: string | ClientConfig) {
    super(config);
    const query = (super.query as (...args: unknown[]) => unknown).bind(this);
    this.query = ((...args: unknown[]): unknown => {
      const callback = args.at(-1);
      if (typeof callback === 'function') {
        // The callback form (pg-pool's pool.query, TypeORM's start-up queries).
        args[args.length - 1] = (error: unknown, result: unknown) => {
          this.closeIfTimedOut(error);
          (callback as (error: unknown, result: unknown) => void)(error, result);
        };
      }
      const result = query(...args);
      if (result instanceof Promise) result.catch((error: unknown) => this.closeIfTimedOut(error));
      return result;
    }) as Client['query'];
  }

  private closeIfTimedOut(error: unknown): void {
    // With the abandoned query still active, `end` destroys the socket rather than saying goodbye.
    if (isReadTimeout(error)) void this.end().catch(() => undefined);
  }
}
