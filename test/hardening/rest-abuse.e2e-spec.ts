import type { Response } from 'supertest';
import request from 'supertest';
import { api } from '../support/http-client';
import { startTestApp, TestApp } from '../support/test-app';
import { tokenFor } from '../support/tokens';

const NATURAL = '/api/v1/meal-logs/natural';
const MEAL_LOGS = '/api/v1/meal-logs';
const ATTACKER = 'rest-attacker';

/** Every refusal has the contract's error shape and never leaks a stack or an internal error. */
function expectRefusal(response: Response, status: number, message?: RegExp): void {
  expect(response.status).toBe(status);
  if (status === 431) return; // answered by Node's HTTP parser, before any route: no body
  expect(response.body).toMatchObject({ statusCode: status, error: expect.any(String) });
  if (message) expect(JSON.stringify(response.body.message)).toMatch(message);
  expect(JSON.stringify(response.body)).not.toMatch(/at \w+ \(|node_modules|QueryFailedError/);
}

describe('REST abuse', () => {
  let app: TestApp;
  const mealLogsOf = async (userId: string) =>
    (
      await app.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM meal_logs WHERE user_id = $1`,
        [userId],
      )
    )[0].n;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  describe(`POST ${NATURAL} bodies`, () => {
    it.each([
      ['truncated JSON', 'application/json', '{"text": ', 400],
      ['a trailing comma', 'application/json', '{"text": "apple",}', 400],
      ['a bare string', 'application/json', '"1 small apple"', 400],
      ['an array', 'application/json', '[{"text": "1 small apple"}]', 400],
      ['null', 'application/json', 'null', 400],
      ['JSON sent as text/plain', 'text/plain', '{"text": "1 small apple"}', 400],
      ['a form body', 'application/x-www-form-urlencoded', 'text=1+small+apple', 400],
      ['JSON declared as UTF-16', 'application/json; charset=utf-16', '{"text": "apple"}', 400],
      ['a 1 MiB body', 'application/json', JSON.stringify({ text: 'a'.repeat(1 << 20) }), 413],
      ['an unknown field', 'application/json', '{"text": "apple", "calories": 0}', 400],
      ['text that is a number', 'application/json', '{"text": 42}', 400],
      ['text that is an object', 'application/json', '{"text": {"$ne": ""}}', 400],
      ['text of spaces only', 'application/json', '{"text": "   "}', 400],
      [
        'text of 1001 characters',
        'application/json',
        JSON.stringify({ text: 'a'.repeat(1001) }),
        400,
      ],
      ['an unknown mealType', 'application/json', '{"text": "apple", "mealType": "brunch"}', 400],
      [
        'a loggedAt that is not ISO-8601',
        'application/json',
        '{"text": "apple", "loggedAt": "yesterday"}',
        400,
      ],
      [
        'a __proto__ key',
        'application/json',
        '{"text": "apple", "__proto__": {"isAdmin": true}}',
        400,
      ],
    ])('answers %s with %i and stores nothing', async (name, type, body, status) => {
      // Each case is its own attacker, so one case's slip cannot hide or fake another's.
      const attacker = `${ATTACKER}-${name}`;
      const response = await api(app, attacker).post(NATURAL).set('Content-Type', type).send(body);
      expectRefusal(response, status);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      expect(await mealLogsOf(attacker)).toBe(0);
    });

    it('refuses a userId in the body with 400 naming it: the owner only ever comes from the token', async () => {
      const response = await api(app, ATTACKER)
        .post(NATURAL)
        .send({ text: '1 small apple', userId: 'rest-victim' });
      expectRefusal(response, 400, /userId should not exist/);
      expect(await mealLogsOf('rest-victim')).toBe(0);
      expect(await mealLogsOf(ATTACKER)).toBe(0);
    });
  });

  describe('paths and ids', () => {
    it.each([
      [`${MEAL_LOGS}/1'%20OR%20'1'%3D'1`, 404],
      [`${MEAL_LOGS}/1;DROP%20TABLE%20meal_logs`, 404],
      [`${MEAL_LOGS}/%00`, 404],
      [`${MEAL_LOGS}/00000000-0000-0000-0000-000000000000`, 404],
      [`${MEAL_LOGS}/..%2F..%2Fadmin%2Fpresence`, 404],
      [`${MEAL_LOGS}/../admin/presence`, 404],
      [`/api/v1/admin/../meal-logs`, 404],
      [`//api/v1/meal-logs`, 404],
      [`/API/V1/ADMIN/PRESENCE`, 403],
      [`/api/v1/admin/presence/users/x'%3BDROP%20TABLE%20ws_sessions%3B--`, 403],
      [`${MEAL_LOGS}?userId=rest-victim`, 400],
      [`/${'a'.repeat(20_000)}`, 431],
    ])('answers GET %s with %i', async (path, status) => {
      const response = await request(app.baseUrl)
        .get(path)
        .set('Authorization', `Bearer ${tokenFor(ATTACKER)}`);
      expectRefusal(response, status);
    });

    it('treats an SQL-looking user id as data: an admin sees an offline user, and the tables are intact', async () => {
      const hostile = "x';DROP TABLE ws_sessions;--";
      const response = await api(app, 'admin', { roles: ['admin'] })
        .get(`/api/v1/admin/presence/users/${encodeURIComponent(hostile)}`)
        .expect(200);
      expect(response.body).toMatchObject({ userId: hostile, online: false, sessions: [] });
      await app.dataSource.query('SELECT 1 FROM ws_sessions LIMIT 1');
    });
  });

  describe('query parameters', () => {
    it.each([
      [`${MEAL_LOGS}?limit=1000000000`, 100],
      [`${MEAL_LOGS}?limit=-5`, 1],
      [`/api/v1/notifications?limit=1000000000`, 100],
      [`/api/v1/notifications?limit=0`, 1],
    ])('clamps %s to %i items at most', async (path, max) => {
      for (let i = 0; i < 2; i++) await api(app, 'pager').post(NATURAL).send({ text: 'a pear' });
      const response = await api(app, 'pager').get(path).expect(200);
      expect(response.body.items.length).toBeLessThanOrEqual(max);
      expect(response.body.items.length).toBeGreaterThan(0);
    });

    it.each([
      '/api/v1/notifications?after=-1',
      '/api/v1/notifications?after=abc',
      '/api/v1/notifications?after=1e400',
      '/api/v1/notifications?after=99999999999999999999',
      '/api/v1/notifications?after=1&after=2',
      `/api/v1/notifications?after=1%20OR%201%3D1`,
      `${MEAL_LOGS}?limit=1&limit=2`,
      `${MEAL_LOGS}?cursor=${encodeURIComponent("' OR 1=1 --")}`,
      `${MEAL_LOGS}?cursor=${'A'.repeat(201)}`,
    ])('answers GET %s with 400', async (path) => {
      expectRefusal(await api(app, ATTACKER).get(path), 400);
    });
  });

  describe('Idempotency-Key', () => {
    // An array becomes repeated header lines (Node's setHeader); superagent's types only allow it for Cookie.
    const post = (key: string | string[]) =>
      api(app, ATTACKER)
        .post(NATURAL)
        .set('Idempotency-Key', key as string)
        .send({ text: 'a plum' });

    it.each([
      ['sent twice (joined with a comma)', ['key-one', 'key-two']],
      ['the same key sent twice', ['same-key', 'same-key']],
      ['of 256 characters', 'k'.repeat(256)],
      ['with a space', 'two words'],
      ['with non-ASCII characters', 'clé'],
    ])('refuses a key %s with 400 and stores nothing', async (_case, key) => {
      expectRefusal(await post(key), 400, /Idempotency-Key/);
      expect(await mealLogsOf(ATTACKER)).toBe(0);
    });

    it('refuses a 20 KiB key with 431 before any route runs', async () => {
      expectRefusal(await post('k'.repeat(20_000)), 431);
      expect(await mealLogsOf(ATTACKER)).toBe(0);
    });

    it('accepts a key of exactly 255 characters, and replays it', async () => {
      const key = 'k'.repeat(255);
      const first = await api(app, 'long-key')
        .post(NATURAL)
        .set('Idempotency-Key', key)
        .send({ text: 'a fig' })
        .expect(201);
      const again = await api(app, 'long-key')
        .post(NATURAL)
        .set('Idempotency-Key', key)
        .send({ text: 'a fig' })
        .expect(201);
      expect(again.body.id).toBe(first.body.id);
      expect(await mealLogsOf('long-key')).toBe(1);
    });
  });
});
