import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ComposedStatement, StatementPart } from '../database/composed-statement';
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

/** A row of `finishIn`'s part: a job removed by the attempt that held it. */
export interface FinishedJob {
  meal_log_id: string;
}

@Injectable()
export class MealLogJobRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Claims up to `limit` due jobs under a lease, fairly between users: the queue's users are
   * taken in turn, in `user_id` order round a ring that starts after `afterUserId` (where the
   * caller's previous claim ended), and each of the first `limit` users with a due job gives its
   * oldest due jobs, at most `ceil(limit / users)` each, one per user before anyone's second. A
   * user with thousands of queued logs thus gets one turn per round like everybody else, and a
   * log of a user not served lately is claimed by the next claim that has a free slot.
   *
   * The users are found by a skip scan (one descent of `(user_id, available_at)` per user), so
   * the cost of a claim grows with `limit` and with the users whose jobs are all leased or
   * waiting for a retry, never with the size of one user's backlog. SKIP LOCKED lets several
   * workers (and processes) claim concurrently without waiting on or double-taking each other's
   * rows; pushing `available_at` past the lease is what makes a job of a killed worker claimable
   * again later, and `attempts` fences the attempts that lost their lease.
   *
   * The jobs come back in ring order: the last one's user is where the next claim starts after.
   * Each claimed job's text and the rest of its view are looked up by primary key, one probe per
   * claimed job (`LIMIT 1` keeps the planner from flattening the lookup into a join of every
   * queued job with `meal_logs`).
   */
  async claimNextJobs(
    limit: number,
    leaseMs: number,
    workerId: string,
    afterUserId = '',
  ): Promise<ClaimedJob[]> {
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
      `WITH RECURSIVE after_cursor(user_id) AS (
         -- the ring: the users after the cursor, then from the first one up to the cursor
         SELECT min(user_id) FROM meal_log_jobs WHERE user_id > $4
         UNION ALL
         SELECT (SELECT min(user_id) FROM meal_log_jobs WHERE user_id > after_cursor.user_id)
         FROM after_cursor WHERE after_cursor.user_id IS NOT NULL
       ), from_start(user_id) AS (
         SELECT min(user_id) FROM meal_log_jobs
         UNION ALL
         SELECT (SELECT min(user_id) FROM meal_log_jobs WHERE user_id > from_start.user_id)
         FROM from_start WHERE from_start.user_id < $4
       ), ring(user_id, lap) AS (
         SELECT user_id, 0 FROM after_cursor WHERE user_id IS NOT NULL
         UNION ALL
         SELECT user_id, 1 FROM from_start WHERE user_id <= $4
       ), users AS (
         -- the ring is read only as far as it takes to find this many users with a due job
         SELECT user_id, lap FROM ring
         WHERE EXISTS (
           SELECT 1 FROM meal_log_jobs WHERE user_id = ring.user_id AND available_at <= now()
         )
         LIMIT $1
       ), due AS (
         SELECT job.meal_log_id, users.user_id, users.lap,
                row_number() OVER (PARTITION BY users.user_id ORDER BY job.available_at) AS turn
         FROM users
         CROSS JOIN LATERAL (
           SELECT meal_log_id, available_at FROM meal_log_jobs
           WHERE user_id = users.user_id AND available_at <= now()
           ORDER BY available_at
           LIMIT ceil($1::numeric / (SELECT count(*) FROM users))
           FOR UPDATE SKIP LOCKED
         ) AS job
       ), chosen AS (
         -- every user's first job, then their second, ...
         SELECT meal_log_id, lap, turn FROM due ORDER BY turn, lap, user_id LIMIT $1
       ), claimed AS (
         UPDATE meal_log_jobs AS job
         SET attempts = job.attempts + 1,
             available_at = clock_timestamp() + $2 * interval '1 millisecond',
             locked_by = $3
         FROM chosen
         WHERE job.meal_log_id = chosen.meal_log_id
         RETURNING job.meal_log_id, job.attempts, job.user_id, chosen.lap, chosen.turn
       )
       SELECT claimed.meal_log_id, claimed.attempts, claimed.user_id, log.*
       FROM claimed
       CROSS JOIN LATERAL (
         SELECT text, meal_type, logged_at, created_at
         FROM meal_logs WHERE id = claimed.meal_log_id LIMIT 1
       ) AS log
       ORDER BY claimed.lap, claimed.user_id, claimed.turn`,
      [limit, leaseMs, workerId, afterUserId],
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
   * not record its result. Returns the part listing the meal logs whose attempt held its job.
   */
  finishIn(statement: ComposedStatement, jobs: ClaimedJob[]): StatementPart<FinishedJob> {
    return statement.with<FinishedJob>(
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
