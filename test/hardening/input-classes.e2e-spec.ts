import { gzipSync } from 'node:zlib';
import type { Response } from 'supertest';
import { ChildApp, startChildApp } from '../support/child-app';
import { api } from '../support/http-client';
import { queryOnce } from '../support/sql';
import { createTestDatabase } from '../support/test-database';
import { expectEventually } from '../support/expect-eventually';
import { startTestApp, TestApp } from '../support/test-app';
import { tokenFor } from '../support/tokens';
import { WsClient } from '../support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const MEAL_LOGS = '/api/v1/meal-logs';
const SESSIONS = '/api/v1/admin/presence/sessions';
const UUID = '4b0d8a4e-8f7e-4f0a-9c55-2a7a3c1f6b11';

const cursorOf = (text: string) => Buffer.from(text).toString('base64url');
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/** A documented refusal: the status, the error shape, and the field named in the message. */
function expectBadRequest(response: Response, field: string): void {
  expect(response.status).toBe(400);
  expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  expect(JSON.stringify(response.body.message)).toContain(field);
}

/**
 * Each class of input that passed validation and then failed in PostgreSQL or in Date/Number
 * handling: the answer is a 400 naming the field (or the request is served), never a 5xx, and
 * nothing is stored.
 */
describe('input the database cannot store', () => {
  let app: TestApp;
  const count = async (table: string) =>
    (await app.dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table}`))[0].n;

  beforeAll(async () => {
    // Every case posts as one user: the posting limit is not what these tests are about.
    app = await startTestApp({ MEAL_LOGS_PER_MINUTE: '10000' });
  });
  afterAll(() => app.close());

  describe(`POST ${NATURAL}`, () => {
    it.each([
      ['a NUL in text', { text: 'apple\u0000pie' }, 'text'],
      ['a control character in text', { text: 'apple\u0007' }, 'text'],
      ['a lone high surrogate in text', { text: 'apple \ud800' }, 'text'],
      ['a lone low surrogate in text', { text: '\udc00 apple' }, 'text'],
      // class-validator's length leaves out variation selectors; char_length counts them.
      ['1,001 code points counted as 1,000', { text: `${'a'.repeat(1000)}\ufe0f` }, 'text'],
      ['year 0000', { text: 'apple', loggedAt: '0000-01-01T00:00:00Z' }, 'loggedAt'],
      ['February 30th', { text: 'apple', loggedAt: '2026-02-30T10:00:00Z' }, 'loggedAt'],
      [
        'past the last instant JS knows',
        { text: 'apple', loggedAt: '+275760-09-13T00:00:00.001Z' },
        'loggedAt',
      ],
      [
        'before the first PostgreSQL knows',
        { text: 'apple', loggedAt: '-004714-01-01T00:00:00Z' },
        'loggedAt',
      ],
      ['a week date', { text: 'apple', loggedAt: '2026-W01-1' }, 'loggedAt'],
      ['a basic-format date-time', { text: 'apple', loggedAt: '20260101T100000Z' }, 'loggedAt'],
      ['an hour without minutes', { text: 'apple', loggedAt: '2026-01-01T10Z' }, 'loggedAt'],
      [
        'a local time without offset',
        { text: 'apple', loggedAt: '2026-01-01T10:00:00' },
        'loggedAt',
      ],
    ])('answers %s with 400 naming the field, storing nothing', async (_case, body, field) => {
      const before = await count('meal_logs');
      expectBadRequest(await api(app, 'classes').post(NATURAL).send(body), field);
      expect(await count('meal_logs')).toBe(before);
    });

    it.each<[string, { text: string; loggedAt?: string }]>([
      ['1,000 astral characters (2,000 UTF-16 units)', { text: '\u{1F34E}'.repeat(1000) }],
      ['1,000 characters with tabs and new lines', { text: `apple\n\tpie${'a'.repeat(990)}` }],
      ['the first instant of year 1', { text: 'apple', loggedAt: '0001-01-01T00:00:00Z' }],
      ['the last second of year 9999', { text: 'apple', loggedAt: '9999-12-31T23:59:59+14:00' }],
      ['a date alone (UTC midnight)', { text: 'apple', loggedAt: '2026-01-01' }],
    ])('accepts %s and reads it back unchanged', async (_case, body) => {
      const created = await api(app, 'classes').post(NATURAL).send(body).expect(201);
      const read = await api(app, 'classes').get(`${MEAL_LOGS}/${created.body.id}`).expect(200);
      expect(read.body.text).toBe(body.text);
      if (body.loggedAt) expect(read.body.loggedAt).toBe(new Date(body.loggedAt).toISOString());
    });

    it.each([
      ['a NUL', 'alice\u0000'],
      ['a lone surrogate', 'alice\ud800'],
      ['129 characters', 'a'.repeat(129)],
    ])('answers a token whose user id holds %s with 401', async (_case, userId) => {
      const before = await count('meal_logs');
      const response = await api(app, userId).post(NATURAL).send({ text: 'apple' });
      expect(response.status).toBe(401);
      expect(await count('meal_logs')).toBe(before);
    });

    it('accepts a user id of 128 astral characters, as the column counts them', async () => {
      await api(app, '\u{1F34E}'.repeat(128)).post(NATURAL).send({ text: 'apple' }).expect(201);
    });

    it.each([
      ['in text', (depth: number) => `{"text": ${nested(depth)}}`],
      ['in an unknown field', (depth: number) => `{"text": "apple", "x": ${nested(depth)}}`],
      ['in mealType', (depth: number) => `{"text": "apple", "mealType": ${nested(depth)}}`],
    ])('answers JSON nested 5,000 deep %s with 400', async (_case, body) => {
      const before = await count('meal_logs');
      const response = await api(app, 'classes')
        .post(NATURAL)
        .set('Content-Type', 'application/json')
        .send(body(5_000));
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(await count('meal_logs')).toBe(before);
    });
  });

  describe(`POST ${NATURAL} with a Content-Encoding`, () => {
    it.each([
      ['gzip', 400],
      ['deflate', 400],
      ['x-unknown', 415],
    ])('answers a JSON body declared %s but sent plain with %i', async (encoding, status) => {
      const before = await count('meal_logs');
      const response = await api(app, 'classes')
        .post(NATURAL)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', encoding)
        .send('{"text": "an apple"}');
      expect(response.status).toBe(status);
      expect(response.body).toMatchObject({ statusCode: status, error: expect.any(String) });
      expect(await count('meal_logs')).toBe(before);
    });
    /** supertest would serialize a Buffer sent as JSON; fetch sends its bytes. */
    const postGzip = (json: string) =>
      fetch(`${app.baseUrl}${NATURAL}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${tokenFor('classes')}`,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
        },
        body: gzipSync(json),
      });

    it('accepts a gzip body and stores its text', async () => {
      const response = await postGzip('{"text": "a zipped apple"}');
      expect(response.status).toBe(201);
      expect(((await response.json()) as { text: string }).text).toBe('a zipped apple');
    });

    it('answers a gzip body that inflates past the body limit with 413, storing nothing', async () => {
      const before = await count('meal_logs');
      const inflated = `{"text": "apple", "x": "${' '.repeat(app.config.http.bodyLimitBytes)}"}`;
      const response = await postGzip(inflated);
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
      expect(await count('meal_logs')).toBe(before);
    });
  });

  describe(`GET ${MEAL_LOGS}?cursor=`, () => {
    it.each([
      ['a year PostgreSQL rejects', cursorOf(`-271821-04-20T00:00:00Z|${UUID}`)],
      ['a year Date rejects', cursorOf(`9999999-01-01|${UUID}`)],
      ['a date V8 reads loosely', cursorOf(`1 January 2026|${UUID}`)],
      ['a date with a trailing comment', cursorOf(`2026-01-01T00:00:00Z (x)|${UUID}`)],
      ['an upper-case uuid', cursorOf(`2026-01-01T00:00:00.000000Z|${UUID.toUpperCase()}`)],
      [
        'stray characters around a valid one',
        `*${cursorOf(`2026-01-01T00:00:00.000000Z|${UUID}`)}*`,
      ],
      ['a cursor with padding', `${cursorOf(`2026-01-01T00:00:00.000000Z|${UUID}`)}=`],
    ])('answers %s with 400', async (_case, cursor) => {
      expectBadRequest(
        await api(app, 'classes').get(`${MEAL_LOGS}?cursor=${encodeURIComponent(cursor)}`),
        'cursor',
      );
    });

    it('follows a cursor it made', async () => {
      for (let i = 0; i < 3; i++) await api(app, 'pages').post(NATURAL).send({ text: 'a pear' });
      const first = await api(app, 'pages').get(`${MEAL_LOGS}?limit=2`).expect(200);
      const second = await api(app, 'pages')
        .get(`${MEAL_LOGS}?limit=2&cursor=${first.body.nextCursor}`)
        .expect(200);
      expect(second.body.items).toHaveLength(1);
      expect(second.body.nextCursor).toBeNull();
    });
  });

  describe('admin routes', () => {
    const admin = () => api(app, 'admin', { roles: ['admin'] });

    it.each([
      ['a NUL in userId', `${SESSIONS}?userId=${encodeURIComponent('a\u0000b')}`, 'userId'],
      // (A lone surrogate has no UTF-8 form to percent-encode: %ED%A0%80 stays those nine characters.)
      ['a C1 control in userId', `${SESSIONS}?userId=a%C2%85b`, 'userId'],
      ['year 0000 in from', `${SESSIONS}?from=0000-01-01T00:00:00Z`, 'from'],
      ['a week date in to', `${SESSIONS}?to=2026-W01-1`, 'to'],
      [
        'a forged cursor',
        `${SESSIONS}?cursor=${cursorOf(`-271821-04-20T00:00:00Z|${UUID}`)}`,
        'cursor',
      ],
      [
        'a NUL in a path user id',
        `/api/v1/admin/users/${encodeURIComponent('a\u0000')}/notifications`,
        'userId',
      ],
      ['a 129-character path user id', `/api/v1/admin/presence/users/${'a'.repeat(129)}`, 'userId'],
      [
        'a notification cursor of 1e300',
        '/api/v1/admin/users/u/notifications?cursor=1e300',
        'cursor',
      ],
      [
        'a notification cursor past 2^53',
        '/api/v1/admin/users/u/notifications?cursor=9007199254740993',
        'cursor',
      ],
      ['a notification cursor in hex', '/api/v1/admin/users/u/notifications?cursor=0x10', 'cursor'],
    ])('answers %s with 400', async (_case, path, field) => {
      expectBadRequest(await admin().get(path), field);
    });
  });

  describe('GET /ws upgrade', () => {
    it.each([
      ['a NUL', 'ws\u0000user'],
      ['a lone surrogate', 'ws\udfffuser'],
    ])(
      'answers a token whose user id holds %s with 401, opening no session',
      async (_case, userId) => {
        const refused = await WsClient.refusal(app.baseUrl, { token: tokenFor(userId) });
        expect(refused.status).toBe(401);
        expect(await count('ws_sessions')).toBe(0);
      },
    );
  });

  describe('analysis numerics', () => {
    const analysed = async (text: string) => {
      const created = await api(app, 'numbers').post(NATURAL).send({ text }).expect(201);
      return expectEventually(async () => {
        const read = await api(app, 'numbers').get(`${MEAL_LOGS}/${created.body.id}`).expect(200);
        expect(read.body.status).not.toBe('processing');
        return read.body as {
          items: Record<string, unknown>[];
          totals: Record<string, unknown> | null;
          unrecognized: string[];
        };
      });
    };

    it.each([
      ['a quantity past Number.MAX_VALUE', `${'9'.repeat(400)} apples and a banana`],
      ['a fraction of two infinities', `${'9'.repeat(320)}/${'9'.repeat(320)} apples and a banana`],
      ['a weight too large to be real', '99999999999999999999 g rice and a banana'],
    ])('reports %s as unrecognised and keeps every number finite', async (_case, text) => {
      const log = await analysed(text);
      expect(log.items.map((item) => item.name)).toEqual(['banana']);
      // Each field that is not finite, by name (JSON carries NaN and Infinity as null).
      const notFinite = (fields: Record<string, unknown>) =>
        Object.entries(fields).filter(([, v]) => typeof v !== 'string' && !Number.isFinite(v));
      expect(log.items.flatMap(notFinite)).toEqual([]);
      expect(notFinite(log.totals ?? {})).toEqual([]);
      expect(log.unrecognized.length).toBeGreaterThan(0);
    });
  });
});

describe('a 500', () => {
  let database: { url: string; drop: () => Promise<void> };
  let service: ChildApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    // No worker: its polls would fail on the broken table too, and log lines of their own.
    service = await startChildApp({
      DATABASE_URL: database.url,
      LOG_LEVEL: 'info',
      JOB_CONCURRENCY: '0',
    });
    // A fault no input can cause (a column gone): every query touching it fails in PostgreSQL,
    // with the statement's parameters on the error.
    await queryOnce(database.url, `ALTER TABLE meal_logs RENAME COLUMN text TO text_gone`);
  });

  afterAll(async () => {
    await service.kill('SIGTERM');
    await database.drop();
  });

  it('answers with an error id, and its log lines hold no body, query value or meal text', async () => {
    const mealText = 'a secret-smoothie with kale';
    const cursor = Buffer.from(`2026-12-04 10:00:00+00|${UUID}`).toString('base64url');
    const posted = await api(service, 'five-hundred')
      .post(NATURAL)
      .set('Idempotency-Key', 'key-in-the-header')
      .send({ text: mealText });
    const listed = await api(service, 'five-hundred').get(`${MEAL_LOGS}?limit=7&cursor=${cursor}`);
    for (const response of [posted, listed]) {
      expect(response.status).toBe(500);
      expect(response.body).toMatchObject({ statusCode: 500, errorId: expect.any(String) });
      expect(JSON.stringify(response.body)).not.toContain('text_gone');
      const line = await service.waitForLog((l) => l.errorId === response.body.errorId, 5_000);
      // The operator sees what failed: PostgreSQL's "undefined column", and where.
      expect(line.err).toMatchObject({ type: 'QueryFailedError', code: '42703' });
    }
    const logged = service.logs.map((line) => JSON.stringify(line)).join('\n');
    for (const secret of [
      'secret-smoothie',
      'kale',
      cursor,
      'limit=7',
      'five-hundred',
      'key-in-the-header',
    ]) {
      expect(logged).not.toContain(secret);
    }
  });
});
