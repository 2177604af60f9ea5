import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { isDatabaseUnavailable } from '../src/common/database-unavailable';
import { createDataSource } from '../src/database/data-source';
import { DatabaseLifecycle } from '../src/database/database.lifecycle';
import { expectEventually } from './support/expect-eventually';
import { FreezableProxy } from './support/freezable-proxy';
import { createTestDatabase } from './support/test-database';

const STATEMENT_TIMEOUT_MS = 300;
const CONNECT_TIMEOUT_MS = 1_000;
/** The client's wait for an answer: the statement timeout plus the second it leaves the server. */
const UNANSWERED_AFTER_MS = STATEMENT_TIMEOUT_MS + 1_000;

/** The error, unless the service takes it for the database being unavailable (then null). */
const unlessUnavailable = (error: unknown) => (isDatabaseUnavailable(error) ? null : error);

/** How long `work` took to fail, and with what. */
async function failure(work: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  try {
    await work;
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
  throw new Error('expected a failure');
}

describe('database pool (createDataSource)', () => {
  let database: { url: string; drop: () => Promise<void> };
  let dataSource: DataSource;
  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = createDataSource(database.url, {
      connectMs: CONNECT_TIMEOUT_MS,
      statementMs: STATEMENT_TIMEOUT_MS,
    });
    await dataSource.initialize();
    await dataSource.query(`CREATE TABLE probe (id int)`);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('has the server cancel a statement that runs past the statement timeout, and keeps the connection', async () => {
    const runner = dataSource.createQueryRunner();
    try {
      const [{ pid }] = (await runner.query(`SELECT pg_backend_pid() AS pid`)) as { pid: number }[];
      const { error, ms } = await failure(runner.query(`SELECT pg_sleep(5)`));
      expect(error).toMatchObject({ code: '57014' });
      expect(unlessUnavailable(error)).toBeNull();
      expect(ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 700);
      // The same connection answers the next statement: a cancellation leaves it usable.
      expect(await runner.query(`SELECT pg_backend_pid() AS pid`)).toEqual([{ pid }]);
    } finally {
      await runner.release();
    }
  });

  it('abandons a statement the server does not answer, closes its connection, and never hands it out again', async () => {
    const runner = dataSource.createQueryRunner();
    let abandonedPid: number;
    try {
      await runner.startTransaction();
      [{ pid: abandonedPid }] = (await runner.query(`SELECT pg_backend_pid() AS pid`)) as {
        pid: number;
      }[];
      await runner.query(`INSERT INTO probe VALUES (1)`);
      // The server's timeout lifted for this transaction: only the client's can end the wait.
      await runner.query(`SET LOCAL statement_timeout = 0`);
      const { error, ms } = await failure(runner.query(`SELECT pg_sleep(3)`));
      expect((error as Error).message).toBe('Query read timeout');
      expect(unlessUnavailable(error)).toBeNull();
      expect(ms).toBeGreaterThanOrEqual(UNANSWERED_AFTER_MS - 50);
      expect(ms).toBeLessThan(UNANSWERED_AFTER_MS + 700);
      // What the transaction would send next fails at once instead of queueing behind the sleep.
      const rollback = await failure(runner.rollbackTransaction());
      expect(unlessUnavailable(rollback.error)).toBeNull();
      expect(rollback.ms).toBeLessThan(100);
    } finally {
      await runner.release();
    }

    // Every connection the pool hands out now is another one, outside any transaction.
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        dataSource.query<{ pid: number; xact: string | null }[]>(
          `SELECT pg_backend_pid() AS pid, pg_current_xact_id_if_assigned()::text AS xact`,
        ),
      ),
    );
    expect(answers.flat().filter(({ pid }) => pid === abandonedPid)).toEqual([]);
    expect(answers.flat().filter(({ xact }) => xact !== null)).toEqual([]);
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM probe`)).toEqual([{ n: 0 }]);
  });

  it('runs statements without a time limit when built for migrations', async () => {
    const migrator = createDataSource(database.url, {
      connectMs: CONNECT_TIMEOUT_MS,
      statementMs: null,
    });
    await migrator.initialize();
    try {
      expect(await migrator.query(`SHOW statement_timeout`)).toEqual([{ statement_timeout: '0' }]);
      expect(await dataSource.query(`SHOW statement_timeout`)).toEqual([
        { statement_timeout: `${STATEMENT_TIMEOUT_MS}ms` },
      ]);
    } finally {
      await migrator.destroy();
    }
  });

  describe('a server that stops answering (a frozen proxy in front of it)', () => {
    let proxy: FreezableProxy;
    let behind: DataSource;
    beforeAll(async () => {
      proxy = await FreezableProxy.start(database.url);
      behind = createDataSource(proxy.urlFor(database.url), {
        connectMs: CONNECT_TIMEOUT_MS,
        statementMs: STATEMENT_TIMEOUT_MS,
      });
      await behind.initialize();
      // Connections open and idle in the pool, as in a service that has been serving.
      await Promise.all(Array.from({ length: 5 }, () => behind.query(`SELECT pg_sleep(0.05)`)));
      proxy.freeze();
    });
    afterAll(async () => {
      if (behind.isInitialized) await behind.destroy();
      await proxy.stop();
    });

    it('refuses a statement within the statement timeout plus a second', async () => {
      const { error, ms } = await failure(behind.query(`SELECT 1`));
      expect(unlessUnavailable(error)).toBeNull();
      expect(ms).toBeGreaterThanOrEqual(UNANSWERED_AFTER_MS - 50);
      expect(ms).toBeLessThan(UNANSWERED_AFTER_MS + 700);
    });

    it('refuses a new connection within the connect timeout', async () => {
      const unanswered = createDataSource(proxy.urlFor(database.url), {
        connectMs: CONNECT_TIMEOUT_MS,
        statementMs: STATEMENT_TIMEOUT_MS,
      });
      const { error, ms } = await failure(unanswered.initialize());
      expect(unlessUnavailable(error)).toBeNull();
      expect(ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS - 50);
      expect(ms).toBeLessThan(CONNECT_TIMEOUT_MS + 700);
    });

    it('closes the pool at shutdown without waiting on the server longer than a connect', async () => {
      // Statements waiting on the idle connections, and on connections being opened.
      const waiting = Array.from({ length: 10 }, () => behind.query(`SELECT 1`).catch(() => null));
      const pool = (behind.driver as PostgresDriver).master as Pool;
      await expectEventually(() => expect(pool.totalCount).toBeGreaterThan(5));
      const started = Date.now();
      await new DatabaseLifecycle(behind, null).onApplicationShutdown();
      expect(Date.now() - started).toBeLessThan(CONNECT_TIMEOUT_MS + 700);
      await Promise.all(waiting);
    });
  });
});
