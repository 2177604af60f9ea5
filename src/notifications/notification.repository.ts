import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ComposedStatement, StatementPart } from '../database/composed-statement';
import type { MealLogOutcome, RecordedMealLog } from '../meal-logs/meal-log-outcome.publisher';
import type { PushPlan, PushReason } from './push-schedule';
import type {
  DeliveryVia,
  NotificationDeliveryRecord,
  NotificationView,
  PushAttemptStatus,
  PushAttemptView,
  SessionDeliveryView,
  UserNotification,
} from './notification.view';

interface NotificationRow {
  id: string;
  seq: string; // bigint arrives as text
  event: NotificationView['event'];
  data: NotificationView['data'];
  created_at: Date;
}

interface DeliveryRow extends NotificationRow {
  delivered_at: Date | null;
  acked_at: Date | null;
  delivery_attempts: number;
  online_sessions_at_creation: number;
  foreground_sessions_at_creation: number;
  push_reason: PushReason | null;
}

const COLUMNS = `id, seq, event, data, created_at`;

function toView(row: NotificationRow): NotificationView {
  return {
    id: row.id,
    seq: Number(row.seq),
    event: row.event,
    data: row.data,
    createdAt: row.created_at.toISOString(),
  };
}

/** One new notification, with what the results' writer knew of its user at creation. */
export interface NewNotification {
  outcome: MealLogOutcome;
  onlineSessions: number;
  foregroundSessions: number;
  push: PushPlan | null;
}

/** A notification the result's statement created (a row of `insertForOutcomesIn`'s part). */
export interface CreatedNotification {
  id: string;
  seq: number;
  meal_log_id: string;
}

/** One session's read of its user's outbox (see `findForSessions`). */
export interface SessionPageRead {
  userId: string;
  read: SessionRead;
}

/** One page of a session's read, and where its user stands. */
export interface SessionPage {
  items: NotificationView[];
  userLastSeq: number;
}

/** Which of a user's notifications one read for a session returns. */
export interface SessionRead {
  /** Strictly after this seq. */
  after: number;
  /** Strictly before this seq; null: up to the newest. */
  before: number | null;
  /** Only those nobody has acknowledged (a replay on open without `after`). */
  unackedOnly: boolean;
}

/** Writes of one notification to one session (see `recordDeliveries`). */
export interface SessionDelivery {
  notificationId: string;
  sessionId: string;
  deviceId: string | null;
  /** How the first of them came about. */
  via: DeliveryVia;
  attempts: number;
  firstAt: Date;
}

/** A notification claimed for a push by this instance (see `claimDuePushes`). */
export interface ClaimedPush extends UserNotification {
  /** Claims so far, this one included. */
  attempt: number;
  reason: PushReason;
  /** Devices whose push is settled (sent, or refused for good): not pushed to again. */
  settledDevices: string[];
}

/** What one round of pushes did for one notification. */
export interface PushRound {
  notificationId: string;
  /** The claim it was sent under (`ClaimedPush.attempt`): a later claim's record wins. */
  attempt: number;
  attempts: { deviceId: string; at: Date; status: PushAttemptStatus; reason: string | null }[];
  /** When to try the unsettled devices again; null: nothing more to push. */
  retryAt: Date | null;
}

