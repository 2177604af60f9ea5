import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgresServer } from '../../src/database/embedded-postgres.server';
import { expectPingsAnswered } from '../support/bystander';
import { ChildApp, startChildApp } from '../support/child-app';
import { expectEventually } from '../support/expect-eventually';
import { expectLedgerBalanced, receivedByClients } from '../support/ledger';
import { MealTraffic } from '../support/meal-traffic';
import { queryOnce } from '../support/sql';
import { WsClient } from '../support/ws-client';

/**
 * CI runs a 10 s outage, which already outlasts every timeout involved (pool connect 5 s,
 * readiness probe 2 s, job lease 2 s here). A longer one:
 *   HARDENING_OUTAGE_MS=30000 npx jest test/hardening/database-outage
 */
const OUTAGE_MS = Number(process.env.HARDENING_OUTAGE_MS ?? 10_000);

interface TrackedClient {
  userId: string;
  client: WsClient;
}

async function status(app: ChildApp, path: string): Promise<number> {
  return (await fetch(`${app.baseUrl}${path}`, { signal: AbortSignal.timeout(5_000) })).status;
}

describe('PostgreSQL outage under traffic', () => {
  let dataDir: string;
  let postgres: EmbeddedPostgresServer;
  let databaseUrl: string;
  let app: ChildApp;
  const tracked: TrackedClient[] = [];
  const connect = async (userId: string, deviceId: string, autoPong = true) => {
    const client = await WsClient.connect(app.baseUrl, { userId, deviceId, autoPong });
    tracked.push({ userId, client });
    return client;
  };

  beforeAll(async () => {
    // A cluster of its own: the shared test server must keep serving the other test files.
    dataDir = await mkdtemp(join(tmpdir(), 'mealpulse-outage-'));
    postgres = new EmbeddedPostgresServer(dataDir);
    databaseUrl = await postgres.start();
    app = await startChildApp({
      DATABASE_URL: databaseUrl,
      JOB_POLL_INTERVAL_MS: '100',
      JOB_LEASE_MS: '2000',
      ANALYZER_TIMEOUT_MS: '1000',
      JOB_RETRY_BASE_DELAY_MS: '100',
      PRESENCE_STALE_AFTER_MS: '3000',
      PRESENCE_SWEEP_INTERVAL_MS: '500',
      PRESENCE_AUDIT_FLUSH_INTERVAL_MS: '500',
      WS_HEARTBEAT_INTERVAL_MS: '1000',
    });
  }, 60_000);
  afterAll(async () => {
    for (const { client } of tracked) client.socket.terminate();
    await app?.kill('SIGKILL');
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `keeps serving through a ${OUTAGE_MS / 1000} s outage and recovers everything without a restart`,
    async () => {
      const phone = await connect('outage-a', 'phone');
      const tablet = await connect('outage-a', 'tablet');
      const other = await connect('outage-b', 'phone');
      const silent = await connect('outage-silent', 'phone', false);
      const traffic = new MealTraffic(app.baseUrl, ['outage-a', 'outage-b'], { prefix: 'outage' });
      await expectEventually(() =>
        expect(traffic.withStatus(201).length).toBeGreaterThanOrEqual(5),
      );

      // The outage.
      await postgres.stop();
      const outageEnds = Date.now() + OUTAGE_MS;
      await expectEventually(async () => expect(await status(app, '/health/ready')).toBe(503), {
        timeoutMs: 10_000,
      });
      await expectEventually(() => expect(traffic.withStatus(503).length).toBeGreaterThan(0), {
        timeoutMs: 10_000,
      });
      expect(await status(app, '/health/live')).toBe(200);
      expect(await status(app, '/api/v1/meal-logs')).toBe(401); // auth needs no database
      await tablet.close(); // an end to audit while the audit cannot be written
      const newcomer = await connect('outage-c', 'phone'); // an open to audit, likewise
      expect((await silent.closedWithin(10_000)).code).toBe(4408); // the sweep runs on
      for (let checks = 0; Date.now() < outageEnds && checks < 600; checks++) {
        for (const client of [phone, other, newcomer]) await expectPingsAnswered(client);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }

      // The database returns; the service must recover on its own.
      await postgres.start();
      await expectEventually(async () => expect(await status(app, '/health/ready')).toBe(200), {
        timeoutMs: 15_000,
      });
      await traffic.expectRecovered(databaseUrl);

      // Jobs resume and every queued notification goes out.
      await expectEventually(
        async () => {
          const pending = await queryOnce<{ n: number }>(
            databaseUrl,
            `SELECT (SELECT count(*) FROM meal_log_jobs) + (SELECT count(*) FROM meal_logs WHERE status = 'processing') AS n`,
          );
          expect(Number(pending[0].n)).toBe(0);
        },
        { timeoutMs: 20_000 },
      );
      await expectEventually(
        () =>
          expectLedgerBalanced(
            databaseUrl,
            receivedByClients(
              tracked.map(({ userId, client }) => ({ userId, frames: client.frames })),
            ),
          ),
        { timeoutMs: 10_000 },
      );

      // The audit catches up: the end, the stale sweep and the open that happened during the outage.
      const sessionIds = tracked.map(({ client }) => String(client.frames[0].sessionId));
      await expectEventually(
        async () => {
          const rows = await queryOnce<{ session_id: string; end_reason: string | null }>(
            databaseUrl,
            `SELECT session_id, end_reason FROM ws_sessions`,
          );
          const reasonOf = new Map(rows.map((row) => [row.session_id, row.end_reason]));
          expect(sessionIds.map((id) => reasonOf.get(id))).toEqual([
            null,
            'closed',
            null,
            'stale',
            null,
          ]);
          expect(rows).toHaveLength(sessionIds.length);
        },
        { timeoutMs: 10_000 },
      );
      expect(app.process.exitCode).toBeNull();
    },
    60_000 + 2 * OUTAGE_MS,
  );

  it('replays to a session opened during an outage what it missed, once the database returns', async () => {
    const away = new MealTraffic(app.baseUrl, ['outage-away'], {
      prefix: 'away',
      max: 2,
      everyMs: 0,
    });
    await away.finished();
    await expectEventually(async () =>
      expect(
        await queryOnce(databaseUrl, `SELECT id FROM notifications WHERE user_id = 'outage-away'`),
      ).toHaveLength(2),
    );
    await postgres.stop();
    const returning = await connect('outage-away', 'phone');
    await app.waitForLog((line) => line.msg === 'outbox read waiting for the database');
    await postgres.start();
    await expectEventually(
      () =>
        expectLedgerBalanced(
          databaseUrl,
          receivedByClients([{ userId: 'outage-away', frames: returning.frames }]),
          { userPrefix: 'outage-away' },
        ),
      { timeoutMs: 20_000 },
    );
  });

  it('keeps an ack sent during an outage and writes it once the database returns', async () => {
    await new MealTraffic(app.baseUrl, ['outage-acker'], {
      prefix: 'acker',
      max: 1,
      everyMs: 0,
    }).finished();
    const client = await connect('outage-acker', 'phone');
    const notification = await client.nextFrame((frame) => frame.type === 'notification', 10_000);
    await postgres.stop();
    client.send({ type: 'ack', seq: notification.seq as number });
    await app.waitForLog(
      (line) => line.writer === 'acks' && String(line.msg).startsWith('store unavailable'),
    );
    await postgres.start();
    await expectEventually(
      async () =>
        expect(
          await queryOnce(
            databaseUrl,
            `SELECT acked_at FROM notifications WHERE user_id = 'outage-acker'`,
          ),
        ).toEqual([{ acked_at: expect.any(Date) }]),
      { timeoutMs: 20_000 },
    );
  });
});
