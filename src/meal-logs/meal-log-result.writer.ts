import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { ComposedStatement } from '../database/composed-statement';
import { ClaimedJob, MealLogJobRepository } from './meal-log-job.repository';
import { MealLogOutcome, MealLogOutcomePublisher } from './meal-log-outcome.publisher';
import { MealLogRepository, MealLogResult, recordedView } from './meal-log.repository';

/** Results per statement, at most: its arrays stay small. */
const MAX_BATCH = 200;

interface PendingResult {
  job: ClaimedJob;
  result: MealLogResult;
  committed: () => void;
  failed: (error: Error) => void;
}

/**
 * Commits results together (group commit): while one group's statement is in flight, the results
 * that arrive wait and go together in the next one. A result never waits for a timer, only for
 * the commit before it; and a statement costs one round trip for one result or a hundred, which
 * on a busy machine is what bounds the completions per second.
 *
 * Each statement removes the jobs (fenced on the attempt number: a worker whose lease expired
 * has its result dropped, not written over the newer attempt), records the results, and writes
 * what the outcome's listeners derive from them (the notifications).
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

  private async commit(group: PendingResult[]): Promise<void> {
    const batch = this.withoutSupersededAttempts(group);
    let committed: () => void;
    try {
      committed = await this.write(batch);
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
      committed();
    } catch (error) {
      // Committed all the same: replay and re-push deliver what the pushes did not.
      this.logger.error({ err: error }, 'after-commit work failed');
    }
  }

  /**
   * Removes the jobs, records the results and lets the outcome's listeners write what they derive
   * (the notifications), all in one statement that commits on its own: no further round trip
   * stands between the `completedAt` stamp and the pushes. The stamp is taken once the statement
   * has its connection, so a wait for one is not counted as time since completion (the re-push
   * takes notifications older than a few seconds for lost). Returns what to run after the commit.
   */
  private async write(batch: PendingResult[]): Promise<() => void> {
    // Listeners' lookups (who is online) go first: their answers are part of the statement.
    const prepared = await this.outcomes.prepare([...new Set(batch.map((p) => p.job.userId))]);
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const completedAt = new Date();
      const statement = new ComposedStatement();
      const finished = this.jobs.finishIn(
        statement,
        batch.map((p) => p.job),
      );
      const recorded = this.mealLogs.recordResultsIn(
        statement,
        batch.map((p) => p.result),
        finished,
        completedAt,
      );
      // In the order the results came, which is the order of each user's seqs.
      const outcomes: MealLogOutcome[] = batch.map(({ job, result }) => {
        const mealLog = recordedView(job, result, completedAt);
        const name = mealLog.status === 'completed' ? 'meal_log.completed' : 'meal_log.failed';
        return { name, userId: job.userId, mealLog };
      });
      const writes = this.outcomes.writeWith(statement, outcomes, recorded, prepared);
      const [recordedRows, ...written] = await statement.collect(runner, [
        recorded,
        ...writes.parts,
      ]);
      const recordedIds = new Set((recordedRows as { id: string }[]).map((row) => row.id));
      for (const { job } of batch.filter((p) => !recordedIds.has(p.job.mealLogId))) {
        this.logger.warn(
          { mealLogId: job.mealLogId, attempt: job.attempt },
          'result not recorded: its attempt no longer holds the job, or the log is finished',
        );
      }
      return () => writes.committed(written, recordedIds);
    } finally {
      await runner.release();
    }
  }

  /**
   * Of two attempts at one meal log in a group, only the later can still hold the job (each claim
   * takes the next attempt number): the earlier is dropped here, so a statement records each log
   * at most once. Whether the later one still holds the job, the statement's fence decides.
   */
  private withoutSupersededAttempts(group: PendingResult[]): PendingResult[] {
    const latest = new Map<string, PendingResult>();
    for (const pending of group) {
      const other = latest.get(pending.job.mealLogId);
      if (other && other.job.attempt > pending.job.attempt) continue;
      latest.set(pending.job.mealLogId, pending);
    }
    return group.filter((pending) => {
      if (latest.get(pending.job.mealLogId) === pending) return true;
      this.logger.warn(
        { mealLogId: pending.job.mealLogId, attempt: pending.job.attempt },
        'stale attempt discarded',
      );
      pending.committed();
      return false;
    });
  }
}