@Injectable()
export class NotificationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Adds to `statement` the notifications of the outcomes whose meal logs it records (those in
   * `recorded`), and returns the part listing what they were given. Each user's sequence row is bumped once by that user's count, and the user's
   * new notifications take the numbers in between, in the outcomes' order. The bump locks the
   * row until the statement commits, so a user's notifications commit in seq order and a seq is
   * only handed out once every lower one has committed; rows are locked in user order, so two
   * statements sharing users wait for each other instead of deadlocking. A notification is
   * created when its meal log completes (`completedAt`).
   */
  insertForOutcomesIn(
    statement: ComposedStatement,
    created: NewNotification[],
    recorded: StatementPart<RecordedMealLog>,
  ): StatementPart<CreatedNotification> {
    const column = (value: (n: NewNotification) => unknown) => statement.bindEach(created, value);
    const input = statement.with(
      'notification_input',
      `SELECT input.* FROM unnest(
         ${column((n) => n.outcome.userId)}::text[], ${column((n) => n.outcome.name)}::text[],
         ${column((n) => JSON.stringify(n.outcome.mealLog))}::jsonb[],
         ${column((n) => n.outcome.mealLog.id)}::uuid[], ${column((n) => n.onlineSessions)}::int[],
         ${column((n) => n.foregroundSessions)}::int[],
         ${column((n) => n.outcome.mealLog.completedAt)}::timestamptz[],
         ${column((n) => n.push?.reason ?? null)}::text[],
         ${column((n) => n.push?.dueAt ?? null)}::timestamptz[]
       ) WITH ORDINALITY
         AS input(user_id, event, data, meal_log_id, online, foreground, created_at, push_reason,
                  push_due_at, ord)
       JOIN ${recorded.from('recorded')} ON ${recorded.column('recorded', 'id')} = input.meal_log_id`,
    );
    const perUser = statement.with(
      'notification_counts',
      `SELECT user_id, count(*) AS n FROM ${input.from('input')} GROUP BY user_id`,
    );
    const bumped = statement.with(
      'notification_sequences_bumped',
      `INSERT INTO notification_sequences AS s (user_id, last_seq)
       SELECT user_id, n FROM ${perUser.from('counts')} ORDER BY user_id
       ON CONFLICT (user_id) DO UPDATE SET last_seq = s.last_seq + EXCLUDED.last_seq
       RETURNING user_id, last_seq`,
    );
    return statement.with<CreatedNotification>(
      'notifications_inserted',
      `INSERT INTO notifications
         (user_id, seq, event, data, meal_log_id, online_sessions_at_creation,
          foreground_sessions_at_creation, created_at, push_reason, push_due_at)
       SELECT input.user_id,
              bumped.last_seq - counts.n
                + row_number() OVER (PARTITION BY input.user_id ORDER BY input.ord),
              input.event, input.data, input.meal_log_id, input.online, input.foreground,
              input.created_at, input.push_reason, input.push_due_at
       FROM ${input.from('input')}
       JOIN ${bumped.from('bumped')} USING (user_id)
       JOIN ${perUser.from('counts')} USING (user_id)
       RETURNING id, seq, meal_log_id`,
    );
  }

  /**
   * For each of `reads` (sessions reading the outbox), one page of what it reads, in seq order,
   * and its user's highest seq as of the same snapshot: a replay that found nothing still learns
   * where the user stands, so the session's first live notification is not taken for the end of
   * a gap. One statement for all of them; answers in the order of `reads`.
   */
  async findForSessions(reads: SessionPageRead[], limit: number): Promise<SessionPage[]> {
    const rows = await this.dataSource.query<
      ((NotificationRow | { [K in keyof NotificationRow]: null }) & {
        ord: string;
        user_last_seq: string;
      })[]
    >(
      `SELECT req.ord, COALESCE(s.last_seq, 0) AS user_last_seq, page.*
       FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bool[]) WITH ORDINALITY
         AS req(user_id, after_seq, before_seq, unacked_only, ord)
       LEFT JOIN notification_sequences AS s ON s.user_id = req.user_id
       LEFT JOIN LATERAL (
         SELECT ${COLUMNS} FROM notifications AS n
         WHERE n.user_id = req.user_id AND n.seq > req.after_seq
           AND (req.before_seq IS NULL OR n.seq < req.before_seq)
           AND (NOT req.unacked_only OR n.acked_at IS NULL)
         ORDER BY n.seq
         LIMIT $5
       ) AS page ON true
       ORDER BY req.ord, page.seq`,
      [
        reads.map((r) => r.userId),
        reads.map((r) => r.read.after),
        reads.map((r) => r.read.before),
        reads.map((r) => r.read.unackedOnly),
        limit,
      ],
    );
    const pages: SessionPage[] = reads.map(() => ({ items: [], userLastSeq: 0 }));
    for (const row of rows) {
      const page = pages[Number(row.ord) - 1];
      page.userLastSeq = Number(row.user_last_seq);
      if (row.id !== null) page.items.push(toView(row));
    }
    return pages;
  }

  /**
   * For the periodic catch-up: each user's notifications after its seq, older than `olderThanMs`
   * (younger ones may simply be on their way), acknowledged or not (a session gets every
   * notification created while it lives, whichever device acknowledged it).
   */
  async findAfter(
    cursors: { userId: string; afterSeq: number }[],
    olderThanMs: number,
    limit: number,
  ): Promise<(NotificationView & { userId: string })[]> {
    if (cursors.length === 0) return [];
    const rows = await this.dataSource.query<(NotificationRow & { user_id: string })[]>(
      `SELECT n.id, n.seq, n.event, n.data, n.created_at, n.user_id
       FROM unnest($1::text[], $2::bigint[]) AS c(user_id, after_seq)
       JOIN notifications AS n ON n.user_id = c.user_id AND n.seq > c.after_seq
       WHERE n.created_at < clock_timestamp() - $3 * interval '1 millisecond'
       ORDER BY n.user_id, n.seq
       LIMIT $4`,
      [cursors.map((c) => c.userId), cursors.map((c) => c.afterSeq), olderThanMs, limit],
    );
    return rows.map((row) => ({ ...toView(row), userId: row.user_id }));
  }

  /** REST catch-up: everything after `after`, acknowledged or not. */
  async listAfter(userId: string, after: number, limit: number): Promise<NotificationView[]> {
    const rows = await this.dataSource.query<NotificationRow[]>(
      `SELECT ${COLUMNS} FROM notifications WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [userId, after, limit],
    );
    return rows.map(toView);
  }

  /**
   * Acknowledges each user's own notifications up to its `seq`; returns how many changed. A push
   * waiting for its ack deadline is cancelled with it, and so are its retries: the user has seen
   * the notification. A push due because no app was in the foreground stays due (a backgrounded
   * app still acks what its socket delivers before iOS suspends it).
   */
  async acknowledgeUpTo(acks: { userId: string; seq: number }[]): Promise<number> {
    // Rows are locked in id order, as every batched writer of notifications does, so that two
    // instances writing overlapping batches wait for each other instead of deadlocking.
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      `WITH target AS (
         SELECT n.id FROM notifications AS n
         JOIN unnest($1::text[], $2::bigint[]) AS ack(user_id, seq)
           ON n.user_id = ack.user_id AND n.seq <= ack.seq
         WHERE n.acked_at IS NULL
         ORDER BY n.id
         FOR UPDATE OF n
       )
       UPDATE notifications SET acked_at = clock_timestamp(),
         push_due_at = CASE WHEN push_reason = 'ack_deadline' THEN NULL ELSE push_due_at END
       WHERE id IN (SELECT id FROM target) AND acked_at IS NULL`,
      [acks.map((a) => a.userId), acks.map((a) => a.seq)],
    );
    return count;
  }

  /**
   * Records writes of notifications to sessions in one statement: per session, the first write,
   * how it came about and the number of writes; per notification, as the aggregate, the first
   * write of all (`delivered_at`) and the number of writes. Deliveries of a notification deleted
   * meanwhile (pruned) are dropped.
   */
  async recordDeliveries(deliveries: SessionDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    // The notifications are locked in id order, like the ack writer's batches (see
    // acknowledgeUpTo), by the update, before the sessions' rows are written from what it
    // returns: the inserts' foreign-key checks then find the rows already locked.
    await this.dataSource.query(
      `WITH d AS (
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[],
                              $6::timestamptz[])
           AS d(notification_id, session_id, device_id, via, attempts, first_at)
       ),
       target AS (
         SELECT id FROM notifications WHERE id IN (SELECT notification_id FROM d)
         ORDER BY id FOR UPDATE
       ),
       updated AS (
         UPDATE notifications AS n
         SET delivery_attempts = n.delivery_attempts + p.attempts,
             delivered_at = COALESCE(n.delivered_at, p.first_at)
         FROM (SELECT notification_id, sum(attempts) AS attempts, min(first_at) AS first_at
               FROM d GROUP BY notification_id) AS p
         WHERE n.id = p.notification_id AND n.id IN (SELECT id FROM target)
         RETURNING n.id
       )
       INSERT INTO notification_deliveries AS s
         (notification_id, session_id, device_id, via, attempts, first_at)
       SELECT d.notification_id, d.session_id, d.device_id, d.via, d.attempts, d.first_at
       FROM d JOIN updated ON updated.id = d.notification_id
       ORDER BY d.notification_id, d.session_id
       ON CONFLICT (notification_id, session_id) DO UPDATE
         SET attempts = s.attempts + EXCLUDED.attempts,
             first_at = LEAST(s.first_at, EXCLUDED.first_at)`,
      [
        deliveries.map((d) => d.notificationId),
        deliveries.map((d) => d.sessionId),
        deliveries.map((d) => d.deviceId),
        deliveries.map((d) => d.via),
        deliveries.map((d) => d.attempts),
        deliveries.map((d) => d.firstAt),
      ],
    );
  }

  /**
   * Claims up to `limit` notifications whose push is due, for `leaseMs`: their due time moves to
   * the end of the lease, so an instance that dies while sending leaves them to be claimed again,
   * and `SKIP LOCKED` keeps two instances from claiming one notification. Oldest due first. A
   * push waiting for its ack deadline is never claimed once acked. With `ids`: only those, and
   * only if nobody has claimed them yet (the creating instance's immediate push; its clock need
   * not agree with the database's on "due").
   */
  async claimDuePushes(limit: number, leaseMs: number, ids?: string[]): Promise<ClaimedPush[]> {
    // An UPDATE … RETURNING comes back as [rows, count].
    const [rows] = await this.dataSource.query<
      [
        (NotificationRow & {
          user_id: string;
          push_attempts: number;
          push_reason: PushReason;
          settled_devices: string[];
        })[],
        number,
      ]
    >(
      `WITH due AS (
         SELECT id FROM notifications
         WHERE CASE WHEN $3::uuid[] IS NULL THEN push_due_at <= now()
                    ELSE id = ANY($3::uuid[]) AND push_due_at IS NOT NULL AND push_attempts = 0
               END
           AND (push_reason <> 'ack_deadline' OR acked_at IS NULL)
         ORDER BY push_due_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       )
       UPDATE notifications AS n
       SET push_due_at = clock_timestamp() + $2 * interval '1 millisecond',
           push_attempts = n.push_attempts + 1
       FROM due WHERE n.id = due.id
       RETURNING n.id, n.seq, n.event, n.data, n.created_at, n.user_id, n.push_attempts,
                 n.push_reason,
                 ARRAY(SELECT DISTINCT a.device_id FROM notification_push_attempts AS a
                       WHERE a.notification_id = n.id AND a.status IN ('sent', 'rejected'))
                   AS settled_devices`,
      [limit, leaseMs, ids ?? null],
    );
    return rows.map((row) => ({
      userId: row.user_id,
      notification: toView(row),
      attempt: row.push_attempts,
      reason: row.push_reason,
      settledDevices: row.settled_devices,
    }));
  }

  /**
   * Records what rounds of pushes did and when (if at all) each notification is due again, in
   * one transaction. The notifications are locked in id order first, as every batched writer of
   * notifications locks them (the attempts' foreign key would otherwise lock them in claim order
   * and deadlock with the delivery ledger). A round whose claim has been superseded (its lease ran
   * out and another claim took it) leaves the schedule to that claim.
   */
  async recordPushRounds(rounds: PushRound[]): Promise<void> {
    if (rounds.length === 0) return;
    const attempts = rounds.flatMap((round) =>
      round.attempts.map((attempt) => ({ notificationId: round.notificationId, ...attempt })),
    );
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `SELECT id FROM notifications WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        [rounds.map((r) => r.notificationId)],
      );
      await manager.query(
        `INSERT INTO notification_push_attempts (notification_id, device_id, at, status, reason)
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::text[])`,
        [
          attempts.map((a) => a.notificationId),
          attempts.map((a) => a.deviceId),
          attempts.map((a) => a.at),
          attempts.map((a) => a.status),
          attempts.map((a) => a.reason),
        ],
      );
      await manager.query(
        // An ack that came while the round was out cancels a deadline push's retries too.
        `UPDATE notifications AS n
         SET push_due_at = CASE WHEN n.push_reason = 'ack_deadline' AND n.acked_at IS NOT NULL
                                THEN NULL ELSE r.retry_at END
         FROM unnest($1::uuid[], $2::timestamptz[], $3::int[]) AS r(id, retry_at, attempt)
         WHERE n.id = r.id AND n.push_attempts = r.attempt`,
        [
          rounds.map((r) => r.notificationId),
          rounds.map((r) => r.retryAt),
          rounds.map((r) => r.attempt),
        ],
      );
    });
  }

  /**
   * The admin's delivery record, newest first, paged by seq, with every push attempt and every
   * session each notification was written to.
   */
  async listForAdmin(
    userId: string,
    limit: number,
    beforeSeq: number | null,
  ): Promise<NotificationDeliveryRecord[]> {
    const rows = await this.dataSource.query<
      (DeliveryRow & { push: PushAttemptRow[]; sessions: SessionDeliveryRow[] })[]
    >(
      `SELECT ${COLUMNS}, delivered_at, acked_at, delivery_attempts, online_sessions_at_creation,
              foreground_sessions_at_creation, push_reason,
              ARRAY(SELECT json_build_object('deviceId', a.device_id, 'at', a.at,
                                             'status', a.status, 'reason', a.reason)
                    FROM notification_push_attempts AS a
                    WHERE a.notification_id = n.id ORDER BY a.at, a.id) AS push,
              ARRAY(SELECT json_build_object('sessionId', s.session_id, 'deviceId', s.device_id,
                                             'at', s.first_at, 'via', s.via,
                                             'attempts', s.attempts)
                    FROM notification_deliveries AS s
                    WHERE s.notification_id = n.id ORDER BY s.first_at, s.session_id) AS sessions
       FROM notifications AS n
       WHERE user_id = $1 AND ($2::bigint IS NULL OR seq < $2)
       ORDER BY seq DESC
       LIMIT $3`,
      [userId, beforeSeq, limit],
    );
    return rows.map((row) => ({
      ...toView(row),
      deliveredAt: row.delivered_at?.toISOString() ?? null,
      ackedAt: row.acked_at?.toISOString() ?? null,
      deliveryAttempts: row.delivery_attempts,
      onlineSessionsAtCreation: row.online_sessions_at_creation,
      foregroundSessionsAtCreation: row.foreground_sessions_at_creation,
      pushReason: row.push_reason,
      push: row.push.map(toPushAttemptView),
      sessions: row.sessions.map((session) => ({
        ...session,
        at: new Date(session.at).toISOString(),
      })),
    }));
  }

  /** Deletes up to `limit` acknowledged notifications older than `cutoff`; returns the count. */
  async deleteAcknowledgedBefore(cutoff: Date, limit: number): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM notifications WHERE id IN (
         SELECT id FROM notifications WHERE acked_at IS NOT NULL AND created_at < $1
         LIMIT $2 FOR UPDATE SKIP LOCKED
       )`,
      [cutoff, limit],
    );
    return count;
  }
}

/** A push attempt as json_build_object gives it (a timestamp is text there). */
interface PushAttemptRow {
  deviceId: string;
  at: string;
  status: PushAttemptStatus;
  reason: string | null;
}

function toPushAttemptView(row: PushAttemptRow): PushAttemptView {
  return { ...row, at: new Date(row.at).toISOString() };
}

/** A session's delivery as json_build_object gives it (a timestamp is text there). */
type SessionDeliveryRow = SessionDeliveryView;
