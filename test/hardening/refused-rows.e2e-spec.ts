import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { Client } from 'pg';
import request from 'supertest';
import { ChildApp, startChildApp } from '../support/child-app';
import { expectEventually } from '../support/expect-eventually';
import { api } from '../support/http-client';
import { queryOnce } from '../support/sql';
import { redisServerAvailable, TestRedisServer } from '../support/redis-server';
import { createTestDatabase } from '../support/test-database';
import { WsClient } from '../support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const MIGRATE = join(__dirname, '..', '..', 'dist', 'src', 'database', 'migrate.cli.js');

/**
 * Triggers that make the database refuse one row of a batch, as a CHECK or a bad value would:
 * for each writer family, a row of user `refuse-<family>` raises an error, and a row of user
 * `hold-<family>` waits while the test holds that family's advisory lock, so the writer's next
 * batch gathers the rows queued behind it.
 */
const GATES = `
  CREATE FUNCTION test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.user_id = 'hold-' || TG_ARGV[0] THEN
      PERFORM pg_advisory_xact_lock(hashtext('refused-rows'), hashtext(TG_ARGV[0]));
    END IF;
    IF NEW.user_id = 'refuse-' || TG_ARGV[0] THEN
      RAISE EXCEPTION 'refused by the test for %', NEW.user_id;
    END IF;
    RETURN NEW;
  END $$;
  CREATE TRIGGER gate_open BEFORE INSERT ON ws_sessions
    FOR EACH ROW EXECUTE FUNCTION test_gate('open');
  CREATE TRIGGER gate_end BEFORE UPDATE ON ws_sessions
    FOR EACH ROW WHEN (OLD.end_reason IS NULL AND NEW.end_reason IS NOT NULL)
    EXECUTE FUNCTION test_gate('end');
  CREATE TRIGGER gate_activity BEFORE UPDATE ON ws_sessions
    FOR EACH ROW WHEN (NEW.end_reason IS NULL) EXECUTE FUNCTION test_gate('activity');
  CREATE TRIGGER gate_ack BEFORE UPDATE ON notifications
    FOR EACH ROW WHEN (OLD.acked_at IS NULL AND NEW.acked_at IS NOT NULL)
    EXECUTE FUNCTION test_gate('ack');
  CREATE TRIGGER gate_delivery BEFORE UPDATE ON notifications
    FOR EACH ROW WHEN (NEW.delivery_attempts <> OLD.delivery_attempts)
    EXECUTE FUNCTION test_gate('delivery');
  CREATE TRIGGER gate_result BEFORE UPDATE ON meal_logs
    FOR EACH ROW WHEN (OLD.status = 'processing' AND NEW.status <> 'processing')
    EXECUTE FUNCTION test_gate('result');
`;

