import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from './database-unavailable';
import { nextTurn } from './next-turn';
import { ScheduledTask } from './scheduled-task';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/**
 * Rows per DELETE. Each batch is its own short statement: a batch's row locks are held for
 * milliseconds, and a request touching a row the pruner holds waits for one batch at most.
 */
export const PRUNE_BATCH_SIZE = 1_000;

export interface RetentionRule {
  /** The scheduled job's name (listed in @nestjs/schedule's registry). */
  readonly name: string;
  readonly intervalMs: number;
  /** What is deleted, for the summary log line: "ended session(s)". */
  readonly what: string;
  /** How long a row is kept. */
  readonly keepForMs: number;
  /**
   * Deletes up to `limit` rows older than `cutoff` and returns how many. It must skip rows other
   * transactions hold (`FOR UPDATE SKIP LOCKED`), so that pruners on several instances share the
   * work instead of queueing behind each other.
   */
  readonly deleteBatch: (cutoff: Date, limit: number) => Promise<number>;
}

export interface PruneRun {
  deleted: number;
  batches: number;
}

/**
 * Deletes what is past its retention, on a schedule, in small batches with a turn of the event
 * loop between them. Safe on several instances at once (see `deleteBatch`). A database outage
 * ends the run quietly; the next one carries on.
 */
export abstract class RetentionJob extends ScheduledTask<PruneRun> {
  private readonly logger: Logger;

  protected constructor(
    scheduler: SchedulerRegistry,
    private readonly rule: RetentionRule,
  ) {
    super(scheduler, rule.name, rule.intervalMs);
    this.logger = new Logger(rule.name);
  }

  protected async run(): Promise<PruneRun> {
    const cutoff = new Date(Date.now() - this.rule.keepForMs);
    const run: PruneRun = { deleted: 0, batches: 0 };
    try {
      for (;;) {
        const deleted = await this.rule.deleteBatch(cutoff, PRUNE_BATCH_SIZE);
        run.deleted += deleted;
        run.batches += 1;
        if (deleted < PRUNE_BATCH_SIZE) break;
        await nextTurn();
      }
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.logger.warn(`database unavailable; pruning ${this.rule.what} resumes on the next run`);
    }
    this.logger.log(
      { ...run, cutoff: cutoff.toISOString() },
      `pruned ${run.deleted} ${this.rule.what}`,
    );
    return run;
  }
}
