import Redis from 'ioredis';
import { Client } from 'pg';
import request from 'supertest';
import { ChildApp, startChildApp } from './support/child-app';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { expectLedgerBalanced, receivedByClients } from './support/ledger';
import { redisServerAvailable, TestRedisServer } from './support/redis-server';
import { createTestDatabase } from './support/test-database';
import { Frame, WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const STALE_AFTER_MS = 1_500;
const isNotification = (frame: Frame) => frame.type === 'notification';

async function metric(instance: ChildApp, name: string): Promise<number> {
  const text = (await request(instance.baseUrl).get('/metrics').expect(200)).text;
  const line = text.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function query<T>(databaseUrl: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function postMeal(
  instance: ChildApp,
  userId: string,
  text = '1 small apple',
): Promise<string> {
  return (await api(instance, userId).post(NATURAL).send({ text }).expect(201)).body.id as string;
}

const describeWithRedis = redisServerAvailable() ? describe : describe.skip;
if (!redisServerAvailable())
  console.warn('redis-server not found: skipping the multi-instance tests');

describeWithRedis('several instances through Redis', () => {
  let redis: TestRedisServer;
  let database: { url: string; drop: () => Promise<void> };
  /** A runs the workers; B and C only hold sockets, so results always cross instances. */
  let a: ChildApp;
  let b: ChildApp;
  let c: ChildApp;
  const env = () => ({
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    PRESENCE_STALE_AFTER_MS: String(STALE_AFTER_MS),
    PRESENCE_SWEEP_INTERVAL_MS: '200',
    PRESENCE_AUDIT_FLUSH_INTERVAL_MS: '200',
    NOTIFICATION_REPUSH_INTERVAL_MS: '500',
    WS_MAX_SESSIONS_PER_USER: '3',
    LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    database = await createTestDatabase();
    a = await startChildApp({ ...env(), JOB_CONCURRENCY: '4' });
    [b, c] = await Promise.all([
      startChildApp({ ...env(), JOB_CONCURRENCY: '0' }),
      startChildApp({ ...env(), JOB_CONCURRENCY: '0' }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a, b, c].map((instance) => instance?.kill('SIGTERM')));
    await database?.drop();
    await redis?.stop();
  });

  it('delivers a meal completed by A’s worker to the user connected to B, with one Redis message', async () => {
    const client = await WsClient.connect(b.baseUrl, { userId: 'on-b' });
    const published = await metric(
      a,
      'mealpulse_redis_messages_published_total{kind="notifications"}',
    );
    const id = await postMeal(a, 'on-b');
    expect(await client.nextFrame(isNotification)).toMatchObject({
      event: 'meal_log.completed',
      data: { id },
    });
    expect(await metric(a, 'mealpulse_redis_messages_published_total{kind="notifications"}')).toBe(
      published + 1,
    );
    await client.close();
  });

  it('delivers to two devices on two instances, one message per target instance', async () => {
    const phone = await WsClient.connect(b.baseUrl, { userId: 'two-instances', deviceId: 'phone' });
    const tablet = await WsClient.connect(c.baseUrl, {
      userId: 'two-instances',
      deviceId: 'tablet',
    });
    const watch = await WsClient.connect(c.baseUrl, { userId: 'two-instances', deviceId: 'watch' });
    const published = await metric(
      a,
      'mealpulse_redis_messages_published_total{kind="notifications"}',
    );
    const id = await postMeal(a, 'two-instances');
    for (const client of [phone, tablet, watch]) {
      expect(await client.nextFrame(isNotification)).toMatchObject({ data: { id } });
    }
    // B once, C once (for two sessions), A never (it holds none).
    expect(await metric(a, 'mealpulse_redis_messages_published_total{kind="notifications"}')).toBe(
      published + 2,
    );
    await Promise.all([phone.close(), tablet.close(), watch.close()]);
  });

  it('lists every instance’s sessions in the admin presence of any instance, and enforces the per-user limit across them', async () => {
    const onB = await WsClient.connect(b.baseUrl, { userId: 'everywhere', deviceId: 'phone' });
    const onC = await WsClient.connect(c.baseUrl, { userId: 'everywhere', deviceId: 'tablet' });
    const onA = await WsClient.connect(a.baseUrl, { userId: 'everywhere', deviceId: 'laptop' });
    await expectEventually(async () => {
      const user = await api(a, 'root', { roles: ['admin'] })
        .get('/api/v1/admin/presence/users/everywhere')
        .expect(200);
      expect(user.body.online).toBe(true);
      expect(user.body.sessions.map((s: { deviceId: string }) => s.deviceId).sort()).toEqual([
        'laptop',
        'phone',
        'tablet',
      ]);
      const overview = await api(c, 'root', { roles: ['admin'] })
        .get('/api/v1/admin/presence')
        .expect(200);
      const listed = overview.body.users.find((u: { userId: string }) => u.userId === 'everywhere');
      expect(listed.sessions).toHaveLength(3);
    });
    expect(
      (await WsClient.refusal(b.baseUrl, { userId: 'everywhere', deviceId: 'fourth' })).status,
    ).toBe(429);
    await Promise.all([onA.close(), onB.close(), onC.close()]);
  });

  it('writes a session’s lease in full again when its hash has gone (lapsed lease, lost key), on its next sign of life', async () => {
    const client = await WsClient.connect(b.baseUrl, { userId: 'lapsed', deviceId: 'phone' });
    const { sessionId } = client.frames[0] as unknown as { sessionId: string };
    const sessionKey = `mealpulse:session:${sessionId}`;
    const seenFromA = async () =>
      (
        await api(a, 'root', { roles: ['admin'] })
          .get('/api/v1/admin/presence/users/lapsed')
          .expect(200)
      ).body.sessions as { sessionId: string; deviceId: string }[];
    await expectEventually(async () => expect(await seenFromA()).toHaveLength(1));
    const keys = new Redis(redis.url);
    try {
      // Once written in full, B's renewals carry only lastSeenAt and pings.
      expect(await keys.del(sessionKey)).toBe(1);
      client.socket.ping();
      await expectEventually(async () => {
        expect(await keys.hgetall(sessionKey)).toMatchObject({
          sessionId,
          userId: 'lapsed',
          deviceId: 'phone',
        });
        expect(await seenFromA()).toMatchObject([{ sessionId, deviceId: 'phone' }]);
      });
    } finally {
      keys.disconnect();
      await client.close();
    }
  });

  it('replaces the session of the same device held by another instance (4409, audited replaced)', async () => {
    const old = await WsClient.connect(b.baseUrl, { userId: 'roaming', deviceId: 'iphone' });
    const oldSessionId = (old.frames[0] as unknown as { sessionId: string }).sessionId;
    await expectEventually(async () => {
      const user = await api(c, 'root', { roles: ['admin'] })
        .get('/api/v1/admin/presence/users/roaming')
        .expect(200);
      expect(user.body.sessions).toHaveLength(1);
    });
    const fresh = await WsClient.connect(c.baseUrl, { userId: 'roaming', deviceId: 'iphone' });
    expect((await old.closedWithin()).code).toBe(4409);
    await expectEventually(async () => {
      const [row] = await query<{ end_reason: string }>(
        database.url,
        'SELECT end_reason FROM ws_sessions WHERE session_id = $1',
        [oldSessionId],
      );
      expect(row.end_reason).toBe('replaced');
    });
    await fresh.close();
  });

  it('audits a killed instance’s sessions as lost and shows its users offline within the stale window; others are unaffected', async () => {
    const victimEnv = { ...env(), JOB_CONCURRENCY: '0' };
    const doomed = await startChildApp(victimEnv);
    const victim = await WsClient.connect(doomed.baseUrl, { userId: 'victim' });
    const survivor = await WsClient.connect(b.baseUrl, { userId: 'survivor' });
    const victimSession = (victim.frames[0] as unknown as { sessionId: string }).sessionId;
    const pinger = setInterval(() => survivor.socket.ping(), 200);
    try {
      await expectEventually(async () => {
        const user = await api(a, 'root', { roles: ['admin'] })
          .get('/api/v1/admin/presence/users/victim')
          .expect(200);
        expect(user.body.online).toBe(true);
        // ...and its opening is in the audit (written just after the welcome, not before it).
        const rows = await query(database.url, 'SELECT 1 FROM ws_sessions WHERE session_id = $1', [
          victimSession,
        ]);
        expect(rows).toHaveLength(1);
      });
      const killedAt = Date.now();
      await doomed.kill('SIGKILL');
      await expectEventually(
        async () => {
          const user = await api(a, 'root', { roles: ['admin'] })
            .get('/api/v1/admin/presence/users/victim')
            .expect(200);
          expect(user.body.online).toBe(false);
        },
        { timeoutMs: STALE_AFTER_MS * 3 },
      );
      expect(Date.now() - killedAt).toBeLessThan(STALE_AFTER_MS + 1_500);
      await expectEventually(async () => {
        const [row] = await query<{ end_reason: string }>(
          database.url,
          'SELECT end_reason FROM ws_sessions WHERE session_id = $1',
          [victimSession],
        );
        expect(row.end_reason).toBe('lost');
      });
      // The survivor on B stayed online and still receives results.
      const survivorView = await api(a, 'root', { roles: ['admin'] })
        .get('/api/v1/admin/presence/users/survivor')
        .expect(200);
      expect(survivorView.body.online).toBe(true);
      expect(survivor.state()).toBe('open');
      const id = await postMeal(a, 'survivor');
      expect(await survivor.nextFrame(isNotification)).toMatchObject({ data: { id } });
    } finally {
      clearInterval(pinger);
      await survivor.close();
    }
  });

  it('loses nothing while Redis is down for 10 s, and reconnects by itself', async () => {
    const client = await WsClient.connect(b.baseUrl, {
      userId: 'through-outage',
      deviceId: 'phone',
    });
    const pinger = setInterval(() => client.socket.ping(), 200);
    try {
      const before = await postMeal(a, 'through-outage', 'an egg');
      await client.nextFrame((f) => isNotification(f) && (f.data as { id: string }).id === before);

      await redis.stop();
      const outageStarted = Date.now();
      await expectEventually(async () => {
        const ready = await request(b.baseUrl).get('/health/ready').expect(200);
        expect(ready.body).toMatchObject({
          status: 'degraded',
          checks: { database: 'up', redis: 'down' },
        });
      });
      // Meals keep completing on A; B still serves its socket and REST.
      const during = [
        await postMeal(a, 'through-outage', 'a banana'),
        await postMeal(b, 'through-outage', 'toast'),
      ];
      await request(b.baseUrl).get('/health/live').expect(200);
      const wait = 10_000 - (Date.now() - outageStarted);
      await client.staysOpenFor(Math.max(0, wait)); // the outage lasts 10 s, by design
      await redis.start();

      await expectEventually(
        async () => {
          const ready = await request(b.baseUrl).get('/health/ready').expect(200);
          expect(ready.body).toMatchObject({ status: 'ok', checks: { redis: 'up' } });
        },
        { timeoutMs: 10_000 },
      );
      const after = await postMeal(a, 'through-outage', 'a pear');

      // Ledger: every notification committed for the user reached the user's socket, and only those.
      await expectEventually(
        async () => {
          const committed = await query(
            database.url,
            `SELECT 1 FROM notifications WHERE user_id = 'through-outage'`,
          );
          expect(committed).toHaveLength(4);
          await expectLedgerBalanced(
            database.url,
            receivedByClients([{ userId: 'through-outage', frames: client.frames }]),
            { userPrefix: 'through-outage' },
          );
        },
        { timeoutMs: 15_000 },
      );
      const ids = client.frames.filter(isNotification).map((f) => (f.data as { id: string }).id);
      expect(ids).toEqual(expect.arrayContaining([before, ...during, after]));
    } finally {
      clearInterval(pinger);
      await client.close();
    }
  }, 60_000);
});
