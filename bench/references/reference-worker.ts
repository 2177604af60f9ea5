import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import {
  ANALYSED_ITEMS_JSON,
  ANALYSED_TOTALS_JSON,
  MealLogRow,
  MealLogView,
  mealLogView,
} from './reference-meal-log';

export interface ReferenceWorkerConfig {
  /** MealPulse's JOB_CONCURRENCY: jobs in flight at most. */
  concurrency: number;
  /** MealPulse's JOB_POLL_INTERVAL_MS: how often to look for due jobs when not woken. */
  pollIntervalMs: number;
  /** How long a claim holds a job before another claim may take it. */
  leaseMs: number;
}

/** A completed meal log's owner and its MealLog, for the notification. */
export type Completed = (userId: string, mealLog: MealLogView & { completedAt: string }) => void;

/**
 * The bare pipeline's worker: the least MealPulse's job queue needs. One statement claims up to
 * the free slots' worth of due jobs (oldest first, SKIP LOCKED, under a lease); one statement per
 * job deletes it and completes its meal log with the analysis of MEAL_TEXT (stored, not computed:
 * see `ANALYSED_ITEMS_JSON`), stamping `completed_at` in the statement that commits; then
 * `completed` pushes the frame. It claims at once when woken (a POST queued a job, a slot freed)
 * and every poll interval otherwise, as MealPulse's worker does. No fairness between users,
 * retries, outbox, sequence row, delivery ledger or acknowledgement write.
 */
export class ReferenceWorker {
  private readonly workerId = randomUUID();
  private inFlight = 0;
  private timer: NodeJS.Timeout | null = null;
  private claiming = false;
  private claimAgain = false;

  constructor(
    private readonly pool: Pool,
    private readonly config: ReferenceWorkerConfig,
    private readonly completed: Completed,
  ) {}

  start(): void {
    if (this.config.concurrency > 0) this.schedule(0);
  }

  wake(): void {
    if (this.config.concurrency > 0) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.claim(), delayMs);
  }

  private async claim(): Promise<void> {
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    let claimedFull = false;
    try {
      const free = this.config.concurrency - this.inFlight;
      if (free > 0) {
        const { rows } = await this.pool.query<{ meal_log_id: string; attempts: number }>(
          `UPDATE meal_log_jobs AS job
           SET attempts = job.attempts + 1,
               available_at = clock_timestamp() + $2 * interval '1 millisecond',
               locked_by = $3
           FROM (
             SELECT meal_log_id FROM meal_log_jobs
             WHERE available_at <= now()
             ORDER BY available_at
             LIMIT $1
             FOR UPDATE SKIP LOCKED
           ) AS due
           WHERE job.meal_log_id = due.meal_log_id
           RETURNING job.meal_log_id, job.attempts`,
          [free, this.config.leaseMs, this.workerId],
        );
        claimedFull = rows.length === free;
        for (const job of rows) this.track(this.complete(job.meal_log_id, job.attempts));
      }
    } catch (error) {
      console.error('bare pipeline: claim failed', error);
    } finally {
      this.claiming = false;
    }
    const again = this.claimAgain || claimedFull;
    this.claimAgain = false;
    this.schedule(
      again && this.inFlight < this.config.concurrency ? 0 : this.config.pollIntervalMs,
    );
  }

  private async complete(mealLogId: string, attempts: number): Promise<void> {
    const { rows } = await this.pool.query<MealLogRow & { user_id: string }>(
      `WITH job AS (
         DELETE FROM meal_log_jobs WHERE meal_log_id = $1 AND attempts = $2
         RETURNING meal_log_id
       )
       UPDATE meal_logs AS log
       SET status = 'completed', items = $3, totals = $4, unrecognized = '[]',
           completed_at = clock_timestamp(), version = log.version + 1
       FROM job WHERE log.id = job.meal_log_id
       RETURNING log.*`,
      [mealLogId, attempts, ANALYSED_ITEMS_JSON, ANALYSED_TOTALS_JSON],
    );
    // None when the lease ran out and another claim took the job over.
    for (const row of rows) {
      const mealLog = mealLogView(row);
      if (mealLog.completedAt !== null)
        this.completed(row.user_id, { ...mealLog, completedAt: mealLog.completedAt });
    }
  }

  private track(attempt: Promise<void>): void {
    this.inFlight++;
    void attempt
      .catch((error: unknown) => console.error('bare pipeline: completion failed', error))
      .finally(() => {
        this.inFlight--;
        this.wake(); // a slot is free: take the next due job without waiting for the poll
      });
  }
}