/** A batching writer's metric (`mealpulse_batch_*{writer}`) as /metrics shows it; NaN if absent. */
async function writerMetric(app: ChildApp, name: string, writer: string): Promise<number> {
  const { text } = await request(app.baseUrl).get('/metrics').expect(200);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{writer="${writer}"} `));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

/** The error line the writer logs for a refused row: its id, never its content. */
async function refusalLogged(app: ChildApp, writer: string, field: string, id: string) {
  await app.waitForLog(
    (line) => line.level === 50 && line.writer === writer && line[field] === id,
    10_000,
  );
}

describe('one row the database refuses stops nothing', () => {
  let databaseUrl: string;
  let drop: () => Promise<void>;
  let app: ChildApp;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    ({ url: databaseUrl, drop } = await createTestDatabase());
    app = await startChildApp({
      DATABASE_URL: databaseUrl,
      PRESENCE_SWEEP_INTERVAL_MS: '200',
      PRESENCE_AUDIT_FLUSH_INTERVAL_MS: '200',
      JOB_POLL_INTERVAL_MS: '50',
      JOB_CONCURRENCY: '8',
      // No server pings: the only activity is the tests' own.
      WS_HEARTBEAT_INTERVAL_MS: '600000',
    });
    await queryOnce(databaseUrl, GATES);
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await app?.kill('SIGTERM');
    await drop?.();
  });

  const metric = (name: string, writer: string) => writerMetric(app, name, writer);

  async function connect(userId: string): Promise<{ client: WsClient; sessionId: string }> {
    const client = await WsClient.connect(app.baseUrl, { userId });
    clients.push(client);
    const welcome = await client.nextFrame((frame) => frame.type === 'welcome');
    return { client, sessionId: welcome.sessionId as string };
  }

  /** A scenario's users: the held one, the refused one and two good ones, in that order. */
  const usersOf = (family: string) => [
    `hold-${family}`,
    `refuse-${family}`,
    `ok-${family}-1`,
    `ok-${family}-2`,
  ];

  /**
   * Holds `family`'s gate while `hold` makes the writer write the `hold-` user's row (which then
   * waits in the database) and `queueOthers` queues the three other users' rows behind it; lets
   * the write go once the writer reports all four pending, so that the three share the next batch.
   */
  async function behindHeldWrite(
    family: string,
    writer: string,
    hold: () => unknown,
    queueOthers: () => unknown,
  ): Promise<void> {
    const pending = (rows: number) =>
      expectEventually(
        async () => expect(await metric('mealpulse_batch_rows_pending', writer)).toBe(rows),
        { timeoutMs: 10_000 },
      );
    // Rows left from the scenario before (a delivery recorded 250 ms after its write) would
    // share the held batch and be counted with it.
    await pending(0);
    const holder = new Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query(`SELECT pg_advisory_lock(hashtext('refused-rows'), hashtext($1))`, [
        family,
      ]);
      await hold();
      await pending(1);
      await queueOthers();
      await pending(4);
    } finally {
      await holder.end(); // releases the lock
    }
  }

  /** Opens a session for each of the family's users, once their openings are audited. */
  async function openAudited(
    family: string,
  ): Promise<Map<string, { client: WsClient; sessionId: string }>> {
    const opened = new Map<string, { client: WsClient; sessionId: string }>();
    for (const userId of usersOf(family)) opened.set(userId, await connect(userId));
    await expectEventually(async () => expect((await auditRows(`-${family}`)).size).toBe(4));
    return opened;
  }

  /** The instance's heartbeat row is written again after this call. */
  async function heartbeatGoesOn(): Promise<void> {
    const beatAt = async () =>
      (
        await queryOnce<{ at: Date }>(
          databaseUrl,
          `SELECT max(heartbeat_at) AS at FROM presence_instances`,
        )
      )[0].at?.getTime() ?? 0;
    const before = await beatAt();
    await expectEventually(async () => expect(await beatAt()).toBeGreaterThan(before), {
      timeoutMs: 5_000,
    });
  }

  async function auditRows(
    userPrefix: string,
  ): Promise<Map<string, { user_id: string; pings: number; end_reason: string | null }>> {
    const rows = await queryOnce<{
      session_id: string;
      user_id: string;
      pings: number;
      end_reason: string | null;
    }>(
      databaseUrl,
      `SELECT session_id, user_id, pings, end_reason FROM ws_sessions WHERE user_id LIKE $1`,
      [`%${userPrefix}%`],
    );
    return new Map(rows.map((row) => [row.session_id, row]));
  }

  async function notificationsOf(userId: string) {
    return queryOnce<{ id: string; seq: string; acked_at: Date | null; delivered_at: Date | null }>(
      databaseUrl,
      `SELECT id, seq, acked_at, delivered_at FROM notifications WHERE user_id = $1 ORDER BY seq`,
      [userId],
    );
  }

  async function postMeal(userId: string, text: string): Promise<string> {
    const created = await api(app, userId).post(NATURAL).send({ text }).expect(201);
    return created.body.id as string;
  }

  describe('session audit: opens', () => {
    it('writes the other opens of the batch and later ones, welcomes the refused session, and keeps the heartbeat going while an audit write is stuck', async () => {
      const opened = new Map<string, string>();
      const open = async (userId: string) => opened.set(userId, (await connect(userId)).sessionId);
      await behindHeldWrite(
        'open',
        'session_audit',
        // Welcomed after the second it waits for its row.
        () => open('hold-open'),
        async () => {
          // The heartbeat does not wait for the audit writer, stuck in the database.
          await heartbeatGoesOn();
          await Promise.all(usersOf('open').slice(1).map(open));
        },
      );
      await expectEventually(async () => {
        const rows = await auditRows('-open');
        expect([...rows.values()].map((row) => row.user_id).sort()).toEqual([
          'hold-open',
          'ok-open-1',
          'ok-open-2',
        ]);
      });
      await refusalLogged(app, 'session_audit', 'sessionId', opened.get('refuse-open')!);
      expect(await metric('mealpulse_batch_rows_refused_total', 'session_audit')).toBe(1);

      const later = await connect('ok-open-3');
      await expectEventually(async () =>
        expect([...(await auditRows('ok-open-3')).keys()]).toContain(later.sessionId),
      );
      await heartbeatGoesOn();
    });
  });

  describe('session audit: ends', () => {
    it('ends the other sessions of the batch and later ones', async () => {
      const opened = await openAudited('end');
      const close = (userId: string) => opened.get(userId)!.client.close();
      const refusedBefore = await metric('mealpulse_batch_rows_refused_total', 'session_audit');
      await behindHeldWrite(
        'end',
        'session_audit',
        () => close('hold-end'),
        () => Promise.all(usersOf('end').slice(1).map(close)),
      );
      await expectEventually(async () => {
        const rows = await auditRows('-end');
        const endOf = (userId: string) => rows.get(opened.get(userId)!.sessionId)!.end_reason;
        expect(usersOf('end').map(endOf)).toEqual(['closed', null, 'closed', 'closed']);
      });
      await refusalLogged(app, 'session_audit', 'sessionId', opened.get('refuse-end')!.sessionId);
      expect(await metric('mealpulse_batch_rows_refused_total', 'session_audit')).toBe(
        refusedBefore + 1,
      );

      const later = await connect('ok-end-3');
      await later.client.close();
      await expectEventually(async () =>
        expect((await auditRows('ok-end-3')).get(later.sessionId)?.end_reason).toBe('closed'),
      );
      await heartbeatGoesOn();
    });
  });

  describe('session audit: activity', () => {
    it('writes the other sessions’ activity of the batch and later activity', async () => {
      const opened = await openAudited('activity');
      const ping = async (userId: string) => {
        const { client } = opened.get(userId)!;
        client.send({ type: 'ping' });
        await client.nextNewFrame((frame) => frame.type === 'pong');
      };
      await behindHeldWrite(
        'activity',
        'session_activity',
        () => ping('hold-activity'),
        () => Promise.all(usersOf('activity').slice(1).map(ping)),
      );
      const pingsOf = async () => {
        const rows = await auditRows('-activity');
        return [...opened].map(([userId, { sessionId }]) => [userId, rows.get(sessionId)!.pings]);
      };
      await expectEventually(async () =>
        expect(await pingsOf()).toEqual([
          ['hold-activity', 1],
          ['refuse-activity', 0],
          ['ok-activity-1', 1],
          ['ok-activity-2', 1],
        ]),
      );
      await refusalLogged(
        app,
        'session_activity',
        'sessionId',
        opened.get('refuse-activity')!.sessionId,
      );
      expect(await metric('mealpulse_batch_rows_refused_total', 'session_activity')).toBe(1);

      await ping('ok-activity-1');
      await expectEventually(async () =>
        expect((await pingsOf())[2]).toEqual(['ok-activity-1', 2]),
      );
      await heartbeatGoesOn();
    });
  });

  describe('acks', () => {
    it('acknowledges the other users’ notifications of the batch and later ones', async () => {
      const users = usersOf('ack');
      for (const userId of users) await postMeal(userId, 'apple');
      await expectEventually(async () => {
        for (const userId of users) expect(await notificationsOf(userId)).toHaveLength(1);
      });
      const clientOf = new Map<string, WsClient>();
      for (const userId of users) {
        const { client } = await connect(userId);
        await client.nextFrame((frame) => frame.type === 'notification' && frame.seq === 1);
        clientOf.set(userId, client);
      }
      // Their deliveries recorded first: a delivery's write would wait behind the held ack's row.
      await expectEventually(async () => {
        for (const userId of users)
          expect((await notificationsOf(userId))[0].delivered_at).toBeInstanceOf(Date);
      });

      const ack = (userId: string) => clientOf.get(userId)!.send({ type: 'ack', seq: 1 });
      await behindHeldWrite(
        'ack',
        'acks',
        () => ack('hold-ack'),
        () => users.slice(1).forEach(ack),
      );
      await expectEventually(async () => {
        const acked = await Promise.all(
          users.map(async (userId) => (await notificationsOf(userId))[0].acked_at !== null),
        );
        expect(acked).toEqual([true, false, true, true]);
      });
      await refusalLogged(app, 'acks', 'userId', 'refuse-ack');
      expect(await metric('mealpulse_batch_rows_refused_total', 'acks')).toBe(1);

      await postMeal('ok-ack-1', 'pear');
      const client = clientOf.get('ok-ack-1')!;
      await client.nextFrame((frame) => frame.type === 'notification' && frame.seq === 2);
      client.send({ type: 'ack', seq: 2 });
      await expectEventually(async () =>
        expect((await notificationsOf('ok-ack-1'))[1].acked_at).not.toBeNull(),
      );
      await heartbeatGoesOn();
    });
  });

  describe('delivery ledger', () => {
    it('records the other deliveries of the batch and later ones', async () => {
      const users = usersOf('delivery');
      for (const userId of users) await postMeal(userId, 'apple'); // offline: replayed on connect
      await expectEventually(async () => {
        for (const userId of users) expect(await notificationsOf(userId)).toHaveLength(1);
      });
      const sessionOf = new Map<string, string>();
      const receive = async (userId: string) => {
        const { client, sessionId } = await connect(userId);
        sessionOf.set(userId, sessionId);
        await client.nextFrame((frame) => frame.type === 'notification');
        return client;
      };

      await behindHeldWrite(
        'delivery',
        'delivery_ledger',
        () => receive('hold-delivery'),
        () => Promise.all(users.slice(1).map(receive)),
      );
      await expectEventually(async () => {
        const delivered = await Promise.all(
          users.map(async (userId) => (await notificationsOf(userId))[0].delivered_at !== null),
        );
        expect(delivered).toEqual([true, false, true, true]);
      });
      const [refused] = await notificationsOf('refuse-delivery');
      // A row is one notification's writes to one session.
      await refusalLogged(
        app,
        'delivery_ledger',
        'notificationSession',
        `${refused.id}/${sessionOf.get('refuse-delivery')}`,
      );
      expect(await metric('mealpulse_batch_rows_refused_total', 'delivery_ledger')).toBe(1);

      await postMeal('ok-delivery-1', 'pear');
      await expectEventually(async () =>
        expect((await notificationsOf('ok-delivery-1'))[1]?.delivered_at).toBeInstanceOf(Date),
      );
      await heartbeatGoesOn();
    });
  });

  describe('meal log results', () => {
    it('commits the other results of the group and later ones, and never logs the refused meal’s text', async () => {
      const ids = new Map<string, string>();
      const post = async (userId: string, text: string) =>
        ids.set(userId, await postMeal(userId, text));
      await behindHeldWrite(
        'result',
        'meal_log_results',
        () => post('hold-result', 'apple'),
        async () => {
          await post('refuse-result', '3 plums');
          await post('ok-result-1', 'apple');
          await post('ok-result-2', 'pear');
        },
      );
      const statusOf = async () =>
        Promise.all(
          [...ids].map(async ([userId, id]) => {
            const [row] = await queryOnce<{ status: string }>(
              databaseUrl,
              `SELECT status FROM meal_logs WHERE id = $1`,
              [id],
            );
            return [userId, row.status, (await notificationsOf(userId)).length];
          }),
        );
      await expectEventually(async () =>
        expect(await statusOf()).toEqual([
          ['hold-result', 'completed', 1],
          ['refuse-result', 'processing', 0],
          ['ok-result-1', 'completed', 1],
          ['ok-result-2', 'completed', 1],
        ]),
      );
      await refusalLogged(app, 'meal_log_results', 'mealLogId', ids.get('refuse-result')!);
      expect(await metric('mealpulse_batch_rows_refused_total', 'meal_log_results')).toBe(1);
      expect(JSON.stringify(app.logs)).not.toContain('plums');

      const later = await postMeal('ok-result-1', 'rice');
      await expectEventually(async () => {
        const [row] = await queryOnce<{ status: string }>(
          databaseUrl,
          `SELECT status FROM meal_logs WHERE id = $1`,
          [later],
        );
        expect(row.status).toBe('completed');
      });
      await heartbeatGoesOn();
    });
  });
});

describe('the start-up sweep', () => {
  it('is retried with back-off when it fails, and the process stays up', async () => {
    const { url, drop } = await createTestDatabase();
    let app: ChildApp | undefined;
    try {
      await promisify(execFile)(process.execPath, [MIGRATE, 'run'], {
        env: { PATH: process.env.PATH, DATABASE_URL: url, NODE_ENV: 'test' },
      });
      // A session of a process that died, and a database refusing to end it the first two times.
      await queryOnce(
        url,
        `CREATE SEQUENCE lost_refusals;
         CREATE FUNCTION refuse_twice() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF nextval('lost_refusals') <= 2 THEN RAISE EXCEPTION 'refused by the test'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_lost BEFORE UPDATE ON ws_sessions
           FOR EACH ROW WHEN (NEW.end_reason = 'lost') EXECUTE FUNCTION refuse_twice();`,
      );
      const [{ session_id: lost }] = await queryOnce<{ session_id: string }>(
        url,
        `INSERT INTO ws_sessions (session_id, user_id, instance_id, connected_at, last_seen_at)
         VALUES (gen_random_uuid(), 'ghost', 'dead-instance', now() - interval '1 hour',
                 now() - interval '1 hour')
         RETURNING session_id`,
      );
      // The periodic sweep is a minute away: only the start-up sweep's retries can end it.
      app = await startChildApp({ DATABASE_URL: url, PRESENCE_SWEEP_INTERVAL_MS: '60000' });
      await expectEventually(
        async () => {
          const [row] = await queryOnce<{ end_reason: string | null }>(
            url,
            `SELECT end_reason FROM ws_sessions WHERE session_id = $1`,
            [lost],
          );
          expect(row.end_reason).toBe('lost');
        },
        { timeoutMs: 10_000 },
      );
      const failures = app.logs.filter((line) => line.msg === 'start-up sweep failed; retrying');
      expect(failures.map((line) => [line.level, line.attempt, line.code])).toEqual([
        [50, 1, 'P0001'],
        [50, 2, 'P0001'],
      ]);
      expect(app.process.exitCode).toBeNull();
      await api(app).get('/health/live').expect(200);
    } finally {
      await app?.kill('SIGTERM');
      await drop();
    }
  });
});

const describeWithRedis = redisServerAvailable() ? describe : describe.skip;

describeWithRedis('a presence lease Redis refuses', () => {
  let redis: TestRedisServer;
  let database: { url: string; drop: () => Promise<void> };
  let app: ChildApp;
  let commands: Redis;
  const clients: WsClient[] = [];

  beforeAll(async () => {
    redis = await TestRedisServer.start();
    database = await createTestDatabase();
    commands = new Redis(redis.url);
    app = await startChildApp({
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'refused:',
      REDIS_PRESENCE_FLUSH_INTERVAL_MS: '50',
      WS_HEARTBEAT_INTERVAL_MS: '600000',
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await app?.kill('SIGTERM');
    commands?.disconnect();
    await database?.drop();
    await redis?.stop();
  });

  it('is dropped and logged, not retried, and the other sessions’ leases are renewed', async () => {
    const sessions = new Map<string, { client: WsClient; key: string }>();
    for (const userId of ['refuse-lease', 'ok-lease-1', 'ok-lease-2']) {
      const client = await WsClient.connect(app.baseUrl, { userId });
      clients.push(client);
      const welcome = await client.nextFrame((frame) => frame.type === 'welcome');
      sessions.set(userId, { client, key: `refused:session:${welcome.sessionId as string}` });
    }
    const lastSeenAt = async (userId: string) =>
      Number(await commands.hget(sessions.get(userId)!.key, 'lastSeenAt'));
    await expectEventually(async () => {
      for (const userId of sessions.keys()) expect(await lastSeenAt(userId)).toBeGreaterThan(0);
    });
    const before = await Promise.all(['ok-lease-1', 'ok-lease-2'].map(lastSeenAt));
    // Redis now answers this session's renewal with WRONGTYPE.
    const refused = sessions.get('refuse-lease')!.key;
    await commands.del(refused);
    await commands.set(refused, 'not a hash');

    for (const { client } of sessions.values()) client.send({ type: 'ping' });
    await expectEventually(async () => {
      const after = await Promise.all(['ok-lease-1', 'ok-lease-2'].map(lastSeenAt));
      expect(after[0]).toBeGreaterThan(before[0]);
      expect(after[1]).toBeGreaterThan(before[1]);
    });
    await refusalLogged(app, 'presence_leases', 'sessionId', refused.split(':').pop()!);
    expect(await writerMetric(app, 'mealpulse_batch_rows_refused_total', 'presence_leases')).toBe(
      1,
    );
    // Dropped, not kept for a retry that would fail the same way forever.
    await expectEventually(async () =>
      expect(await writerMetric(app, 'mealpulse_batch_rows_pending', 'presence_leases')).toBe(0),
    );
    expect(await writerMetric(app, 'mealpulse_batch_write_retries_total', 'presence_leases')).toBe(
      0,
    );

    const later = await lastSeenAt('ok-lease-1');
    sessions.get('ok-lease-1')!.client.send({ type: 'ping' });
    await expectEventually(async () =>
      expect(await lastSeenAt('ok-lease-1')).toBeGreaterThan(later),
    );
  });
});
