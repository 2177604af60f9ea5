import fc from 'fast-check';
import request from 'supertest';
import { expectStillServed } from '../support/bystander';
import { FUZZ_RUNS, hostileString, jsonBody, queryValue } from '../support/fuzz';
import { startTestApp, TestApp } from '../support/test-app';
import { tokenFor } from '../support/tokens';
import { WsClient } from '../support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';

/**
 * Property: whatever a client sends to any route (body, path, query, headers), the answer is one
 * of the route's documented statuses with the documented error shape, the process lives (a
 * bystander session keeps its pongs), and stored data changes only for a request that was valid.
 * CI runs FUZZ_RUNS (default 100) cases per property; `FUZZ_RUNS=5000 npx jest fuzz-rest` for more.
 * A failure prints its seed and the shrunk request: `fc.assert` reports both.
 */
describe('REST fuzzing', () => {
  let app: TestApp;
  let bystander: WsClient;
  const user = tokenFor('fuzz-user');
  const admin = tokenFor('fuzz-admin', { roles: ['admin'] });

  beforeAll(async () => {
    app = await startTestApp({
      // Nothing changes the tables behind the test's back: no worker finishes the logs posted.
      JOB_CONCURRENCY: '0',
      MEAL_LOGS_PER_MINUTE: '10000',
    });
    bystander = await WsClient.connect(app.baseUrl, { userId: 'bystander' });
  });

  afterAll(async () => {
    await bystander.close();
    await app.close();
  });

  afterEach(async () => {
    await expectStillServed(bystander);
  });

  /** Every row a request could change, as one digest. */
  async function snapshot(): Promise<string> {
    const [row] = await app.dataSource.query<{ digest: string }[]>(
      `SELECT md5(concat_ws('|',
         (SELECT string_agg(l::text, ',' ORDER BY l.id) FROM meal_logs l),
         (SELECT string_agg(j.meal_log_id::text, ',' ORDER BY j.meal_log_id) FROM meal_log_jobs j),
         (SELECT string_agg(k::text, ',' ORDER BY k.user_id, k.key) FROM idempotency_keys k),
         (SELECT string_agg(t::text, ',' ORDER BY t.user_id, t.device_id) FROM device_push_tokens t),
         (SELECT string_agg(n::text, ',' ORDER BY n.id) FROM notifications n)
       )) AS digest`,
    );
    return row.digest;
  }

  /** Every status seen in a property's run: each property must reach both valid and refused. */
  const seen = new Set<number>();
  beforeEach(() => seen.clear());

  function expectDocumented(response: request.Response, statuses: number[]): void {
    seen.add(response.status);
    expect(statuses).toContain(response.status);
    if (response.status >= 400) {
      expect(response.body).toMatchObject({
        statusCode: response.status,
        error: expect.any(String),
        message: expect.anything(),
      });
    }
  }

  it(`POST ${NATURAL}: any body and Idempotency-Key`, async () => {
    await fc.assert(
      fc.asyncProperty(
        jsonBody(),
        fc.option(hostileString({ header: true }), { nil: undefined, freq: 2 }),
        fc.option(
          fc.oneof(
            fc.constantFrom('gzip', 'deflate', 'br', 'identity'),
            hostileString({ header: true }),
          ),
          {
            nil: undefined,
            freq: 4,
          },
        ),
        async (body, idempotencyKey, encoding) => {
          const before = await snapshot();
          let test = request(app.baseUrl)
            .post(NATURAL)
            .set('Authorization', `Bearer ${user}`)
            .set('Content-Type', 'application/json');
          if (idempotencyKey !== undefined) test = test.set('Idempotency-Key', idempotencyKey);
          // The body is never compressed: a declared encoding other than identity is a lie.
          if (encoding !== undefined) test = test.set('Content-Encoding', encoding);
          const response = await test.send(body);
          expectDocumented(response, [201, 400, 409, 413, 415, 422]);
          if (response.status !== 201) {
            expect(await snapshot()).toBe(before);
            return;
          }
          const sent = JSON.parse(body) as { text: string };
          expect(response.body.text).toBe(sent.text.trim());
          const stored = await request(app.baseUrl)
            .get(`/api/v1/meal-logs/${response.body.id}`)
            .set('Authorization', `Bearer ${user}`);
          expect(stored.body).toEqual(response.body);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect([...seen]).toEqual(expect.arrayContaining([201, 400]));
  });

  /** Read routes, each with its query parameters filled with anything, and any path segment. */
  const readRoutes = fc.oneof(
    fc
      .tuple(queryValue(), fc.option(hostileString({ header: true }), { nil: undefined }))
      .map(([id, etag]) => ({ path: `/api/v1/meal-logs/${id}`, token: user, etag })),
    fc
      .record({ limit: queryValue(), cursor: queryValue() }, { requiredKeys: [] })
      .map((query) => ({ path: withQuery('/api/v1/meal-logs', query), token: user })),
    fc
      .record({ after: queryValue(), limit: queryValue() }, { requiredKeys: [] })
      .map((query) => ({ path: withQuery('/api/v1/notifications', query), token: user })),
    fc
      .record({ limit: queryValue() }, { requiredKeys: [] })
      .map((query) => ({ path: withQuery('/api/v1/admin/presence', query), token: admin })),
    queryValue().map((userId) => ({
      path: `/api/v1/admin/presence/users/${userId}`,
      token: admin,
    })),
    fc
      .record(
        {
          userId: queryValue(),
          endReason: queryValue(),
          from: queryValue(),
          to: queryValue(),
          limit: queryValue(),
          cursor: queryValue(),
        },
        { requiredKeys: [] },
      )
      .map((query) => ({
        path: withQuery('/api/v1/admin/presence/sessions', query),
        token: admin,
      })),
    fc
      .tuple(
        queryValue(),
        fc.record({ limit: queryValue(), cursor: queryValue() }, { requiredKeys: [] }),
      )
      .map(([userId, query]) => ({
        path: withQuery(`/api/v1/admin/users/${userId}/notifications`, query),
        token: admin,
      })),
    // The admin console's page and its assets: only files the build produced are ever served.
    queryValue().map((name) => ({ path: `/admin/assets/${name}`, token: admin })),
    fc
      .record({ token: queryValue() }, { requiredKeys: [] })
      .map((query) => ({ path: withQuery('/admin', query), token: user })),
  );

  it('GET routes: any path segment, query parameter and If-None-Match', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        readRoutes,
        async ({ path, token, etag }: { path: string; token: string; etag?: string }) => {
          let test = request(app.baseUrl).get(path).set('Authorization', `Bearer ${token}`);
          if (etag !== undefined) test = test.set('If-None-Match', etag);
          const response = await test;
          // 404: an unknown log, or a path that names no route (a segment holding "/" or "?").
          expectDocumented(response, [200, 304, 400, 404]);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect(await snapshot()).toBe(before);
    expect([...seen]).toEqual(expect.arrayContaining([200, 400, 404]));
  });

  it('PUT and DELETE /api/v1/devices/:deviceId/push-token: any device id and body', async () => {
    await fc.assert(
      fc.asyncProperty(
        queryValue(),
        fc.oneof(
          jsonBody(),
          fc
            .record(
              {
                token: fc.oneof(
                  fc.string({
                    unit: fc.constantFrom(...'0123456789abcdefABCDEF'),
                    minLength: 60,
                    maxLength: 210,
                  }),
                  hostileString(),
                ),
                environment: fc.oneof(fc.constantFrom('production', 'sandbox'), hostileString()),
              },
              { requiredKeys: ['token'] },
            )
            .map((value) => JSON.stringify(value)),
        ),
        fc.boolean(),
        async (deviceId, body, remove) => {
          const before = await snapshot();
          const path = `/api/v1/devices/${deviceId}/push-token`;
          const response = remove
            ? await request(app.baseUrl).delete(path).set('Authorization', `Bearer ${user}`)
            : await request(app.baseUrl)
                .put(path)
                .set('Authorization', `Bearer ${user}`)
                .set('Content-Type', 'application/json')
                .send(body);
          expectDocumented(response, [204, 400, 404, 413]);
          if (response.status !== 204) expect(await snapshot()).toBe(before);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect([...seen]).toEqual(expect.arrayContaining([204, 400]));
  });

  it('headers: any Authorization, Content-Type, X-Request-Id', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          hostileString({ header: true }),
          hostileString({ header: true }).map((token) => `Bearer ${token}`),
          fc.constant(`Bearer ${user}x`),
        ),
        hostileString({ header: true }),
        hostileString({ header: true }),
        async (authorization, contentType, requestId) => {
          const response = await request(app.baseUrl)
            .post(NATURAL)
            .set('Authorization', authorization)
            .set('Content-Type', contentType)
            .set('X-Request-Id', requestId)
            .send('{"text": "an apple"}');
          // A bad token is refused before the body is looked at; a Content-Type that is not a
          // media type at all is refused (415) before the token is read.
          expectDocumented(response, [401, 415]);
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
    expect(await snapshot()).toBe(before);
  });
});

function withQuery(path: string, query: Record<string, string | undefined>): string {
  const parts = Object.entries(query)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${name}=${value}`);
  return parts.length === 0 ? path : `${path}?${parts.join('&')}`;
}
