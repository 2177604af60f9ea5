import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WorkloadContext } from '../workloads/workload';
import { createBenchDatabase } from './bench-database';
import type { ServerKind } from './server-kinds';
import { MIGRATE_SCRIPT, SERVER_KINDS } from './server-kinds';
import { ServerUnderTest } from './server-under-test';
import { LoadPool } from '../load/load-pool';

/**
 * Runs `fn` against a fresh server of `kind` (on a fresh database when it needs one) and always
 * stops the server and drops the database afterwards.
 */
export async function withServer<T>(
  context: WorkloadContext,
  kind: ServerKind,
  env: Record<string, string>,
  fn: (server: ServerUnderTest, databaseUrl: string | null) => Promise<T>,
): Promise<T> {
  const database = SERVER_KINDS[kind].needsDatabase
    ? await createBenchDatabase(context.database)
    : null;
  try {
    if (database && SERVER_KINDS[kind].migrateFirst) {
      await promisify(execFile)(process.execPath, [MIGRATE_SCRIPT, 'run'], {
        env: { PATH: process.env.PATH, DATABASE_URL: database.url, LOG_LEVEL: 'warn' },
      });
    }
    const server = await ServerUnderTest.start(kind, {
      ...env,
      ...(database ? { DATABASE_URL: database.url } : {}),
    });
    try {
      return await fn(server, database?.url ?? null);
    } finally {
      await server.stop();
    }
  } finally {
    await database?.drop();
  }
}

/** Runs `fn` with load workers holding up to `sessions` sessions, always stopping them. */
export async function withLoad<T>(
  sessions: number,
  fn: (pool: LoadPool) => Promise<T>,
): Promise<T> {
  const pool = LoadPool.start(sessions);
  try {
    return await fn(pool);
  } finally {
    await pool.stop();
  }
}

export interface Measured<T> {
  result: T;
  /** Server CPU time (user + system) spent during `fn`. */
  cpuMicros: number;
  /** How long the server's event loop waited for a core during `fn` (NaN off Linux). */
  runQueueWaitMicros: number;
  elapsedMs: number;
}

/**
 * Runs `fn` while reading the server's CPU time around it, and with `--profile` writes the
 * server's CPU profile of exactly that window to the profile directory.
 */
export async function measured<T>(
  context: WorkloadContext,
  server: ServerUnderTest,
  label: string,
  fn: () => Promise<T>,
): Promise<Measured<T>> {
  if (context.options.profile) await server.startProfile();
  const cpuBefore = await server.cpuMicros();
  const waitBefore = await server.runQueueWaitMicros();
  const started = performance.now();
  const result = await fn();
  const elapsedMs = performance.now() - started;
  const cpuMicros = (await server.cpuMicros()) - cpuBefore;
  const runQueueWaitMicros = (await server.runQueueWaitMicros()) - waitBefore;
  if (context.options.profile) {
    await server.stopProfile(
      join(context.options.profileDir, `${label}-${server.kind}.cpuprofile`),
    );
  }
  return { result, cpuMicros, runQueueWaitMicros, elapsedMs };
}
