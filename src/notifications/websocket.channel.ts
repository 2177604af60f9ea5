import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ClusterBus } from '../cluster/cluster-bus.port';
import { BatchReader } from '../common/batch-reader';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { nextTurn } from '../common/next-turn';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from '../presence/live-session';
import type { SessionPlacement } from '../presence/session-placement';
import { PresenceService } from '../presence/presence.service';
import { SessionConnections } from '../presence/session-connections';
import { encodeFrame, EncodedFrame } from '../realtime/server-frames';
import { DeliveryLedgerWriter } from './delivery-ledger.writer';
import { CommittedNotification, NotificationChannel } from './notification-channel.port';
import {
  NotificationRepository,
  SessionPage,
  SessionPageRead,
  SessionRead,
} from './notification.repository';
import type { DeliveryVia, NotificationView, UserNotification } from './notification.view';
import { NOTIFICATIONS_TOPIC } from './notifications.topic';
import { SessionCursor } from './session-cursor';

/** Rows per outbox read: a user back after a month offline is served in pages, not one query. */
export const READ_PAGE_SIZE = 100;
/** Sessions' reads per outbox query, at most (a reconnect storm's replays share queries). */
const READS_PER_QUERY = 500;
const READ_RETRY_FIRST_MS = 500;
const READ_RETRY_MAX_MS = 10_000;
/** At most this many notifications per catch-up run; the next run takes the rest. */
const CATCH_UP_BATCH = 500;
/** A notification younger than this may still be on its way to the sessions it is for. */
const CATCH_UP_MIN_AGE_MS = 2_000;
/** Users whose cursors one turn of the event loop reads for a catch-up. */
const CATCH_UP_USERS_PER_TURN = 1_000;

/** A notification on its way to sessions, serialised once for all of them. */
interface Outgoing {
  readonly seq: number;
  readonly notification: NotificationView;
  readonly frame: EncodedFrame<'notification'>;
  /** When it committed (epoch ms), for the latency metric; NaN unless `via` is `live`. */
  readonly committedAt: number;
  /** How it came to this instance's sessions, for the delivery record. */
  readonly via: DeliveryVia;
}

function outgoing(notification: NotificationView, committedAt: number): Outgoing {
  return {
    seq: notification.seq,
    notification,
    frame: encodeFrame('notification', notification),
    committedAt,
    via: 'live',
  };
}

/** A notification read from the outbox: by a session's read (`Read`), or the catch-up. */
function fromOutbox(notification: NotificationView, via: Exclude<DeliveryVia, 'live'>): Outgoing {
  return { ...outgoing(notification, Number.NaN), via };
}

/** Why a session reads the outbox: its replay on open, or a gap before a live notification. */
type Read = { kind: 'replay'; read: SessionRead } | { kind: 'gap'; before: number };

/**
 * The WebSocket channel: every live session of the user, on every instance, gets every
 * notification as a frame, in seq order with no gaps. Each session has a cursor (SessionCursor):
 * on open it replays from the outbox (unacknowledged, or everything after the client's `after`)
 * while live notifications wait; a notification that arrives ahead of one the session was never
 * sent (another instance's message came first, or was lost) waits while the session reads the
 * ones in between from the outbox. A periodic catch-up does the same for the last notification
 * of a burst, which nothing follows. At least once: duplicates are possible, gaps are not.
 */
@Injectable()
export class WebSocketChannel extends NotificationChannel implements OnModuleInit {
  private readonly logger = new Logger(WebSocketChannel.name);
  private readonly cursors = new WeakMap<LiveSession, SessionCursor<Outgoing>>();
  private readonly pages: BatchReader<SessionPageRead, SessionPage>;

  constructor(
    private readonly presence: PresenceService,
    private readonly connections: SessionConnections,
    private readonly notifications: NotificationRepository,
    private readonly ledger: DeliveryLedgerWriter,
    private readonly bus: ClusterBus,
    private readonly metrics: Metrics,
  ) {
    super();
    this.pages = new BatchReader(
      (reads) => notifications.findForSessions(reads, READ_PAGE_SIZE),
      READS_PER_QUERY,
    );
  }

  onModuleInit(): void {
    // Another instance created notifications for users with sessions here.
    this.bus.on(NOTIFICATIONS_TOPIC, ({ notifications, committedAt }) => {
      for (const { userId, notification } of notifications)
        this.deliverHere(userId, outgoing(notification, committedAt));
    });
  }

