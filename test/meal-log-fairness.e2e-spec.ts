import type { DataSource } from 'typeorm';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { backlogOf, queueMealLogs } from './support/meal-queue';
import { startTestApp, TestApp } from './support/test-app';
import { Frame, WsClient } from './support/ws-client';

const NATURAL = '/api/v1/meal-logs/natural';
const FLOOD = 5_000;

async function queuedOf(dataSource: DataSource, userId: string): Promise<number> {
  const [row] = await dataSource.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM meal_log_jobs WHERE user_id = $1`,
    [userId],
  );
  return row.n;
}

describe('job claiming between users', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it(`does not delay another user's single log: its result arrives in under a second while most of ${FLOOD} logs still wait`, async () => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'bystander' });
    try {
      await queueMealLogs(app.dataSource, backlogOf('flooder', FLOOD));
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
