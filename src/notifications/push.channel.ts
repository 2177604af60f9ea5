import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { verdictOf } from '../apns/apns-answer';
import { ApnsClient } from '../apns/apns.client';
import { isDatabaseUnavailable, isTransientConflict } from '../common/database-unavailable';
import { nextTurn } from '../common/next-turn';
import { AppConfig } from '../config/app-config';
import { DevicesService } from '../devices/devices.service';
import type { PushTarget } from '../devices/push-target';
import { Metrics } from '../metrics/metrics';
import { CommittedNotification, NotificationChannel } from './notification-channel.port';
import { ClaimedPush, NotificationRepository, PushRound } from './notification.repository';
import type { PushAttemptStatus } from './notification.view';
import { pushAlertFor } from './push-alert';
import { nextPushRound } from './push-schedule';

/** Notifications claimed per query; a full batch means more are due, and the next goes at once. */
const CLAIM_BATCH = 200;
/**
 * How long a claim holds a notification: its requests (5 s timeout each, sent in parallel) are
 * long over by then, and an instance that died while sending leaves it to be claimed again.
 */
const CLAIM_LEASE_MS = 30_000;
/** Batches sent at once; each has up to CLAIM_BATCH requests in flight on the one connection. */
const MAX_ROUNDS_IN_FLIGHT = 8;
/** Rounds whose record could not be written (database down) are kept, this many at most. */
const MAX_UNRECORDED_ROUNDS = 10_000;
/** Writes of a round's record that lost a race (deadlock, serialization) before it gives up. */
const RECORD_TRIES = 3;
/** The scan runs every PUSH_SCAN_INTERVAL_MS; during an outage one warning per this is enough. */
const OUTAGE_WARNING_EVERY_MS = 10_000;

/**
 * The APNs channel. Whether and when a notification is pushed is decided when it is created and
 * written with it (`push_due_at`: at once if no session of the user had its app in the
 * foreground, else at the ack deadline, which an ack cancels), so the schedule survives restarts
 * and is the same for every instance. A push due at creation is claimed by id and sent at once
 * by the instance that created it; everything else due (deadlines, retries, what a dead instance
 * left) is claimed by a scan every PUSH_SCAN_INTERVAL_MS, in one query for all of it. Each goes to
 * every device of the user that has a token and has not had it yet, and every answer is recorded.
 * A claim is exclusive (`SKIP LOCKED`) and leased, so with several instances a notification is
 * pushed once per device; APNs answering 429 or 5xx puts it back with back-off, a bounded number
 * of times. None of it runs on the socket path: the WebSocket channel never waits for it.
 */
