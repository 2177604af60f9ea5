import { DataSource } from 'typeorm';
import { NotificationPruner } from '../src/notifications/notification.pruner';
import { LocalSessions } from '../src/presence/local-sessions';
import { PresenceService } from '../src/presence/presence.service';
import { startChildApp } from './support/child-app';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';
import { Frame, WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const isNotification = (frame: Frame) => frame.type === 'notification';

async function rows(dataSource: DataSource, userId: string) {
  return await dataSource.query<
    { id: string; seq: number; delivered_at: Date | null; acked_at: Date | null }[]
  >(
    `SELECT id, seq::int AS seq, delivered_at, acked_at FROM notifications WHERE user_id = $1 ORDER BY seq`,
    [userId],
  );
}

describe('notification durability', () => {
  it('delivers, after restart and reconnect, a notification whose process died between commit and push', async () => {
    const database = await createTestDatabase();
    try {
      const doomed = await startChildApp(
        // Dies the moment a committed notification is about to be pushed.
        {
          DATABASE_URL: database.url,
          CRASH_AT: 'notifications/websocket.channel#WebSocketChannel.deliver:before',
        },
        { preload: 'crash-at.js' },
      );
      const client = await WsClient.connect(doomed.baseUrl, { userId: 'crash', deviceId: 'phone' });
      const id = (
        await api(doomed, 'crash').post(NATURAL).send({ text: '1 small apple' }).expect(201)
      ).body.id as string;
      const exit = await doomed.exited;
      expect(exit.signal).toBe('SIGKILL');
      await client.closedWithin();
      expect(client.frames.filter(isNotification)).toEqual([]);

      const restarted = await startTestApp({ DATABASE_URL: database.url });
      try {
        const [row] = await rows(restarted.dataSource, 'crash');
        expect(row).toMatchObject({ delivered_at: null, acked_at: null });
        const again = await WsClient.connect(restarted.baseUrl, {
          userId: 'crash',
          deviceId: 'phone',
        });
        expect(await again.nextFrame(isNotification)).toMatchObject({
          event: 'meal_log.completed',
          data: { id, status: 'completed' },
        });
        await again.close();
      } finally {
        await restarted.close();
      }
    } finally {
      await database.drop();
    }
  });

  describe('with a running app', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({
        WS_MAX_BUFFERED_BYTES: '65536',
        WS_HEARTBEAT_INTERVAL_MS: '60000',
      });
    });
    afterAll(() => app.close());

    it('terminates a session that stopped reading, and replays its notification when it returns', async () => {
      const reader = await WsClient.connect(app.baseUrl, { userId: 'slow-reader' });
      const [session] = app.app.get(PresenceService).localSessionsOf('slow-reader');
      const socket = app.app.get(LocalSessions).socketOf(session)!;
      // The client stops reading; fill the kernel buffers so the server's own queue grows.
      (reader.socket as unknown as { _socket: { pause(): void } })._socket.pause();
      const filler = Buffer.alloc(1 << 20);
      for (let i = 0; i < 32 && socket.bufferedAmount <= 65_536; i++) socket.send(filler);
      await expectEventually(() => expect(socket.bufferedAmount).toBeGreaterThan(65_536), {
        timeoutMs: 5_000,
      });

      const id = (await api(app, 'slow-reader').post(NATURAL).send({ text: 'a pear' }).expect(201))
        .body.id as string;
      await expectEventually(() =>
        expect(
          app.app
            .get(PresenceService)
            .localSessionsOf('slow-reader')
            .map((s) => s.sessionId),
        ).toEqual([]),
      );
      const [row] = await rows(app.dataSource, 'slow-reader');
      expect(row).toMatchObject({ delivered_at: null, acked_at: null });

      const back = await WsClient.connect(app.baseUrl, { userId: 'slow-reader' });
      expect(await back.nextFrame(isNotification)).toMatchObject({ data: { id } });
      await back.close();
      reader.socket.terminate();
    });

    it('prunes acknowledged notifications past the retention period, and nothing else', async () => {
      for (const text of ['apple', 'pear', 'plum'])
        await api(app, 'pruned').post(NATURAL).send({ text }).expect(201);
      await expectEventually(async () =>
        expect(await rows(app.dataSource, 'pruned')).toHaveLength(3),
      );
      // seq 1: old and acknowledged (pruned); seq 2: old, unacknowledged (kept); seq 3: recent, acknowledged (kept)
      await app.dataSource.query(
        `UPDATE notifications SET created_at = now() - interval '40 days', acked_at = CASE WHEN seq = 1 THEN now() END
         WHERE user_id = 'pruned' AND seq IN (1, 2)`,
      );
      await app.dataSource.query(
        `UPDATE notifications SET acked_at = now() WHERE user_id = 'pruned' AND seq = 3`,
      );
      await app.app.get(NotificationPruner).runOnce();
      expect((await rows(app.dataSource, 'pruned')).map((r) => r.seq)).toEqual([2, 3]);
    });
  });
});
