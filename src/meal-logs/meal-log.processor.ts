import { Injectable, Logger } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { AppConfig } from '../config/app-config';
import { MealAnalysisError } from '../meal-analysis/meal-analysis.error';
import { MealAnalyzer } from '../meal-analysis/meal-analyzer.port';
import { ClaimedJob, MealLogJobRepository } from './meal-log-job.repository';
import { MealLogResultWriter } from './meal-log-result.writer';
import type { AttemptResult } from './meal-log.repository';
import { retryDelayMs } from '../common/retry-policy';

/** Decides what one claimed job attempt leads to: completed, failed, or another try later. */
@Injectable()
export class MealLogProcessor {
  private readonly logger = new Logger(MealLogProcessor.name);

  constructor(
    private readonly config: AppConfig,
    private readonly analyzer: MealAnalyzer,
    private readonly jobs: MealLogJobRepository,
    private readonly results: MealLogResultWriter,
  ) {}

  async process(job: ClaimedJob): Promise<void> {
    const { maxAttempts } = this.config.jobs;

    // A job claimed past its budget belongs to workers that died mid-attempt (lease expiries).
    if (job.attempt > maxAttempts) {
      return this.finish(job, {
        kind: 'failed',
        error: `Analysis did not finish after ${maxAttempts} attempts`,
      });
    }
    const started = Date.now();
    try {
      const analysis = await this.analyzer.analyze(job.text);
      this.logger.debug({ mealLogId: job.mealLogId, ms: Date.now() - started }, 'analysed');
      return this.finish(job, { kind: 'analysed', analysis });
    } catch (error) {
      // Only the analyzer knows an input is hopeless; anything unexpected deserves another try.
      const retryable = error instanceof MealAnalysisError ? error.retryable : true;
      const message = error instanceof Error ? error.message : String(error);
      if (!retryable) return this.finish(job, { kind: 'failed', error: message });
      if (job.attempt >= maxAttempts) {
        return this.finish(job, {
          kind: 'failed',
          error: `Analysis failed after ${job.attempt} attempts: ${message}`,
        });
      }
      const delay = retryDelayMs(job.attempt, this.config.jobs.retryBaseDelayMs);
      this.logger.warn(
        { mealLogId: job.mealLogId, attempt: job.attempt, delayMs: delay, err: message },
        'analysis failed, will retry',
      );
      await this.jobs.scheduleRetry(job, delay, message);
    }
  }

  /**
   * Commits the result with the job's removal and whatever the outcome's listeners record (the
   * notification), together, in the result writer's next statement.
   */
  private async finish(job: ClaimedJob, result: AttemptResult): Promise<void> {
    try {
      await this.results.record(job, { mealLogId: job.mealLogId, ...result });
    } catch (error) {
      // The job keeps its lease and is retried when it expires; nothing half-written remains.
      if (isDatabaseUnavailable(error)) {
        this.logger.warn(
          { mealLogId: job.mealLogId },
          'database unavailable while saving a result',
        );
        return;
      }
      throw error;
    }
  }
}
