import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ComposedStatement } from '../database/composed-statement';
import type { MealLogOutcome } from '../meal-logs/meal-log-outcome.publisher';
import type { NotificationDeliveryView, NotificationView } from './notification.view';

interface NotificationRow {
  id: string;
  seq: string; // bigint arrives as text
  event: NotificationView['event'];
  data: NotificationView['data'];
  created_at: Date;
  delivered_at: Date | null;
  acked_at: Date | null;
  delivery_attempts: number;
  online_sessions_at_creation: number;
}

const COLUMNS = `id, seq, event, data, created_at, delivered_at, acked_at, delivery_attempts,
  online_sessions_at_creation`;

function toView(row: NotificationRow): NotificationView {
  return {
    id: row.id,
    seq: Number(row.seq),
    event: row.event,
    data: row.data,
    createdAt: row.created_at.toISOString(),
  };
}

function toDeliveryView(row: NotificationRow): NotificationDeliveryView {
  return {
    ...toView(row),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    ackedAt: row.acked_at?.toISOString() ?? null,
    deliveryAttempts: row.delivery_attempts,
    onlineSessionsAtCreation: row.online_sessions_at_creation,
  };
}

/** Which notifications a session replays on open. */
export type ReplayFrom = { kind: 'unacknowledged' } | { kind: 'after'; seq: number };

