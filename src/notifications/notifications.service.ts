import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { ComposedStatement } from '../database/composed-statement';
import { Metrics } from '../metrics/metrics';
import {
  MealLogOutcome,
  MealLogOutcomeListener,
  MealLogOutcomePublisher,
  OutcomeWrite,
} from '../meal-logs/meal-log-outcome.publisher';
import type { LiveSession } from '../presence/live-session';
import { ClusterBus } from '../cluster/cluster-bus.port';
import type { SessionPlacement } from '../presence/presence-store.port';
import { PresenceService } from '../presence/presence.service';
import { SessionOpenedHooks } from '../presence/session-opened.hooks';
import { AcknowledgementWriter } from './acknowledgement.writer';
import { NotificationDelivery } from './notification-delivery';
import { NotificationRepository } from './notification.repository';
import type { NotificationView, UserNotification } from './notification.view';

/** What the insert of new notifications gives back, per notification. */
interface CreatedRow {
  id: string;
  seq: number;
  meal_log_id: string;
}

/** Where one new notification has gone. */
interface Route extends UserNotification {
  pushedHere: boolean;
  /** Other instances it was published to. */
  sentTo: Set<string>;
}

/**
 * The rule "notify the user when a meal log finishes": every outcome becomes a notification row
 * in the statement that records the result (whether or not anyone is online), is pushed to
 * every live session once committed, and is replayed to sessions that open later.
 */
@Injectable()
export class NotificationsService
  implements MealLogOutcomeListener<Map<string, SessionPlacement[]>>, OnModuleInit
{
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
    this.bus.on('notifications', ({ notifications, committedAt }) => {
      for (const { userId, notification } of notifications)
        this.delivery.push(this.presence.localSessionsOf(userId), notification, committedAt);
    });
  }

  /**
   * Where the group's users are connected, read before its statement. Never rejects: a failed
   * lookup only means no push now (replay and re-push deliver).
   */
  prepare(userIds: string[]): Promise<Map<string, SessionPlacement[]>> {
    return this.presence.placementsOfUsers(userIds).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'presence lookup failed; notifications wait for replay');
      return new Map<string, SessionPlacement[]>();
    });
  }

  writeWith(
    statement: ComposedStatement,
    outcomes: MealLogOutcome[],
    recorded: string,
    atCreation: Map<string, SessionPlacement[]>,
  ): OutcomeWrite {
    // Presence only decides whether to push now; the notifications exist either way.
    const part = this.notifications.insertForOutcomesIn(
      statement,
      outcomes.map((outcome) => ({
        outcome,
        onlineSessions: atCreation.get(outcome.userId)?.length ?? 0,
      })),
      recorded,
    );
    return {
      part,
      committed: (rows) => {
        const committedAt = Date.now();
        const outcomeOf = new Map(outcomes.map((outcome) => [outcome.mealLog.id, outcome]));
        // In seq order, the order each user's frames must go out in. The data is what was just
        // written: reading it back would cost PostgreSQL and this process a jsonb round trip per
        // notification.
        const inserted = (rows as CreatedRow[]).sort((a, b) => a.seq - b.seq);
        const created = inserted.map(({ id, seq, meal_log_id }) => {
          const { name, userId, mealLog } = outcomeOf.get(meal_log_id)!;
          const notification = {
            id,
            seq,
            event: name,
            data: mealLog,
            createdAt: mealLog.completedAt!,
          };
          return { userId, notification };
        });
        this.metrics.notificationsCreated.inc(created.length);
        this.push(created, committedAt, atCreation).catch((error: unknown) =>
          this.logger.error({ err: error }, 'push failed; replay and re-push will deliver'),
        );
      },
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
   * Hands the notifications to each other instance holding one of their users' sessions, one
   * message per instance for the whole group (none to instances without one), then writes to this
   * instance's sessions. The instances seen while the notifications were created get them first;
   * a second look after the commit finds any whose session opened meanwhile (its replay may have
   * read the outbox before the commit). Whatever does not arrive is replayed or re-pushed later.
   */
  private async push(
    created: UserNotification[],
    committedAt: number,
    atCreation: Map<string, SessionPlacement[]>,
  ): Promise<void> {
    const routes: Route[] = created.map(({ userId, notification }) => ({
      userId,
      notification,
      pushedHere: false,
      sentTo: new Set(),
    }));
    const published = this.publish(routes, atCreation, committedAt);
    // The publishes leave in Redis's auto-pipeline on the next check phase; writing a group's
    // local frames first (a socket write each) would hold them, and every other instance's
    // frames, back by the whole group's writes.
    await new Promise((resolve) => setImmediate(resolve));
    for (const route of routes) {
      const local = this.presence.localSessionsOf(route.userId);
      if (local.length > 0) this.delivery.push(local, route.notification, committedAt);
      route.pushedHere = local.length > 0;
    }
    await published;
    await this.publish(
      routes,
      await this.presence.placementsOfUsers([...atCreation.keys()]),
      committedAt,
    );
    for (const { userId, notification, pushedHere, sentTo } of routes) {
      if (pushedHere || sentTo.size > 0) continue;
      this.metrics.pushesUserOffline.inc();
      this.logger.log(
        { userId, notificationId: notification.id, seq: notification.seq },
        'user offline; kept for replay',
      );
    }
  }

  /** Sends each other instance of `placements` the notifications it has not had, in one message. */
  private async publish(
    routes: Route[],
    placements: Map<string, SessionPlacement[]>,
    committedAt: number,
  ): Promise<void> {
    const byInstance = new Map<string, UserNotification[]>();
    for (const route of routes) {
      for (const instanceId of this.presence.otherInstancesIn(placements.get(route.userId) ?? [])) {
        if (route.sentTo.has(instanceId)) continue;
        route.sentTo.add(instanceId);
        const batch = byInstance.get(instanceId);
        const entry = { userId: route.userId, notification: route.notification };
        if (batch) batch.push(entry);
        else byInstance.set(instanceId, [entry]);
      }
    }
    await Promise.all(
      [...byInstance].map(([instanceId, notifications]) =>
        this.bus.send(instanceId, { kind: 'notifications', notifications, committedAt }),
      ),
    );
  }

  private replay(session: LiveSession, after: number | null): Promise<void> {
    return this.delivery.replay(
      session,
      after === null ? { kind: 'unacknowledged' } : { kind: 'after', seq: after },
    );
  }
}
