import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { RecurringJob } from '../common/recurring-job';
import { NotificationRepository } from './notification.repository';

/** How often delivery bookkeeping is written; it is bookkeeping, not the delivery itself. */
const FLUSH_INTERVAL_MS = 250;

/**
 * Records deliveries (first write to a socket, number of writes) in batches, so pushing a
 * notification to a socket never waits for, or depends on, a database round trip.
 */
@Injectable()
export class DeliveryLedgerWriter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DeliveryLedgerWriter.name);
  private pending = new Map<string, { attempts: number; firstAt: Date }>();
  private readonly job: RecurringJob<void>;

  constructor(
    private readonly notifications: NotificationRepository,
    scheduler: SchedulerRegistry,
  ) {
    this.job = new RecurringJob(scheduler, 'delivery-ledger-flush', FLUSH_INTERVAL_MS, () =>
      this.flush(),
    );
  }

  onApplicationBootstrap(): void {
    this.job.start();
  }

  /** After every `beforeApplicationShutdown` (the last pushes are made), before the pool closes. */
  async onApplicationShutdown(): Promise<void> {
    await this.job.stop();
    await this.flush();
  }

  delivered(notificationId: string): void {
    const entry = this.pending.get(notificationId);
    if (entry) entry.attempts += 1;
    else this.pending.set(notificationId, { attempts: 1, firstAt: new Date() });
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.notifications.recordDeliveries(
        [...batch].map(([id, entry]) => ({ id, ...entry })),
      );
    } catch (error) {
      // Merge back so the next flush retries; attempts are added, first-delivery times kept.
      for (const [id, entry] of batch) {
        const newer = this.pending.get(id);
        this.pending.set(
          id,
          newer ? { attempts: entry.attempts + newer.attempts, firstAt: entry.firstAt } : entry,
        );
      }
      if (!isDatabaseUnavailable(error))
        this.logger.error({ err: error }, 'recording deliveries failed');
    }
  }
}
