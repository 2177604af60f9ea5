import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { KeysetCursor } from '../common/pagination';
import type { ComposedStatement, StatementPart } from '../database/composed-statement';
import type { MealAnalysis } from '../meal-analysis/meal-analysis.types';
import type { ClaimedJob, FinishedJob } from './meal-log-job.repository';
import type { RecordedMealLog } from './meal-log-outcome.publisher';
import { MEAL_LOG_RATE_WINDOW_MS } from './meal-log-rate.limit';
import type { MealLogStatus, MealLogView, MealType } from './meal-log.view';

interface MealLogRow {
  id: string;
  status: MealLogStatus;
  text: string;
  meal_type: MealType | null;
  logged_at: Date;
  created_at: Date;
  completed_at: Date | null;
  items: MealLogView['items'];
  totals: MealLogView['totals'];
  unrecognized: string[];
  error: string | null;
  user_id: string;
  /** Exact text form of created_at (microseconds), for cursors. */
  created_at_key: string;
}

export interface NewMealLog {
  userId: string;
  text: string;
  mealType: MealType | null;
  /** null: now. */
  loggedAt: Date | null;
}

/** What an insert under the rate limit came to. */
export type LimitedInsert =
  { kind: 'created'; mealLog: MealLogView } | { kind: 'over_limit'; msUntilFree: number };

/** What one attempt at a meal log came to. */
export type AttemptResult =
  { kind: 'analysed'; analysis: MealAnalysis } | { kind: 'failed'; error: string };

export type MealLogResult = { mealLogId: string } & AttemptResult;

function statusOf(result: AttemptResult): MealLogStatus {
  return result.kind === 'analysed' ? 'completed' : 'failed';
}

/**
 * The view of a meal log once `result` is recorded for the claimed `job` at `completedAt`: what
 * the recording writes, so it need not be read back. A log being processed has no analysis yet
 * (only the recording writes one), so a failed log's view has none either.
 */
export function recordedView(
  job: ClaimedJob,
  result: AttemptResult,
  completedAt: Date,
): MealLogView {
  const analysis = result.kind === 'analysed' ? result.analysis : null;
  return {
    id: job.mealLogId,
    status: statusOf(result),
    text: job.text,
    mealType: job.mealType,
    loggedAt: job.loggedAt,
    createdAt: job.createdAt,
    completedAt: completedAt.toISOString(),
    items: analysis?.items ?? [],
    totals: analysis?.totals ?? null,
    unrecognized: analysis?.unrecognized ?? [],
    error: result.kind === 'failed' ? result.error : null,
  };
}

/** A jsonb array element: JSON text, or NULL for "no value". */
function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(value);
}

const COLUMNS = `id, user_id, status, text, meal_type, logged_at, created_at, completed_at,
  items, totals, unrecognized, error, created_at::text AS created_at_key`;

function toView(row: MealLogRow): MealLogView {
  return {
    id: row.id,
    status: row.status,
    text: row.text,
    mealType: row.meal_type,
    loggedAt: row.logged_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at?.toISOString() ?? null,
    items: row.items,
    totals: row.totals,
    unrecognized: row.unrecognized,
    error: row.error,
  };
}

