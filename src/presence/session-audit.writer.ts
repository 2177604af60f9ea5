import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { BatchWriter } from '../common/batch-writer';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import type { EndReason, LiveSession } from './live-session';
import { EndedSession, SessionActivity, SessionAuditRepository } from './session-audit.repository';

/**
 * Sessions per activity statement. PostgreSQL's cost model weighs one primary-key probe per
 * session against reading and hashing the whole table, and picks the whole table from about 100
 * sessions at 40,000 rows (12–15 ms, against about 1 ms for 50 probes). 50 keeps it on the
 * probes with room to spare at W7's size; a larger table only moves the switch further up.
 */
export const ACTIVITY_CHUNK = 50;

/** How often per PRESENCE_AUDIT_FLUSH_INTERVAL_MS the activity that has come due is written. */
const ACTIVITY_TICKS_PER_INTERVAL = 10;

/** A session with activity not yet written, since when. */
interface Active {
  session: LiveSession;
  since: number;
}

interface PendingEnd {
  session: EndedSession;
  reason: EndReason;
}

function activityOf(session: LiveSession): SessionActivity {
  return {
    sessionId: session.sessionId,
    lastSeenAt: session.lastSeenAt,
    pings: session.pings,
    appState: session.appState,
    appStateChangedAt: session.appStateChangedAt,
  };
}

/** A session's opening, end, or both, not written yet. */
interface SessionChange {
  opened: LiveSession | null;
  ended: PendingEnd | null;
}

/**
 * Writes the session audit without ever putting the database on the ping path. Opens and ends go
 * through one batching writer, at once (several in one statement when they arrive together); a
 * session's opening and end queued together are one row of it, written opening first, so an end
 * is never written before its opening. Activity goes through another, in periodic batches, never
 * holding up an opening (a new session's welcome waits for its row). Both keep what the database
 * cannot take for now and retry it ten times per interval, and drop (and log) a row it refuses,
 * so one bad session holds up no other.
 *
 * A session's activity is written once it has waited PRESENCE_AUDIT_FLUSH_INTERVAL_MS (the
 * audit's precision for a session that is never closed, e.g. of a killed instance), and the
 * writer looks for due activity ten times per interval, so the rows go a few small statements at
 * a time: writing every active session at once per interval would make 19,000 sessions an
 * 11,000-row burst every 10 s (270-320 ms of back-to-back statements in W7), slowing the
 * statements that commit meal results alongside it.
 */
@Injectable()
export class SessionAuditWriter implements OnApplicationBootstrap {
  private readonly changes: BatchWriter<SessionChange>;
  /**
   * One statement per ACTIVITY_CHUNK sessions, a turn of the event loop apart: building one
   * statement for 19,000 sessions would hold up every socket for the time it takes.
   */
  private readonly activity: BatchWriter<LiveSession>;
  /** Sessions whose activity is not written yet, since when. */
  private readonly active = new Map<string, Active>();
  /** Sessions whose opening is not written yet, with whoever waits for it. */
  private readonly unrecorded = new Map<string, (() => void) | null>();