  deliver(committed: CommittedNotification[]): void {
    this.route(committed).catch((error: unknown) =>
      this.logger.error({ err: error }, 'socket delivery failed; replay and catch-up will deliver'),
    );
  }

  /** A session was welcomed: it replays what it missed, then takes live notifications. */
  async open(session: LiveSession, after: number | null): Promise<void> {
    await this.read(session, this.cursorOf(session), {
      kind: 'replay',
      read: { after: after ?? 0, before: null, unackedOnly: after === null },
    });
  }

  /** The highest seq written to this session: an ack beyond it would cover what it never got. */
  lastSentSeq(session: LiveSession): number {
    return this.cursors.get(session)?.lastSentSeq ?? 0;
  }

  /**
   * The safety net behind live delivery: each local session is offered the notifications after
   * its cursor that are older than a moment, so one whose live message was lost (Redis down, a
   * crash between commit and push) and that no later notification revealed still arrives.
   */
  async catchUp(): Promise<number> {
    const cursors: { userId: string; afterSeq: number }[] = [];
    const userIds = this.presence.localUserIds();
    for (let i = 0; i < userIds.length; i++) {
      // A safety net, never urgent: reading 19,000 users' cursors in one turn would hold up the
      // live frames (and a sweep due in the same timer tick) for some 30 ms.
      if (i > 0 && i % CATCH_UP_USERS_PER_TURN === 0) await nextTurn();
      const afterSeq = this.settledSeqOf(userIds[i]);
      if (afterSeq !== null) cursors.push({ userId: userIds[i], afterSeq });
    }
    const missed = await this.notifications.findAfter(cursors, CATCH_UP_MIN_AGE_MS, CATCH_UP_BATCH);
    for (const { userId, ...notification } of missed)
      this.deliverHere(userId, fromOutbox(notification, 'catch_up'));
    return missed.length;
  }

  /**
   * The lowest seq sent to the user's sessions here that are not reading a page (whose cursor is
   * settled), or null when there is none.
   */
  private settledSeqOf(userId: string): number | null {
    let lowest: number | null = null;
    for (const session of this.presence.localSessionsOf(userId)) {
      const cursor = this.cursors.get(session);
      if (cursor === undefined || cursor.isReading) continue;
      if (lowest === null || cursor.lastSentSeq < lowest) lowest = cursor.lastSentSeq;
    }
    return lowest;
  }

  /**
   * Hands the notifications to each other instance holding one of their users' sessions, one
   * message per instance for the whole group (none to instances without one), then writes to
   * this instance's sessions. The instances seen while the notifications were created get them
   * first; a second look after the commit finds any whose session opened meanwhile (its replay
   * may have read the outbox before the commit). What does not arrive is caught up later.
   */
  private async route(committed: CommittedNotification[]): Promise<void> {
    const routes = committed.map((c) => ({ ...c, sentTo: new Set<string>(), local: 0 }));
    const atCreation = new Map(committed.map((c) => [c.userId, c.placementsAtCreation]));
    const published = this.publish(routes, atCreation);
    // The publishes leave in Redis's auto-pipeline on the next check phase; writing a group's
    // local frames first (a socket write each) would hold them, and every other instance's
    // frames, back by the whole group's writes.
    await nextTurn();
    for (const route of routes)
      route.local = this.deliverHere(route.userId, outgoing(route.notification, route.committedAt));
    await published;
    await this.publish(routes, await this.presence.placementsOfUsers([...atCreation.keys()]));
    for (const { userId, notification, local, sentTo } of routes) {
      if (local > 0 || sentTo.size > 0) continue;
      this.metrics.pushesUserOffline.inc();
      this.logger.log(
        { userId, notificationId: notification.id, seq: notification.seq },
        'user offline; kept for replay',
      );
    }
  }

  /** Sends each other instance of `placements` the notifications it has not had, in one message. */
  private async publish(
    routes: (UserNotification & { committedAt: number; sentTo: Set<string> })[],
    placements: Map<string, SessionPlacement[]>,
  ): Promise<void> {
    const byInstance = new Map<
      string,
      { notifications: UserNotification[]; committedAt: number }
    >();
    for (const route of routes) {
      for (const instanceId of this.presence.otherInstancesIn(placements.get(route.userId) ?? [])) {
        if (route.sentTo.has(instanceId)) continue;
        route.sentTo.add(instanceId);
        const entry = { userId: route.userId, notification: route.notification };
        const batch = byInstance.get(instanceId);
        if (batch) batch.notifications.push(entry);
        else byInstance.set(instanceId, { notifications: [entry], committedAt: route.committedAt });
      }
    }
    await Promise.all(
      [...byInstance].map(([instanceId, { notifications, committedAt }]) =>
        this.bus.send(instanceId, NOTIFICATIONS_TOPIC, { notifications, committedAt }),
      ),
    );
  }

