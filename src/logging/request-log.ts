import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level, Logger as PinoLogger } from 'pino';
import { redactedUrl } from './redacted-url';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Probes and scrapes: frequent, and their lines would say nothing. */
const UNLOGGED_PATHS: ReadonlySet<string> = new Set(['/health/live', '/metrics']);

/** The caller's X-Request-Id if sane, else a new one: the request's id in lines and answers. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * A success is the common case and says nothing an operator acts on: its line is `debug`.
 * Refusals are `info`, failures `error`; a response the client left before it was sent too.
 */
export function requestLogLevel(statusCode: number, finished: boolean): Level {
  if (statusCode >= 500) return 'error';
  if (statusCode >= 400 || !finished) return 'info';
  return 'debug';
}

/**
 * Every request's id (`requestIdOf`) is echoed in the response, and the request gets one line
 * when it ends, written only when its level is enabled. The line holds the method, the path with
 * the query's parameter names only (tokens, cursors and ids travel in query values), the status
 * and the time taken; never a header or a body.
 */
export function requestLog(
  logger: PinoLogger,
): (request: IncomingMessage, response: ServerResponse, id: string) => void {
  return (request, response, id) => {
    response.setHeader('X-Request-Id', id);
    const url = request.url ?? '';
    const path = url.includes('?') ? url.slice(0, url.indexOf('?')) : url;
    if (UNLOGGED_PATHS.has(path)) return;
    const started = performance.now();
    response.once('close', () => {
      const finished = response.writableFinished;
      const level = requestLogLevel(response.statusCode, finished);
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          req: { id, method: request.method, url: redactedUrl(url) },
          res: { statusCode: response.statusCode },
          responseTime: Math.round(performance.now() - started),
        },
        finished ? 'request completed' : 'request aborted',
      );
    });
  };
}
