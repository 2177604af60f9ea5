import { createSecretKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verify } from 'jsonwebtoken';
import type { Pool } from 'pg';
import { MEAL_LOG_COLUMNS, MealLogRow, mealLogView } from './reference-meal-log';

const MEAL_TYPES = new Set(['breakfast', 'lunch', 'dinner', 'snack']);
const BY_ID = /^\/api\/v1\/meal-logs\/([0-9a-f-]{36})$/;
/** MealPulse's default MEAL_LOGS_PER_MINUTE. */
const MEAL_LOGS_PER_MINUTE = 60;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

function reply(response: ServerResponse, status: number, body: unknown, etag?: string): void {
  const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
  if (etag !== undefined) headers.etag = etag;
  response.writeHead(status, headers).end(JSON.stringify(body));
}

/** MealPulse's ETag of a log: its status and completedAt, the only things that ever change. */
function etagOf(row: MealLogRow): string {
  return `W/"${row.status}-${row.completed_at?.getTime() ?? 0}"`;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString());
}

/**
 * MealPulse's two hottest REST routes on bare `node:http` + `pg`, doing the same work per
 * request: JWT check, body validation, the per-user rate limit's count and the insert of the log
 * and its job in one statement, the owner-scoped select, the same JSON, and the same weak ETag
 * with 304. `onQueued` runs after each log and its job committed (the bare pipeline wakes its
 * worker, as MealPulse does).
 */
export function restRoutes(
  pool: Pool,
  jwtSecret: string,
  onQueued: () => void = () => {},
): Handler {
  // As MealPulse's TokenVerifier does: a secret KeyObject, not a string jsonwebtoken re-parses.
  const secret = createSecretKey(Buffer.from(jwtSecret, 'utf8'));

  function userOf(request: IncomingMessage): string | null {
    const header = request.headers.authorization;
    if (!header?.startsWith('Bearer ')) return null;
    try {
      const payload = verify(header.slice(7), secret, { algorithms: ['HS256'] });
      return typeof payload === 'object' && typeof payload.sub === 'string' ? payload.sub : null;
    } catch {
      return null;
    }
  }

  async function create(
    request: IncomingMessage,
    response: ServerResponse,
    userId: string,
  ): Promise<void> {
    const body = (await readJson(request)) as { text?: unknown; mealType?: unknown };
    const text = typeof body.text === 'string' ? body.text.trim() : '';
    const mealType = body.mealType ?? null;
    if (
      text.length < 1 ||
      text.length > 1000 ||
      (mealType !== null && (typeof mealType !== 'string' || !MEAL_TYPES.has(mealType)))
    ) {
      return reply(response, 400, {
        statusCode: 400,
        error: 'Bad Request',
        message: 'invalid body',
      });
    }
    // The same single statement as MealPulse's POST (the user's logs of the last minute counted,
    // then the log and its job in one CTE), so the work is equal.
    const { rows } = await pool.query<MealLogRow & { ms_until_free: number | null }>(
      `WITH window_full AS (
         SELECT created_at FROM meal_logs
         WHERE user_id = $1 AND created_at > now() - $5 * interval '1 millisecond'
         ORDER BY created_at DESC
         OFFSET $4::int - 1 LIMIT 1
       ), log AS (
         INSERT INTO meal_logs (user_id, text, meal_type, logged_at)
         SELECT $1, $2, $3, clock_timestamp()
         WHERE NOT EXISTS (SELECT FROM window_full)
         RETURNING *
       ), job AS (
         INSERT INTO meal_log_jobs (meal_log_id, user_id) SELECT id, user_id FROM log
       )
       SELECT ${MEAL_LOG_COLUMNS},
              (SELECT extract(epoch FROM created_at + $5 * interval '1 millisecond'
                                         - clock_timestamp()) * 1000
               FROM window_full)::float8 AS ms_until_free
       FROM (VALUES (true)) AS answer LEFT JOIN log ON true`,
      [userId, text, mealType, MEAL_LOGS_PER_MINUTE, 60_000],
    );
    const untilFree = rows[0].ms_until_free;
    if (untilFree !== null) {
      response.setHeader('retry-after', String(Math.max(1, Math.ceil(untilFree / 1000))));
      return reply(response, 429, {
        statusCode: 429,
        error: 'Too Many Requests',
        message: 'limit',
      });
    }
    onQueued();
    reply(response, 201, mealLogView(rows[0]));
  }

  async function get(
    request: IncomingMessage,
    response: ServerResponse,
    userId: string,
    id: string,
  ): Promise<void> {
    const { rows } = await pool.query<MealLogRow>(
      `SELECT ${MEAL_LOG_COLUMNS} FROM meal_logs WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    if (rows.length === 0)
      return reply(response, 404, { statusCode: 404, error: 'Not Found', message: 'no such log' });
    const etag = etagOf(rows[0]);
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    reply(response, 200, mealLogView(rows[0]), etag);
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const userId = userOf(request);
    if (!userId)
      return reply(response, 401, { statusCode: 401, error: 'Unauthorized', message: 'token' });
    if (request.method === 'POST' && request.url === '/api/v1/meal-logs/natural')
      return create(request, response, userId);
    const byId = request.method === 'GET' ? BY_ID.exec(request.url ?? '') : null;
    if (byId) return get(request, response, userId, byId[1]);
    reply(response, 404, { statusCode: 404, error: 'Not Found', message: 'no route' });
  }

  return (request, response) => {
    route(request, response).catch(() => {
      if (!response.headersSent)
        reply(response, 500, {
          statusCode: 500,
          error: 'Internal Server Error',
          message: 'failed',
        });
    });
  };
}
