import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Metrics } from '../metrics/metrics';
import {
  MealLogOutcome,
  MealLogOutcomeListener,
  MealLogOutcomePublisher,
} from '../meal-logs/meal-log-outcome.publisher';
import type { LiveSession } from '../presence/live-session';
import { ClusterBus } from '../cluster/cluster-bus.port';
import { PresenceService } from '../presence/presence.service';
import { SessionOpenedHooks } from '../presence/session-opened.hooks';
import { AcknowledgementWriter } from './acknowledgement.writer';
import { NotificationDelivery } from './notification-delivery';
import { NotificationRepository } from './notification.repository';
import type { NotificationView } from './notification.view';

/**
 * The rule "notify the user when a meal log finishes": every outcome becomes a notification row
 * in the outcome's own transaction (whether or not anyone is online), is pushed to every live
 * session once committed, and is replayed to sessions that open later.
 */
@Injectable()
export class NotificationsService implements MealLogOutcomeListener, OnModuleInit {
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    private readonly outcomes: MealLogOutcomePublisher,
    private readonly sessionOpened: SessionOpenedHooks,
    private readonly presence: PresenceService,
    private readonly notifications: NotificationRepository,
    private readonly delivery: NotificationDelivery,
    private readonly metrics: Metrics,
    private readonly bus: ClusterBus,
    private readonly acknowledgements: AcknowledgementWriter,
  ) {}

  onModuleInit(): void {
    this.outcomes.subscribe(this);
    this.sessionOpened.register((session, after) => this.replay(session, after));
    // Another instance created a notification for a user with sessions here.
    this.bus.on('notification', ({ userId, notification, committedAt }) =>
      this.delivery.push(this.presence.localSessionsOf(userId), notification, committedAt),
    );
  }

  async onOutcome(outcome: MealLogOutcome, manager: EntityManager): Promise<() => void> {
    // Presence only decides whether to push now; the notification exists either way.
    const online = (await this.presence.placementsOf(outcome.userId)).length;
    const notification = await this.notifications.insertForOutcome(manager, outcome, online);
    this.metrics.notificationsCreated.inc();
    return () => {
      this.push(outcome.userId, notification, Date.now()).catch((error: unknown) =>
        this.logger.error(
          { err: error, notificationId: notification.id },
          'push failed; replay and re-push will deliver',
        ),
      );
    };
  }

  /** The user has seen everything up to `seq` (written in a batch, shortly after). */
  acknowledge(userId: string, seq: number): void {
    this.acknowledgements.acknowledge(userId, seq);
  }

  listAfter(userId: string, after: number, limit: number): Promise<NotificationView[]> {
    return this.notifications.listAfter(userId, after, limit);
  }

  /**
   * Writes to this instance's sessions of the user at once, and hands the notification to each
   * other instance holding one of its sessions: one message per instance, not one per session,
   * and none to instances without one. Whatever does not arrive is replayed or re-pushed later.
   */
  private async push(
    userId: string,
    notification: NotificationView,
    committedAt: number,
  ): Promise<void> {
    const local = this.presence.localSessionsOf(userId);
    if (local.length > 0) this.delivery.push(local, notification, committedAt);
    const others = await this.presence.otherInstancesOf(userId);
    for (const instanceId of others) {
      await this.bus.send(instanceId, { kind: 'notification', userId, notification, committedAt });
    }
    if (local.length === 0 && others.length === 0) {
      this.metrics.pushesUserOffline.inc();
      this.logger.log(
        { userId, notificationId: notification.id, seq: notification.seq },
        'user offline; kept for replay',
      );
    }
  }

  private replay(session: LiveSession, after: number | null): Promise<void> {
    return this.delivery.replay(
      session,
      after === null ? { kind: 'unacknowledged' } : { kind: 'after', seq: after },
    );
  }
}
