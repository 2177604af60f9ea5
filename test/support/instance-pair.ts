import { TestRedisServer } from './redis-server';
import { startTestApp, TestApp } from './test-app';
import { createTestDatabase } from './test-database';

/**
 * Two instances in this process on one database and a private Redis: A runs the workers, B only
 * holds sockets, so every notification B delivers was created on A and crossed through Redis.
 * In-process, so a test can reach into either (to drop or hold back a message on purpose).
 */
export interface InstancePair {
  a: TestApp;
  b: TestApp;
  close: () => Promise<void>;
}

export async function startInstancePair(
  env: Record<string, string> = {},
  { redisPassword }: { redisPassword?: string } = {},
): Promise<InstancePair> {
  const redis = await TestRedisServer.start({ password: redisPassword });
  const database = await createTestDatabase();
  const shared = {
    DATABASE_URL: database.url,
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: 'pair:',
    ...env,
  };
  // One after the other: both run the migrations at start-up.
  const a = await startTestApp(shared);
  const b = await startTestApp({ ...shared, JOB_CONCURRENCY: '0' });
  return {
    a,
    b,
    close: async () => {
      await b.close();
      await a.close();
      await database.drop();
      await redis.stop();
    },
  };
}
