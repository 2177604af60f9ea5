import { Injectable, Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BatchWriter } from '../common/batch-writer';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { ComposedStatement } from '../database/composed-statement';
import { Metrics } from '../metrics/metrics';
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
 * what the outcome's listeners derive from them (the notifications). A result the database
 * refuses is failed alone (its job is retried when its lease expires); the others commit. During
 * an outage a group fails at once rather than waiting: the jobs keep their leases and are
 * claimed again once the database is back.
 */
@Injectable()
export class MealLogResultWriter {
  private readonly logger = new Logger(MealLogResultWriter.name);
  private readonly writer: BatchWriter<PendingResult>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly mealLogs: MealLogRepository,
    private readonly jobs: MealLogJobRepository,
    private readonly outcomes: MealLogOutcomePublisher,
    metrics: Metrics,
  ) {
    this.writer = new BatchWriter<PendingResult>(
      {
        name: 'meal_log_results',
        keyField: 'mealLogId',
        maxBatch: MAX_BATCH,
        merge: (older, newer) => this.laterAttempt(older, newer),
        write: (batch) => this.write(batch.map(([, pending]) => pending)),
        retry: null,
        written: (rows) => rows.forEach(([, pending]) => pending.committed()),
        dropped: (rows, error) => {
          // A refusal is logged by the writer, by meal log id; its error can quote the
          // statement's parameters (meal text), so the callers get a plain one.
          const reason = isDatabaseUnavailable(error)
            ? (error as Error)
            : new Error('the database refused this result');
          for (const [, pending] of rows) pending.failed(reason);
        },
      },
      metrics,
    );
  }

  /** Resolves once the result is committed (or dropped as stale); rejects if the commit failed. */
  record(job: ClaimedJob, result: MealLogResult): Promise<void> {
    return new Promise((committed, failed) =>
      this.writer.add(job.mealLogId, { job, result, committed, failed }),
    );
  }

  /**
   * Removes the jobs, records the results and lets the outcome's listeners write what they derive
   * (the notifications), all in one statement that commits on its own: no further round trip
   * stands between the `completedAt` stamp and the pushes. The stamp is taken once the statement
   * has its connection, so a wait for one is not counted as time since completion (the re-push
   * takes notifications older than a few seconds for lost). Then runs what follows the commit.
   */
  private async write(batch: PendingResult[]): Promise<void> {
    // Listeners' lookups (who is online) go first: their answers are part of the statement.
    const prepared = await this.outcomes.prepare([...new Set(batch.map((p) => p.job.userId))]);
    const runner = this.dataSource.createQueryRunner();
    let committed: () => void;
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
      const writes = prepared.writeWith({ statement, outcomes, recorded });
      const written = await statement.run(runner, [recorded, ...writes.parts]);
      const recordedIds = new Set(written.rowsOf(recorded).map((row) => row.id));
      for (const { job } of batch.filter((p) => !recordedIds.has(p.job.mealLogId))) {
        this.logger.warn(
          { mealLogId: job.mealLogId, attempt: job.attempt },
          'result not recorded: its attempt no longer holds the job, or the log is finished',
        );
      }
      committed = () => writes.committed(written, recordedIds);
    } finally {
      await runner.release();
    }
    try {
      committed();
    } catch (error) {
      // Committed all the same: replay and re-push deliver what the pushes did not.
      this.logger.error({ err: error }, 'after-commit work failed');
    }
  }

  /**
   * Of two attempts at one meal log queued together, only the later can still hold the job (each
   * claim takes the next attempt number): the earlier is dropped here, so a statement records
   * each log at most once. Whether the later one still holds the job, the statement's fence
   * decides.
   */
  private laterAttempt(older: PendingResult, newer: PendingResult): PendingResult {
    const [kept, stale] = newer.job.attempt >= older.job.attempt ? [newer, older] : [older, newer];
    this.logger.warn(
      { mealLogId: stale.job.mealLogId, attempt: stale.job.attempt },
      'stale attempt discarded',
    );
    stale.committed();
    return kept;
  }
}
