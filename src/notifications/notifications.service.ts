import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import {
  MealLogOutcomeListener,
  MealLogOutcomePublisher,
  OutcomeGroup,
  OutcomeWrite,
} from '../meal-logs/meal-log-outcome.publisher';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from '../presence/live-session';
import type { SessionPlacement } from '../presence/session-placement';
import { PresenceService } from '../presence/presence.service';
import { AcknowledgementWriter } from './acknowledgement.writer';
import { CommittedNotification, NotificationChannel } from './notification-channel.port';
import {
  CreatedNotification,
  NewNotification,
  NotificationRepository,
} from './notification.repository';
import type { NotificationView } from './notification.view';
import { planPush } from './push-schedule';
import { WebSocketChannel } from './websocket.channel';

/** The channels every new notification is handed to: the WebSocket, and APNs when configured. */
export const NOTIFICATION_CHANNELS = Symbol('NotificationChannels');

/**
 * The rule "notify the user when a meal log finishes": every outcome becomes a notification row
 * in the statement that records the result (whether or not anyone is online, with its push
 * planned when APNs is configured), is handed to every channel once committed, and is replayed
 * to sessions that open later.
 */
@Injectable()
export class NotificationsService
  implements
    MealLogOutcomeListener<Map<string, SessionPlacement[]>, CreatedNotification>,
    OnModuleInit
{
  private readonly logger = new Logger(NotificationsService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly outcomes: MealLogOutcomePublisher,
    private readonly presence: PresenceService,
    private readonly notifications: NotificationRepository,
    private readonly websocket: WebSocketChannel,
    @Inject(NOTIFICATION_CHANNELS) private readonly channels: NotificationChannel[],
    private readonly metrics: Metrics,
    private readonly acknowledgements: AcknowledgementWriter,
  ) {}

  onModuleInit(): void {
    this.outcomes.subscribe(this);
  }

  /**
   * Where the group's users are connected, and whether their apps are in front, read before its
   * statement. Never rejects: a failed lookup only means no socket push now (replay and catch-up
   * deliver) and a push at once rather than at the ack deadline.
   */
  prepare(userIds: string[]): Promise<Map<string, SessionPlacement[]>> {
    return this.presence.placementsOfUsers(userIds).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'presence lookup failed; notifications wait for replay');
      return new Map<string, SessionPlacement[]>();
    });
  }

  writeWith(
    { statement, outcomes, recorded }: OutcomeGroup,
    atCreation: Map<string, SessionPlacement[]>,
  ): OutcomeWrite<CreatedNotification> {
    // Presence only decides whether to push now, and how; the notifications exist either way.
    const created: NewNotification[] = outcomes.map((outcome) => {
      const placements = atCreation.get(outcome.userId) ?? [];
      const foregroundSessions = placements.filter((p) => p.appState === 'foreground').length;
      return {
        outcome,
        onlineSessions: placements.length,
        foregroundSessions,
        push:
          this.config.push.apns === null
            ? null
            : planPush(
                new Date(outcome.mealLog.completedAt!),
                foregroundSessions,
                this.config.push.ackDeadlineMs,
              ),
      };
    });
    const part = this.notifications.insertForOutcomesIn(statement, created, recorded);
    return {
      part,
      committed: (rows) => {
        const committedAt = Date.now();
        const createdFor = new Map(created.map((c) => [c.outcome.mealLog.id, c]));
        // In seq order, the order each user's frames must go out in. The data is what was just
        // written: reading it back would cost PostgreSQL and this process a jsonb round trip per
        // notification.
        const inserted = rows.sort((a, b) => a.seq - b.seq);
        const committed = inserted.map(({ id, seq, meal_log_id }): CommittedNotification => {
          const { outcome, push } = createdFor.get(meal_log_id)!;
          return {
            userId: outcome.userId,
            notification: {
              id,
              seq,
              event: outcome.name,
              data: outcome.mealLog,
              createdAt: outcome.mealLog.completedAt!,
            },
            committedAt,
            placementsAtCreation: atCreation.get(outcome.userId) ?? [],
            pushDueAt: push?.dueAt.getTime() ?? null,
          };
        });
        this.metrics.notificationsCreated.inc(committed.length);
        for (const channel of this.channels) channel.deliver(committed);
      },
    };
  }

  /** A session was welcomed: it gets what it missed, then every new notification. */
  sessionOpened(session: LiveSession, after: number | null): void {
    this.websocket
      .open(session, after)
      .catch((error: unknown) =>
        this.logger.error({ err: error, sessionId: session.sessionId }, 'replay failed'),
      );
  }

  /**
   * The session's device has seen everything up to `seq` (written in a batch, shortly after).
   * Never beyond what was written to this session: a client acking ahead would otherwise
   * acknowledge, for every device, notifications it was never sent.
   */
  acknowledge(session: LiveSession, seq: number): void {
    const upTo = Math.min(seq, this.websocket.lastSentSeq(session));
    if (upTo > 0) this.acknowledgements.acknowledge(session.userId, upTo);
  }

  listAfter(userId: string, after: number, limit: number): Promise<NotificationView[]> {
    return this.notifications.listAfter(userId, after, limit);
  }
}
