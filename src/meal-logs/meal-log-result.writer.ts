import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { attemptKey, ClaimedJob, MealLogJobRepository } from './meal-log-job.repository';
import { MealLogOutcome, MealLogOutcomePublisher } from './meal-log-outcome.publisher';
import { MealLogRepository, MealLogResult } from './meal-log.repository';

/** Results per transaction, at most: one statement's arrays stay small. */
const MAX_BATCH = 200;

interface PendingResult {
  job: ClaimedJob;
  result: MealLogResult;
  committed: () => void;
  failed: (error: Error) => void;
}

/**
 * Commits results together (group commit): while one transaction is in flight, the results that
 * arrive wait and go together in the next one. A result never waits for a timer, only for the
 * commit before it; and a transaction costs the same handful of round trips for one result or a
 * hundred, which on a busy machine is what bounds the completions per second.
 *
 * Each transaction removes the jobs (fenced on the attempt number: a worker whose lease expired
 * has its result dropped, not written over the newer attempt), records the results, and lets the
 * outcome's listeners write what they derive (the notifications) before it commits.
 */
@Injectable()
export class MealLogResultWriter {
  private readonly logger = new Logger(MealLogResultWriter.name);
  private queue: PendingResult[] = [];
  private writing = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mealLogs: MealLogRepository,
    private readonly jobs: MealLogJobRepository,
    private readonly outcomes: MealLogOutcomePublisher,
  ) {}

  /** Resolves once the result is committed (or dropped as stale); rejects if the commit failed. */
  record(job: ClaimedJob, result: MealLogResult): Promise<void> {
    return new Promise((committed, failed) => {
      this.queue.push({ job, result, committed, failed });
      if (!this.writing) void this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    this.writing = true;
    // Results finished in this event-loop turn (a claimed batch analysed at once) go together.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.writing = false;
    }
  }

  private async commit(batch: PendingResult[]): Promise<void> {
    let afterCommit: () => void;
    // Listeners' reads (who is online) run alongside the transaction's first statements instead
    // of between the results' UPDATE, which stamps completedAt, and the commit.
    const prepared = this.outcomes.prepare([...new Set(batch.map((p) => p.job.userId))]);
    try {
      afterCommit = await this.dataSource.transaction(async (manager) => {
        const held = await this.jobs.finish(
          manager,
          batch.map((p) => p.job),
        );
        const current = batch.filter((p) => held.has(attemptKey(p.job)));
        for (const { job } of batch.filter((p) => !held.has(attemptKey(p.job)))) {
          this.logger.warn(
            { mealLogId: job.mealLogId, attempt: job.attempt },
            'stale attempt discarded',
          );
        }
        if (current.length === 0) return () => undefined;
        const recorded = new Map(
          (
            await this.mealLogs.recordResults(
              manager,
              current.map((p) => p.result),
            )
          ).map((mealLog) => [mealLog.id, mealLog]),
        );
        // In the order the results came, which is the order of each user's seqs.
        const outcomes: MealLogOutcome[] = current.flatMap(({ job }) => {
          const mealLog = recorded.get(job.mealLogId);
          if (!mealLog) return [];
          const name = mealLog.status === 'completed' ? 'meal_log.completed' : 'meal_log.failed';
          return [{ name, userId: job.userId, mealLog }];
        });
        return this.outcomes.publishInTransaction(outcomes, manager, prepared);
      });
    } catch (error) {
      // One bad result must not sink the others: a batch failing for any reason but an outage
      // is tried again one result at a time.
      if (batch.length > 1 && !isDatabaseUnavailable(error)) {
        this.logger.warn(
          { err: error, results: batch.length },
          'committing a group of results failed; committing them one by one',
        );
        for (const pending of batch) await this.commit([pending]);
        return;
      }
      const reason = error instanceof Error ? error : new Error(String(error));
      for (const pending of batch) pending.failed(reason);
      return;
    }
    for (const pending of batch) pending.committed();
    try {
      afterCommit();
    } catch (error) {
      // Committed all the same: replay and re-push deliver what the pushes did not.
      this.logger.error({ err: error }, 'after-commit work failed');
    }
  }
}