  /** Offers a notification to the user's sessions here; returns how many there are. */
  private deliverHere(userId: string, item: Outgoing): number {
    const sessions = this.presence.localSessionsOf(userId);
    for (const session of sessions) {
      const cursor = this.cursorOf(session);
      switch (cursor.arrive(item)) {
        case 'write':
          if (this.write(session, item)) this.metrics.notificationsPushed.inc();
          break;
        case 'read':
          void this.read(session, cursor, { kind: 'gap', before: item.seq });
          break;
        case 'wait':
        case 'skip':
          break;
      }
    }
    return sessions.length;
  }

  /** A session's cursor; one that does not have one yet is opening, and its arrivals wait. */
  private cursorOf(session: LiveSession): SessionCursor<Outgoing> {
    let cursor = this.cursors.get(session);
    if (!cursor) this.cursors.set(session, (cursor = new SessionCursor()));
    return cursor;
  }

  /**
   * Reads from the outbox and writes what it finds, page by page in seq order, then what waited;
   * again for as long as a gap remains before what waited. Ends early if the session does.
   */
  private async read(
    session: LiveSession,
    cursor: SessionCursor<Outgoing>,
    first: Read,
  ): Promise<void> {
    let next: Read | null = first;
    while (next !== null) {
      const reading: Read = next;
      const range: SessionRead =
        reading.kind === 'replay'
          ? reading.read
          : { after: cursor.lastSentSeq, before: reading.before, unackedOnly: false };
      let through = reading.kind === 'gap' ? reading.before - 1 : 0;
      let written = 0;
      for (let first = true; ; first = false) {
        const page = await this.page(session, range);
        if (page === null) return;
        if (reading.kind === 'replay' && first) through = page.userLastSeq;
        for (const notification of page.items) {
          if (!this.write(session, fromOutbox(notification, reading.kind))) return;
          cursor.wrote(notification.seq);
          range.after = notification.seq;
          written++;
        }
        if (page.items.length < READ_PAGE_SIZE) break;
      }
      this.account(session, reading, written);
      const done = cursor.readDone(through);
      for (const item of done.write) {
        if (!this.write(session, item)) return;
        this.metrics.notificationsPushed.inc();
      }
      next = done.readBefore === null ? null : { kind: 'gap', before: done.readBefore };
    }
  }

  private account(session: LiveSession, read: Read, written: number): void {
    if (written === 0) return;
    const fields = { sessionId: session.sessionId, userId: session.userId, count: written };
    if (read.kind === 'replay') {
      this.metrics.notificationsReplayed.inc(written);
      this.logger.log(fields, 'replayed');
    } else {
      this.metrics.notificationsGapFilled.inc(written);
      this.logger.log(fields, 'filled a gap from the outbox');
    }
  }

  /**
   * One page of a read. A failed query is retried with back-off for as long as the session lives
   * (its cursor keeps reading, so live notifications keep waiting in order: giving up would mean
   * a gap); null when the session ended meanwhile.
   */
  private async page(session: LiveSession, range: SessionRead): Promise<SessionPage | null> {
    for (let delayMs = READ_RETRY_FIRST_MS; ; delayMs = Math.min(delayMs * 2, READ_RETRY_MAX_MS)) {
      if (session.endReason !== null) return null;
      try {
        return await this.pages.read({ userId: session.userId, read: { ...range } });
      } catch (error) {
        if (isDatabaseUnavailable(error))
          this.logger.warn(
            { sessionId: session.sessionId, retryInMs: delayMs },
            'outbox read waiting for the database',
          );
        else
          this.logger.error(
            { err: error, sessionId: session.sessionId, retryInMs: delayMs },
            'outbox read failed',
          );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  private write(session: LiveSession, item: Outgoing): boolean {
    if (this.connections.send(session, item.frame) !== 'sent') return false;
    this.ledger.delivered(item.notification.id, session, item.via);
    if (!Number.isNaN(item.committedAt))
      this.metrics.deliveryLatency.observe(Date.now() - item.committedAt);
    return true;
  }
}
