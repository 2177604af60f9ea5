import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgresServer } from '../../src/database/embedded-postgres.server';
import { expectPingsAnswered } from '../support/bystander';
import { ChildApp, startChildApp } from '../support/child-app';
import { expectEventually } from '../support/expect-eventually';
import { AnalyzerRequest, FakeAnalyzer } from '../support/fake-analyzer';
import { FrozenPostgres } from '../support/frozen-postgres';
import { expectLedgerBalanced, receivedByClients } from '../support/ledger';
import { MealTraffic } from '../support/meal-traffic';
import { queryOnce } from '../support/sql';
import { tokenFor } from '../support/tokens';
import { WsClient } from '../support/ws-client';

/**
 * CI freezes the database for 10 s, several times every timeout involved; a longer one:
 *   HARDENING_HANG_MS=30000 npx jest test/hardening/database-hang
 */
const HANG_MS = Number(process.env.HARDENING_HANG_MS ?? 10_000);
const STATEMENT_TIMEOUT_MS = 1_000;
const CONNECT_TIMEOUT_MS = 1_000;
/**
 * The longest a request may take to be refused: the pool gives up on a statement 1 s after the
 * server would have cancelled it (src/database/data-source.ts), and on a connection after
 * CONNECT_TIMEOUT_MS; plus 1.5 s for a loaded 2-core machine.
 */
const ANSWER_WITHIN_MS = Math.max(STATEMENT_TIMEOUT_MS + 1_000, CONNECT_TIMEOUT_MS) + 1_500;
const TIMEOUTS = {
  DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
};
const FAST = {
  JOB_POLL_INTERVAL_MS: '100',
  JOB_LEASE_MS: '3000',
  ANALYZER_TIMEOUT_MS: '2000',
  JOB_RETRY_BASE_DELAY_MS: '100',
  PRESENCE_SWEEP_INTERVAL_MS: '500',
  PRESENCE_AUDIT_FLUSH_INTERVAL_MS: '500',
  WS_HEARTBEAT_INTERVAL_MS: '1000',
};

interface Answer {
  status: number;
  retryAfter: string | null;
  ms: number;
}