@Injectable()
export class PushChannel
  extends NotificationChannel
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(PushChannel.name);
  private dispatching: Promise<void> | null = null;
  /** Batches being sent and recorded. */
  private readonly rounds = new Set<Promise<void>>();
  private again = false;
  private stopped = false;
  private unrecorded: PushRound[] = [];
  private lastOutageWarningAt = -Infinity;

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly notifications: NotificationRepository,
    private readonly devices: DevicesService,
    private readonly apns: ApnsClient,
    private readonly metrics: Metrics,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      'push-scan',
      setInterval(() => this.wake(), this.config.push.scanIntervalMs),
    );
    // Pushes that fell due while no instance was running go out now.
    this.wake();
  }

  /** Stops claiming; requests in flight finish and are recorded (bounded by their timeout). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.scheduler.doesExist('interval', 'push-scan'))
      this.scheduler.deleteInterval('push-scan');
    await this.dispatching;
    await Promise.all(this.rounds);
  }

  /**
   * Pushes what is due at once straight away: claimed by id while the devices' tokens are read,
   * so a push waits for neither the scan nor a batch in flight. What this misses (too many
   * batches in flight, a claim that failed) the scan takes.
   */
  deliver(committed: CommittedNotification[]): void {
    const now = Date.now();
    const due = committed.filter((c) => c.pushDueAt !== null && c.pushDueAt <= now);
    if (due.length === 0 || this.stopped) return;
    if (this.rounds.size >= MAX_ROUNDS_IN_FLIGHT) return this.wake();
    this.track(
      // After the turn in which the WebSocket channel writes this group's frames: its queries
      // and requests go out behind them, never ahead.
      nextTurn()
        .then(() =>
          Promise.all([
            this.notifications.claimDuePushes(
              due.length,
              CLAIM_LEASE_MS,
              due.map((c) => c.notification.id),
            ),
            this.devices.pushTargetsOf([...new Set(due.map((c) => c.userId))]),
          ]),
        )
        .then(([claimed, targets]) => this.round(claimed, targets)),
    );
  }

  /** Runs a dispatch now, or once more after the one in progress (which may have missed these). */
  private wake(): void {
    if (this.stopped) return;
    this.again = true;
    this.dispatching ??= this.dispatch().finally(() => {
      this.dispatching = null;
      if (this.again) this.wake();
    });
  }

  /**
   * Claims everything due, batch after batch, each batch sent and recorded while the next is
   * claimed: a batch waits for APNs' answers, and the pushes that fall due meanwhile must not.
   */
  private async dispatch(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        await this.recordUnrecorded();
        for (;;) {
          while (this.rounds.size >= MAX_ROUNDS_IN_FLIGHT) await Promise.race(this.rounds);
          const claimed = await this.notifications.claimDuePushes(CLAIM_BATCH, CLAIM_LEASE_MS);
          if (claimed.length > 0)
            this.track(
              this.devices
                .pushTargetsOf([...new Set(claimed.map((c) => c.userId))])
                .then((targets) => this.round(claimed, targets)),
            );
          if (claimed.length < CLAIM_BATCH || this.stopped) break;
        }
      } catch (error) {
        this.failed(error);
        return;
      }
    }
  }

  private track(round: Promise<void>): void {
    const tracked = round.catch((error: unknown) => this.failed(error));
    this.rounds.add(tracked);
    void tracked.finally(() => this.rounds.delete(tracked));
  }

  private failed(error: unknown): void {
    if (!isDatabaseUnavailable(error)) this.logger.error({ err: error }, 'push dispatch failed');
    else if (Date.now() - this.lastOutageWarningAt > OUTAGE_WARNING_EVERY_MS) {
      this.lastOutageWarningAt = Date.now();
      this.logger.warn('database unavailable; due pushes wait for it');
    }
  }

  /** Sends claimed pushes to their users' devices, and records the answers. */
  private async round(claimed: ClaimedPush[], targets: Map<string, PushTarget[]>): Promise<void> {
    if (claimed.length === 0) return;
    const rounds = await Promise.all(
      claimed.map((claim) => this.push(claim, targets.get(claim.userId) ?? [])),
    );
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.notifications.recordPushRounds(rounds);
      } catch (error) {
        // A lost race with another writer of the same rows: simply again.
        if (isTransientConflict(error) && attempt < RECORD_TRIES) continue;
        // Sent, not recorded: kept and recorded before the next claims. Were it lost, the lease
        // would run out and the devices be sent it again.
        if (isDatabaseUnavailable(error)) {
          this.unrecorded.push(...rounds);
          this.unrecorded.splice(0, Math.max(0, this.unrecorded.length - MAX_UNRECORDED_ROUNDS));
        }
        throw error;
      }
    }
  }

  private async recordUnrecorded(): Promise<void> {
    if (this.unrecorded.length === 0) return;
    await this.notifications.recordPushRounds(this.unrecorded);
    this.unrecorded = [];
  }

  /**
   * Forgets a token APNs refused for good. A failure to do so must not cost the round's record
   * (the next push to it is refused and tries again), so it is only logged.
   */
  private async forget(target: PushTarget, invalidSince: number | null): Promise<void> {
    try {
      await this.devices.forgetPushToken(
        target.token,
        invalidSince === null ? null : new Date(invalidSince),
      );
    } catch (error) {
      // The message only: a query error carries its parameters, and this one is a device token.
      this.logger.warn(
        { reason: (error as Error).message, deviceId: target.deviceId },
        'could not remove a token APNs refused',
      );
    }
  }

  /** One round of one notification: every device of the user that does not have it yet. */
  private async push(claim: ClaimedPush, targets: PushTarget[]): Promise<PushRound> {
    const { notification } = claim;
    const alert = pushAlertFor(notification.data);
    const pending = targets.filter((t) => !claim.settledDevices.includes(t.deviceId));
    const attempts = await Promise.all(
      pending.map(async (target) => {
        const answer = await this.apns.send(target, {
          alert,
          collapseId: notification.data.id,
          data: {
            mealLogId: notification.data.id,
            seq: notification.seq,
            event: notification.event,
          },
        });
        const verdict = verdictOf(answer);
        if (verdict === 'rejected') await this.forget(target, answer.timestamp);
        const status: PushAttemptStatus = verdict === 'retry' ? 'retrying' : verdict;
        return { deviceId: target.deviceId, at: new Date(), status, reason: answer.reason };
      }),
    );
    const unsettled = attempts.filter((a) => a.status === 'retrying');
    const retryAt =
      unsettled.length === 0
        ? null
        : nextPushRound(claim.attempt, this.config.push.maxAttempts, Date.now());
    // Out of attempts: what was still to retry has failed for good.
    if (retryAt === null) for (const attempt of unsettled) attempt.status = 'failed';
    for (const attempt of attempts) {
      this.metrics.pushes.inc({ status: attempt.status });
      if (attempt.status !== 'sent')
        this.logger.warn(
          {
            notificationId: notification.id,
            userId: claim.userId,
            deviceId: attempt.deviceId,
            status: attempt.status,
            reason: attempt.reason,
          },
          'push not delivered',
        );
    }
    if (claim.attempt === 1 && attempts.length > 0) {
      const dueAt =
        Date.parse(notification.createdAt) +
        (claim.reason === 'ack_deadline' ? this.config.push.ackDeadlineMs : 0);
      this.metrics.pushDelay.observe(Date.now() - dueAt);
    }
    return { notificationId: notification.id, attempt: claim.attempt, attempts, retryAt };
  }
}
