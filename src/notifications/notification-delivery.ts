import { Injectable, Logger } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from '../presence/live-session';
import { sendText } from '../realtime/server-frames';
import { DeliveryLedgerWriter } from './delivery-ledger.writer';
import { NotificationRepository, ReplayFrom } from './notification.repository';
import type { NotificationView } from './notification.view';

/** Rows per replay query: a user back after a month offline is served in pages, not one query. */
export const REPLAY_PAGE_SIZE = 100;
const REPLAY_RETRY_FIRST_MS = 500;
const REPLAY_RETRY_MAX_MS = 10_000;

interface Pending {
  notification: NotificationView;
  text: string;
  committedAt: number;
}

/** A session that is replaying holds live pushes back until the replay has caught up. */
interface ReplayState {
  held: Pending[];
}

export function notificationFrame(notification: NotificationView): string {
  return JSON.stringify({ type: 'notification', ...notification });
}

/**
 * Writes notification frames to sessions. On open, a session first replays what it missed, page
 * by page in seq order; live pushes arriving meanwhile are held and sent after the replay,
 * skipping those the replay already covered. A notification committed while a replay query runs
 * is therefore either in the query's result or held; never lost, never ahead of older ones.
 */
@Injectable()
export class NotificationDelivery {
  private readonly logger = new Logger(NotificationDelivery.name);
  private readonly replaying = new WeakMap<LiveSession, ReplayState>();

  constructor(
    private readonly config: AppConfig,
    private readonly notifications: NotificationRepository,
    private readonly ledger: DeliveryLedgerWriter,
    private readonly metrics: Metrics,
  ) {}

  /** Pushes one new notification to each of the user's live sessions here. */
  push(sessions: LiveSession[], notification: NotificationView, committedAt: number): void {
    const pending: Pending = { notification, text: notificationFrame(notification), committedAt };
    for (const session of sessions) {
      const replay = this.replaying.get(session);
      if (replay) replay.held.push(pending);
      else if (this.write(session, pending)) this.metrics.notificationsPushed.inc();
    }
  }

  async replay(session: LiveSession, from: ReplayFrom): Promise<void> {
    const state: ReplayState = { held: [] };
    this.replaying.set(session, state);
    let lastSeq = 0;
    let replayed = 0;
    try {
      for (;;) {
        const page = await this.nextPage(session, from, lastSeq);
        if (page === null) break;
        for (const notification of page) {
          if (
            !this.write(session, {
              notification,
              text: notificationFrame(notification),
              committedAt: NaN,
            })
          )
            return;
          lastSeq = notification.seq;
          replayed++;
        }
        if (page.length < REPLAY_PAGE_SIZE || session.endReason !== null) break;
      }
    } finally {
      this.replaying.delete(session);
      this.metrics.notificationsReplayed.inc(replayed);
      for (const pending of state.held.sort((a, b) => a.notification.seq - b.notification.seq)) {
        if (pending.notification.seq > lastSeq && this.write(session, pending))
          this.metrics.notificationsPushed.inc();
      }
      if (replayed > 0)
        this.logger.log(
          { sessionId: session.sessionId, userId: session.userId, replayed },
          'replayed',
        );
    }
  }

  /**
   * One replay page. While the database is unreachable the query is retried with back-off for as
   * long as the session lives (it stays in replay mode, so live pushes remain held and ordered);
   * null when the session ended meanwhile.
   */
  private async nextPage(
    session: LiveSession,
    from: ReplayFrom,
    afterSeq: number,
  ): Promise<NotificationView[] | null> {
    for (
      let delayMs = REPLAY_RETRY_FIRST_MS;
      ;
      delayMs = Math.min(delayMs * 2, REPLAY_RETRY_MAX_MS)
    ) {
      try {
        return await this.notifications.findForReplay(
          session.userId,
          from,
          afterSeq,
          REPLAY_PAGE_SIZE,
        );
      } catch (error) {
        if (!isDatabaseUnavailable(error)) throw error;
        this.logger.warn(
          { sessionId: session.sessionId, retryInMs: delayMs },
          'replay waiting for the database',
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (session.endReason !== null) return null;
      }
    }
  }

  private write(session: LiveSession, pending: Pending): boolean {
    if (session.endReason !== null) return false;
    const result = sendText(session.socket, pending.text, this.config.ws.maxBufferedBytes);
    if (result === 'overflow') {
      this.logger.warn(
        { sessionId: session.sessionId, userId: session.userId },
        'terminated a session that stopped reading',
      );
    }
    if (result !== 'sent') return false;
    this.ledger.delivered(pending.notification.id);
    if (!Number.isNaN(pending.committedAt))
      this.metrics.deliveryLatency.observe(Date.now() - pending.committedAt);
    return true;
  }
}
