import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import type { Metric } from './report';

/**
 * The tables a meal log writes: its row, its job (inserted, then deleted when done), the
 * notification with its sequence, a delivery row per session it is written to, and push
 * attempts for devices in the background.
 */
export const MEAL_LOG_TABLES = [
  'meal_logs',
  'meal_log_jobs',
  'idempotency_keys',
  'notifications',
  'notification_sequences',
  'notification_deliveries',
  'notification_push_attempts',
] as const;

/** Tables whose bytes per row the capacity model needs (`npm run capacity`). */
const SIZED_TABLES = [
  'meal_logs',
  'notifications',
  'notification_deliveries',
  'ws_sessions',
] as const;

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

function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Reading {
  transactions: number;
  /** Rows inserted, updated and deleted in the window's tables. */
  inserted: number;
  updated: number;
  deleted: number;
  /** Rows written in every other database of the cluster: WAL is cluster-wide. */
  elsewhere: number;
  walBytes: number;
}

async function read(client: Client, tables: readonly string[]): Promise<Reading> {
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
    [tables],
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

/** What PostgreSQL did over a window, as deltas of its counters. */
export interface DatabaseActivity extends Reading {
  /** PostgreSQL's CPU over the window (µs), null when it is not a local process. */
  cpuMicros: number | null;
  /** From opening the window to its end, over which `cpuMicros` is read. */
  windowMs: number;
  /** From opening to reading the counters, which settle after the window's end. */
  countedMs: number;
  /** Bytes per row (table, indexes and TOAST) of the sized tables holding rows at the end. */
  bytesPerRow: Record<string, number>;
}

/**
 * PostgreSQL's counters for one database and a set of its tables over a measured window,
 * the server's background statements (job polls, heartbeats) included.
 */
export class DatabaseActivityWindow {
  private readonly openedAt = performance.now();

  private constructor(
    private readonly client: Client,
    private readonly tables: readonly string[],
    private readonly settleMs: number,
    private readonly before: Reading,
    private readonly cpuBefore: number | null,
  ) {}

  /** `quick`: a smoke test, whose figures nothing uses, does not wait for the counters. */
  static async open(
    databaseUrl: string,
    tables: readonly string[],
    { quick }: { quick: boolean },
  ): Promise<DatabaseActivityWindow> {
    const settleMs = quick ? 0 : STATS_SETTLE_MS;
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    // What happened before the window (the sessions' openings) is published first.
    await settle(settleMs);
    return new DatabaseActivityWindow(
      client,
      tables,
      settleMs,
      await read(client, tables),
      clusterCpuMicros(),
    );
  }

  async end(): Promise<DatabaseActivity> {
    try {
      // CPU is read at once; the counters once every backend has published them.
      const cpuAfter = clusterCpuMicros();
      const windowMs = performance.now() - this.openedAt;
      await settle(this.settleMs);
      // A new snapshot: the default stats_fetch_consistency caches within a transaction only.
      const after = await read(this.client, this.tables);
      const delta = (key: keyof Reading) => after[key] - this.before[key];
      return {
        transactions: delta('transactions'),
        inserted: delta('inserted'),
        updated: delta('updated'),
        deleted: delta('deleted'),
        elsewhere: delta('elsewhere'),
        walBytes: delta('walBytes'),
        cpuMicros: cpuAfter === null || this.cpuBefore === null ? null : cpuAfter - this.cpuBefore,
        windowMs,
        countedMs: performance.now() - this.openedAt,
        bytesPerRow: await bytesPerRow(this.client),
      };
    } finally {
      await this.client.end();
    }
  }
}

function mealpulseMetric(name: string, unit: string, value: number, digits = 2): Metric {
  return { name, unit, digits, values: { mealpulse: value } };
}

/**
 * Per meal log, for a window opened before the first post and ended after the last
 * notification was collected; an upper bound, since background statements are in it.
 */
export function mealLogActivityMetrics(activity: DatabaseActivity, mealLogs: number): Metric[] {
  // None posted (a failed run): no figure rather than a made-up one.
  const per = (value: number) => (mealLogs > 0 ? value / mealLogs : Number.NaN);
  return [
    mealpulseMetric('PostgreSQL transactions per meal log', 'count', per(activity.transactions)),
    mealpulseMetric(
      'rows inserted per meal log (meal-log tables)',
      'count',
      per(activity.inserted),
    ),
    mealpulseMetric('rows updated per meal log (meal-log tables)', 'count', per(activity.updated)),
    mealpulseMetric('rows deleted per meal log (meal-log tables)', 'count', per(activity.deleted)),
    mealpulseMetric('WAL per meal log (cluster-wide)', 'bytes', per(activity.walBytes), 0),
    ...(activity.cpuMicros === null
      ? []
      : [
          mealpulseMetric(
            'PostgreSQL CPU per meal log (whole local cluster)',
            'µs',
            per(activity.cpuMicros),
            0,
          ),
        ]),
    mealpulseMetric(
      'rows written in other databases meanwhile (WAL is cluster-wide)',
      'count',
      activity.elsewhere,
      0,
    ),
    ...Object.entries(activity.bytesPerRow).map(([table, bytes]) =>
      mealpulseMetric(`${table} bytes per row (with indexes)`, 'bytes', bytes, 0),
    ),
  ];
}

/**
 * The session audit's writes for open sessions that only ping: how often a session's row is
 * written, and what a written row costs PostgreSQL.
 */
export function sessionAuditActivityMetrics(
  activity: DatabaseActivity,
  sessions: number,
): Metric[] {
  // Activity updates the open sessions' rows; nothing opens or ends in the window.
  const rows = activity.updated;
  // Rows are counted until the counters settled, CPU only over the window: compare rates.
  const rowsInWindow = (rows * activity.windowMs) / activity.countedMs;
  // No row written (a window shorter than the flush interval): no cost per row to report.
  const perRow = (value: number, of = rows) => (of > 0 ? value / of : Number.NaN);
  return [
    mealpulseMetric(
      'session audit rows updated per session per minute',
      'count',
      (rows / sessions / activity.countedMs) * 60_000,
    ),
    mealpulseMetric(
      'PostgreSQL transactions per session audit row',
      'count',
      perRow(activity.transactions),
      3,
    ),
    mealpulseMetric(
      'WAL per session audit row (cluster-wide)',
      'bytes',
      perRow(activity.walBytes),
      0,
    ),
    ...(activity.cpuMicros === null
      ? []
      : [
          mealpulseMetric(
            'PostgreSQL CPU per session audit row (whole local cluster)',
            'µs',
            perRow(activity.cpuMicros, rowsInWindow),
            1,
          ),
        ]),
    mealpulseMetric('rows written in other databases meanwhile', 'count', activity.elsewhere, 0),
  ];
}
