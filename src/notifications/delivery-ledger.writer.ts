import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BatchWriter } from '../common/batch-writer';
import { Metrics } from '../metrics/metrics';
import { NotificationRepository } from './notification.repository';

/** How long deliveries are gathered per write; it is bookkeeping, not the delivery itself. */
const FLUSH_INTERVAL_MS = 250;
/** At most one warning this often while deliveries wait for the database. */
const WARN_EVERY_MS = 10_000;

interface Delivery {
  attempts: number;
  firstAt: Date;
}

/**
 * Records deliveries (first write to a socket, number of writes) in batches, so pushing a
 * notification to a socket never waits for, or depends on, a database round trip. A delivery
 * recorded again before its write adds an attempt and keeps the first time.
 */
@Injectable()
export class DeliveryLedgerWriter implements OnApplicationShutdown {
  private readonly writer: BatchWriter<Delivery>;

  constructor(notifications: NotificationRepository, metrics: Metrics) {
    this.writer = new BatchWriter<Delivery>(
      {
        name: 'delivery_ledger',
        keyField: 'notificationId',
        delayMs: FLUSH_INTERVAL_MS,
        merge: (older, newer) => ({
          attempts: older.attempts + newer.attempts,
          firstAt: older.firstAt,
        }),
        write: (batch) =>
          notifications.recordDeliveries(batch.map(([id, delivery]) => ({ id, ...delivery }))),
        retry: { afterMs: FLUSH_INTERVAL_MS, warnEveryMs: WARN_EVERY_MS },
      },
      metrics,
    );
  }

  /** After every `beforeApplicationShutdown` (the last pushes are made), before the pool closes. */
  onApplicationShutdown(): Promise<void> {
    return this.writer.close();
  }

  delivered(notificationId: string): void {
    this.writer.add(notificationId, { attempts: 1, firstAt: new Date() });
  }
}
