import { Injectable, Logger } from '@nestjs/common';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { ServiceInstance } from '../common/service-instance';
import type { EndReason, LiveSession } from './live-session';
import { EndedSession, SessionActivity, SessionAuditRepository } from './session-audit.repository';

/** Sessions per activity statement. */
const ACTIVITY_CHUNK = 1_000;

interface PendingEnd {
  session: EndedSession;
  reason: EndReason;
}

function activityOf(session: LiveSession): SessionActivity {
  return { sessionId: session.sessionId, lastSeenAt: session.lastSeenAt, pings: session.pings };
}

/**
 * Writes the session audit without ever putting the database on the ping path: opens and ends
 * are written at once (several in one statement when they arrive together), activity in periodic
 * batches. Writes that fail (database down) stay queued and are retried on the next flush, and
 * flushes never overlap, so a session's end is never written before its opening.
 */
@Injectable()
export class SessionAuditWriter {
  private readonly logger = new Logger(SessionAuditWriter.name);
  private readonly opens = new Map<string, LiveSession>();
  private readonly ends = new Map<string, PendingEnd>();
  private readonly active = new Map<string, LiveSession>();
  private readonly openWaiters = new Map<string, () => void>();
  private flushing: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;
  private flushRequested = false;
  constructor(
    private readonly repository: SessionAuditRepository,
    private readonly instance: ServiceInstance,
  ) {}

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

  /** Remembers that a session showed activity; written on the next periodic flush. */
  touched(session: LiveSession): void {
    this.active.set(session.sessionId, session);
  }

  ended(sessions: LiveSession[], reason: EndReason, endedAt = new Date()): void {
    for (const session of sessions) {
      this.active.delete(session.sessionId);
      this.ends.set(session.sessionId, { session: { ...activityOf(session), endedAt }, reason });
    }
    if (sessions.length > 0) this.requestFlush();
  }

  /**
   * Writes everything queued (activity included) and resolves when it is written or has failed.
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
   * one statement for 19,000 sessions would hold up every socket for the time it takes.
   */
  private async writeActivity(): Promise<void> {
    if (this.active.size === 0) return;
    const batch = [...this.active.values()];
    this.active.clear();
    for (let start = 0; start < batch.length; start += ACTIVITY_CHUNK) {
      const chunk = batch.slice(start, start + ACTIVITY_CHUNK);
      try {
        await this.repository.flushActivity(chunk.map(activityOf));
      } catch (error) {
        for (const session of batch.slice(start)) {
          if (session.endReason === null && !this.active.has(session.sessionId))
            this.active.set(session.sessionId, session);
        }
        throw error;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
