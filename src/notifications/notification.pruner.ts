import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DAY_MS, RetentionJob } from '../common/retention-job';
import { AppConfig } from '../config/app-config';
import { NotificationRepository } from './notification.repository';

/**
 * Deletes acknowledged notifications older than NOTIFICATION_RETENTION_DAYS. Unacknowledged ones
 * are kept whatever their age: they are what a returning device is replayed.
 */
@Injectable()
export class NotificationPruner extends RetentionJob {
  constructor(
    config: AppConfig,
    scheduler: SchedulerRegistry,
    notifications: NotificationRepository,
  ) {
    super(scheduler, {
      name: 'notification-prune',
      intervalMs: config.retention.pruneIntervalMs,
      what: 'acknowledged notification(s)',
      keepForMs: config.retention.notificationDays * DAY_MS,
      deleteBatch: (cutoff, limit) => notifications.deleteAcknowledgedBefore(cutoff, limit),
    });
  }
}
