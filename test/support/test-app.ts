import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/config.loader';
import { createApp, listen } from '../../src/main';
import { createTestDatabase } from './test-database';
import { TEST_JWT_SECRET } from './tokens';

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** http://127.0.0.1:<port> of the listening app. */
  baseUrl: string;
  dataSource: DataSource;
  databaseUrl: string;
  close: () => Promise<void>;
}

/**
 * The real application (HTTP, WebSocket, workers, migrations) on a fresh database, listening on
 * a free port. `env` overrides configuration variables, e.g. to shrink time for presence tests.
 */
export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  // A given DATABASE_URL is shared with other processes of the test and outlives this app.
  const database = env.DATABASE_URL
    ? { url: env.DATABASE_URL, drop: () => Promise.resolve() }
    : await createTestDatabase();
  // TEST_REDIS_URL runs the suite in scale-out mode: each app gets its own key prefix.
  const redis = process.env.TEST_REDIS_URL
    ? {
        REDIS_URL: process.env.TEST_REDIS_URL,
        REDIS_KEY_PREFIX: `test-${database.url.split('/').pop()}:`,
      }
    : {};
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    JWT_SECRET: TEST_JWT_SECRET,
    PORT: '0',
    JOB_POLL_INTERVAL_MS: '50',
    JOB_RETRY_BASE_DELAY_MS: '20',
    DATABASE_URL: database.url,
    ...redis,
    ...env,
  });
  const app = await createApp(config);
  try {
    await listen(app, 0, '127.0.0.1');
  } catch (error) {
    // A refused start-up leaves nothing running behind the test.
    await app.close();
    await database.drop();
    throw error;
  }
  const address = app.getHttpServer().address() as { port: number };
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${address.port}`,
    dataSource: app.get(DataSource),
    databaseUrl: database.url,
    close: async () => {
      await app.close();
      await database.drop();
    },
  };
}
