import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
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

/**
 * Writes the session audit without ever putting the database on the ping path: opens and ends
 * are written at once (several in one statement when they arrive together), activity in periodic
 * batches. Writes that fail (database down) stay queued and are retried on the next flush, and
 * flushes never overlap, so a session's end is never written before its opening.
 *
 * A session's activity is written once it has waited PRESENCE_AUDIT_FLUSH_INTERVAL_MS (the
 * audit's precision for a session that is never closed, e.g. of a killed instance), and the
 * writer looks for due activity ten times per interval, so the rows go a few small statements at
 * a time. Writing every active session once per interval made W7's 19,000 sessions per instance
 * an 11,000-row burst every 10 s (270-320 ms of back-to-back statements), and the transactions
 * committing meal results alongside it slowed down.
 */
@Injectable()
export class SessionAuditWriter implements OnApplicationBootstrap {
  private readonly logger = new Logger(SessionAuditWriter.name);
  private readonly opens = new Map<string, LiveSession>();
  private readonly ends = new Map<string, PendingEnd>();
  /** Sessions whose activity is not written yet, since when. */
  private readonly active = new Map<string, Active>();
  private readonly openWaiters = new Map<string, () => void>();
  private flushing: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;
  private flushRequested = false;
  private lastOutageWarningAt = -Infinity;
  constructor(
    private readonly repository: SessionAuditRepository,
    private readonly instance: ServiceInstance,
    private readonly config: AppConfig,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    this.scheduler.addInterval(
      'session-activity-flush',
      setInterval(
        () => this.requestFlush(),
        Math.max(1, this.config.presence.auditFlushIntervalMs / ACTIVITY_TICKS_PER_INTERVAL),
      ),
    );
  }

  opened(session: LiveSession): void {
    this.opens.set(session.sessionId, session);
    this.requestFlush();
  }

  /**
   * Resolves once the session's opening is in PostgreSQL, or after `timeoutMs` (database slow or
   * down: the write stays queued and the session is not held back for it).
   */
  whenRecorded(session: LiveSession, timeoutMs: number): Promise<void> {
    if (!this.opens.has(session.sessionId)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.openWaiters;
      function done(): void {
        clearTimeout(timer);
        waiters.delete(session.sessionId);
        resolve();
      }
      this.openWaiters.set(session.sessionId, done);
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
      this.ends.set(session.sessionId, { session: { ...activityOf(session), endedAt }, reason });
    }
    if (sessions.length > 0) this.requestFlush();
  }

  /**
   * Writes everything queued (activity once due) and resolves when it is written or has failed.
   * Callers arriving while a write runs share one follow-up write: in a reconnect storm thousands
   * ask, and waking each of them after every write made the wake-ups alone quadratic.
   */
  flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = this.write().finally(() => (this.flushing = null));
      return this.flushing;
    }
    const again = () => {
      this.followUp = null;
      return this.flush();
    };
    this.followUp ??= this.flushing.then(again, again);
    return this.followUp;
  }

  get pendingWrites(): number {
    return this.opens.size + this.ends.size;
  }

  /** Schedules a flush on the next turn of the event loop, coalescing what is queued meanwhile. */
  requestFlush(): void {
    if (this.flushRequested) return;
    this.flushRequested = true;
    // Coalesce everything queued in this tick (a sweep, a shutdown) into one round of statements.
    setImmediate(() => {
      this.flushRequested = false;
      this.flush().catch((error: unknown) =>
        this.logger.error({ err: error }, 'session audit flush failed'),
      );
    });
  }

  private async write(): Promise<void> {
    try {
      await this.writeOpens();
      await this.writeEnds();
      await this.writeActivity();
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      // Retried on every tick (ten per interval): one warning per interval is enough.
      const now = Date.now();
      if (now - this.lastOutageWarningAt < this.config.presence.auditFlushIntervalMs) return;
      this.lastOutageWarningAt = now;
      this.logger.warn(
        `database unavailable; ${this.pendingWrites} session audit write(s) queued for retry`,
      );
    }
  }

  private async writeOpens(): Promise<void> {
    if (this.opens.size === 0) return;
    const batch = [...this.opens.values()];
    await this.repository.recordOpened(batch, this.instance.id);
    for (const session of batch) {
      this.opens.delete(session.sessionId);
      this.openWaiters.get(session.sessionId)?.();
    }
  }

  private async writeEnds(): Promise<void> {
    if (this.ends.size === 0) return;
    const byReason = new Map<EndReason, EndedSession[]>();
    let deferred = false;
    for (const { session, reason } of this.ends.values()) {
      // Opened after this flush wrote its opens: its row does not exist yet, so end it next time.
      if (this.opens.has(session.sessionId)) {
        deferred = true;
        continue;
      }
      const group = byReason.get(reason);
      if (group) group.push(session);
      else byReason.set(reason, [session]);
    }
    for (const [reason, sessions] of byReason) {
      await this.repository.recordEnded(sessions, reason);
      for (const session of sessions) this.ends.delete(session.sessionId);
    }
    if (deferred) this.requestFlush();
  }

  /**
   * One statement per ACTIVITY_CHUNK sessions, yielding to the event loop in between: building
   * one statement for 19,000 sessions would hold up every socket for the time it takes. Opens and
   * ends queued meanwhile go first (a new session's welcome waits for its row): the rest of the
   * activity is put back, still due, for the flush that writes them.
   */
  private async writeActivity(): Promise<void> {
    // Sessions that end are not held back: their end is written at once, with their activity.
    const dueSince = Date.now() - this.config.presence.auditFlushIntervalMs;
    const due: Active[] = [];
    for (const entry of this.active.values()) if (entry.since <= dueSince) due.push(entry);
    // Out of the queue before the write: activity arriving meanwhile queues anew, newer values.
    for (const { session } of due) this.active.delete(session.sessionId);
    for (let start = 0; start < due.length; start += ACTIVITY_CHUNK) {
      // Whoever queued those opens or ends has already requested the flush that writes them.
      if (start > 0 && this.pendingWrites > 0) {
        this.putBack(due.slice(start));
        return;
      }
      const chunk = due.slice(start, start + ACTIVITY_CHUNK);
      try {
        await this.repository.flushActivity(chunk.map(({ session }) => activityOf(session)));
      } catch (error) {
        this.putBack(due.slice(start));
        throw error;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Unwritten activity back in the queue, unless the session ended or has newer activity queued. */
  private putBack(entries: Active[]): void {
    for (const entry of entries) {
      const { sessionId, endReason } = entry.session;
      if (endReason === null && !this.active.has(sessionId)) this.active.set(sessionId, entry);
    }
  }
}