@Injectable()
export class MealLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inserts the log together with its processing job in one statement, atomic on its own (a POST
   * without an Idempotency-Key needs no transaction and makes one round trip), or inside the
   * caller's transaction when `manager` is one; unless the user already created `perMinute` logs
   * within the rate window, in which case nothing is written.
   *
   * The window is counted in the same statement, from the user's newest logs on the
   * `(user_id, created_at)` index: at most `perMinute` entries are read, and every instance
   * counts the same rows. Its `perMinute`-th newest log is the one whose leaving frees the
   * window, so its age says when. Concurrent POSTs of one user do not see each other's rows, so
   * a burst racing at the limit can pass it by the requests that were in flight together.
   */
  async insertWithJob(
    log: NewMealLog,
    perMinute: number,
    manager = this.dataSource.manager,
  ): Promise<LimitedInsert> {
    const [row] = await manager.query<(MealLogRow & { ms_until_free: number | null })[]>(
      `WITH window_full AS (
         SELECT created_at FROM meal_logs
         WHERE user_id = $1 AND created_at > now() - $6 * interval '1 millisecond'
         ORDER BY created_at DESC
         OFFSET $5::int - 1 LIMIT 1
       ), log AS (
         INSERT INTO meal_logs (user_id, text, meal_type, logged_at)
         SELECT $1, $2, $3, COALESCE($4, clock_timestamp())
         WHERE NOT EXISTS (SELECT FROM window_full)
         RETURNING *
       ), job AS (
         INSERT INTO meal_log_jobs (meal_log_id, user_id) SELECT id, user_id FROM log
       )
       SELECT ${COLUMNS},
              (SELECT extract(epoch FROM created_at + $6 * interval '1 millisecond'
                                         - clock_timestamp()) * 1000
               FROM window_full)::float8 AS ms_until_free
       FROM (VALUES (true)) AS answer LEFT JOIN log ON true`,
      [log.userId, log.text, log.mealType, log.loggedAt, perMinute, MEAL_LOG_RATE_WINDOW_MS],
    );
    return row.ms_until_free === null
      ? { kind: 'created', mealLog: toView(row) }
      : { kind: 'over_limit', msUntilFree: row.ms_until_free };
  }

  async findOwnedBy(
    userId: string,
    id: string,
    manager = this.dataSource.manager,
  ): Promise<MealLogView | null> {
    const rows = await manager.query<MealLogRow[]>(
      `SELECT ${COLUMNS} FROM meal_logs WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows.length > 0 ? toView(rows[0]) : null;
  }

  /** Newest first; fetches one extra row to know whether another page exists. */
  async listOwnedBy(
    userId: string,
    limit: number,
    after: KeysetCursor | null,
  ): Promise<{ items: MealLogView[]; next: KeysetCursor | null }> {
    const rows = await this.dataSource.query<MealLogRow[]>(
      `SELECT ${COLUMNS} FROM meal_logs
       WHERE user_id = $1
         AND ($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY created_at DESC, id DESC
       LIMIT $4`,
      [userId, after?.at ?? null, after?.id ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const next = rows.length > limit ? { at: last.created_at_key, id: last.id } : null;
    return { items: page.map(toView), next };
  }

  /**
   * Adds to `statement` the recording of results, for the meal logs listed in `finished` (those
   * whose attempt held its job): a completed log gets its analysis, a failed one its error. Only
   * logs still `processing` change, so a result is recorded at most once. Returns the part
   * listing the recorded logs.
   */
  recordResultsIn(
    statement: ComposedStatement,
    results: MealLogResult[],
    finished: StatementPart<FinishedJob>,
    completedAt: Date,
  ): StatementPart<RecordedMealLog> {
    const analysed = (r: MealLogResult) => (r.kind === 'analysed' ? r.analysis : null);
    const column = (value: (r: MealLogResult) => unknown) => statement.bindEach(results, value);
    return statement.with<RecordedMealLog>(
      'recorded_meal_logs',
      `UPDATE meal_logs AS log
       SET status = result.status,
           items = COALESCE(result.items, log.items),
           totals = COALESCE(result.totals, log.totals),
           unrecognized = COALESCE(result.unrecognized, log.unrecognized),
           error = result.error,
           completed_at = ${statement.bind(completedAt)},
           version = log.version + 1
       FROM unnest(${column((r) => r.mealLogId)}::uuid[], ${column(statusOf)}::text[],
                   ${column((r) => json(analysed(r)?.items))}::jsonb[],
                   ${column((r) => json(analysed(r)?.totals))}::jsonb[],
                   ${column((r) => json(analysed(r)?.unrecognized))}::jsonb[],
                   ${column((r) => (r.kind === 'failed' ? r.error : null))}::text[])
         AS result(id, status, items, totals, unrecognized, error)
       JOIN ${finished.from('finished')} ON ${finished.column('finished', 'meal_log_id')} = result.id
       WHERE log.id = result.id AND log.status = 'processing'
       RETURNING log.id`,
    );
  }
}
