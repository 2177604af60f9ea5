import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { Metrics } from '../metrics/metrics';
import {
  MealLogOutcome,
  MealLogOutcomeListener,
  MealLogOutcomePublisher,
} from '../meal-logs/meal-log-outcome.publisher';
import type { LiveSession } from '../presence/live-session';
import { PresenceService } from '../presence/presence.service';
import { SessionOpenedHooks } from '../presence/session-opened.hooks';
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
  ) {}

  onModuleInit(): void {
    this.outcomes.subscribe(this);
    this.sessionOpened.register((session, after) => this.replay(session, after));
  }

  async onOutcome(outcome: MealLogOutcome, manager: EntityManager): Promise<() => void> {
    // Presence only decides whether to push now; the notification exists either way.
    const online = this.presence.sessionsOf(outcome.userId).length;
    const notification = await this.notifications.insertForOutcome(manager, outcome, online);
    this.metrics.notificationsCreated.inc();
    return () => this.push(outcome.userId, notification, Date.now());
  }

  async acknowledge(userId: string, seq: number): Promise<number> {
    const count = await this.notifications.acknowledgeUpTo(userId, seq);
    this.metrics.notificationsAcknowledged.inc(count);
    return count;
  }

  listAfter(userId: string, after: number, limit: number): Promise<NotificationView[]> {
    return this.notifications.listAfter(userId, after, limit);
  }

  private push(userId: string, notification: NotificationView, committedAt: number): void {
    const sessions = this.presence.sessionsOf(userId);
    if (sessions.length === 0) {
      this.metrics.pushesUserOffline.inc();
      this.logger.log(
        { userId, notificationId: notification.id, seq: notification.seq },
        'user offline; kept for replay',
      );
      return;
    }
    this.delivery.push(sessions, notification, committedAt);
  }

  private replay(session: LiveSession, after: number | null): Promise<void> {
    return this.delivery.replay(
      session,
      after === null ? { kind: 'unacknowledged' } : { kind: 'after', seq: after },
    );
  }
}
