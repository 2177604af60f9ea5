import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { AppConfig } from '../config/app-config';
import { NotificationRepository } from './notification.repository';

const DAY_MS = 86_400_000;
/** Deleting in batches keeps each statement short, so pruning never holds long locks. */
const PRUNE_BATCH_SIZE = 5_000;

/** Deletes acknowledged notifications older than NOTIFICATION_RETENTION_DAYS. */
@Injectable()
export class NotificationPruner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationPruner.name);
  private running: Promise<number> | null = null;

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly notifications: NotificationRepository,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      'notification-prune',
      setInterval(() => void this.runOnce(), this.config.notifications.pruneIntervalMs),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.scheduler.deleteInterval('notification-prune');
    await this.running;
  }

  runOnce(now = Date.now()): Promise<number> {
    this.running ??= this.prune(
      new Date(now - this.config.notifications.retentionDays * DAY_MS),
    ).finally(() => (this.running = null));
    return this.running;
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
