import { DataSource } from 'typeorm';
import { AcknowledgementWriter } from '../src/notifications/acknowledgement.writer';
import { NotificationRepository } from '../src/notifications/notification.repository';
import { expectEventually } from './support/expect-eventually';
import { statementsDuring } from './support/sql';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { Frame, WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const isNotification = (frame: Frame) => frame.type === 'notification';
const notificationsOf = (client: WsClient) => client.frames.filter(isNotification);

async function postMeal(app: TestApp, userId: string, text: string): Promise<string> {
  return (await api(app, userId).post(NATURAL).send({ text }).expect(201)).body.id as string;
}

async function notificationRows(dataSource: DataSource, userId: string) {
  return await dataSource.query<
    {
      id: string;
      seq: number;
      delivered_at: Date | null;
      delivery_attempts: number;
      acked_at: Date | null;
      online_sessions_at_creation: number;
    }[]
  >(
    `SELECT id, seq::int AS seq, delivered_at, delivery_attempts, acked_at, online_sessions_at_creation
     FROM notifications WHERE user_id = $1 ORDER BY seq`,
    [userId],
  );
}

/** Two notifications for each of `users` (an apple, then a pear), once both are created. */
async function twoNotificationsEach(app: TestApp, users: string[]): Promise<void> {
  for (const userId of users) {
    await postMeal(app, userId, 'apple');
    await postMeal(app, userId, 'pear');
  }
  await expectEventually(async () => {
    for (const userId of users)
      expect(await notificationRows(app.dataSource, userId)).toHaveLength(2);
  });
}

describe('notifications', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      PRESENCE_STALE_AFTER_MS: '400',
      PRESENCE_SWEEP_INTERVAL_MS: '100',
      WS_HEARTBEAT_INTERVAL_MS: '60000',
      // The backlog test posts 140 logs of one user within seconds.
      MEAL_LOGS_PER_MINUTE: '140',
    });
  });
  afterAll(() => app.close());

  it('the incident timeline: a client pinging with protocol frames gets "1 small apple" within 1 s of completion', async () => {
    const client = await WsClient.connect(app.baseUrl, {
      userId: 'incident',
      deviceId: 'iphone',
      autoPong: false,
    });
    const pinger = setInterval(() => client.socket.ping(), 100);
    try {
      // Pings keep the session alive over several stale-after periods before and after the meal.
      await client.staysOpenFor(1_200);
      const id = await postMeal(app, 'incident', '1 small apple');
      const frame = await client.nextFrame(
        (f) => isNotification(f) && (f.data as { id: string }).id === id,
        5_000,
      );
      const receivedAt = Date.now();
      expect(frame).toMatchObject({
        type: 'notification',
        event: 'meal_log.completed',
        seq: 1,
        data: { id, status: 'completed', items: [expect.objectContaining({ name: 'apple' })] },
      });
      const completedAt = Date.parse((frame.data as { completedAt: string }).completedAt);
      expect(receivedAt - completedAt).toBeLessThan(1_000);
      await client.staysOpenFor(1_200);
      const [row] = await notificationRows(app.dataSource, 'incident');
      expect(row.online_sessions_at_creation).toBe(1);
      await expectEventually(async () => {
        const [delivered] = await notificationRows(app.dataSource, 'incident');
        expect(delivered.delivered_at).not.toBeNull();
        expect(delivered.delivery_attempts).toBe(1);
      });
    } finally {
      clearInterval(pinger);
      await client.close();
    }
  });

  it('replays to the next session what completed while the user was offline; after ack, not again; ?after still does', async () => {
    const id = await postMeal(app, 'offline', 'two eggs');
    await expectEventually(async () =>
      expect(await notificationRows(app.dataSource, 'offline')).toHaveLength(1),
    );
    const [created] = await notificationRows(app.dataSource, 'offline');
    expect(created.online_sessions_at_creation).toBe(0);
    expect(created.delivered_at).toBeNull();

    const first = await WsClient.connect(app.baseUrl, { userId: 'offline', deviceId: 'phone' });
    const replayed = await first.nextFrame(isNotification);
    expect(replayed).toMatchObject({ seq: 1, event: 'meal_log.completed', data: { id } });
    expect(first.frames.findIndex(isNotification)).toBeGreaterThan(
      first.frames.findIndex((f) => f.type === 'welcome'),
    );
    first.send({ type: 'ack', seq: replayed.seq as number });
    await expectEventually(async () =>
      expect((await notificationRows(app.dataSource, 'offline'))[0].acked_at).not.toBeNull(),
    );
    await first.close();

    const again = await WsClient.connect(app.baseUrl, { userId: 'offline', deviceId: 'phone' });
    again.send({ type: 'ping' });
    await again.nextNewFrame((f) => f.type === 'pong'); // the replay, if any, would have come first
    expect(notificationsOf(again)).toEqual([]);
    await again.close();

    const tablet = await WsClient.connect(app.baseUrl, {
      userId: 'offline',
      deviceId: 'tablet',
      after: 0,
    });
    expect(await tablet.nextFrame(isNotification)).toMatchObject({ seq: 1, data: { id } });
    await tablet.close();
  });

  it('replays to many sessions opening at once, each its own notifications in order, in shared outbox reads', async () => {
    const users = Array.from({ length: 40 }, (_, i) => `storm-${i}`);
    const withBacklog = users.slice(0, 20);
    await twoNotificationsEach(app, withBacklog);

    // Every other user keeps its own cursor (`?after=1`): only seq 2 is replayed to it.
    const afterOf = (i: number) => (i % 2 === 1 ? 1 : undefined);
    let clients: WsClient[] = [];
    const statements = await statementsDuring(app.dataSource, async () => {
      clients = await Promise.all(
        users.map((userId, i) =>
          WsClient.connect(app.baseUrl, { userId, deviceId: 'phone', after: afterOf(i) }),
        ),
      );
      for (const client of clients) {
        client.send({ type: 'ping' });
        await client.nextFrame((f) => f.type === 'pong'); // the replay comes before it
      }
    });
    const replayed = clients.map((client) =>
      notificationsOf(client).map((f) => [f.seq, (f.data as { text: string }).text]),
    );
    expect(replayed).toEqual(
      users.map((_, i) =>
        i >= withBacklog.length
          ? []
          : afterOf(i) === 1
            ? [[2, 'pear']]
            : [
                [1, 'apple'],
                [2, 'pear'],
              ],
      ),
    );
    const outboxReads = statements.filter((s) => s.sql.includes('notification_sequences AS s'));
    expect(outboxReads.length).toBeLessThan(users.length);
    await Promise.all(clients.map((client) => client.close()));
  });

  it('pushes a live notification to both devices of the user and to nobody else', async () => {
    const phone = await WsClient.connect(app.baseUrl, { userId: 'two', deviceId: 'phone' });
    const tablet = await WsClient.connect(app.baseUrl, { userId: 'two', deviceId: 'tablet' });
    const stranger = await WsClient.connect(app.baseUrl, { userId: 'stranger' });
    const id = await postMeal(app, 'two', 'a banana');
    const onPhone = await phone.nextFrame(isNotification);
    const onTablet = await tablet.nextFrame(isNotification);
    expect(onPhone).toEqual(onTablet);
    expect(onPhone.data).toMatchObject({ id });
    await expectEventually(async () =>
      expect((await notificationRows(app.dataSource, 'two'))[0].delivery_attempts).toBe(2),
    );

    // The stranger's own meal arrives, and nothing of the other user's ever did.
    await postMeal(app, 'stranger', 'toast');
    await stranger.nextFrame(isNotification);
    expect(notificationsOf(stranger).map((f) => (f.data as { text: string }).text)).toEqual([
      'toast',
    ]);
    await Promise.all([phone.close(), tablet.close(), stranger.close()]);
  });

  it('sends a failed analysis as meal_log.failed', async () => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'failing' });
    const id = await postMeal(app, 'failing', 'qwertyuiop');
    expect(await client.nextFrame(isNotification)).toMatchObject({
      event: 'meal_log.failed',
      data: { id, status: 'failed', error: expect.stringContaining('qwertyuiop') },
    });
    await client.close();
  });

  it('replays long backlogs in seq order across pages, without gaps or duplicates against live pushes', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 130; i++) ids.push(await postMeal(app, 'backlog', `${(i % 9) + 1} apples`));
    await expectEventually(
      async () => expect(await notificationRows(app.dataSource, 'backlog')).toHaveLength(130),
      { timeoutMs: 15_000 },
    );

    const client = await WsClient.connect(app.baseUrl, { userId: 'backlog' });
    // The server pings once a minute here and a session is stale after 400 ms: the client keeps
    // itself alive, or a slow run would see it swept before the last meals arrive.
    const pinger = setInterval(() => client.socket.ping(), 100);
    try {
      // More meals complete while the replay is running.
      for (let i = 0; i < 10; i++) ids.push(await postMeal(app, 'backlog', 'an orange'));
      await expectEventually(() => expect(notificationsOf(client)).toHaveLength(140), {
        timeoutMs: 15_000,
      });
      expect(client.state()).toBe('open');
      const seqs = notificationsOf(client).map((f) => f.seq as number);
      expect(seqs).toEqual(Array.from({ length: 140 }, (_, i) => i + 1));
      expect(new Set(notificationsOf(client).map((f) => (f.data as { id: string }).id))).toEqual(
        new Set(ids),
      );
    } finally {
      clearInterval(pinger);
      await client.close();
    }
  });

  describe('ack', () => {
    it('acknowledges only the user’s own notifications, and never beyond what exists', async () => {
      await postMeal(app, 'acker', 'rice');
      await postMeal(app, 'bystander', 'rice');
      await expectEventually(async () => {
        expect(await notificationRows(app.dataSource, 'acker')).toHaveLength(1);
        expect(await notificationRows(app.dataSource, 'bystander')).toHaveLength(1);
      });
      const client = await WsClient.connect(app.baseUrl, { userId: 'acker' });
      await client.nextFrame(isNotification);
      client.send({ type: 'ack', seq: 9_007_199_254_740_991 });
      await expectEventually(async () =>
        expect((await notificationRows(app.dataSource, 'acker'))[0].acked_at).not.toBeNull(),
      );
      expect((await notificationRows(app.dataSource, 'bystander'))[0].acked_at).toBeNull();

      // A later notification is not pre-acknowledged by the absurd seq.
      await postMeal(app, 'acker', 'beans');
      await client.nextFrame((f) => isNotification(f) && f.seq === 2);
      expect((await notificationRows(app.dataSource, 'acker'))[1].acked_at).toBeNull();
      await client.close();
    });

    it('writes the acks of one moment in one statement, each user only up to its own highest seq', async () => {
      const users = Array.from({ length: 20 }, (_, i) => `batch-acker-${i}`);
      await twoNotificationsEach(app, users);
      const statements = jest.spyOn(app.app.get(NotificationRepository), 'acknowledgeUpTo');
      try {
        const writer = app.app.get(AcknowledgementWriter);
        users.forEach((userId, i) => {
          writer.acknowledge(userId, i % 2 === 0 ? 1 : 2);
          writer.acknowledge(userId, 1); // a late, lower ack takes nothing back
        });
        const ackedOf = async (userId: string) =>
          (await notificationRows(app.dataSource, userId)).map((row) => row.acked_at !== null);
        await expectEventually(async () => {
          for (const [i, userId] of users.entries())
            expect(await ackedOf(userId)).toEqual(i % 2 === 0 ? [true, false] : [true, true]);
        });
        expect(statements).toHaveBeenCalledTimes(1);
      } finally {
        statements.mockRestore();
      }
    });

    it.each([
      ['a negative seq', { type: 'ack', seq: -1 }],
      ['a string seq', { type: 'ack', seq: '3' }],
      ['no seq', { type: 'ack' }],
    ])('answers %s with an error frame', async (_case, frame) => {
      const client = await WsClient.connect(app.baseUrl, { userId: 'bad-ack' });
      client.sendRaw(frame);
      expect(await client.nextNewFrame((f) => f.type === 'error')).toMatchObject({
        code: 'invalid_frame',
      });
      await client.close();
    });
  });

  describe('GET /api/v1/notifications', () => {
    it('lists the user’s notifications after a seq, ascending, own only', async () => {
      for (const text of ['apple', 'pear', 'plum']) await postMeal(app, 'poller', text);
      await postMeal(app, 'other-poller', 'kiwi');
      await expectEventually(async () =>
        expect(await notificationRows(app.dataSource, 'poller')).toHaveLength(3),
      );
      const all = await api(app, 'poller').get('/api/v1/notifications').expect(200);
      expect(all.body.items.map((n: { seq: number }) => n.seq)).toEqual([1, 2, 3]);
      expect(all.body.items[0]).toEqual({
        id: expect.any(String),
        seq: 1,
        event: 'meal_log.completed',
        data: expect.objectContaining({ status: 'completed' }),
        createdAt: expect.any(String),
      });
      const after = await api(app, 'poller')
        .get('/api/v1/notifications?after=1&limit=1')
        .expect(200);
      expect(after.body.items.map((n: { seq: number }) => n.seq)).toEqual([2]);
      const clamped = await api(app, 'poller')
        .get('/api/v1/notifications?limit=1000000000')
        .expect(200);
      expect(clamped.body.items).toHaveLength(3);
    });

    it.each(['-1', 'abc', '1e400', '99999999999999999999'])(
      'answers 400 for after=%s',
      async (after) => {
        const response = await api(app, 'poller')
          .get(`/api/v1/notifications?after=${after}`)
          .expect(400);
        expect(String(response.body.message)).toMatch(/after/);
      },
    );

    it('requires a token', async () => {
      await api(app).get('/api/v1/notifications').expect(401);
    });
  });

  describe('GET /api/v1/admin/users/:userId/notifications', () => {
    it('shows delivery records newest first, to admins only', async () => {
      for (const text of ['apple', 'pear', 'plum']) await postMeal(app, 'audited-user', text);
      await expectEventually(async () =>
        expect(await notificationRows(app.dataSource, 'audited-user')).toHaveLength(3),
      );
      await api(app, 'audited-user')
        .get('/api/v1/admin/users/audited-user/notifications')
        .expect(403);
      const admin = api(app, 'root', { roles: ['admin'] });
      const first = await admin
        .get('/api/v1/admin/users/audited-user/notifications?limit=2')
        .expect(200);
      expect(first.body.items.map((n: { seq: number }) => n.seq)).toEqual([3, 2]);
      expect(first.body.items[0]).toMatchObject({
        deliveredAt: null,
        ackedAt: null,
        deliveryAttempts: 0,
        onlineSessionsAtCreation: 0,
      });
      const second = await admin
        .get(
          `/api/v1/admin/users/audited-user/notifications?limit=2&cursor=${first.body.nextCursor}`,
        )
        .expect(200);
      expect(second.body).toMatchObject({
        items: [expect.objectContaining({ seq: 1 })],
        nextCursor: null,
      });
      // Nobody online and no APNs: nothing can reach the user until a device connects.
      expect(second.body.items[0].sessions).toEqual([]);
      expect(second.body.items[0].verdict).toMatch(
        /^(still waiting \(created .+ ago\)|not delivered: no session and push is not configured)$/,
      );
    });

    it('shows each session it was written to, when and how, and a verdict', async () => {
      const welcomeOf = (client: WsClient) =>
        client.frames.find((frame) => frame.type === 'welcome')!.sessionId as string;
      const phone = await WsClient.connect(app.baseUrl, { userId: 'timeline', deviceId: 'phone' });
      let tablet: WsClient | null = null;
      try {
        const id = await postMeal(app, 'timeline', 'apple');
        const live = await phone.nextFrame(
          (f) => isNotification(f) && (f.data as { id: string }).id === id,
          5_000,
        );
        // A device that connects afterwards gets it in its replay (nobody acknowledged it yet).
        tablet = await WsClient.connect(app.baseUrl, { userId: 'timeline', deviceId: 'tablet' });
        await tablet.nextFrame((f) => isNotification(f) && f.seq === live.seq, 5_000);
        phone.send({ type: 'ack', seq: live.seq as number });

        const admin = api(app, 'root', { roles: ['admin'] });
        const item = await expectEventually(async () => {
          const { body } = await admin
            .get('/api/v1/admin/users/timeline/notifications')
            .expect(200);
          const [newest] = body.items as {
            createdAt: string;
            ackedAt: string | null;
            sessions: { sessionId: string; at: string; via: string }[];
            verdict: string;
          }[];
          expect(newest.sessions).toHaveLength(2);
          expect(newest.ackedAt).not.toBeNull();
          return newest;
        });
        expect(item.sessions).toEqual([
          {
            sessionId: welcomeOf(phone),
            deviceId: 'phone',
            at: expect.any(String),
            via: 'live',
            attempts: 1,
          },
          {
            sessionId: welcomeOf(tablet),
            deviceId: 'tablet',
            at: expect.any(String),
            via: 'replay',
            attempts: 1,
          },
        ]);
        // The verdict's latency is the live write's, counted from the notification's creation.
        const liveMs = Date.parse(item.sessions[0].at) - Date.parse(item.createdAt);
        expect(liveMs).toBeLessThan(1_000);
        expect(item.verdict).toMatch(
          new RegExp(
            `^delivered over the socket in ${Math.max(0, liveMs)} ms, acknowledged after `,
          ),
        );
      } finally {
        await Promise.all([phone.close(), tablet?.close()]);
      }
    });
  });

  describe('GET /metrics', () => {
    it('exposes the incident’s success table in Prometheus format', async () => {
      const response = await api(app).get('/metrics').expect(200);
      expect(response.headers['content-type']).toMatch(/text\/plain/);
      for (const name of [
        'mealpulse_ws_sessions_open',
        'mealpulse_ws_pings_received_total{kind="protocol_ping"}',
        'mealpulse_presence_last_seen_updates_total',
        'mealpulse_notifications_created_total',
        'mealpulse_notifications_pushed_total',
        'mealpulse_notifications_replayed_total',
        'mealpulse_notifications_acknowledged_total',
        'mealpulse_notification_pushes_user_offline_total',
        'mealpulse_notification_delivery_ms_bucket',
      ]) {
        expect(response.text).toContain(name);
      }
    });

    it('counts a JSON ping once as a sign of life and once as a ping', async () => {
      const counter = async (name: string) => {
        const text = (await api(app).get('/metrics').expect(200)).text;
        const line = text.split('\n').find((l) => l.startsWith(`${name} `));
        return Number(line?.slice(name.length + 1) ?? 0);
      };
      const refreshes = 'mealpulse_presence_last_seen_updates_total';
      const jsonPings = 'mealpulse_ws_pings_received_total{kind="json_ping"}';
      // No pongs to the server's heartbeat: only the JSON ping may count.
      const client = await WsClient.connect(app.baseUrl, {
        userId: 'json-pinger',
        autoPong: false,
      });
      try {
        const before = { refreshes: await counter(refreshes), pings: await counter(jsonPings) };
        client.send({ type: 'ping' });
        await client.nextNewFrame((frame) => frame.type === 'pong');
        expect(await counter(refreshes)).toBe(before.refreshes + 1);
        expect(await counter(jsonPings)).toBe(before.pings + 1);
      } finally {
        await client.close();
      }
    });
  });
});
