import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { RecurringJob } from '../common/recurring-job';
import { AppConfig } from '../config/app-config';
import { NotificationRepository } from './notification.repository';

const DAY_MS = 86_400_000;
/** Deleting in batches keeps each statement short, so pruning never holds long locks. */
const PRUNE_BATCH_SIZE = 5_000;

/** Deletes acknowledged notifications older than NOTIFICATION_RETENTION_DAYS. */
@Injectable()
export class NotificationPruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationPruner.name);
  private readonly job: RecurringJob<number>;

  constructor(
    private readonly config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly notifications: NotificationRepository,
  ) {
    this.job = new RecurringJob(
      scheduler,
      'notification-prune',
      config.notifications.pruneIntervalMs,
      () => this.prune(new Date(Date.now() - this.config.notifications.retentionDays * DAY_MS)),
    );
  }

  onApplicationBootstrap(): void {
    this.job.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  runOnce(): Promise<number> {
    return this.job.runOnce();
  }

  private async prune(cutoff: Date): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.notifications.pruneAcknowledgedBefore(cutoff, PRUNE_BATCH_SIZE);
        total += deleted;
        if (deleted < PRUNE_BATCH_SIZE) break;
      }
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.logger.warn('database unavailable; pruning resumes on the next run');
    }
    this.logger.log(
      { deleted: total, cutoff: cutoff.toISOString() },
      `pruned ${total} acknowledged notification(s)`,
    );
    return total;
  }
}
