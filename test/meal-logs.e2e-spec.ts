import { sign } from 'jsonwebtoken';
import { Client } from 'pg';
import request from 'supertest';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { TEST_JWT_SECRET } from './support/tokens';

const MEAL_LOGS = '/api/v1/meal-logs';
const NATURAL = `${MEAL_LOGS}/natural`;

describe('meal logs API', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  async function countLogs(userId: string): Promise<number> {
    const [row] = await app.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM meal_logs WHERE user_id = $1`,
      [userId],
    );
    return row.n;
  }

  describe('authentication', () => {
    const now = () => Math.floor(Date.now() / 1000);
    it.each([
      ['no Authorization header', undefined],
      ['a malformed token', 'Bearer not-a-jwt'],
      ['a non-Bearer scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['an expired token', `Bearer ${sign({ sub: 'u1', exp: now() - 10 }, TEST_JWT_SECRET)}`],
      [
        'a bad signature',
        `Bearer ${sign({ sub: 'u1', exp: now() + 60 }, 'another-secret-another-secret')}`,
      ],
      ['alg none', `Bearer ${sign({ sub: 'u1', exp: now() + 60 }, '', { algorithm: 'none' })}`],
      [
        'HS512 instead of HS256',
        `Bearer ${sign({ sub: 'u1', exp: now() + 60 }, TEST_JWT_SECRET, { algorithm: 'HS512' })}`,
      ],
      ['no exp claim', `Bearer ${sign({ sub: 'u1' }, TEST_JWT_SECRET)}`],
      ['an empty sub', `Bearer ${sign({ sub: '', exp: now() + 60 }, TEST_JWT_SECRET)}`],
      [
        'a sub over 128 chars',
        `Bearer ${sign({ sub: 'x'.repeat(129), exp: now() + 60 }, TEST_JWT_SECRET)}`,
      ],
    ])('answers 401 for %s', async (_case, authorization) => {
      let test = request(app.baseUrl).get(MEAL_LOGS);
      if (authorization) test = test.set('Authorization', authorization);
      const response = await test.expect(401);
      expect(response.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
      expect(typeof response.body.message).toBe('string');
    });
  });

  describe(`POST ${NATURAL}`, () => {
    it('answers 201 with a processing log that then completes with items and totals', async () => {
      const created = await api(app, 'alice')
        .post(NATURAL)
        .send({ text: '  1 small apple ', mealType: 'snack' })
        .expect(201);
      expect(created.body).toMatchObject({
        status: 'processing',
        text: '1 small apple',
        mealType: 'snack',
        items: [],
        totals: null,
        error: null,
        completedAt: null,
      });
      expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);

      const completed = await expectEventually(async () => {
        const response = await api(app, 'alice').get(`${MEAL_LOGS}/${created.body.id}`).expect(200);
        expect(response.body.status).toBe('completed');
        return response.body;
      });
      expect(completed.items).toEqual([
        expect.objectContaining({ name: 'apple', quantity: 1, unit: 'small' }),
      ]);
      expect(completed.totals.calories).toBeGreaterThan(50);
      expect(completed.totals.calories).toBe(completed.items[0].calories);
      expect(Date.parse(completed.completedAt)).toBeGreaterThanOrEqual(
        Date.parse(completed.createdAt),
      );
    });

    it('keeps the given loggedAt, and defaults it to now', async () => {
      const given = await api(app, 'alice')
        .post(NATURAL)
        .send({ text: 'banana', loggedAt: '2026-01-02T08:30:00Z' })
        .expect(201);
      expect(given.body.loggedAt).toBe('2026-01-02T08:30:00.000Z');
      const before = Date.now();
      const defaulted = await api(app, 'alice').post(NATURAL).send({ text: 'banana' }).expect(201);
      expect(Math.abs(Date.parse(defaulted.body.loggedAt) - before)).toBeLessThan(5_000);
    });

    it('fails a text with no recognised food, with a readable error', async () => {
      const created = await api(app, 'alice')
        .post(NATURAL)
        .send({ text: 'flurble wibble' })
        .expect(201);
      const failed = await expectEventually(async () => {
        const response = await api(app, 'alice').get(`${MEAL_LOGS}/${created.body.id}`).expect(200);
        expect(response.body.status).toBe('failed');
        return response.body;
      });
      expect(failed.error).toMatch(/flurble/);
      expect(failed.items).toEqual([]);
    });

    it.each([
      ['text missing', {}, /text/],
      ['text empty after trim', { text: '   ' }, /text must be 1 to 1000 characters/],
      ['text too long', { text: 'a'.repeat(1001) }, /text must be 1 to 1000 characters/],
      ['text not a string', { text: 42 }, /text must be a string/],
      ['unknown mealType', { text: 'apple', mealType: 'brunch' }, /mealType must be one of/],
      [
        'loggedAt not ISO-8601',
        { text: 'apple', loggedAt: 'yesterday' },
        /loggedAt must be an ISO-8601 instant/,
      ],
      ['an unknown field', { text: 'apple', calories: 5 }, /property calories should not exist/],
      [
        'a userId in the body',
        { text: 'apple', userId: 'mallory' },
        /property userId should not exist/,
      ],
    ])('answers 400 for %s, naming the field', async (_case, body, message) => {
      const before = await countLogs('val');
      const response = await api(app, 'val').post(NATURAL).send(body).expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
      expect(([] as string[]).concat(response.body.message).join('; ')).toMatch(message);
      expect(await countLogs('val')).toBe(before);
    });

    it('accepts exactly 1000 characters', async () => {
      await api(app, 'val')
        .post(NATURAL)
        .send({ text: 'a'.repeat(1000) })
        .expect(201);
    });

    it('answers 400 for malformed JSON', async () => {
      const response = await api(app, 'val')
        .post(NATURAL)
        .set('Content-Type', 'application/json')
        .send('{"text": ')
        .expect(400);
      expect(response.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
    });

    it('answers 413 for a body over the limit', async () => {
      const response = await api(app, 'val')
        .post(NATURAL)
        .send({ text: 'apple', padding: 'x'.repeat(app.config.http.bodyLimitBytes) })
        .expect(413);
      expect(response.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the same log for the same key and body', async () => {
      const first = await api(app, 'idem')
        .post(NATURAL)
        .set('Idempotency-Key', 'key-1')
        .send({ text: 'an egg' })
        .expect(201);
      const again = await api(app, 'idem')
        .post(NATURAL)
        .set('Idempotency-Key', 'key-1')
        .send({ text: 'an egg' })
        .expect(201);
      expect(again.body.id).toBe(first.body.id);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(await countLogs('idem')).toBe(1);
    });

    it('answers 422 for the same key with another body', async () => {
      await api(app, 'idem2')
        .post(NATURAL)
        .set('Idempotency-Key', 'key-2')
        .send({ text: 'an egg' })
        .expect(201);
      const response = await api(app, 'idem2')
        .post(NATURAL)
        .set('Idempotency-Key', 'key-2')
        .send({ text: 'two eggs' })
        .expect(422);
      expect(response.body.message).toMatch(/different request body/);
      expect(await countLogs('idem2')).toBe(1);
    });

    it('scopes keys per user', async () => {
      const a = await api(app, 'idem-a')
        .post(NATURAL)
        .set('Idempotency-Key', 'shared')
        .send({ text: 'rice' })
        .expect(201);
      const b = await api(app, 'idem-b')
        .post(NATURAL)
        .set('Idempotency-Key', 'shared')
        .send({ text: 'rice' })
        .expect(201);
      expect(b.body.id).not.toBe(a.body.id);
    });

    it('answers 409 while a request with the same key is in flight', async () => {
      // Hold the per-(user, key) lock the way an in-flight request does.
      const holder = new Client({ connectionString: app.databaseUrl });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [
          'idem3',
          'busy',
        ]);
        const response = await api(app, 'idem3')
          .post(NATURAL)
          .set('Idempotency-Key', 'busy')
          .send({ text: 'toast' })
          .expect(409);
        expect(response.body.message).toMatch(/still being processed/);
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
      }
      await api(app, 'idem3')
        .post(NATURAL)
        .set('Idempotency-Key', 'busy')
        .send({ text: 'toast' })
        .expect(201);
    });

    it('creates exactly one log from a burst of concurrent duplicates', async () => {
      const responses = await Promise.all(
        Array.from({ length: 8 }, () =>
          api(app, 'burst')
            .post(NATURAL)
            .set('Idempotency-Key', 'burst-key')
            .send({ text: 'oatmeal' }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
      const ids = new Set(
        responses.filter((r) => r.status === 201).map((r) => r.body.id as string),
      );
      expect(ids.size).toBe(1);
      expect(await countLogs('burst')).toBe(1);
    });

    it.each([
      ['too long', 'k'.repeat(256)],
      ['repeated (joined with a comma)', 'a, b'],
      ['containing a space', 'a b'],
    ])('answers 400 for a key %s', async (_case, key) => {
      const response = await api(app, 'idem4')
        .post(NATURAL)
        .set('Idempotency-Key', key)
        .send({ text: 'toast' })
        .expect(400);
      expect(response.body.message).toMatch(/Idempotency-Key/);
      expect(await countLogs('idem4')).toBe(0);
    });
  });

  describe(`GET ${MEAL_LOGS}/:id`, () => {
    it('answers 404 for another user’s log and for ids that are not UUIDs', async () => {
      const created = await api(app, 'owner').post(NATURAL).send({ text: 'apple' }).expect(201);
      await api(app, 'owner').get(`${MEAL_LOGS}/${created.body.id}`).expect(200);
      const other = await api(app, 'intruder').get(`${MEAL_LOGS}/${created.body.id}`).expect(404);
      expect(other.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
      for (const id of [
        'not-a-uuid',
        "1' OR '1'='1",
        '..%2F..%2Fetc',
        '00000000-0000-0000-0000-000000000000',
      ]) {
        await api(app, 'owner').get(`${MEAL_LOGS}/${id}`).expect(404);
      }
    });

    it('sends an ETag and answers 304 to If-None-Match until the log changes', async () => {
      const created = await api(app, 'etag').post(NATURAL).send({ text: 'apple' }).expect(201);
      const done = await expectEventually(async () => {
        const response = await api(app, 'etag').get(`${MEAL_LOGS}/${created.body.id}`).expect(200);
        expect(response.body.status).toBe('completed');
        return response;
      });
      const etag = done.headers.etag;
      expect(etag).toMatch(/^W\/"[^"]+"$/);
      const notModified = await api(app, 'etag')
        .get(`${MEAL_LOGS}/${created.body.id}`)
        .set('If-None-Match', etag)
        .expect(304);
      expect(notModified.text).toBe('');
      await api(app, 'etag')
        .get(`${MEAL_LOGS}/${created.body.id}`)
        .set('If-None-Match', '"stale"')
        .expect(200);
    });
  });

  describe(`GET ${MEAL_LOGS}`, () => {
    it('pages through the user’s own logs newest first', async () => {
      const texts = ['apple', 'banana', 'bread', 'rice', 'egg'];
      for (const text of texts) await api(app, 'pager').post(NATURAL).send({ text }).expect(201);
      await api(app, 'someone-else').post(NATURAL).send({ text: 'pizza' }).expect(201);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
        const page = await api(app, 'pager').get(`${MEAL_LOGS}${query}`).expect(200);
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.items.map((item: { text: string }) => item.text));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(seen).toEqual([...texts].reverse());
    });

    it('clamps an absurd limit and refuses a forged cursor', async () => {
      const page = await api(app, 'pager').get(`${MEAL_LOGS}?limit=1000000000`).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(100);
      await api(app, 'pager').get(`${MEAL_LOGS}?limit=abc`).expect(400);
      const forged = await api(app, 'pager')
        .get(`${MEAL_LOGS}?cursor=${Buffer.from("x' OR 1=1").toString('base64url')}`)
        .expect(400);
      expect(forged.body.message).toMatch(/cursor/);
    });
  });

  describe('health and docs', () => {
    it('reports live and ready', async () => {
      await request(app.baseUrl).get('/health/live').expect(200, { status: 'ok' });
      const ready = await request(app.baseUrl).get('/health/ready').expect(200);
      expect(ready.body).toMatchObject({ status: 'ok', checks: { database: 'up' } });
    });

    it('serves the OpenAPI document generated from the DTOs', async () => {
      const document = await request(app.baseUrl).get('/docs-json').expect(200);
      expect(Object.keys(document.body.paths)).toEqual(
        expect.arrayContaining([
          '/api/v1/meal-logs/natural',
          '/api/v1/meal-logs/{id}',
          '/health/ready',
        ]),
      );
      expect(document.body.components.schemas.CreateMealLogDto.properties.text).toMatchObject({
        type: 'string',
        minLength: 1,
        maxLength: 1000,
      });
    });
  });
});
