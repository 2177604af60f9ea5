import type { DataSource } from 'typeorm';
import { MealLogJobRepository } from '../src/meal-logs/meal-log-job.repository';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { statementsDuring } from './support/sql';
import { startTestApp, TestApp } from './support/test-app';
import { Frame, WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const FLOOD = 5_000;

/**
 * Queues `count` logs of `userId` in one statement, oldest first, as that many POSTs would leave
 * them: at the rate limit a flood of this size can only build up over hours (or while the
 * workers are down), and posting it here would give the workers time to eat it as it comes.
 */
async function queue(dataSource: DataSource, userId: string, count: number): Promise<string[]> {
  const rows = await dataSource.query<{ id: string }[]>(
    `WITH log AS (
       INSERT INTO meal_logs (user_id, text, logged_at)
       SELECT $1, '1 small apple', clock_timestamp() FROM generate_series(1, $2)
       RETURNING id, user_id, created_at
     ), job AS (
       INSERT INTO meal_log_jobs (meal_log_id, user_id, available_at)
       SELECT id, user_id, created_at FROM log
     )
     SELECT id FROM log ORDER BY created_at`,
    [userId, count],
  );
  return rows.map((row) => row.id);
}

async function queuedOf(dataSource: DataSource, userId: string): Promise<number> {
  const [row] = await dataSource.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM meal_log_jobs WHERE user_id = $1`,
    [userId],
  );
  return row.n;
}

describe('job claiming between users', () => {
  describe('a flood of one user', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp();
    });
    afterAll(() => app.close());

    it(`does not delay another user's single log: its result arrives in under a second while most of ${FLOOD} logs still wait`, async () => {
      const client = await WsClient.connect(app.baseUrl, { userId: 'bystander' });
      try {
        await queue(app.dataSource, 'flooder', FLOOD);
        // The workers are busy with the flood before the other user posts.
        await expectEventually(async () =>
          expect(await queuedOf(app.dataSource, 'flooder')).toBeLessThan(FLOOD - 20),
        );

        const postedAt = performance.now();
        const created = await api(app, 'bystander').post(NATURAL).send({ text: 'a pear' });
        expect(created.status).toBe(201);
        const frame = await client.nextFrame(
          (f: Frame) =>
            f.type === 'notification' && (f.data as { id: string }).id === created.body.id,
          10_000,
        );
        const elapsedMs = performance.now() - postedAt;
        const stillQueued = await queuedOf(app.dataSource, 'flooder');

        expect(frame).toMatchObject({
          event: 'meal_log.completed',
          data: { status: 'completed', items: [expect.objectContaining({ name: 'pear' })] },
        });
        expect(elapsedMs).toBeLessThan(1_000);
        expect(stillQueued).toBeGreaterThan(FLOOD / 2);
      } finally {
        await client.close();
      }
    });
  });

  describe('claimNextJobs', () => {
    let app: TestApp;
    let jobs: MealLogJobRepository;
    // No workers in this process: the test claims the jobs itself.
    beforeAll(async () => {
      app = await startTestApp({ JOB_CONCURRENCY: '0' });
      jobs = app.app.get(MealLogJobRepository);
    });
    afterAll(() => app.close());
    beforeEach(() => app.dataSource.query(`TRUNCATE meal_logs CASCADE`));

    const claim = async (limit: number, after = '') =>
      (await jobs.claimNextJobs(limit, 60_000, 'test-worker', after)).map((job) => [
        job.userId,
        job.mealLogId,
      ]);

    it('goes round the users, one job each per turn, from where the last claim ended', async () => {
      const flood = await queue(app.dataSource, 'flooder', 10);
      const [alice] = await queue(app.dataSource, 'alice', 1);
      const carol = await queue(app.dataSource, 'carol', 2);

      expect(await claim(1)).toEqual([['alice', alice]]);
      expect(await claim(1, 'alice')).toEqual([['carol', carol[0]]]);
      expect(await claim(1, 'carol')).toEqual([['flooder', flood[0]]]);
      // Round the ring again: alice has nothing due any more.
      expect(await claim(1, 'flooder')).toEqual([['carol', carol[1]]]);
      expect(await claim(2, 'carol')).toEqual([
        ['flooder', flood[1]],
        ['flooder', flood[2]],
      ]);
    });

    it('takes every user’s first job before anyone’s second, each user’s oldest first', async () => {
      const flood = await queue(app.dataSource, 'flooder', 10);
      const bob = await queue(app.dataSource, 'bob', 3);
      const [dave] = await queue(app.dataSource, 'dave', 1);

      // Four slots, three users: a second turn for the first user round the ring.
      expect(await claim(4, 'carol')).toEqual([
        ['dave', dave],
        ['flooder', flood[0]],
        ['flooder', flood[1]],
        ['bob', bob[0]],
      ]);
      // One user alone fills every free slot.
      await app.dataSource.query(`DELETE FROM meal_logs WHERE user_id <> 'flooder'`);
      expect(await claim(4)).toEqual(flood.slice(2, 6).map((id) => ['flooder', id]));
    });

    it('skips jobs that are leased or waiting for a retry, and rows another claim has locked', async () => {
      const flood = await queue(app.dataSource, 'flooder', 3);
      const [erin] = await queue(app.dataSource, 'erin', 1);
      await app.dataSource.query(
        `UPDATE meal_log_jobs SET available_at = now() + interval '1 minute' WHERE meal_log_id = $1`,
        [flood[0]],
      );
      const runner = app.dataSource.createQueryRunner();
      await runner.startTransaction();
      try {
        // Another worker's claim in flight holds erin's job.
        await runner.query(`SELECT 1 FROM meal_log_jobs WHERE meal_log_id = $1 FOR UPDATE`, [erin]);
        expect(await claim(4)).toEqual([
          ['flooder', flood[1]],
          ['flooder', flood[2]],
        ]);
      } finally {
        await runner.rollbackTransaction();
        await runner.release();
      }
      expect(await claim(4)).toEqual([['erin', erin]]);
    });

    it('reads as many pages with 20,000 queued logs of one user and 4,000 users waiting as with 5,000 and 1,000', async () => {
      const pagesRead = async (flood: number, others: number) => {
        await app.dataSource.query(`TRUNCATE meal_logs CASCADE`);
        await queue(app.dataSource, 'flooder', flood);
        await app.dataSource.query(
          `WITH log AS (
             INSERT INTO meal_logs (user_id, text, logged_at)
             SELECT 'user-' || n, 'an egg', clock_timestamp() FROM generate_series(1, $1) AS n
             RETURNING id, user_id
           )
           INSERT INTO meal_log_jobs (meal_log_id, user_id) SELECT id, user_id FROM log`,
          [others],
        );
        await app.dataSource.query(`VACUUM ANALYZE meal_logs, meal_log_jobs`);
        const [sent] = (
          await statementsDuring(app.dataSource, () =>
            jobs.claimNextJobs(4, 60_000, 'test-worker', 'flooder'),
          )
        ).filter(({ sql }) => sql.includes('meal_log_jobs'));
        const runner = app.dataSource.createQueryRunner();
        await runner.startTransaction();
        try {
          const [{ 'QUERY PLAN': plan }] = (await runner.query(
            `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sent.sql}`,
            sent.params,
          )) as { 'QUERY PLAN': { Plan: Record<string, number> }[] }[];
          return plan[0].Plan['Shared Hit Blocks'] + plan[0].Plan['Shared Read Blocks'];
        } finally {
          await runner.rollbackTransaction();
          await runner.release();
        }
      };
      // Both queues' indexes are two levels deep: a page more or less is a page boundary.
      const queued = await pagesRead(5_000, 1_000);
      expect(await pagesRead(20_000, 4_000)).toBeLessThanOrEqual(queued + 5);
    });
  });
});
