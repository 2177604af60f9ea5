import { ChildApp, startChildApp } from '../support/child-app';
import { expectEventually } from '../support/expect-eventually';
import { FakeAnalyzer } from '../support/fake-analyzer';
import { api } from '../support/http-client';
import { expectLedgerBalanced, receivedByClients } from '../support/ledger';
import { queryOnce } from '../support/sql';
import { createTestDatabase } from '../support/test-database';
import { WsClient } from '../support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
/** Short leases and sweeps so that what a dead process held is taken over within a second. */
const FAST = {
  JOB_POLL_INTERVAL_MS: '50',
  JOB_LEASE_MS: '1000',
  ANALYZER_TIMEOUT_MS: '900',
  PRESENCE_SWEEP_INTERVAL_MS: '100',
  PRESENCE_AUDIT_FLUSH_INTERVAL_MS: '100',
};

/**
 * One crash: a process killed with SIGKILL at a chosen point, then a fresh process on the same
 * database, then the invariants that must hold whatever the point was.
 */
class CrashScenario {
  private readonly clients: { userId: string; client: WsClient }[] = [];
  private readonly apps: ChildApp[] = [];

  constructor(readonly databaseUrl: string) {}

  async start(env: Record<string, string> = {}, crashAt?: string): Promise<ChildApp> {
    const app = await startChildApp(
      {
        DATABASE_URL: this.databaseUrl,
        ...FAST,
        ...env,
        ...(crashAt ? { CRASH_AT: crashAt } : {}),
      },
      crashAt ? { preload: 'crash-at.js' } : {},
    );
    this.apps.push(app);
    return app;
  }

  async connect(app: ChildApp, userId: string, autoPong = true): Promise<WsClient> {
    const client = await WsClient.connect(app.baseUrl, { userId, deviceId: 'phone', autoPong });
    this.clients.push({ userId, client });
    return client;
  }

  /** Waits for the doomed process to die by its own SIGKILL, and its clients to notice. */
  async died(app: ChildApp): Promise<void> {
    expect((await app.exited).signal).toBe('SIGKILL');
    await Promise.all(this.clients.map(({ client }) => client.closedWithin(10_000)));
  }

  /**
   * After a restart: every committed meal log processed exactly once in effect (finished, one
   * notification each, no job left), every notification delivered to its user's reconnected
   * clients (the ledger check), and after a clean shutdown one audit row per session seen, ended.
   */
  async expectRecovered(app: ChildApp, users: string[]): Promise<void> {
    await expectEventually(
      async () => {
        const [row] = await queryOnce<{
          jobs: number;
          unfinished: number;
          unnotified: number;
          duplicated: number;
        }>(
          this.databaseUrl,
          `SELECT (SELECT count(*) FROM meal_log_jobs)::int AS jobs,
                  (SELECT count(*) FROM meal_logs WHERE status = 'processing')::int AS unfinished,
                  (SELECT count(*) FROM meal_logs m WHERE NOT EXISTS (
                     SELECT 1 FROM notifications n WHERE n.meal_log_id = m.id))::int AS unnotified,
                  (SELECT count(*) FROM (SELECT meal_log_id FROM notifications
                     GROUP BY meal_log_id HAVING count(*) > 1) d)::int AS duplicated`,
        );
        expect(row).toEqual({ jobs: 0, unfinished: 0, unnotified: 0, duplicated: 0 });
      },
      { timeoutMs: 10_000 },
    );
    for (const userId of users) await this.connect(app, userId);
    await expectEventually(() =>
      expectLedgerBalanced(
        this.databaseUrl,
        receivedByClients(
          this.clients.map(({ userId, client }) => ({ userId, frames: client.frames })),
        ),
      ),
    );

    await app.kill('SIGTERM');
    const seen = this.clients.map(({ client }) => String(client.frames[0].sessionId)).sort();
    const rows = await queryOnce<{ session_id: string; end_reason: string | null }>(
      this.databaseUrl,
      `SELECT session_id, end_reason FROM ws_sessions ORDER BY session_id`,
    );
    expect(rows.map((row) => row.session_id)).toEqual(seen);
    expect(rows.filter((row) => row.end_reason === null)).toEqual([]);
  }

  async dispose(): Promise<void> {
    for (const { client } of this.clients) client.socket.terminate();
    await Promise.all(this.apps.map((app) => app.kill('SIGKILL')));
  }
}

