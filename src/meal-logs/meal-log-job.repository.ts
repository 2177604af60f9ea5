import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ComposedStatement } from '../database/composed-statement';
import type { MealType } from './meal-log.view';

export interface ClaimedJob {
  mealLogId: string;
  /** 1 for the first try; also the fence a result must present to be accepted. */
  attempt: number;
  /**
   * The log's owner and what its view shows besides the result, claimed along with the job: the
   * worker needs no round trip to read them, and the result's notification is built from them.
   */
  userId: string;
  text: string;
  mealType: MealType | null;
  loggedAt: string;
  createdAt: string;
}

@Injectable()
export class MealLogJobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` due jobs under a lease. SKIP LOCKED lets several workers (and processes)
   * claim concurrently without waiting on or double-taking each other's rows; pushing
   * `available_at` past the lease is what makes a job of a killed worker claimable again later.
   *
   * Each claimed job's owner and text are looked up by primary key, one probe per claimed job
   * (`LIMIT 1` keeps the planner from flattening the lookup into a join). As a plain join, the
   * planner joined every queued job with `meal_logs` before narrowing to the claimed ones, and on
   * a young table it did so by reading all of `meal_logs` on every claim.
   */
  async claimNextJobs(limit: number, leaseMs: number, workerId: string): Promise<ClaimedJob[]> {
    const rows = await this.dataSource.query<
      {
        meal_log_id: string;
        attempts: number;
        user_id: string;
        text: string;
        meal_type: MealType | null;
        logged_at: Date;
        created_at: Date;
      }[]
    >(
      `WITH due AS (
         SELECT meal_log_id FROM meal_log_jobs
         WHERE available_at <= clock_timestamp()
         ORDER BY available_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       ), claimed AS (
         UPDATE meal_log_jobs AS job
         SET attempts = job.attempts + 1,
             available_at = clock_timestamp() + $2 * interval '1 millisecond',
             locked_by = $3
         FROM due
         WHERE job.meal_log_id = due.meal_log_id
         RETURNING job.meal_log_id, job.attempts
       )
       SELECT claimed.meal_log_id, claimed.attempts, log.*
       FROM claimed
       CROSS JOIN LATERAL (
         SELECT user_id, text, meal_type, logged_at, created_at
         FROM meal_logs WHERE id = claimed.meal_log_id LIMIT 1
       ) AS log`,
      [limit, leaseMs, workerId],
    );
    return rows.map((row) => ({
      mealLogId: row.meal_log_id,
      attempt: row.attempts,
      userId: row.user_id,
      text: row.text,
      mealType: row.meal_type,
      loggedAt: row.logged_at.toISOString(),
      createdAt: row.created_at.toISOString(),
    }));
  }

  /**
   * Adds to `statement` the removal of finished jobs, but only for the attempts that hold them: a
   * worker whose lease expired and whose job was re-claimed does not get its job back, and must
   * not record its result. Returns the part listing the `meal_log_id`s of the attempts that held
   * their job.
   */
  finishIn(statement: ComposedStatement, jobs: ClaimedJob[]): string {
    return statement.with(
      'finished_jobs',
      `DELETE FROM meal_log_jobs AS job
       USING unnest(${statement.bindEach(jobs, (job) => job.mealLogId)}::uuid[],
                    ${statement.bindEach(jobs, (job) => job.attempt)}::int[])
         AS attempt(meal_log_id, attempts)
       WHERE job.meal_log_id = attempt.meal_log_id AND job.attempts = attempt.attempts
       RETURNING job.meal_log_id`,
    );
  }

  /** Releases the job for another attempt after `delayMs` (same fence as `finishIn`). */
  async scheduleRetry(job: ClaimedJob, delayMs: number, error: string): Promise<boolean> {
    const [, updated] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE meal_log_jobs
       SET available_at = clock_timestamp() + $3 * interval '1 millisecond',
           locked_by = NULL, last_error = $4
       WHERE meal_log_id = $1 AND attempts = $2`,
      [job.mealLogId, job.attempt, delayMs, error],
    );
    return updated === 1;
  }
}
