import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BatchWriter } from '../common/batch-writer';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from '../presence/live-session';
import { NotificationRepository, SessionDelivery } from './notification.repository';
import type { DeliveryVia } from './notification.view';

/** How long deliveries are gathered per write; it is bookkeeping, not the delivery itself. */
const FLUSH_INTERVAL_MS = 250;
/** At most one warning this often while deliveries wait for the database. */
const WARN_EVERY_MS = 10_000;

/**
 * Records deliveries (per notification and session: first write, how it came about, number of
 * writes) in batches, so writing a notification to a socket never waits for, or depends on, a
 * database round trip. A delivery recorded again before its write adds an attempt and keeps the
 * first time and its `via`.
 */
@Injectable()
export class DeliveryLedgerWriter implements OnApplicationShutdown {
  private readonly writer: BatchWriter<SessionDelivery>;

  constructor(notifications: NotificationRepository, metrics: Metrics) {
    this.writer = new BatchWriter<SessionDelivery>(
      {
        name: 'delivery_ledger',
        // The key is `<notificationId>/<sessionId>`.
        keyField: 'notificationSession',
        delayMs: FLUSH_INTERVAL_MS,
        merge: (older, newer) => ({ ...older, attempts: older.attempts + newer.attempts }),
        write: (batch) => notifications.recordDeliveries(batch.map(([, delivery]) => delivery)),
        retry: { afterMs: FLUSH_INTERVAL_MS, warnEveryMs: WARN_EVERY_MS },
      },
      metrics,
    );
  }

  /** After every `beforeApplicationShutdown` (the last pushes are made), before the pool closes. */
  onApplicationShutdown(): Promise<void> {
    return this.writer.close();
  }

  /** The notification was just written to the session's socket, by the path `via`. */
  delivered(notificationId: string, session: LiveSession, via: DeliveryVia): void {
    this.writer.add(`${notificationId}/${session.sessionId}`, {
      notificationId,
      sessionId: session.sessionId,
      deviceId: session.deviceId,
      via,
      attempts: 1,
      firstAt: new Date(),
    });
  }
}
