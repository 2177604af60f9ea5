import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { KeysetCursor } from '../common/pagination';
import type { AppState } from '../realtime/client-frame.parser';
import type { AuditedSessionView, EndReason, LiveSession } from './live-session';

interface AuditedSessionRow {
  session_id: string;
  user_id: string;
  device_id: string | null;
  connected_at: Date;
  last_seen_at: Date;
  pings: number;
  app_state: AppState;
  app_state_changed_at: Date | null;
  remote_address: string | null;
  user_agent: string | null;
  ended_at: Date;
  end_reason: EndReason;
  ended_at_key: string;
}

export interface EndedSessionFilter {
  userId?: string;
  endReason?: EndReason;
  from?: Date;
  to?: Date;
}

/** One line of a batched activity flush. */
export interface SessionActivity {
  sessionId: string;
  lastSeenAt: number;
  pings: number;
  appState: AppState;
  appStateChangedAt: number | null;
}

/**
 * The activity columns of a batch, in unnest order: $n session_id, last_seen_at, pings,
 * app_state, app_state_changed_at.
 */
function activityColumns(activity: SessionActivity[]): unknown[] {
  return [
    activity.map((a) => a.sessionId),
    activity.map((a) => new Date(a.lastSeenAt)),
    activity.map((a) => a.pings),
    activity.map((a) => a.appState),
    activity.map((a) => (a.appStateChangedAt === null ? null : new Date(a.appStateChangedAt))),
  ];
}

/**
 * What an activity line changes in its row: the latest sign of life and ping count win (a late
 * batch must not move them back), and so does the latest app state change.
 */
const APPLY_ACTIVITY = `last_seen_at = GREATEST(s.last_seen_at, a.last_seen_at),
       pings = GREATEST(s.pings, a.pings),
       app_state = CASE WHEN a.app_state_changed_at > COALESCE(s.app_state_changed_at, '-infinity')
                   THEN a.app_state ELSE s.app_state END,
       app_state_changed_at = GREATEST(s.app_state_changed_at, a.app_state_changed_at)`;

export interface EndedSessionFilter {
  userId?: string;
  endReason?: EndReason;
  from?: Date;
  to?: Date;
}

export interface EndedSession extends SessionActivity {
  endedAt: Date;
}

