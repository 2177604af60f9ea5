import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import type { Metric } from './report';

/**
 * The tables a meal log writes: its row, its job (inserted, then deleted when done), the
 * notification with its sequence, and push attempts for devices in the background.
 */
export const MEAL_LOG_TABLES = [
  'meal_logs',
  'meal_log_jobs',
  'idempotency_keys',
  'notifications',
  'notification_sequences',
  'notification_push_attempts',
] as const;

/** Tables whose bytes per row the capacity model needs (`npm run capacity`). */
const SIZED_TABLES = ['meal_logs', 'notifications', 'ws_sessions'] as const;

/**
 * PostgreSQL 15+ publishes a backend's counters when it goes idle, but at most once a second
 * and otherwise after its idle interval of 10 s; waiting longer than that before the last
 * reading lets every connection of the server under test publish what it did in the window.
 */
const STATS_SETTLE_MS = 11_000;

/**
 * CPU time of the local PostgreSQL cluster's processes in µs (user + system, with the exited
 * backends the postmaster reaped), or null when it runs elsewhere or off Linux. The whole
 * cluster: other databases' work is counted too, which `elsewhere` shows.
 */
function clusterCpuMicros(): number | null {
  let ticks = 0;
  let found = false;
  try {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      if (!stat.includes('(postgres)')) continue;
      // Fields after the command's closing parenthesis; utime, stime, cutime, cstime are 14-17.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += fields.slice(11, 15).reduce((sum, f) => sum + Number(f), 0);
      found = true;
    }
    if (!found) return null;
    const perSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
    return (ticks * 1e6) / perSecond;
  } catch {
    return null;
  }
}

interface Reading {
  transactions: number;
  /** Rows inserted, updated and deleted in MEAL_LOG_TABLES. */
  inserted: number;
  updated: number;
  deleted: number;
  /** Rows written in every other database of the cluster: WAL is cluster-wide. */
  elsewhere: number;
  walBytes: number;
}

async function read(client: Client): Promise<Reading> {
  const { rows } = await client.query<Reading>(
    `SELECT
       (SELECT xact_commit + xact_rollback FROM pg_stat_database
         WHERE datname = current_database())::float8 AS transactions,
       (SELECT coalesce(sum(n_tup_ins), 0) FROM pg_stat_user_tables WHERE relname = ANY($1))::float8
         AS inserted,
       (SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_user_tables WHERE relname = ANY($1))::float8
         AS updated,
       (SELECT coalesce(sum(n_tup_del), 0) FROM pg_stat_user_tables WHERE relname = ANY($1))::float8
         AS deleted,
       (SELECT coalesce(sum(tup_inserted + tup_updated + tup_deleted), 0) FROM pg_stat_database
         WHERE datname IS DISTINCT FROM current_database())::float8 AS elsewhere,
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS "walBytes"`,
    [MEAL_LOG_TABLES],
  );
  return rows[0];
}

/** Bytes per row (table, indexes and TOAST), for the tables that hold rows at the end. */
async function bytesPerRow(client: Client): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const table of SIZED_TABLES) {
    const { rows } = await client.query<{ rows: number; bytes: number }>(
      `SELECT count(*)::float8 AS rows, pg_total_relation_size('${table}')::float8 AS bytes FROM ${table}`,
    );
    if (rows[0].rows > 0) sizes[table] = rows[0].bytes / rows[0].rows;
  }
  return sizes;
}

/**
 * What PostgreSQL did for the meal logs of a measured window, as per-meal-log metrics: opened
 * before the first post, ended after the last notification was collected. Counts include the
 * server's background statements over the window (job polls, heartbeats), so they are an upper
 * bound for the meal logs alone.
 */
export class DatabaseActivityWindow {
  private constructor(
    private readonly client: Client,
    private readonly before: Reading,
    private readonly cpuBefore: number | null,
  ) {}

  static async open(databaseUrl: string): Promise<DatabaseActivityWindow> {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    return new DatabaseActivityWindow(client, await read(client), clusterCpuMicros());
  }

  async end(mealLogs: number): Promise<Metric[]> {
    try {
      // CPU is read at once (the settling below is not part of the window); the counters later.
      const cpuAfter = clusterCpuMicros();
      await new Promise((resolve) => setTimeout(resolve, STATS_SETTLE_MS));
      // A new snapshot: the default stats_fetch_consistency caches within a transaction only.
      const after = await read(this.client);
      const sizes = await bytesPerRow(this.client);
      const per = (key: keyof Reading) => (after[key] - this.before[key]) / Math.max(1, mealLogs);
      const metric = (name: string, unit: string, value: number, digits = 2): Metric => ({
        name,
        unit,
        digits,
        values: { mealpulse: value },
      });
      const cpu =
        cpuAfter === null || this.cpuBefore === null
          ? []
          : [
              metric(
                'PostgreSQL CPU per meal log (whole local cluster)',
                'µs',
                (cpuAfter - this.cpuBefore) / Math.max(1, mealLogs),
                0,
              ),
            ];
      return [
        metric('PostgreSQL transactions per meal log', 'count', per('transactions')),
        metric('rows inserted per meal log (meal-log tables)', 'count', per('inserted')),
        metric('rows updated per meal log (meal-log tables)', 'count', per('updated')),
        metric('rows deleted per meal log (meal-log tables)', 'count', per('deleted')),
        metric('WAL per meal log (cluster-wide)', 'bytes', per('walBytes'), 0),
        ...cpu,
        metric(
          'rows written in other databases meanwhile (WAL is cluster-wide)',
          'count',
          after.elsewhere - this.before.elsewhere,
          0,
        ),
        ...Object.entries(sizes).map(([table, bytes]) =>
          metric(`${table} bytes per row (with indexes)`, 'bytes', bytes, 0),
        ),
      ];
    } finally {
      await this.client.end();
    }
  }
}