  constructor(
    private readonly repository: SessionAuditRepository,
    private readonly instance: ServiceInstance,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
    metrics: Metrics,
  ) {
    const retry = {
      afterMs: Math.max(1, config.presence.auditFlushIntervalMs / ACTIVITY_TICKS_PER_INTERVAL),
      // Retried on every tick: one warning per interval is enough.
      warnEveryMs: config.presence.auditFlushIntervalMs,
    };
    this.changes = new BatchWriter<SessionChange>(
      {
        name: 'session_audit',
        keyField: 'sessionId',
        merge: (older, newer) => ({
          opened: older.opened ?? newer.opened,
          ended: newer.ended ?? older.ended,
        }),
        write: (batch) => this.writeChanges(batch.map(([, change]) => change)),
        retry,
        // Refused: the session goes on without its row rather than wait for it.
        dropped: (rows) => this.recorded(rows.map(([sessionId]) => sessionId)),
      },
      metrics,
    );
    this.activity = new BatchWriter<LiveSession>(
      {
        name: 'session_activity',
        keyField: 'sessionId',
        maxBatch: ACTIVITY_CHUNK,
        write: (batch) =>
          // An ended session's activity goes with its end.
          this.repository.flushActivity(
            batch.filter(([, s]) => s.endReason === null).map(([, s]) => activityOf(s)),
          ),
        retry,
      },
      metrics,
    );
  }

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      'session-activity-flush',
      setInterval(
        () => this.queueDueActivity(),
        Math.max(1, this.config.presence.auditFlushIntervalMs / ACTIVITY_TICKS_PER_INTERVAL),
      ),
    );
  }

  opened(session: LiveSession): void {
    this.unrecorded.set(session.sessionId, null);
    this.changes.add(session.sessionId, { opened: session, ended: null });
  }

  /**
   * Resolves once the session's opening is in PostgreSQL, or after `timeoutMs` (database slow or
   * down: the write stays queued and the session is not held back for it).
   */
  whenRecorded(session: LiveSession, timeoutMs: number): Promise<void> {
    if (!this.unrecorded.has(session.sessionId)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const unrecorded = this.unrecorded;
      function done(): void {
        clearTimeout(timer);
        if (unrecorded.get(session.sessionId) === done) unrecorded.set(session.sessionId, null);
        resolve();
      }
      this.unrecorded.set(session.sessionId, done);
    });
  }

  /** Remembers that a session showed activity; written once it is due (see the class). */
  touched(session: LiveSession): void {
    if (!this.active.has(session.sessionId))
      this.active.set(session.sessionId, { session, since: Date.now() });
  }

  ended(sessions: LiveSession[], reason: EndReason, endedAt = new Date()): void {
    for (const session of sessions) {
      this.active.delete(session.sessionId);
      this.changes.add(session.sessionId, {
        opened: null,
        ended: { session: { ...activityOf(session), endedAt }, reason },
      });
    }
  }

  /**
   * Writes everything queued (activity once due) and resolves when it is written, refused or
   * kept for a retry.
   */
  async flush(): Promise<void> {
    this.queueDueActivity();
    await Promise.all([this.changes.flush(), this.activity.flush()]);
  }

  /** The last writes, at shutdown, given up on after a deadline if the database does not answer. */
  async close(): Promise<void> {
    this.queueDueActivity();
    await Promise.all([this.changes.close(), this.activity.close()]);
  }

  /** Opens and ends not written yet. */
  get pendingWrites(): number {
    return this.changes.backlog;
  }

  /** Opens first, then ends by reason: an end queued with its session's opening follows it. */
  private async writeChanges(changes: SessionChange[]): Promise<void> {
    const opened = changes.flatMap(({ opened }) => (opened ? [opened] : []));
    await this.repository.recordOpened(opened, this.instance.id);
    this.recorded(opened.map((session) => session.sessionId));
    const byReason = new Map<EndReason, EndedSession[]>();
    for (const { ended } of changes) {
      if (!ended) continue;
      const group = byReason.get(ended.reason);
      if (group) group.push(ended.session);
      else byReason.set(ended.reason, [ended.session]);
    }
    for (const [reason, sessions] of byReason) await this.repository.recordEnded(sessions, reason);
  }

  private recorded(sessionIds: string[]): void {
    for (const sessionId of sessionIds) {
      const waiter = this.unrecorded.get(sessionId);
      this.unrecorded.delete(sessionId);
      waiter?.();
    }
  }

  /** Hands the activity that has waited an interval to its writer. */
  private queueDueActivity(): void {
    // Sessions that end are not held back: their end is written at once, with their activity.
    const dueSince = Date.now() - this.config.presence.auditFlushIntervalMs;
    // The map is in the order sessions were touched: the first one not due ends the due ones.
    for (const [sessionId, { session, since }] of this.active) {
      if (since > dueSince) break;
      // Out of the map: activity arriving from now on is due an interval later.
      this.active.delete(sessionId);
      this.activity.add(sessionId, session);
    }
  }
}
