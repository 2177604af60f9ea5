import type { LoadPool } from '../load/load-pool';
import type { OpenResult, TargetSpec } from '../load/load-messages';
import { SERVER_KINDS } from '../harness/server-kinds';
import { BENCH_JWT_SECRET, ServerUnderTest } from '../harness/server-under-test';

export function targetOf(server: ServerUnderTest): TargetSpec {
  return { port: server.port, wire: SERVER_KINDS[server.kind].wire, jwtSecret: BENCH_JWT_SECRET };
}

export interface Opened {
  opened: number;
  failed: number;
  /** The slowest worker's time to open its share. */
  elapsedMs: number;
}

/** Opens the pool's sessions against `server`; throws when any failed, as nothing after is valid. */
export async function openSessions(
  pool: LoadPool,
  server: ServerUnderTest,
  options: {
    concurrency?: number;
    autoPong?: boolean;
    reconnect?: boolean;
    allowFailures?: boolean;
  } = {},
): Promise<Opened> {
  const results = (await pool.open(targetOf(server), {
    concurrency: options.concurrency ?? 100,
    autoPong: options.autoPong,
    reconnect: options.reconnect,
    timeoutMs: 300_000,
  })) as OpenResult[];
  const opened = {
    opened: results.reduce((sum, r) => sum + r.opened, 0),
    failed: results.reduce((sum, r) => sum + r.failed, 0),
    elapsedMs: Math.max(...results.map((r) => r.elapsedMs)),
  };
  if (opened.failed > 0 && !options.allowFailures) {
    throw new Error(
      `${server.label}: ${opened.failed} of ${opened.opened + opened.failed} sessions failed to open`,
    );
  }
  return opened;
}
