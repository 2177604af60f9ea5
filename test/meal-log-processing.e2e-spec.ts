import { DataSource } from 'typeorm';
import { MealAnalyzer } from '../src/meal-analysis/meal-analyzer.port';
import { ComposedStatement } from '../src/database/composed-statement';
import { ClaimedJob, MealLogJobRepository } from '../src/meal-logs/meal-log-job.repository';
import { MealLogResultWriter } from '../src/meal-logs/meal-log-result.writer';
import { NotificationRepository } from '../src/notifications/notification.repository';
import { startChildApp } from './support/child-app';
import { statementsDuring } from './support/sql';
import { backlogOf, queueMealLogs } from './support/meal-queue';
import { expectEventually } from './support/expect-eventually';
import { FakeAnalyzer } from './support/fake-analyzer';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';

const NATURAL = '/api/v1/meal-logs/natural';

async function statusOf(dataSource: DataSource, id: string) {
  const [row] = await dataSource.query<
    {
      status: string;
      error: string | null;
      items: unknown[];
    }[]
  >(`SELECT status, error, items FROM meal_logs WHERE id = $1`, [id]);
  return row;
}

async function pendingJobs(dataSource: DataSource): Promise<number> {
  const [row] = await dataSource.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM meal_log_jobs`,
  );
  return row.n;
}

describe('meal log processing', () => {
  describe('retries', () => {
    const analyzer = new FakeAnalyzer(FakeAnalyzer.fail(503));
    let app: TestApp;

    beforeAll(async () => {
      const url = await analyzer.start();
      app = await startTestApp({
        ANALYZER_URL: url,
        JOB_MAX_ATTEMPTS: '3',
        JOB_RETRY_BASE_DELAY_MS: '10',
      });
    });
    afterAll(async () => {
      await app.close();
      await analyzer.stop();
    });

    it('fails a poison job after the retry budget, with a readable error', async () => {
      const created = await api(app, 'poison')
        .post(NATURAL)
        .send({ text: 'poison pill' })
        .expect(201);
      const failed = await expectEventually(async () => {
        const row = await statusOf(app.dataSource, created.body.id);
        expect(row.status).toBe('failed');
        return row;
      });
      expect(failed.error).toMatch(/after 3 attempts/);
      expect(analyzer.countFor('poison pill')).toBe(3);
      expect(await pendingJobs(app.dataSource)).toBe(0);
    });

    it('completes a job whose first attempts failed transiently', async () => {
      let calls = 0;
      analyzer.setBehaviour((request) =>
        ++calls < 2 ? FakeAnalyzer.fail(500)(request) : FakeAnalyzer.succeed(request),
      );
      const created = await api(app, 'flaky')
        .post(NATURAL)
        .send({ text: 'flaky soup' })
        .expect(201);
      await expectEventually(async () =>
        expect((await statusOf(app.dataSource, created.body.id)).status).toBe('completed'),
      );
      expect(analyzer.countFor('flaky soup')).toBe(2);
    });

    it('fails at once, without retrying, when the analyzer refuses the input', async () => {
      analyzer.setBehaviour(FakeAnalyzer.fail(400));
      const created = await api(app, 'refused')
        .post(NATURAL)
        .send({ text: 'refused text' })
        .expect(201);
      await expectEventually(async () =>
        expect((await statusOf(app.dataSource, created.body.id)).status).toBe('failed'),
      );
      expect(analyzer.countFor('refused text')).toBe(1);
    });
  });

  describe('claims, leases and fencing', () => {
    let app: TestApp;
    let jobs: MealLogJobRepository;

    beforeAll(async () => {
      // No workers in this process: the test plays the workers itself.
      app = await startTestApp({ JOB_CONCURRENCY: '0' });
      jobs = app.app.get(MealLogJobRepository);
    });
    afterAll(() => app.close());

    it('lets a stale worker neither finish nor reschedule a job re-claimed after its lease expired', async () => {
      const created = await api(app, 'fence').post(NATURAL).send({ text: 'apple' }).expect(201);
      const [first] = await jobs.claimNextJobs(10, 60_000, 'worker-a');
      expect(first).toEqual({
        mealLogId: created.body.id,
        attempt: 1,
        userId: 'fence',
        text: 'apple',
        mealType: null,
        loggedAt: created.body.loggedAt,
        createdAt: created.body.createdAt,
      });
      expect(await jobs.claimNextJobs(10, 60_000, 'worker-b')).toEqual([]); // leased

      await app.dataSource.query(
        `UPDATE meal_log_jobs SET available_at = now() - interval '1 second'`,
      );
      const [second] = await jobs.claimNextJobs(10, 60_000, 'worker-b');
      expect(second).toMatchObject({ mealLogId: created.body.id, attempt: 2 });

      const finish = async (job: ClaimedJob) => {
        const statement = new ComposedStatement();
        const finished = jobs.finishIn(statement, [job]);
        return (await statement.run(app.dataSource, [finished])).rowsOf(finished);
      };
      expect(await finish(first)).toEqual([]);
      expect(await jobs.scheduleRetry(first, 0, 'late')).toBe(false);
      expect(await finish(second)).toEqual([{ meal_log_id: created.body.id }]);
      expect(await pendingJobs(app.dataSource)).toBe(0);
    });

    it('drops the result of an attempt whose job was re-claimed, even alone in its group', async () => {
      const created = await api(app, 'fenced').post(NATURAL).send({ text: 'pear' }).expect(201);
      const [stale] = await jobs.claimNextJobs(10, 60_000, 'worker-a');
      await app.dataSource.query(
        `UPDATE meal_log_jobs SET available_at = now() - interval '1 second'`,
      );
      const [current] = await jobs.claimNextJobs(10, 60_000, 'worker-b');
      expect(current).toMatchObject({ mealLogId: created.body.id, attempt: stale.attempt + 1 });

      const analysis = await app.app.get(MealAnalyzer).analyze('pear');
      const recordAndRead = async (job: ClaimedJob) => {
        await app.app
          .get(MealLogResultWriter)
          .record(job, { mealLogId: job.mealLogId, kind: 'analysed', analysis });
        return {
          status: (await statusOf(app.dataSource, created.body.id)).status,
          jobs: await pendingJobs(app.dataSource),
        };
      };
      expect(await recordAndRead(stale)).toEqual({ status: 'processing', jobs: 1 });
      expect(
        await app.dataSource.query(`SELECT id FROM notifications WHERE user_id = 'fenced'`),
      ).toEqual([]);
      expect(await recordAndRead(current)).toEqual({ status: 'completed', jobs: 0 });
    });

    it('commits results that finish together in one statement: per-user seqs in order, a stale attempt dropped beside the current one, notifications showing the stored logs', async () => {
      const post = async (userId: string, text: string) =>
        (await api(app, userId).post(NATURAL).send({ text }).expect(201)).body.id as string;
      const ids = [
        await post('group-a', 'apple'),
        await post('group-b', 'pear'),
        await post('group-a', 'plum'),
        await post('group-a', 'rice'),
      ];
      const claimed = new Map(
        (await jobs.claimNextJobs(10, 60_000, 'worker-a')).map((job) => [job.mealLogId, job]),
      );
      expect([...claimed.keys()].sort()).toEqual([...ids].sort());
      const analysis = await app.app.get(MealAnalyzer).analyze('apple');
      const inserts = jest.spyOn(app.app.get(NotificationRepository), 'insertForOutcomesIn');
      try {
        const writer = app.app.get(MealLogResultWriter);
        const statements = await statementsDuring(app.dataSource, () =>
          Promise.all([
            writer.record(claimed.get(ids[0])!, { mealLogId: ids[0], kind: 'analysed', analysis }),
            writer.record(claimed.get(ids[1])!, { mealLogId: ids[1], kind: 'failed', error: 'no' }),
            writer.record(claimed.get(ids[2])!, { mealLogId: ids[2], kind: 'analysed', analysis }),
            // A worker whose lease on this job expired before the current attempt claimed it,
            // finishing in the same moment as the current attempt.
            writer.record(
              { ...claimed.get(ids[3])!, attempt: 0 },
              { mealLogId: ids[3], kind: 'analysed', analysis },
            ),
            writer.record(claimed.get(ids[3])!, {
              mealLogId: ids[3],
              kind: 'failed',
              error: 'the current attempt',
            }),
          ]),
        );
        expect(inserts).toHaveBeenCalledTimes(1);
        // Jobs, results and notifications in one statement that commits on its own: no
        // transaction, no second statement.
        expect(
          statements.filter(({ sql }) => /meal_log_jobs|notifications/.test(sql)),
        ).toHaveLength(1);
        expect(
          statements.filter(({ sql }) => /^(START TRANSACTION|BEGIN|COMMIT)/i.test(sql)),
        ).toEqual([]);
      } finally {
        inserts.mockRestore();
      }
      expect(
        await app.dataSource.query(
          `SELECT user_id, seq::int AS seq, meal_log_id, event FROM notifications
           WHERE user_id LIKE 'group-%' ORDER BY user_id, seq`,
        ),
      ).toEqual([
        { user_id: 'group-a', seq: 1, meal_log_id: ids[0], event: 'meal_log.completed' },
        { user_id: 'group-a', seq: 2, meal_log_id: ids[2], event: 'meal_log.completed' },
        { user_id: 'group-a', seq: 3, meal_log_id: ids[3], event: 'meal_log.failed' },
        { user_id: 'group-b', seq: 1, meal_log_id: ids[1], event: 'meal_log.failed' },
      ]);
      expect((await statusOf(app.dataSource, ids[1])).error).toBe('no');
      // Each notification carries the log exactly as it is stored (and served by REST).
      for (const id of [ids[0], ids[1], ids[3]]) {
        const [{ data, user_id }] = await app.dataSource.query<
          { data: unknown; user_id: string }[]
        >(`SELECT data, user_id FROM notifications WHERE meal_log_id = $1`, [id]);
        const stored = await api(app, user_id).get(`/api/v1/meal-logs/${id}`).expect(200);
        expect(data).toEqual(stored.body);
      }
      // Only the current attempt's result counts.
      expect(await statusOf(app.dataSource, ids[3])).toMatchObject({
        status: 'failed',
        error: 'the current attempt',
      });
      expect(await pendingJobs(app.dataSource)).toBe(0);
    });

    describe('round the users', () => {
      beforeEach(() => app.dataSource.query(`TRUNCATE meal_logs CASCADE`));

      const claim = async (limit: number, after = '') =>
        (await jobs.claimNextJobs(limit, 60_000, 'worker-a', after)).map((job) => [
          job.userId,
          job.mealLogId,
        ]);

      it('goes round the users, one job each per turn, from where the last claim ended', async () => {
        const flood = await queueMealLogs(app.dataSource, backlogOf('flooder', 10));
        const [alice] = await queueMealLogs(app.dataSource, ['alice']);
        const carol = await queueMealLogs(app.dataSource, backlogOf('carol', 2));

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
        const flood = await queueMealLogs(app.dataSource, backlogOf('flooder', 10));
        const bob = await queueMealLogs(app.dataSource, backlogOf('bob', 3));
        const [dave] = await queueMealLogs(app.dataSource, ['dave']);

        // Four slots, three users: a second turn for the first users round the ring.
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
        const flood = await queueMealLogs(app.dataSource, backlogOf('flooder', 3));
        const [erin] = await queueMealLogs(app.dataSource, ['erin']);
        await app.dataSource.query(
          `UPDATE meal_log_jobs SET available_at = now() + interval '1 minute' WHERE meal_log_id = $1`,
          [flood[0]],
        );
        const runner = app.dataSource.createQueryRunner();
        await runner.startTransaction();
        try {
          // Another worker's claim in flight holds erin's job.
          await runner.query(`SELECT 1 FROM meal_log_jobs WHERE meal_log_id = $1 FOR UPDATE`, [
            erin,
          ]);
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
          await queueMealLogs(app.dataSource, [
            ...backlogOf('flooder', flood),
            ...Array.from({ length: others }, (_, i) => `user-${i}`),
          ]);
          await app.dataSource.query(`VACUUM ANALYZE meal_logs, meal_log_jobs`);
          const [sent] = await statementsDuring(app.dataSource, () =>
            jobs.claimNextJobs(4, 60_000, 'worker-a', 'flooder'),
          );
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

  describe('worker processes', () => {
    const analyzer = new FakeAnalyzer();
    let analyzerUrl: string;
    let database: { url: string; drop: () => Promise<void> };

    beforeAll(async () => {
      analyzerUrl = await analyzer.start();
    });
    beforeEach(async () => {
      database = await createTestDatabase();
    });
    afterEach(() => database.drop());
    afterAll(() => analyzer.stop());

    it('completes exactly once a job whose worker process was killed mid-processing', async () => {
      const hung: string[] = [];
      analyzer.setBehaviour(({ text }) => hung.push(text)); // never answers
      const doomed = await startChildApp({
        DATABASE_URL: database.url,
        ANALYZER_URL: analyzerUrl,
        JOB_LEASE_MS: '1000',
        ANALYZER_TIMEOUT_MS: '900',
      });
      let id: string;
      try {
        id = (
          await api(doomed, 'crash').post(NATURAL).send({ text: 'killed mid-flight' }).expect(201)
        ).body.id as string;
        await expectEventually(() => expect(hung).toContain('killed mid-flight'));
      } finally {
        await doomed.kill('SIGKILL');
      }

      analyzer.setBehaviour(FakeAnalyzer.succeed);
      const survivor = await startTestApp({
        DATABASE_URL: database.url,
        ANALYZER_URL: analyzerUrl,
      });
      try {
        await expectEventually(
          async () => expect((await statusOf(survivor.dataSource, id)).status).toBe('completed'),
          { timeoutMs: 10_000 },
        );
        const [job] = await survivor.dataSource.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM meal_log_jobs`,
        );
        expect(job.n).toBe(0);
        expect(analyzer.countFor('killed mid-flight')).toBe(2); // the killed attempt and the one that completed
      } finally {
        await survivor.close();
      }
    });

    it('never processes one job twice with two worker processes on one database', async () => {
      analyzer.setBehaviour(FakeAnalyzer.succeed);
      const env = {
        DATABASE_URL: database.url,
        ANALYZER_URL: analyzerUrl,
        JOB_CONCURRENCY: '8',
        JOB_POLL_INTERVAL_MS: '20',
        // One user posts all 120 logs at once.
        MEAL_LOGS_PER_MINUTE: '120',
      };
      const first = await startChildApp(env);
      const second = await startChildApp(env);
      try {
        const texts = Array.from({ length: 120 }, (_, i) => `race meal ${i}`);
        const targets = [first, second];
        await Promise.all(
          texts.map((text, i) =>
            api(targets[i % 2], 'race')
              .post(NATURAL)
              .send({ text })
              .expect(201),
          ),
        );
        const probe = await startTestApp({ DATABASE_URL: database.url, JOB_CONCURRENCY: '0' });
        try {
          await expectEventually(
            async () => {
              const [row] = await probe.dataSource.query<{ done: number }[]>(
                `SELECT count(*) FILTER (WHERE status = 'completed')::int AS done FROM meal_logs`,
              );
              expect(row.done).toBe(texts.length);
            },
            { timeoutMs: 15_000 },
          );
        } finally {
          await probe.close();
        }
        for (const text of texts) expect(analyzer.countFor(text)).toBe(1);
        // Both processes took part: each logs the outcomes it committed (after the commit, so the
        // last lines may still be on their way through the pipe).
        await expectEventually(() => {
          const completedBy = [first, second].map(
            (child) => child.logs.filter((line) => line.msg === 'meal_log.completed').length,
          );
          expect(completedBy[0] + completedBy[1]).toBe(texts.length);
          expect(Math.min(...completedBy)).toBeGreaterThan(0);
        });
      } finally {
        await Promise.all([first.kill('SIGTERM'), second.kill('SIGTERM')]);
      }
    });
  });
});