describe('crash matrix (kill -9, then restart)', () => {
  let database: { url: string; drop: () => Promise<void> };
  let scenario: CrashScenario;
  beforeEach(async () => {
    database = await createTestDatabase();
    scenario = new CrashScenario(database.url);
  });
  afterEach(async () => {
    await scenario.dispose();
    await database.drop();
  });

  it('during job processing: the job is taken over after its lease and notified once', async () => {
    const analyzer = new FakeAnalyzer(() => undefined); // holds every request: the attempt hangs
    const analyzerUrl = await analyzer.start();
    try {
      const doomed = await scenario.start({ ANALYZER_URL: analyzerUrl });
      await scenario.connect(doomed, 'crash-job');
      await api(doomed, 'crash-job')
        .post(NATURAL)
        .send({ text: 'killed mid-analysis' })
        .expect(201);
      await expectEventually(() => expect(analyzer.requests).toContain('killed mid-analysis'));
      await doomed.kill('SIGKILL');
      await scenario.died(doomed);

      analyzer.setBehaviour(FakeAnalyzer.succeed);
      await scenario.expectRecovered(await scenario.start({ ANALYZER_URL: analyzerUrl }), [
        'crash-job',
      ]);
    } finally {
      await analyzer.stop();
    }
  });

  it('between the completion commit and the push: the notification is replayed once', async () => {
    const doomed = await scenario.start(
      {},
      'notifications/websocket.channel#WebSocketChannel.deliver:before',
    );
    await scenario.connect(doomed, 'crash-push');
    await api(doomed, 'crash-push').post(NATURAL).send({ text: '1 small apple' }).expect(201);
    await scenario.died(doomed);
    await scenario.expectRecovered(await scenario.start(), ['crash-push']);
  });

  it.each([
    [
      'before its commit',
      'meal-logs/idempotency-key.repository#IdempotencyKeyRepository.save:after',
      false,
    ],
    [
      'after its commit, before the answer',
      'meal-logs/meal-logs.service#MealLogsService.create:after',
      true,
    ],
  ])(
    'during a POST %s: the retry with the same Idempotency-Key yields exactly one log',
    async (_point, crashAt, replayed) => {
      const doomed = await scenario.start({}, crashAt);
      const request = { text: 'a pear', mealType: 'snack' };
      await expect(
        api(doomed, 'crash-post').post(NATURAL).set('Idempotency-Key', 'retry-me').send(request),
      ).rejects.toThrow(/socket hang up|ECONNRESET/);
      await scenario.died(doomed);

      const restarted = await scenario.start();
      const retry = await api(restarted, 'crash-post')
        .post(NATURAL)
        .set('Idempotency-Key', 'retry-me')
        .send(request)
        .expect(201);
      expect(retry.headers['idempotent-replayed']).toBe(replayed ? 'true' : undefined);
      const logs = await queryOnce<{ id: string }>(database.url, `SELECT id FROM meal_logs`);
      expect(logs).toEqual([{ id: retry.body.id }]);
      await scenario.expectRecovered(restarted, ['crash-post']);
    },
  );

  it.each([
    // Nothing of the sweep was written: both sessions are found by the restart, `lost`.
    ['before it writes the endings', 'before', [['lost', 'lost']]],
    // The sweep's write landed: `stale`. The two usually go stale in one sweep; when their
    // welcomes straddle a sweep, the second is still open at the crash and is `lost`.
    [
      'after it wrote the endings',
      'after',
      [
        ['stale', 'stale'],
        ['lost', 'stale'],
      ],
    ],
  ])(
    'during a sweep, %s: every session is audited once, none missing',
    async (_point, when, outcomes) => {
      const doomed = await scenario.start(
        { PRESENCE_STALE_AFTER_MS: '300' },
        `presence/session-audit.repository#SessionAuditRepository.recordEnded:${when}`,
      );
      // Two silent clients, which the sweep ends.
      const silent = await Promise.all(
        ['crash-sweep-1', 'crash-sweep-2'].map((u) => scenario.connect(doomed, u, false)),
      );
      await scenario.died(doomed);
      const ids = silent.map((client) => String(client.frames[0].sessionId));

      const restarted = await scenario.start();
      await expectEventually(async () => {
        const rows = await queryOnce<{ end_reason: string | null }>(
          database.url,
          `SELECT end_reason FROM ws_sessions WHERE session_id = ANY($1::uuid[])`,
          [ids],
        );
        expect(outcomes).toContainEqual(rows.map((row) => row.end_reason).sort());
      });
      await scenario.expectRecovered(restarted, []);
    },
  );
});
