import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../src/common/database-unavailable';
import { createDataSource } from '../src/database/data-source';
import { createTestDatabase } from './support/test-database';

const STATEMENT_TIMEOUT_MS = 300;
/** The client's wait for an answer: the statement timeout plus the second it leaves the server. */
const UNANSWERED_AFTER_MS = STATEMENT_TIMEOUT_MS + 1_000;

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
      connectMs: 1_000,
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
      expect(isDatabaseUnavailable(error)).toBe(true);
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
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(UNANSWERED_AFTER_MS - 50);
      expect(ms).toBeLessThan(UNANSWERED_AFTER_MS + 700);
      // What the transaction would send next fails at once instead of queueing behind the sleep.
      const rollback = await failure(runner.rollbackTransaction());
      expect(isDatabaseUnavailable(rollback.error)).toBe(true);
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
    expect(answers.flat().every(({ xact }) => xact === null)).toBe(true);
    expect(await dataSource.query(`SELECT count(*)::int AS n FROM probe`)).toEqual([{ n: 0 }]);
  });

  it('runs statements without a time limit when built for migrations', async () => {
    const migrator = createDataSource(database.url, { connectMs: 1_000, statementMs: null });
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

  describe('a server that accepts connections and never answers', () => {
    let silent: Server;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('gives up connecting after the connect timeout', async () => {
      const { port } = silent.address() as AddressInfo;
      const unanswered = createDataSource(`postgres://postgres@127.0.0.1:${port}/none`, {
        connectMs: 500,
        statementMs: STATEMENT_TIMEOUT_MS,
      });
      const { error, ms } = await failure(unanswered.initialize());
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(ms).toBeGreaterThanOrEqual(450);
      expect(ms).toBeLessThan(1_200);
      expect(sockets.length).toBeGreaterThan(0);
    });
  });
});
