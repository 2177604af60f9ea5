import type { Response } from 'supertest';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';

const NATURAL = '/api/v1/meal-logs/natural';

async function logsOf(app: TestApp, userId: string): Promise<{ logs: number; jobs: number }> {
  const [row] = await app.dataSource.query<{ logs: number; jobs: number }[]>(
    `SELECT (SELECT count(*) FROM meal_logs WHERE user_id = $1)::int AS logs,
            (SELECT count(*) FROM meal_log_jobs WHERE user_id = $1)::int AS jobs`,
    [userId],
  );
  return row;
}

/** Moves the user's logs `seconds` into the past, as if that much time had gone by. */
async function age(app: TestApp, userId: string, seconds: number, onlyId?: string): Promise<void> {
  await app.dataSource.query(
    `UPDATE meal_logs SET created_at = created_at - $2 * interval '1 second'
     WHERE user_id = $1 AND ($3::uuid IS NULL OR id = $3)`,
    [userId, seconds, onlyId ?? null],
  );
}

function post(app: TestApp, userId: string, text: string, key?: string) {
  const request = api(app, userId).post(NATURAL).send({ text });
  return key === undefined ? request : request.set('Idempotency-Key', key);
}

function expectRateLimited(response: Response, perMinute: number): number {
  expect(response.status).toBe(429);
  expect(response.body).toEqual({
    statusCode: 429,
    error: 'Too Many Requests',
    message: expect.stringMatching(
      new RegExp(`^At most ${perMinute} meal logs per minute; retry in \\d+ s$`),
    ),
    code: 'meal_log_rate_limited',
  });
  const retryAfter = response.headers['retry-after'];
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  expect(response.body.message).toContain(`retry in ${retryAfter} s`);
  return Number(retryAfter);
}

describe('POST /api/v1/meal-logs/natural under MEAL_LOGS_PER_MINUTE', () => {
  describe('the default limit (60)', () => {
    let app: TestApp;
    beforeAll(async () => {
      // No workers: the logs stay queued, so the test can see that a refusal queues nothing.
      app = await startTestApp({ JOB_CONCURRENCY: '0' });
    });
    afterAll(() => app.close());

    it('refuses the 61st log within a minute with 429 and Retry-After; another user still posts', async () => {
      for (let i = 0; i < 60; i++) await post(app, 'hungry', `${i + 1} apples`).expect(201);
      const refusedAt = Date.now();
      const retryAfter = expectRateLimited(await post(app, 'hungry', 'one more apple'), 60);
      // The window frees when the first of the 60 is a minute old.
      const [{ first }] = await app.dataSource.query<{ first: Date }[]>(
        `SELECT min(created_at) AS first FROM meal_logs WHERE user_id = 'hungry'`,
      );
      const expected = Math.ceil((first.getTime() + 60_000 - refusedAt) / 1000);
      expect(retryAfter).toBeGreaterThanOrEqual(expected - 1);
      expect(retryAfter).toBeLessThanOrEqual(expected);
      expect(await logsOf(app, 'hungry')).toEqual({ logs: 60, jobs: 60 });

      await post(app, 'neighbour', 'a pear').expect(201);
      expect(await logsOf(app, 'neighbour')).toEqual({ logs: 1, jobs: 1 });
    });

    it('lets a burst of parallel POSTs past the limit by no more than the statements that can race', async () => {
      const statuses = await Promise.all(
        Array.from({ length: 200 }, () => post(app, 'burst', 'a plum').then((r) => r.status)),
      );
      const created = statuses.filter((status) => status === 201).length;
      expect(created + statuses.filter((status) => status === 429).length).toBe(200);
      // A POST sees only the logs committed when its statement began: the ones committing
      // alongside the 60th all pass, and at most the pool's 20 connections run at once.
      expect(created).toBeGreaterThanOrEqual(60);
      expect(created).toBeLessThanOrEqual(60 + 19);
      expect((await logsOf(app, 'burst')).logs).toBe(created);
    });

    it('counts the user’s logs on every instance sharing the database', async () => {
      const other = await startTestApp({ DATABASE_URL: app.databaseUrl, JOB_CONCURRENCY: '0' });
      try {
        for (let i = 0; i < 30; i++) {
          await post(app, 'roaming', 'an egg').expect(201);
          await post(other, 'roaming', 'an egg').expect(201);
        }
        expectRateLimited(await post(app, 'roaming', 'an egg'), 60);
        expectRateLimited(await post(other, 'roaming', 'an egg'), 60);
        expect(await logsOf(app, 'roaming')).toEqual({ logs: 60, jobs: 60 });
      } finally {
        await other.close();
      }
    });
  });

  describe('a small limit (3)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ JOB_CONCURRENCY: '0', MEAL_LOGS_PER_MINUTE: '3' });
    });
    afterAll(() => app.close());

    it('replays an Idempotency-Key at the limit without counting it, and refuses a new key without keeping it', async () => {
      const first = await post(app, 'keyed', 'a banana', 'key-1').expect(201);
      await post(app, 'keyed', 'a kiwi', 'key-2').expect(201);
      await post(app, 'keyed', 'a plum').expect(201);

      for (let i = 0; i < 3; i++) {
        const replay = await post(app, 'keyed', 'a banana', 'key-1').expect(201);
        expect(replay.headers['idempotent-replayed']).toBe('true');
        expect(replay.body.id).toBe(first.body.id);
      }
      // A reused key with another body is still told so, before any count.
      await post(app, 'keyed', 'a mango', 'key-1').expect(422);
      expectRateLimited(await post(app, 'keyed', 'a fig', 'key-3'), 3);
      expect(await logsOf(app, 'keyed')).toEqual({ logs: 3, jobs: 3 });

      // Once the window frees, the refused key creates its log: the refusal stored nothing.
      await age(app, 'keyed', 61);
      const retried = await post(app, 'keyed', 'a fig', 'key-3').expect(201);
      expect(retried.headers['idempotent-replayed']).toBeUndefined();
      expect(await logsOf(app, 'keyed')).toEqual({ logs: 4, jobs: 4 });
    });

    it('frees the window when its oldest log leaves it, and Retry-After says when', async () => {
      const ids: string[] = [];
      for (const text of ['toast', 'jam', 'tea']) {
        ids.push((await post(app, 'windowed', text).expect(201)).body.id as string);
      }
      await age(app, 'windowed', 50);
      expect(expectRateLimited(await post(app, 'windowed', 'honey'), 3)).toBe(10);

      // The oldest log leaves the window: one more fits, and the next waits for the second.
      await age(app, 'windowed', 11, ids[0]);
      await post(app, 'windowed', 'honey').expect(201);
      expect(expectRateLimited(await post(app, 'windowed', 'butter'), 3)).toBe(10);
      await age(app, 'windowed', 5, ids[1]);
      expect(expectRateLimited(await post(app, 'windowed', 'butter'), 3)).toBe(5);
      expect(await logsOf(app, 'windowed')).toEqual({ logs: 4, jobs: 4 });
    });
  });
});
