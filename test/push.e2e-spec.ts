import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PushChannel } from '../src/notifications/push.channel';
import {
  ApnsTestCredentials,
  apnsServiceEnv,
  createApnsTestCredentials,
} from '../tools/apns-peer/apns-credentials';
import { ChildApp, startChildApp } from './support/child-app';
import { expectEventually } from './support/expect-eventually';
import { ApnsRequest, FakeApns } from '../tools/apns-peer/fake-apns';
import { api } from './support/http-client';
import { startTestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';
import { Frame, WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
/** Long enough that a client acking on receipt is always in time on a loaded CI machine. */
const ACK_DEADLINE_MS = 2_000;
const MAX_ATTEMPTS = 3;
const isNotification = (frame: Frame) => frame.type === 'notification';

/** A fresh APNs device token (64 hex characters). */
const deviceToken = () => randomBytes(32).toString('hex');

interface PushRow {
  push_reason: string | null;
  push_due_at: Date | null;
  push_attempts: number;
  created_at: Date;
}

describe('APNs push', () => {
  let dir: string;
  let credentials: ApnsTestCredentials;
  let apns: FakeApns;
  let database: { url: string; drop: () => Promise<void> };
  let app: ChildApp;
  const children: ChildApp[] = [];

  const env = () => ({
    DATABASE_URL: database.url,
    ...apnsServiceEnv(credentials, apns.url),
    PUSH_ACK_DEADLINE_MS: String(ACK_DEADLINE_MS),
    PUSH_SCAN_INTERVAL_MS: '50',
    PUSH_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    JOB_POLL_INTERVAL_MS: '50',
  });

  async function start(extra: Record<string, string> = {}): Promise<ChildApp> {
    const child = await startChildApp({ ...env(), ...extra });
    children.push(child);
    return child;
  }

  async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const client = new Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async function register(userId: string, deviceId: string, environment?: string): Promise<string> {
    const token = deviceToken();
    await api(app, userId)
      .put(`/api/v1/devices/${deviceId}/push-token`)
      .send({ token, ...(environment ? { environment } : {}) })
      .expect(204);
    return token;
  }

  async function postMeal(target: ChildApp, userId: string, text = '1 small apple') {
    return (await api(target, userId).post(NATURAL).send({ text }).expect(201)).body as {
      id: string;
    };
  }

  const pushesTo = (token: string) => apns.requests.filter((r) => r.deviceToken === token);

  async function adminNotifications(userId: string) {
    return (
      await api(app, 'root', { roles: ['admin'] })
        .get(`/api/v1/admin/users/${userId}/notifications`)
        .expect(200)
    ).body.items as {
      id: string;
      data: { id: string };
      pushReason: string | null;
      foregroundSessionsAtCreation: number;
      push: { deviceId: string; at: string; status: string; reason: string | null }[];
      sessions: { sessionId: string; deviceId: string | null; via: string }[];
      verdict: string;
    }[];
  }

  /** The notification's push is settled: nothing more will be sent for it. */
  async function pushSettled(mealLogId: string): Promise<PushRow> {
    return expectEventually(
      async () => {
        const [row] = await query<PushRow>(
          `SELECT push_reason, push_due_at, push_attempts, created_at FROM notifications
           WHERE meal_log_id = $1`,
          [mealLogId],
        );
        expect(row).toBeDefined();
        expect(row.push_due_at).toBeNull();
        return row;
      },
      { timeoutMs: 15_000 },
    );
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mealpulse-apns-'));
    credentials = await createApnsTestCredentials(dir);
    apns = await FakeApns.start({ credentials });
    database = await createTestDatabase();
    app = await start();
  }, 60_000);

  afterAll(async () => {
    await Promise.all(children.map((child) => child.kill('SIGTERM')));
    await apns?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('pushes at once when the user has no session, as the provider API expects it', async () => {
    const token = await register('push-nobody', 'iphone');
    const mealLog = await postMeal(app, 'push-nobody');
    const [request] = await apns.waitForRequests((r) => r.deviceToken === token, 1, 10_000);
    // The peer has verified the ES256 provider token (kid, iss, age), the topic and the path.
    expect(request).toMatchObject<Partial<ApnsRequest>>({ method: 'POST', status: 200 });
    expect(request.path).toBe(`/3/device/${token}`);
    expect(request.headers).toMatchObject({
      'apns-topic': credentials.topic,
      'apns-push-type': 'alert',
      'apns-collapse-id': mealLog.id,
    });
    expect(request.payload).toEqual({
      aps: {
        alert: {
          title: 'Meal analysed',
          body: expect.stringMatching(/^1 small apple · \d+ kcal$/),
        },
        sound: 'default',
      },
      mealLogId: mealLog.id,
      seq: 1,
      event: 'meal_log.completed',
    });
    // The answer is recorded with the push's settling, a moment after APNs' answer.
    expect((await pushSettled(mealLog.id)).push_attempts).toBe(1);
    const [notification] = await adminNotifications('push-nobody');
    expect(notification).toMatchObject({
      data: { id: mealLog.id },
      pushReason: 'no_foreground_session',
      foregroundSessionsAtCreation: 0,
      push: [{ deviceId: 'iphone', status: 'sent', reason: null, at: expect.any(String) }],
      sessions: [],
      verdict: 'pushed: no session open',
    });
  });

  it('pushes to a backgrounded session’s device, and still writes the frame to its socket', async () => {
    const token = await register('push-background', 'iphone');
    const client = await WsClient.connect(app.baseUrl, {
      userId: 'push-background',
      deviceId: 'iphone',
    });
    try {
      client.send({ type: 'app_state', state: 'background' });
      await expectEventually(async () => {
        const user = await api(app, 'root', { roles: ['admin'] })
          .get('/api/v1/admin/presence/users/push-background')
          .expect(200);
        expect(user.body.sessions).toMatchObject([{ appState: 'background' }]);
      });
      const mealLog = await postMeal(app, 'push-background');
      const frame = await client.nextFrame(isNotification, 10_000);
      expect(frame).toMatchObject({ data: { id: mealLog.id } });
      // The app acks what its socket delivered before iOS suspends it: the push goes anyway.
      client.send({ type: 'ack', seq: frame.seq as number });
      await apns.waitForRequests((r) => r.deviceToken === token, 1, 10_000);
      expect((await pushSettled(mealLog.id)).push_attempts).toBe(1);
      // Its socket write is recorded a moment after it was made.
      const notification = await expectEventually(async () => {
        const [item] = await adminNotifications('push-background');
        expect(item.sessions).toHaveLength(1);
        return item;
      });
      expect(notification).toMatchObject({
        pushReason: 'no_foreground_session',
        foregroundSessionsAtCreation: 0,
        push: [{ deviceId: 'iphone', status: 'sent' }],
        sessions: [{ deviceId: 'iphone', via: 'live' }],
      });
      expect(notification.verdict).toMatch(
        /^delivered over the socket in \d+ ms, (acknowledged after [^,]+, pushed: app in background|pushed: app in background, acknowledged after .+)$/,
      );
      expect(pushesTo(token)).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('does not push what a foreground session acked in time; pushes once, after the deadline, what nobody acked', async () => {
    const ackerToken = await register('push-acker', 'iphone');
    const silentToken = await register('push-silent', 'iphone');
    const acker = await WsClient.connect(app.baseUrl, { userId: 'push-acker', deviceId: 'iphone' });
    const silent = await WsClient.connect(app.baseUrl, {
      userId: 'push-silent',
      deviceId: 'iphone',
    });
    try {
      const acked = await postMeal(app, 'push-acker');
      const frame = await acker.nextFrame(isNotification, 10_000);
      acker.send({ type: 'ack', seq: frame.seq as number });
      // The ack cancels the push it beat.
      const cancelled = await pushSettled(acked.id);
      expect(cancelled).toMatchObject({ push_reason: 'ack_deadline', push_attempts: 0 });
      const [{ acked_at: ackedAt }] = await query<{ acked_at: Date }>(
        `SELECT acked_at FROM notifications WHERE meal_log_id = $1`,
        [acked.id],
      );
      expect(ackedAt.getTime() - cancelled.created_at.getTime()).toBeLessThan(ACK_DEADLINE_MS);

      const unacked = await postMeal(app, 'push-silent');
      await silent.nextFrame(isNotification, 10_000);
      const [request] = await apns.waitForRequests(
        (r) => r.deviceToken === silentToken,
        1,
        ACK_DEADLINE_MS + 10_000,
      );
      const settled = await pushSettled(unacked.id);
      expect(settled).toMatchObject({ push_reason: 'ack_deadline', push_attempts: 1 });
      expect(request.at).toBeGreaterThanOrEqual(settled.created_at.getTime() + ACK_DEADLINE_MS);
      expect(pushesTo(silentToken)).toHaveLength(1);
      // The acked one fell due earlier, so any scan that pushed this one would have pushed it.
      expect(pushesTo(ackerToken)).toHaveLength(0);
      const [ackedInTime] = await adminNotifications('push-acker');
      expect(ackedInTime.push).toEqual([]);
      expect(ackedInTime.verdict).toMatch(
        /^delivered over the socket in \d+ ms, acknowledged after [\d.]+ (ms|s)$/,
      );
    } finally {
      await Promise.all([acker.close(), silent.close()]);
    }
  });

  it('pushes to every device of the user that has a token, once each', async () => {
    const phone = await register('push-devices', 'phone');
    const tablet = await register('push-devices', 'tablet', 'sandbox');
    const mealLog = await postMeal(app, 'push-devices');
    await apns.waitForRequests((r) => r.deviceToken === phone || r.deviceToken === tablet, 2);
    await pushSettled(mealLog.id);
    expect(pushesTo(phone)).toHaveLength(1);
    expect(pushesTo(tablet)).toHaveLength(1);
    // One provider token, signed once, for every request of this process (Apple throttles
    // providers that sign a new one more often than every 20 minutes).
    const ofThisProcess = apns.requests.filter((r) => r.status === 200).map((r) => r.providerToken);
    expect([...new Set(ofThisProcess)]).toHaveLength(1);
    const [notification] = await adminNotifications('push-devices');
    expect(notification.push.map((p) => [p.deviceId, p.status]).sort()).toEqual([
      ['phone', 'sent'],
      ['tablet', 'sent'],
    ]);
  });

  it.each([
    [410, 'Unregistered'],
    [400, 'BadDeviceToken'],
    [400, 'DeviceTokenNotForTopic'],
  ] as const)(
    'removes the token when APNs answers %i %s, and records the answer',
    async (status, reason) => {
      const userId = `push-gone-${reason}`;
      const token = await register(userId, 'iphone');
      apns.respondWith(token, { status, reason });
      const mealLog = await postMeal(app, userId);
      await apns.waitForRequests((r) => r.deviceToken === token, 1, 10_000);
      await expectEventually(async () =>
        expect(await query(`SELECT 1 FROM device_push_tokens WHERE token = $1`, [token])).toEqual(
          [],
        ),
      );
      await pushSettled(mealLog.id);
      const [notification] = await adminNotifications(userId);
      expect(notification.push).toMatchObject([{ deviceId: 'iphone', status: 'rejected', reason }]);
      expect(notification.verdict).toBe(
        `not delivered: no session, push refused (${reason}), token removed`,
      );
      // Gone: the next notification is not pushed to it.
      const next = await postMeal(app, userId);
      await pushSettled(next.id);
      expect(pushesTo(token)).toHaveLength(1);
    },
  );

  it('retries a 500 once, after a back-off, and records both answers', async () => {
    const token = await register('push-flaky', 'iphone');
    apns.respondWith(token, { status: 500, reason: 'InternalServerError' });
    const mealLog = await postMeal(app, 'push-flaky');
    const [first, second] = await apns.waitForRequests((r) => r.deviceToken === token, 2, 15_000);
    expect([first.status, second.status]).toEqual([500, 200]);
    // PUSH_RETRY_BASE_DELAY_MS (1 s) with at most 20 % jitter below it.
    expect(second.at - first.at).toBeGreaterThanOrEqual(800);
    expect((await pushSettled(mealLog.id)).push_attempts).toBe(2);
    expect(pushesTo(token)).toHaveLength(2);
    const [notification] = await adminNotifications('push-flaky');
    expect(notification.push.map((p) => p.status)).toEqual(['retrying', 'sent']);
  });

  it('stops retrying a deadline push once the user acks it', async () => {
    const token = await register('push-late-ack', 'iphone');
    const client = await WsClient.connect(app.baseUrl, {
      userId: 'push-late-ack',
      deviceId: 'iphone',
    });
    try {
      apns.respondWith(token, { status: 503, reason: 'ServiceUnavailable' });
      const mealLog = await postMeal(app, 'push-late-ack');
      const frame = await client.nextFrame(isNotification, 10_000);
      // Not acked in time: pushed after the deadline, and APNs cannot take it.
      await apns.waitForRequests((r) => r.deviceToken === token, 1, ACK_DEADLINE_MS + 10_000);
      client.send({ type: 'ack', seq: frame.seq as number });
      const settled = await pushSettled(mealLog.id);
      expect(settled).toMatchObject({ push_reason: 'ack_deadline', push_attempts: 1 });
      expect(pushesTo(token)).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('gives up after PUSH_MAX_ATTEMPTS rounds of 429, and keeps the token', async () => {
    const token = await register('push-throttled', 'iphone');
    apns.respondWith(
      token,
      ...Array.from({ length: MAX_ATTEMPTS + 1 }, () => ({
        status: 429 as const,
        reason: 'TooManyRequests',
      })),
    );
    const mealLog = await postMeal(app, 'push-throttled');
    await apns.waitForRequests((r) => r.deviceToken === token, MAX_ATTEMPTS, 20_000);
    expect((await pushSettled(mealLog.id)).push_attempts).toBe(MAX_ATTEMPTS);
    expect(pushesTo(token)).toHaveLength(MAX_ATTEMPTS);
    const [notification] = await adminNotifications('push-throttled');
    expect(notification.push.map((p) => p.status)).toEqual([
      ...Array(MAX_ATTEMPTS - 1).fill('retrying'),
      'failed',
    ]);
    expect(await query(`SELECT 1 FROM device_push_tokens WHERE token = $1`, [token])).toHaveLength(
      1,
    );
  });

  it('pushes once after a restart between creation and the deadline', async () => {
    // A database of its own: no other instance may create this notification or scan for it.
    const own = await createTestDatabase();
    try {
      const doomed = await start({ DATABASE_URL: own.url });
      const token = deviceToken();
      await api(doomed, 'push-restart')
        .put('/api/v1/devices/iphone/push-token')
        .send({ token })
        .expect(204);
      const client = await WsClient.connect(doomed.baseUrl, {
        userId: 'push-restart',
        deviceId: 'iphone',
      });
      const mealLog = await postMeal(doomed, 'push-restart');
      expect(await client.nextFrame(isNotification, 10_000)).toMatchObject({
        data: { id: mealLog.id },
      });
      // Killed before the deadline: nothing of the push lives in the process.
      await doomed.kill('SIGKILL');
      expect(pushesTo(token)).toHaveLength(0);
      const restarted = await start({ DATABASE_URL: own.url });
      const [request] = await apns.waitForRequests(
        (r) => r.deviceToken === token,
        1,
        ACK_DEADLINE_MS + 10_000,
      );
      expect(request).toMatchObject({ status: 200, payload: { mealLogId: mealLog.id } });
      // The answer is recorded a moment after APNs gave it.
      const notification = await expectEventually(async () => {
        const [item] = (
          await api(restarted, 'root', { roles: ['admin'] })
            .get('/api/v1/admin/users/push-restart/notifications')
            .expect(200)
        ).body.items as { pushReason: string; push: { status: string }[]; createdAt: string }[];
        expect(item.push).toHaveLength(1);
        return item;
      });
      expect(notification.pushReason).toBe('ack_deadline');
      expect(notification.push.map((p) => p.status)).toEqual(['sent']);
      expect(request.at).toBeGreaterThanOrEqual(
        Date.parse(notification.createdAt) + ACK_DEADLINE_MS,
      );
      await restarted.kill('SIGTERM');
      expect(pushesTo(token)).toHaveLength(1);
    } finally {
      await own.drop();
    }
  });

  it('pushes each notification once per device with two instances scanning', async () => {
    const second = await start();
    const users = Array.from({ length: 12 }, (_, i) => `push-pair-${i}`);
    const tokens = await Promise.all(users.map((userId) => register(userId, 'iphone')));
    // Half without a session (due at once), half behind a silent session (due at the deadline).
    const clients = await Promise.all(
      users
        .slice(0, 6)
        .map((userId, i) =>
          WsClient.connect((i % 2 === 0 ? app : second).baseUrl, { userId, deviceId: 'iphone' }),
        ),
    );
    try {
      const mealLogs = await Promise.all(
        users.map((userId, i) => postMeal(i % 2 === 0 ? app : second, userId)),
      );
      await apns.waitForRequests((r) => tokens.includes(r.deviceToken ?? ''), 12, 20_000);
      for (const mealLog of mealLogs) expect((await pushSettled(mealLog.id)).push_attempts).toBe(1);
      for (const token of tokens) expect(pushesTo(token)).toHaveLength(1);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });
});

describe('without APNS_*', () => {
  it('plans no push and runs no push channel', async () => {
    const app = await startTestApp();
    try {
      expect(app.app.get(PushChannel, { strict: false })).toBeNull();
      await api(app, 'no-apns')
        .put('/api/v1/devices/iphone/push-token')
        .send({ token: deviceToken() })
        .expect(204);
      await api(app, 'no-apns').post(NATURAL).send({ text: 'an egg' }).expect(201);
      const rows = await expectEventually(async () => {
        const found = await app.dataSource.query<PushRow[]>(
          `SELECT push_reason, push_due_at, push_attempts FROM notifications WHERE user_id = 'no-apns'`,
        );
        expect(found).toHaveLength(1);
        return found;
      });
      expect(rows).toEqual([{ push_reason: null, push_due_at: null, push_attempts: 0 }]);
    } finally {
      await app.close();
    }
  });
});
