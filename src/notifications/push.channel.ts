import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { verdictOf } from '../apns/apns-answer';
import { ApnsClient } from '../apns/apns.client';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { AppConfig } from '../config/app-config';
import { DevicePushTokenRepository } from '../devices/device-push-token.repository';
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
/** Rounds whose record could not be written (database down) are kept, this many at most. */
const MAX_UNRECORDED_ROUNDS = 10_000;
/** The scan runs every PUSH_SCAN_INTERVAL_MS; during an outage one warning per this is enough. */
const OUTAGE_WARNING_EVERY_MS = 10_000;

/**
 * The APNs channel. Whether and when a notification is pushed is decided when it is created and
 * written with it (`push_due_at`: at once if no session of the user had its app in the
 * foreground, else at the ack deadline, which an ack cancels), so the schedule survives restarts
 * and is the same for every instance. This channel claims what is due, in one query for all of
 * it (woken at once for new immediate pushes, otherwise every PUSH_SCAN_INTERVAL_MS), sends each
 * to every device of the user that has a token and has not had it yet, and records every answer.
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
  private again = false;
  private stopped = false;
  private unrecorded: PushRound[] = [];
  private lastOutageWarningAt = -Infinity;

  constructor(
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    private readonly notifications: NotificationRepository,
    private readonly tokens: DevicePushTokenRepository,
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
  }

  deliver(committed: CommittedNotification[]): void {
    const now = Date.now();
    if (committed.some((c) => c.pushDueAt !== null && c.pushDueAt <= now)) this.wake();
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

  private async dispatch(): Promise<void> {
    while (this.again && !this.stopped) {
      this.again = false;
      try {
        await this.recordUnrecorded();
        while ((await this.round()) === CLAIM_BATCH && !this.stopped);
      } catch (error) {
        if (!isDatabaseUnavailable(error))
          this.logger.error({ err: error }, 'push dispatch failed');
        else if (Date.now() - this.lastOutageWarningAt > OUTAGE_WARNING_EVERY_MS) {
          this.lastOutageWarningAt = Date.now();
          this.logger.warn('database unavailable; due pushes wait for it');
        }
        return;
      }
    }
  }

  /** Claims a batch of due pushes, sends them, and records the answers; returns how many. */
  private async round(): Promise<number> {
    const claimed = await this.notifications.claimDuePushes(CLAIM_BATCH, CLAIM_LEASE_MS);
    if (claimed.length === 0) return 0;
    const targets = await this.tokens.targetsOf([...new Set(claimed.map((c) => c.userId))]);
    const rounds = await Promise.all(
      claimed.map((claim) => this.push(claim, targets.get(claim.userId) ?? [])),
    );
    try {
      await this.notifications.recordPushRounds(rounds);
    } catch (error) {
      // Sent, not recorded: recorded on the next round, before the lease lets anyone resend.
      if (!isDatabaseUnavailable(error)) throw error;
      this.unrecorded.push(...rounds);
      this.unrecorded.splice(0, Math.max(0, this.unrecorded.length - MAX_UNRECORDED_ROUNDS));
      throw error;
    }
    return claimed.length;
  }

  private async recordUnrecorded(): Promise<void> {
    if (this.unrecorded.length === 0) return;
    await this.notifications.recordPushRounds(this.unrecorded);
    this.unrecorded = [];
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
        if (verdict === 'rejected')
          await this.tokens.forget(
            target.token,
            answer.timestamp === null ? null : new Date(answer.timestamp),
          );
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
    return { notificationId: notification.id, attempts, retryAt };
  }
}
