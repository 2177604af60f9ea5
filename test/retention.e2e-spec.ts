import { IdempotencyKeyPruner } from '../src/meal-logs/idempotency-key.pruner';
import { PRUNE_BATCH_SIZE } from '../src/common/retention-job';
import { SessionAuditPruner } from '../src/presence/session-audit.pruner';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';

describe('retention', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      SESSION_AUDIT_RETENTION_DAYS: '90',
      IDEMPOTENCY_KEY_TTL_HOURS: '24',
      // The test runs the pruners itself.
      RETENTION_PRUNE_INTERVAL_MS: '3600000',
    });
  });

  afterAll(async () => {
    await app.close();
  });

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const [row] = await app.dataSource.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM (${sql}) AS rows`,
      params,
    );
    return row.n;
  }

  /** Moves the key's record back in time, as if it had been stored `hours` ago. */
  async function age(userId: string, key: string, hours: number): Promise<void> {
    await app.dataSource.query(
      `UPDATE idempotency_keys SET created_at = clock_timestamp() - $3 * interval '1 hour'
       WHERE user_id = $1 AND key = $2`,
      [userId, key, hours],
    );
  }

  describe('Idempotency-Key past IDEMPOTENCY_KEY_TTL_HOURS', () => {
    it('creates a new log for the same key and body, and replays that one afterwards', async () => {
      const post = () =>
        api(app, 'ttl-user')
          .post(NATURAL)
          .set('Idempotency-Key', 'breakfast-1')
          .send({ text: '1 small apple' });
      const first = await post().expect(201);
      await age('ttl-user', 'breakfast-1', 23);
      const replay = await post().expect(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.body.id).toBe(first.body.id);

      await age('ttl-user', 'breakfast-1', 25);
      const fresh = await post().expect(201);
      expect(fresh.headers['idempotent-replayed']).toBeUndefined();
      expect(fresh.body.id).not.toBe(first.body.id);
      const again = await post().expect(201);
      expect(again.body.id).toBe(fresh.body.id);
    });

    it('takes another body under an expired key instead of answering 422', async () => {
      const post = (text: string) =>
        api(app, 'ttl-user').post(NATURAL).set('Idempotency-Key', 'lunch-1').send({ text });
      await post('2 eggs').expect(201);
      await post('a pear').expect(422);
      await age('ttl-user', 'lunch-1', 25);
      const created = await post('a pear').expect(201);
      expect(created.body.text).toBe('a pear');
    });
  });

  describe('pruning under traffic, from two instances at once', () => {
    const OLD_SESSIONS = 4 * PRUNE_BATCH_SIZE + 321;
    const OLD_KEYS = 2 * PRUNE_BATCH_SIZE + 17;

    it('deletes only what is past retention, in batches, while sessions and posts carry on', async () => {
      const other = await startTestApp({
        DATABASE_URL: app.databaseUrl,
        RETENTION_PRUNE_INTERVAL_MS: '3600000',
      });
      try {
        // Past retention: sessions ended 91+ days ago, keys stored 25+ hours ago.
        await app.dataSource.query(
          `INSERT INTO ws_sessions (session_id, user_id, instance_id, connected_at, last_seen_at, ended_at, end_reason)
           SELECT gen_random_uuid(), 'old-' || i, 'gone', t - interval '1 hour', t, t, 'closed'
           FROM generate_series(1, $1) AS i, LATERAL (SELECT now() - interval '91 days' - i * interval '1 second' AS t) AS at`,
          [OLD_SESSIONS],
        );
        const { body: log } = await api(app, 'keys').post(NATURAL).send({ text: 'toast' });
        await app.dataSource.query(
          `INSERT INTO idempotency_keys (user_id, key, request_hash, meal_log_id, created_at)
           SELECT 'keys', 'old-' || i, 'h', $2, now() - interval '25 hours' - i * interval '1 second'
           FROM generate_series(1, $1) AS i`,
          [OLD_KEYS, log.id],
        );
        // Within retention: a session that ended 89 days ago, and one key stored 23 hours ago.
        await app.dataSource.query(
          `INSERT INTO ws_sessions (session_id, user_id, instance_id, connected_at, last_seen_at, ended_at, end_reason)
           VALUES (gen_random_uuid(), 'recent', 'gone', now() - interval '89 days', now() - interval '89 days', now() - interval '89 days', 'stale')`,
        );
        await api(app, 'keys').post(NATURAL).set('Idempotency-Key', 'young').send({ text: 'jam' });
        await age('keys', 'young', 23);

        // Live sessions on both instances, open the whole time.
        const live = await Promise.all(
          [app, other].map((target, i) =>
            WsClient.connect(target.baseUrl, { userId: `live-${i}` }),
          ),
        );

        // Traffic while both pruners run: posts with keys (new and replayed), sessions opening
        // and closing, pings on the live sessions.
        const statuses: number[] = [];
        let pruning = true;
        const traffic = (async () => {
          for (let round = 0; pruning || round < 3; round += 1) {
            const key = `during-${round}`;
            for (const attempt of [0, 1]) {
              const response = await api(app, 'busy')
                .post(NATURAL)
                .set('Idempotency-Key', key)
                .send({ text: `meal ${round}` });
              statuses.push(response.status);
              if (attempt === 1) expect(response.headers['idempotent-replayed']).toBe('true');
            }
            const passer = await WsClient.connect(other.baseUrl, { userId: `passer-${round}` });
            await passer.close();
            for (const client of live) client.send({ type: 'ping' });
          }
        })();
        const runs = await Promise.all([
          app.app.get(SessionAuditPruner).runOnce(),
          other.app.get(SessionAuditPruner).runOnce(),
          app.app.get(IdempotencyKeyPruner).runOnce(),
          other.app.get(IdempotencyKeyPruner).runOnce(),
        ]);
        pruning = false;
        await traffic;

        expect(statuses.filter((status) => status !== 201)).toEqual([]);
        // Each row deleted exactly once between the two instances, in batches of at most PRUNE_BATCH_SIZE.
        expect(runs[0].deleted + runs[1].deleted).toBe(OLD_SESSIONS);
        expect(runs[2].deleted + runs[3].deleted).toBe(OLD_KEYS);
        expect(runs[0].batches + runs[1].batches).toBeGreaterThanOrEqual(
          Math.ceil(OLD_SESSIONS / PRUNE_BATCH_SIZE),
        );

        expect(await count(`SELECT 1 FROM ws_sessions WHERE user_id LIKE 'old-%'`)).toBe(0);
        expect(await count(`SELECT 1 FROM ws_sessions WHERE user_id = 'recent'`)).toBe(1);
        expect(
          await count(`SELECT 1 FROM ws_sessions WHERE user_id LIKE 'live-%' AND ended_at IS NULL`),
        ).toBe(2);
        expect(await count(`SELECT 1 FROM idempotency_keys WHERE key LIKE 'old-%'`)).toBe(0);
        expect(await count(`SELECT 1 FROM idempotency_keys WHERE key = 'young'`)).toBe(1);
        expect(await count(`SELECT 1 FROM idempotency_keys WHERE key LIKE 'during-%'`)).toBe(
          statuses.length / 2,
        );
        // The live sessions never noticed.
        for (const client of live) {
          client.send({ type: 'ping' });
          await client.nextFrame((frame) => frame.type === 'pong');
          await client.close();
        }
      } finally {
        await other.app.close();
      }
    });
  });
});
