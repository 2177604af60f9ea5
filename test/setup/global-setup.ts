import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgresServer } from '../../src/database/embedded-postgres.server';

declare global {
  var embeddedPostgres: EmbeddedPostgresServer | undefined;
}

/**
 * One PostgreSQL server for the whole run: the machine's (DATABASE_URL) or a throwaway embedded
 * cluster. Each test file then creates its own database on it (test/support/test-database.ts),
 * so files run in parallel without seeing each other's rows.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.TEST_SERVER_URL = process.env.DATABASE_URL;
    return;
  }
  const server = new EmbeddedPostgresServer(await mkdtemp(join(tmpdir(), 'mealpulse-test-')));
  process.env.TEST_SERVER_URL = await server.start();
  globalThis.embeddedPostgres = server;
}
