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
import { PresenceService } from '../presence/presence.service';
import { NotificationDelivery } from './notification-delivery';
import { NotificationRepository } from './notification.repository';

/** At most this many notifications are re-pushed per run; the next run takes the rest. */
const REPUSH_BATCH = 500;
/** A notification younger than this may still be on its way (or its delivery not yet recorded). */
const MIN_AGE_MS = 2_000;

/**
 * The safety net behind live delivery: every NOTIFICATION_REPUSH_INTERVAL_MS, notifications that
 * no socket ever received (a lost cross-instance publish, Redis down, a crash between commit and
 * push) are pushed to the sessions this instance holds for their users. The outbox stays the
 * source of truth; Redis only makes delivery fast.
 */
@Injectable()
export class NotificationRepusher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationRepusher.name);
  private readonly job: RecurringJob<number>;

  constructor(
    config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly presence: PresenceService,
    private readonly notifications: NotificationRepository,
    private readonly delivery: NotificationDelivery,
  ) {
    this.job = new RecurringJob(
      scheduler,
      'notification-repush',
      config.notifications.repushIntervalMs,
      () => this.repush(),
    );
  }

  onApplicationBootstrap(): void {
    this.job.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  private async repush(): Promise<number> {
    try {
      const pending = await this.notifications.findUndelivered(
        this.presence.localUserIds(),
        MIN_AGE_MS,
        REPUSH_BATCH,
      );
      for (const { userId, ...notification } of pending) {
        this.delivery.push(this.presence.localSessionsOf(userId), notification, Number.NaN);
      }
      if (pending.length > 0)
        this.logger.log({ count: pending.length }, 're-pushed undelivered notifications');
      return pending.length;
    } catch (error) {
      if (isDatabaseUnavailable(error)) return 0;
      throw error;
    }
  }
}
