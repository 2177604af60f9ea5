import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { isDatabaseUnavailable, isTransientConflict } from '../common/database-unavailable';
import { Metrics } from '../metrics/metrics';
import { NotificationRepository } from './notification.repository';

/** After a failed write (the database down, a lost race), how long acks wait for the next try. */
const RETRY_DELAY_MS = 1_000;

/**
 * Writes acks in batches. The app acks every notification it receives, on every device, so one
 * UPDATE per ack frame would be the busiest statement of the service. Acks are coalesced per user
 * (the highest seq wins: an ack covers everything up to it) and written one statement at a time:
 * acks arriving while a write is in flight go together in the next one (group commit), so an ack
 * waits at most for the write before it, never for a timer. A failed write is kept and retried.
 */
@Injectable()
export class AcknowledgementWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(AcknowledgementWriter.name);
  private pending = new Map<string, number>();
  private writing: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly notifications: NotificationRepository,
    private readonly metrics: Metrics,
  ) {}

  /** Records that `userId` has seen everything up to `seq`; written shortly after. */
  acknowledge(userId: string, seq: number): void {
    this.keep(userId, seq);
    this.writeSoon();
  }

  /**
   * The last write, in `onApplicationShutdown`: Nest runs that after every module's
   * `beforeApplicationShutdown`, so the sockets are closed (no ack can arrive any more) and the
   * pool still open (it closes last).
   */
  async onApplicationShutdown(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.writing;
    this.writing ??= this.writeAll();
    await this.writing;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pending.size > 0)
      this.logger.warn({ users: this.pending.size }, 'acks not written before shutdown');
  }

  private async writeAll(): Promise<void> {
    // Let the acks of this event-loop turn join the first batch.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Map();
        if (!(await this.write(batch))) break;
      }
    } finally {
      this.writing = null;
    }
  }

  /** False when the batch was put back for a retry later. */
  private async write(batch: Map<string, number>): Promise<boolean> {
    try {
      const count = await this.notifications.acknowledgeUpTo(
        [...batch].map(([userId, seq]) => ({ userId, seq })),
      );
      this.metrics.notificationsAcknowledged.inc(count);
      this.logger.debug({ users: batch.size, count }, 'acknowledged');
      return true;
    } catch (error) {
      if (!isDatabaseUnavailable(error) && !isTransientConflict(error)) {
        // Neither an outage nor a lost race: retrying the same batch would fail the same way.
        this.logger.error({ err: error, users: batch.size }, 'recording acks failed');
        return true;
      }
      for (const [userId, seq] of batch) this.keep(userId, seq);
      this.logger.warn(
        { users: batch.size, err: (error as Error).message },
        'acks not written; kept for a retry',
      );
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.writeSoon();
      }, RETRY_DELAY_MS).unref();
      return false;
    }
  }

  private keep(userId: string, seq: number): void {
    const known = this.pending.get(userId);
    if (known === undefined || seq > known) this.pending.set(userId, seq);
  }

  /** Starts a write unless one is running (it takes these acks too) or a retry is waiting. */
  private writeSoon(): void {
    if (this.retryTimer === null) this.writing ??= this.writeAll();
  }
}
