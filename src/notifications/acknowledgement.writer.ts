import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BatchWriter } from '../common/batch-writer';
import { isDatabaseUnavailable, isTransientConflict } from '../common/database-unavailable';
import { Metrics } from '../metrics/metrics';
import { NotificationRepository } from './notification.repository';

/**
 * How long acks are gathered per write. Every device acks every notification: written as soon as
 * the previous write returned, they made a statement every round trip (the busiest statement of
 * the service, and most of a receiving instance's database work per notification); gathered, a
 * write carries a tenth of a second of them. Short beside PUSH_ACK_DEADLINE_MS.
 */
const GATHER_MS = 100;
/** After a failed write (the database down, a lost race), how long acks wait for the next try. */
const RETRY_DELAY_MS = 1_000;
/** At most one warning this often while acks wait for the database. */
const WARN_EVERY_MS = 10_000;

/**
 * Writes acks in batches. The app acks every notification it receives, on every device, so one
 * UPDATE per ack frame would be the busiest statement of the service. Acks are gathered for
 * GATHER_MS, coalesced per user (the highest seq wins: an ack covers everything up to it) and
 * written one statement at a time. A lost race with another instance's write is retried like an
 * outage.
 */
@Injectable()
export class AcknowledgementWriter implements OnApplicationShutdown {
  private readonly writer: BatchWriter<number>;

  constructor(notifications: NotificationRepository, metrics: Metrics) {
    this.writer = new BatchWriter<number>(
      {
        name: 'acks',
        keyField: 'userId',
        delayMs: GATHER_MS,
        merge: (older, newer) => Math.max(older, newer),
        write: async (batch) => {
          const count = await notifications.acknowledgeUpTo(
            batch.map(([userId, seq]) => ({ userId, seq })),
          );
          metrics.notificationsAcknowledged.inc(count);
        },
        isUnavailable: (error) => isDatabaseUnavailable(error) || isTransientConflict(error),
        retry: { afterMs: RETRY_DELAY_MS, warnEveryMs: WARN_EVERY_MS },
      },
      metrics,
    );
  }

  /** Records that `userId` has seen everything up to `seq`; written shortly after. */
  acknowledge(userId: string, seq: number): void {
    this.writer.add(userId, seq);
  }

  /**
   * The last write, in `onApplicationShutdown`: Nest runs that after every module's
   * `beforeApplicationShutdown`, so the sockets are closed (no ack can arrive any more) and the
   * pool still open (it closes last).
   */
  onApplicationShutdown(): Promise<void> {
    return this.writer.close();
  }
}