async function timedGet(app: ChildApp, path: string, userId?: string): Promise<Answer> {
  const started = Date.now();
  const response = await fetch(`${app.baseUrl}${path}`, {
    headers: userId ? { Authorization: `Bearer ${tokenFor(userId)}` } : {},
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    ms: Date.now() - started,
  };
}

/** Queue and results settled: no job left and no log still processing. */
async function expectQueueDrained(databaseUrl: string): Promise<void> {
  await expectEventually(
    async () => {
      const [row] = await queryOnce<{ jobs: number; unfinished: number; unnotified: number }>(
        databaseUrl,
        `SELECT (SELECT count(*) FROM meal_log_jobs)::int AS jobs,
                (SELECT count(*) FROM meal_logs WHERE status = 'processing')::int AS unfinished,
                (SELECT count(*) FROM meal_logs m WHERE NOT EXISTS (
                   SELECT 1 FROM notifications n WHERE n.meal_log_id = m.id))::int AS unnotified`,
      );
      expect(row).toEqual({ jobs: 0, unfinished: 0, unnotified: 0 });
    },
    { timeoutMs: 20_000 },
  );
}

/**
 * Every notification of `userId` reached `device` (the frames of all its sessions). A replay that
 * failed during the hang is retried with back-off up to 10 s: allow for one full wait.
 */
async function expectDeviceBalanced(
  databaseUrl: string,
  userId: string,
  device: WsClient[],
): Promise<void> {
  await expectEventually(
    () =>
      expectLedgerBalanced(
        databaseUrl,
        receivedByClients(device.map((client) => ({ userId, frames: client.frames }))),
        { userPrefix: userId },
      ),
    { timeoutMs: 20_000 },
  );
}

describe('PostgreSQL hang (SIGSTOP) under traffic', () => {
  let dataDir: string;
  let postgres: EmbeddedPostgresServer;
  let frozen: FrozenPostgres;
  let databaseUrl: string;
  const apps: ChildApp[] = [];
  const clients: WsClient[] = [];
  const analyzers: FakeAnalyzer[] = [];
  const traffics: MealTraffic[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const app = await startChildApp({ DATABASE_URL: databaseUrl, ...TIMEOUTS, ...FAST, ...env });
    apps.push(app);
    return app;
  };
  const connect = async (app: ChildApp, userId: string, deviceId: string, after?: number) => {
    const client = await WsClient.connect(app.baseUrl, { userId, deviceId, after });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    // A cluster of its own: the shared test server must keep serving the other test files.
    dataDir = await mkdtemp(join(tmpdir(), 'mealpulse-hang-'));
    postgres = new EmbeddedPostgresServer(dataDir);
    databaseUrl = await postgres.start();
    frozen = await FrozenPostgres.of(databaseUrl);
  }, 60_000);
  afterEach(async () => {
    await frozen.thaw(); // whatever failed: a frozen cluster can be neither used nor stopped
    await Promise.all(traffics.splice(0).map((traffic) => traffic.stop()));
    for (const client of clients.splice(0)) client.socket.terminate();
    await Promise.all(apps.splice(0).map((app) => app.kill('SIGKILL')));
    await Promise.all(analyzers.splice(0).map((analyzer) => analyzer.stop()));
  });
  afterAll(async () => {
    await postgres?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it(
    `refuses with 503 in bounded time through a ${HANG_MS / 1000} s hang, keeps sockets served, and loses nothing`,
    async () => {
      const app = await start();
      const phone = await connect(app, 'hang-a', 'phone');
      const tablet = await connect(app, 'hang-a', 'tablet');
      const other = await connect(app, 'hang-b', 'phone');
      const traffic = new MealTraffic(app.baseUrl, ['hang-a', 'hang-b'], { prefix: 'hang' });
      traffics.push(traffic);
      await expectEventually(() =>
        expect(traffic.withStatus(201).length).toBeGreaterThanOrEqual(5),
      );
      const [known] = await queryOnce<{ id: string }>(
        databaseUrl,
        `SELECT id FROM meal_logs WHERE user_id = 'hang-a' LIMIT 1`,
      );
      // What each route needing the database answers, timed, all at once.
      let probes = 0;
      const probeRoutes = () =>
        Promise.all([
          traffic.postOne('hang-a', `hang-probe-${probes++}`, 'a frozen apple'),
          timedGet(app, `/api/v1/meal-logs/${known.id}`, 'hang-a'),
          timedGet(app, '/api/v1/meal-logs', 'hang-a'),
          timedGet(app, '/api/v1/notifications', 'hang-a'),
          timedGet(app, '/health/ready'),
        ]);
      const expectRefusedInTime = (answers: Answer[]) => {
        for (const answer of answers) {
          expect({ status: answer.status, retryAfter: answer.retryAfter }).toEqual({
            status: 503,
            retryAfter: '5',
          });
          expect(answer.ms).toBeLessThan(ANSWER_WITHIN_MS);
        }
      };

      // The hang.
      await frozen.freeze();
      const hangEnds = Date.now() + HANG_MS;
      await expectEventually(async () => expect(await frozen.notStopped()).toEqual([]));
      const firstAnswers = await probeRoutes();
      expectRefusedInTime(firstAnswers);
      const live = await timedGet(app, '/health/live');
      expect(live.status).toBe(200);
      expect(live.ms).toBeLessThan(500);
      // A session opens (its audit row queued) and one ends, while nothing can be written.
      const opening = Date.now();
      const watch = await connect(app, 'hang-a', 'watch'); // its replay waits for the database
      const welcomeMs = Date.now() - opening;
      expect(welcomeMs).toBeLessThan(2_000); // at most 1 s waiting for its audit row
      const lastSeqOfTablet = Math.max(
        0,
        ...tablet.frames.filter((f) => f.type === 'notification').map((f) => Number(f.seq)),
      );
      await tablet.close();
      const keepPinging = async (until: number) => {
        while (Date.now() < until) {
          for (const client of [phone, other, watch]) await expectPingsAnswered(client);
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      };
      await keepPinging(hangEnds - ANSWER_WITHIN_MS);
      // Late in the hang the pool holds no working connection: refused in time all the same.
      const lateAnswers = await probeRoutes();
      await keepPinging(hangEnds);
      expectRefusedInTime(lateAnswers);
      expect(await frozen.notStopped()).toEqual([]);
      expect(app.process.exitCode).toBeNull();

      // The database resumes; the service must recover on its own.
      await frozen.thaw();
      const thawedAt = Date.now();
      await expectEventually(
        async () => expect((await timedGet(app, '/health/ready')).status).toBe(200),
        { timeoutMs: 15_000 },
      );
      const readyAgainMs = Date.now() - thawedAt;
      expectRefusedInTime(traffic.withStatus(503));
      await traffic.expectRecovered(databaseUrl);

      // Every log finished with one notification, and every device got all of its user's.
      await expectQueueDrained(databaseUrl);
      const tabletAgain = await connect(app, 'hang-a', 'tablet', lastSeqOfTablet);
      await expectDeviceBalanced(databaseUrl, 'hang-a', [phone]);
      await expectDeviceBalanced(databaseUrl, 'hang-a', [tablet, tabletAgain]);
      await expectDeviceBalanced(databaseUrl, 'hang-a', [watch]);
      await expectDeviceBalanced(databaseUrl, 'hang-b', [other]);

      // The audit catches up with what happened during the hang.
      const sessionOf = (client: WsClient) => String(client.frames[0].sessionId);
      await expectEventually(
        async () => {
          const rows = await queryOnce<{ session_id: string; end_reason: string | null }>(
            databaseUrl,
            `SELECT session_id, end_reason FROM ws_sessions WHERE session_id = ANY($1::uuid[])`,
            [[tablet, watch].map(sessionOf)],
          );
          const reasonOf = new Map(rows.map((row) => [row.session_id, row.end_reason]));
          expect([tablet, watch].map((client) => reasonOf.get(sessionOf(client)))).toEqual([
            'closed',
            null,
          ]);
        },
        { timeoutMs: 10_000 },
      );
      expect(app.process.exitCode).toBeNull();
      const refusals = [...new Set([...firstAnswers, ...lateAnswers, ...traffic.withStatus(503)])];
      process.stdout.write(
        `database-hang: ${HANG_MS} ms hang: ${refusals.length} refusals, slowest ` +
          `${Math.max(...refusals.map((a) => a.ms))} ms; welcome after ${welcomeMs} ms; ` +
          `ready ${readyAgainMs} ms after the thaw\n`,
      );
    },
    60_000 + 2 * HANG_MS,
  );

  /**
   * A process with three meal logs whose analyses the analyzer holds (in `held`, to answer), so that
   * their jobs are claimed and in flight, and a session open.
   */
  const withJobsInFlight = async (userId: string, env: Record<string, string>) => {
    const held: AnalyzerRequest[] = [];
    const analyzer = new FakeAnalyzer((request) => held.push(request));
    analyzers.push(analyzer);
    const analyzerUrl = await analyzer.start();
    const app = await start({ ANALYZER_URL: analyzerUrl, ...env });
    const phone = await connect(app, userId, 'phone');
    const posted = new MealTraffic(app.baseUrl, [userId], { prefix: userId, max: 3, everyMs: 0 });
    await posted.finished();
    expect(posted.withStatus(201)).toHaveLength(3);
    await expectEventually(() => expect(held).toHaveLength(3));
    const stop = async () => {
      const stopping = Date.now();
      const closed = phone.closedWithin(5_000);
      const exit = await app.kill('SIGTERM');
      return { exit, ms: Date.now() - stopping, closeCode: (await closed).code };
    };
    /** A new process on the database, with an analyzer that answers, takes over the jobs. */
    const takeOver = async () => {
      analyzer.setBehaviour(FakeAnalyzer.succeed);
      const successor = await start({ ANALYZER_URL: analyzerUrl, ...env });
      await expectQueueDrained(databaseUrl);
      const phoneAgain = await connect(successor, userId, 'phone');
      await expectDeviceBalanced(databaseUrl, userId, [phone, phoneAgain]);
    };
    return { app, phone, held, stop, takeOver };
  };
  it('exits with code 1 at SHUTDOWN_TIMEOUT_MS when the database hangs, and the next start finishes its jobs', async () => {
    // Shorter than any wait on the frozen database (1 s to connect, 2 s per statement), so the
    // shutdown cannot finish and the deadline must end it.
    const shutdownTimeoutMs = 800;
    const doomed = await withJobsInFlight('hang-stop', {
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
    });

    await frozen.freeze();
    const stopped = doomed.stop();
    // The analyses answer now: their results wait on the frozen database.
    for (const request of doomed.held.splice(0)) FakeAnalyzer.succeed(request);
    const { exit, ms, closeCode } = await stopped;
    expect(closeCode).toBe(1001); // sockets are closed before anything waits on the database
    expect(exit).toEqual({ code: 1, signal: null });
    expect(ms).toBeGreaterThanOrEqual(shutdownTimeoutMs);
    expect(ms).toBeLessThan(shutdownTimeoutMs + 1_000);
    expect(doomed.app.logs.map((line) => line.msg)).toContain(
      'shutdown not finished within SHUTDOWN_TIMEOUT_MS (800 ms); exiting, unfinished work is left to the next start',
    );
    process.stdout.write(`database-hang: shutdown during the hang ended after ${ms} ms\n`);

    await frozen.thaw();
    await doomed.takeOver();
    // Its end was written once the database resumed, or the next process audits it lost.
    await expectEventually(
      async () => {
        const [row] = await queryOnce<{ end_reason: string | null }>(
          databaseUrl,
          `SELECT end_reason FROM ws_sessions WHERE session_id = $1`,
          [String(doomed.phone.frames[0].sessionId)],
        );
        expect(row.end_reason).toMatch(/^(shutdown|lost)$/);
      },
      { timeoutMs: 10_000 },
    );
  }, 60_000);

  it('gives up the job drain at half of SHUTDOWN_TIMEOUT_MS and exits by its signal; the jobs are taken over', async () => {
    const shutdownTimeoutMs = 2_000;
    const doomed = await withJobsInFlight('drain-stop', {
      SHUTDOWN_TIMEOUT_MS: String(shutdownTimeoutMs),
      // The held analyses outlast the drain by far, also when a loaded machine took seconds
      // between their start and the SIGTERM (all three must still be running at the drain's
      // deadline); the lease is what hands the jobs over.
      ANALYZER_TIMEOUT_MS: '8000',
      JOB_LEASE_MS: '8500',
    });

    const { exit, ms, closeCode } = await doomed.stop();
    expect(closeCode).toBe(1001);
    expect(exit).toEqual({ code: null, signal: 'SIGTERM' }); // a complete, clean shutdown
    expect(ms).toBeGreaterThanOrEqual(shutdownTimeoutMs / 2);
    expect(ms).toBeLessThan(shutdownTimeoutMs);
    expect(doomed.app.logs.map((line) => line.msg)).toContain(
      'job drain deadline passed; 3 attempt(s) left to be claimed again when their lease expires',
    );
    process.stdout.write(`database-hang: shutdown with a drain left behind took ${ms} ms\n`);

    await doomed.takeOver();
  }, 60_000);
});