@Injectable()
export class NotificationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Adds to `statement` the notifications of the outcomes whose meal logs it records (the part
   * `recorded`, by `id`), and returns the part listing what they were given (`id`, `seq`,
   * `meal_log_id`). Each user's sequence row is bumped once by that user's count, and the user's
   * new notifications take the numbers in between, in the outcomes' order. The bump locks the
   * row until the statement commits, so a user's notifications commit in seq order; rows are
   * locked in user order, so two statements sharing users wait for each other instead of
   * deadlocking. A notification is created when its meal log completes (`completedAt`).
   */
  insertForOutcomesIn(
    statement: ComposedStatement,
    outcomes: { outcome: MealLogOutcome; onlineSessions: number }[],
    recorded: string,
  ): string {
    const column = (value: (o: (typeof outcomes)[number]) => unknown) =>
      statement.bindEach(outcomes, value);
    const input = statement.with(
      'notification_input',
      `SELECT input.* FROM unnest(
         ${column((o) => o.outcome.userId)}::text[], ${column((o) => o.outcome.name)}::text[],
         ${column((o) => JSON.stringify(o.outcome.mealLog))}::jsonb[],
         ${column((o) => o.outcome.mealLog.id)}::uuid[], ${column((o) => o.onlineSessions)}::int[],
         ${column((o) => o.outcome.mealLog.completedAt)}::timestamptz[]
       ) WITH ORDINALITY AS input(user_id, event, data, meal_log_id, online, created_at, ord)
       JOIN ${recorded} AS recorded ON recorded.id = input.meal_log_id`,
    );
    const perUser = statement.with(
      'notification_counts',
      `SELECT user_id, count(*) AS n FROM ${input} GROUP BY user_id`,
    );
    const bumped = statement.with(
      'notification_sequences_bumped',
      `INSERT INTO notification_sequences AS s (user_id, last_seq)
       SELECT user_id, n FROM ${perUser} ORDER BY user_id
       ON CONFLICT (user_id) DO UPDATE SET last_seq = s.last_seq + EXCLUDED.last_seq
       RETURNING user_id, last_seq`,
    );
    return statement.with(
      'notifications_inserted',
      `INSERT INTO notifications
         (user_id, seq, event, data, meal_log_id, online_sessions_at_creation, created_at)
       SELECT input.user_id,
              bumped.last_seq - counts.n
                + row_number() OVER (PARTITION BY input.user_id ORDER BY input.ord),
              input.event, input.data, input.meal_log_id, input.online, input.created_at
       FROM ${input} AS input
       JOIN ${bumped} AS bumped USING (user_id)
       JOIN ${perUser} AS counts USING (user_id)
       RETURNING id, seq, meal_log_id`,
    );
  }

  /** One page of a replay, in seq order, strictly after `afterSeq`. */
  async findForReplay(
    userId: string,
    from: ReplayFrom,
    afterSeq: number,
    limit: number,
  ): Promise<NotificationView[]> {
    const unackedOnly = from.kind === 'unacknowledged';
    const rows = await this.dataSource.query<NotificationRow[]>(
      `SELECT ${COLUMNS} FROM notifications
       WHERE user_id = $1 AND seq > $2 AND (NOT $3 OR acked_at IS NULL)
       ORDER BY seq
       LIMIT $4`,
      [userId, Math.max(afterSeq, from.kind === 'after' ? from.seq : 0), unackedOnly, limit],
    );
    return rows.map(toView);
  }

  /**
   * Notifications of these users that no socket ever received and nobody acknowledged, older than
   * `olderThanMs` (younger ones may simply be on their way). For the periodic re-push.
   */
  async findUndelivered(
    userIds: string[],
    olderThanMs: number,
    limit: number,
  ): Promise<(NotificationView & { userId: string })[]> {
    if (userIds.length === 0) return [];
    const rows = await this.dataSource.query<(NotificationRow & { user_id: string })[]>(
      `SELECT ${COLUMNS}, user_id FROM notifications
       WHERE user_id = ANY($1) AND acked_at IS NULL AND delivered_at IS NULL
         AND created_at < clock_timestamp() - $2 * interval '1 millisecond'
       ORDER BY user_id, seq
       LIMIT $3`,
      [userIds, olderThanMs, limit],
    );
    return rows.map((row) => ({ ...toView(row), userId: row.user_id }));
  }

  /** REST catch-up: everything after `after`, acknowledged or not. */
  async listAfter(userId: string, after: number, limit: number): Promise<NotificationView[]> {
    return this.findForReplay(userId, { kind: 'after', seq: after }, after, limit);
  }

  /** Acknowledges each user's own notifications up to its `seq`; returns how many changed. */
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
       UPDATE notifications SET acked_at = clock_timestamp()
       WHERE id IN (SELECT id FROM target) AND acked_at IS NULL`,
      [acks.map((a) => a.userId), acks.map((a) => a.seq)],
    );
    return count;
  }

  /** Adds delivery attempts in one statement; the first attempt also sets delivered_at. */
  async recordDeliveries(
    deliveries: { id: string; attempts: number; firstAt: Date }[],
  ): Promise<void> {
    if (deliveries.length === 0) return;
    // Locked in id order, like the ack writer's batches (see acknowledgeUpTo).
    await this.dataSource.query(
      `WITH target AS (
         SELECT id FROM notifications WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE
       )
       UPDATE notifications AS n
       SET delivery_attempts = n.delivery_attempts + d.attempts,
           delivered_at = COALESCE(n.delivered_at, d.first_at)
       FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS d(id, attempts, first_at)
       WHERE n.id = d.id AND n.id IN (SELECT id FROM target)`,
      [
        deliveries.map((d) => d.id),
        deliveries.map((d) => d.attempts),
        deliveries.map((d) => d.firstAt),
      ],
    );
  }

  /** Admin view, newest first, paged by seq. */
  async listForAdmin(
    userId: string,
    limit: number,
    beforeSeq: number | null,
  ): Promise<NotificationDeliveryView[]> {
    const rows = await this.dataSource.query<NotificationRow[]>(
      `SELECT ${COLUMNS} FROM notifications
       WHERE user_id = $1 AND ($2::bigint IS NULL OR seq < $2)
       ORDER BY seq DESC
       LIMIT $3`,
      [userId, beforeSeq, limit],
    );
    return rows.map(toDeliveryView);
  }

  /** Deletes up to `batchSize` acknowledged notifications older than `cutoff`; returns the count. */
  async pruneAcknowledgedBefore(cutoff: Date, batchSize: number): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM notifications WHERE id IN (
         SELECT id FROM notifications WHERE acked_at IS NOT NULL AND created_at < $1 LIMIT $2
       )`,
      [cutoff, batchSize],
    );
    return count;
  }
}
