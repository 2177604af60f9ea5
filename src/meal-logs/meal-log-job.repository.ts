import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface ClaimedJob {
  mealLogId: string;
  /** 1 for the first try; also the fence a result must present to be accepted. */
  attempt: number;
  /** The log's owner and text, claimed along with the job to save the worker a round trip. */
  userId: string;
  text: string;
}

/** One attempt at one job: two attempts at the same meal log are different keys. */
export function attemptKey(job: Pick<ClaimedJob, 'mealLogId' | 'attempt'>): string {
  return `${job.mealLogId}#${job.attempt}`;
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
      { meal_log_id: string; attempts: number; user_id: string; text: string }[]
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
       SELECT claimed.meal_log_id, claimed.attempts, log.user_id, log.text
       FROM claimed
       CROSS JOIN LATERAL (
         SELECT user_id, text FROM meal_logs WHERE id = claimed.meal_log_id LIMIT 1
       ) AS log`,
      [limit, leaseMs, workerId],
    );
    return rows.map((row) => ({
      mealLogId: row.meal_log_id,
      attempt: row.attempts,
      userId: row.user_id,
      text: row.text,
    }));
  }

  /**
   * Removes finished jobs, but only for the attempts that hold them: a worker whose lease expired
   * and whose job was re-claimed does not get its job back in the result, and must not record
   * its result. Returns the attempts that held their job, as `attemptKey`s.
   */
  async finish(manager: EntityManager, jobs: ClaimedJob[]): Promise<Set<string>> {
    const [rows] = await manager.query<[{ meal_log_id: string; attempts: number }[], number]>(
      `DELETE FROM meal_log_jobs AS job
       USING unnest($1::uuid[], $2::int[]) AS attempt(meal_log_id, attempts)
       WHERE job.meal_log_id = attempt.meal_log_id AND job.attempts = attempt.attempts
       RETURNING job.meal_log_id, job.attempts`,
      [jobs.map((job) => job.mealLogId), jobs.map((job) => job.attempt)],
    );
    return new Set(
      rows.map((row) => attemptKey({ mealLogId: row.meal_log_id, attempt: row.attempts })),
    );
  }

  /** Releases the job for another attempt after `delayMs` (same fence as `finish`). */
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
