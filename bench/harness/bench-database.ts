import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
// The one src import the bench allows (eslint.config.mjs): `npm test` starts the same cluster.
import { EmbeddedPostgresServer } from '../../src/database/embedded-postgres.server';

/** The machine's PostgreSQL, as CI and the team's machines have it. */
const MACHINE_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

export interface DatabaseServer {
  url: string;
  description: string;
  stop(): Promise<void>;
}

async function reachable(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * BENCH_DATABASE_URL, else the machine's PostgreSQL on 127.0.0.1:5432, else a throwaway
 * embedded cluster (as `npm test` does): the bench runs from a fresh clone either way.
 */
export async function openDatabaseServer(): Promise<DatabaseServer> {
  const configured = process.env.BENCH_DATABASE_URL;
  if (configured)
    return { url: configured, description: 'BENCH_DATABASE_URL', stop: async () => {} };
  if (await reachable(MACHINE_SERVER_URL)) {
    return {
      url: MACHINE_SERVER_URL,
      description: 'PostgreSQL at 127.0.0.1:5432',
      stop: async () => {},
    };
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'mealpulse-bench-'));
  const embedded = new EmbeddedPostgresServer(dataDir);
  const url = await embedded.start();
  return {
    url,
    description: 'embedded PostgreSQL',
    stop: async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(serverUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A fresh database for one server run; MealPulse migrates it when it starts. */
export async function createBenchDatabase(
  server: DatabaseServer,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(server.url, `CREATE DATABASE ${name}`);
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(server.url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