@Injectable()
export class SessionAuditRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Records newly opened sessions, many in one statement. */
  async recordOpened(sessions: LiveSession[], instanceId: string): Promise<void> {
    if (sessions.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO ws_sessions (session_id, user_id, device_id, instance_id, connected_at, last_seen_at,
                                pings, remote_address, user_agent)
       SELECT s.session_id, s.user_id, s.device_id, $1, s.connected_at, s.last_seen_at, s.pings,
              s.remote_address, s.user_agent
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::int[],
                   $8::text[], $9::text[])
            AS s(session_id, user_id, device_id, connected_at, last_seen_at, pings, remote_address, user_agent)
       ON CONFLICT (session_id) DO NOTHING`,
      [
        instanceId,
        sessions.map((s) => s.sessionId),
        sessions.map((s) => s.userId),
        sessions.map((s) => s.deviceId),
        sessions.map((s) => new Date(s.connectedAt)),
        sessions.map((s) => new Date(s.lastSeenAt)),
        sessions.map((s) => s.pings),
        sessions.map((s) => s.remoteAddress),
        sessions.map((s) => s.userAgent),
      ],
    );
  }

  /**
   * Writes the activity of many open sessions in one statement. "Open" is tested on end_reason,
   * which the table's CHECK ties to ended_at: written as `ended_at IS NULL`, it lets the planner
   * read every open session through ws_sessions_open_idx and hash them all (on a table not yet
   * analysed it expects 0.5 % of them to be open), where one primary-key probe per given
   * session is what this needs.
   */
  async flushActivity(activity: SessionActivity[]): Promise<void> {
    if (activity.length === 0) return;
    await this.dataSource.query(
      `UPDATE ws_sessions AS s
       SET ${APPLY_ACTIVITY}
       FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::text[], $5::timestamptz[])
            AS a(session_id, last_seen_at, pings, app_state, app_state_changed_at)
       WHERE s.session_id = a.session_id AND s.end_reason IS NULL`,
      activityColumns(activity),
    );
  }

  /**
   * Ends the given sessions with one reason in one statement. Only sessions still open change,
   * so two instances (or a sweep racing a close) can never write two endings for one session;
   * the ids returned are the ones this call ended.
   */
  async recordEnded(sessions: EndedSession[], reason: EndReason): Promise<string[]> {
    if (sessions.length === 0) return [];
    const [rows] = await this.dataSource.query<[{ session_id: string }[], number]>(
      `UPDATE ws_sessions AS s
       SET ended_at = a.ended_at, end_reason = $7, ${APPLY_ACTIVITY}
       FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::text[], $5::timestamptz[],
                   $6::timestamptz[])
            AS a(session_id, last_seen_at, pings, app_state, app_state_changed_at, ended_at)
       WHERE s.session_id = a.session_id AND s.ended_at IS NULL
       RETURNING s.session_id`,
      [...activityColumns(sessions), sessions.map((a) => a.endedAt), reason],
    );
    return rows.map((row) => row.session_id);
  }

  /** Marks this instance alive; other instances use it to tell a live instance from a dead one. */
  async heartbeat(instanceId: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO presence_instances (instance_id) VALUES ($1)
       ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = clock_timestamp()`,
      [instanceId],
    );
  }

  async removeInstance(instanceId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM presence_instances WHERE instance_id = $1`, [
      instanceId,
    ]);
  }

  /**
   * Ends as `lost` the open sessions of instances that stopped heart-beating (killed, crashed) or
   * never registered. Each lost session ends at its last known sign of life.
   *
   * The instances holding open sessions are found with one index probe each (a loose scan of the
   * open-sessions index), then only the dead ones' sessions are touched: checking every open
   * session against its instance's heartbeat read all of them on every sweep of every instance
   * (15 ms of PostgreSQL at W7's 38,000 open sessions, and it grows with the sessions).
   */
  async closeLostSessions(liveInstanceId: string, deadAfterMs: number): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      `WITH RECURSIVE holding AS (
         (SELECT instance_id FROM ws_sessions WHERE ended_at IS NULL ORDER BY instance_id LIMIT 1)
         UNION ALL
         SELECT (
           SELECT s.instance_id FROM ws_sessions AS s
           WHERE s.ended_at IS NULL AND s.instance_id > holding.instance_id
           ORDER BY s.instance_id LIMIT 1
         )
         FROM holding WHERE holding.instance_id IS NOT NULL
       ), dead AS (
         SELECT instance_id FROM holding
         WHERE instance_id IS NOT NULL
           AND instance_id <> $1
           AND NOT EXISTS (
             SELECT 1 FROM presence_instances AS i
             WHERE i.instance_id = holding.instance_id
               AND i.heartbeat_at > clock_timestamp() - $2 * interval '1 millisecond'
           )
       )
       UPDATE ws_sessions AS s
       SET ended_at = s.last_seen_at, end_reason = 'lost'
       WHERE s.ended_at IS NULL AND s.instance_id = ANY (ARRAY(SELECT instance_id FROM dead))`,
      [liveInstanceId, deadAfterMs],
    );
    await this.dataSource.query(
      `DELETE FROM presence_instances WHERE heartbeat_at < clock_timestamp() - $1 * interval '1 millisecond'`,
      [deadAfterMs],
    );
    return count;
  }

  /**
   * Deletes up to `limit` sessions that ended before `cutoff`, skipping rows another transaction
   * holds; sessions still open are never touched. Returns how many went.
   */
  async deleteEndedBefore(cutoff: Date, limit: number): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM ws_sessions WHERE session_id IN (
         SELECT session_id FROM ws_sessions WHERE ended_at < $1
         ORDER BY ended_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )`,
      [cutoff, limit],
    );
    return count;
  }

  /** Ended sessions, newest first, keyset-paginated on (ended_at, session_id). */
  async listEnded(
    filter: EndedSessionFilter,
    limit: number,
    after: KeysetCursor | null,
  ): Promise<{ items: AuditedSessionView[]; next: KeysetCursor | null }> {
    const rows = await this.dataSource.query<AuditedSessionRow[]>(
      `SELECT session_id, user_id, device_id, connected_at, last_seen_at, pings, app_state,
              app_state_changed_at, remote_address, user_agent, ended_at, end_reason,
              ended_at::text AS ended_at_key
       FROM ws_sessions
       WHERE ended_at IS NOT NULL
         AND ($1::text IS NULL OR user_id = $1)
         AND ($2::text IS NULL OR end_reason = $2)
         AND ($3::timestamptz IS NULL OR ended_at >= $3)
         AND ($4::timestamptz IS NULL OR ended_at < $4)
         AND ($5::timestamptz IS NULL OR (ended_at, session_id) < ($5::timestamptz, $6::uuid))
       ORDER BY ended_at DESC, session_id DESC
       LIMIT $7`,
      [
        filter.userId ?? null,
        filter.endReason ?? null,
        filter.from ?? null,
        filter.to ?? null,
        after?.at ?? null,
        after?.id ?? null,
        limit + 1,
      ],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map((row) => ({
        sessionId: row.session_id,
        userId: row.user_id,
        deviceId: row.device_id,
        connectedAt: row.connected_at.toISOString(),
        lastSeenAt: row.last_seen_at.toISOString(),
        pings: row.pings,
        appState: row.app_state,
        appStateChangedAt: row.app_state_changed_at?.toISOString() ?? null,
        remoteAddress: row.remote_address,
        userAgent: row.user_agent,
        endedAt: row.ended_at.toISOString(),
        endReason: row.end_reason,
      })),
      next: rows.length > limit ? { at: last.ended_at_key, id: last.session_id } : null,
    };
  }
}
