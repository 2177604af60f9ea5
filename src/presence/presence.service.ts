import { Injectable, Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import type { EndReason, FrameKind, LiveSession } from './live-session';
import { SessionAuditWriter } from './session-audit.writer';
import { isFresh, isStale, latestSeen } from './staleness';

export type NewSession = Omit<LiveSession, 'lastSeenAt' | 'pings' | 'endReason'>;

/**
 * Who is connected, from this process's point of view: sessions by id with a per-user and a
 * per-device index. Every inbound frame refreshes a session in memory only (O(1), no I/O); the
 * audit trail is written around it by SessionAuditWriter.
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger(PresenceService.name);
  private readonly sessions = new Map<string, LiveSession>();
  private readonly byUser = new Map<string, Set<LiveSession>>();
  private readonly byDevice = new Map<string, LiveSession>();
  private readonly bySocket = new WeakMap<WebSocket, LiveSession>();

  constructor(
    private readonly config: AppConfig,
    private readonly audit: SessionAuditWriter,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Registers a new session. A previous session of the same user and device is ended as
   * `replaced` and returned for the caller to close: the new one is registered first, so the user
   * is never without a session in between.
   */
  register(input: NewSession): { session: LiveSession; replaced: LiveSession | null } {
    const session: LiveSession = {
      ...input,
      lastSeenAt: input.connectedAt,
      pings: 0,
      endReason: null,
    };
    const deviceKey =
      session.deviceId === null ? null : `${session.userId}\u0000${session.deviceId}`;
    const previous = deviceKey === null ? undefined : this.byDevice.get(deviceKey);

    this.sessions.set(session.sessionId, session);
    let userSessions = this.byUser.get(session.userId);
    if (!userSessions) this.byUser.set(session.userId, (userSessions = new Set()));
    userSessions.add(session);
    if (deviceKey !== null) this.byDevice.set(deviceKey, session);
    this.bySocket.set(session.socket, session);
    this.audit.opened(session);
    this.metrics.sessionsOpen.inc();

    const replaced = previous && this.unregister(previous, 'replaced') ? previous : null;
    return { session, replaced };
  }

  /** A sign of life: the hot path of the whole service, so memory only. */
  updateLastSeen(session: LiveSession, kind: FrameKind): void {
    if (session.endReason !== null) return;
    session.lastSeenAt = Date.now();
    if (kind !== 'message') {
      session.pings++;
      this.metrics.pingsReceived.inc({ kind });
    }
    this.metrics.lastSeenUpdates.inc();
    this.audit.touched(session);
    this.logger.debug(
      { sessionId: session.sessionId, userId: session.userId, kind },
      'lastSeen refreshed',
    );
  }

  /**
   * Ends a session for `reason` unless it has already ended (a close racing a sweep, a replace
   * or a shutdown); returns whether this call ended it.
   */
  unregister(session: LiveSession, reason: EndReason): boolean {
    return this.endMany([session], reason).length === 1;
  }

  /** Ends every session that has been silent for `PRESENCE_STALE_AFTER_MS`, audited together. */
  endStale(now = Date.now()): LiveSession[] {
    const stale = [...this.sessions.values()].filter((s) =>
      isStale(s.lastSeenAt, now, this.config.presence.staleAfterMs),
    );
    return this.endMany(stale, 'stale');
  }

  /** Ends every session (shutdown). */
  endAll(reason: EndReason): LiveSession[] {
    return this.endMany([...this.sessions.values()], reason);
  }

  isOnline(userId: string, now = Date.now()): boolean {
    return this.sessionsOf(userId).some((s) =>
      isFresh(s.lastSeenAt, now, this.config.presence.staleAfterMs),
    );
  }

  /** The session a socket carries (also after it ended: see `endReason`). */
  sessionOf(socket: WebSocket): LiveSession | undefined {
    return this.bySocket.get(socket);
  }

  sessionsOf(userId: string): LiveSession[] {
    return [...(this.byUser.get(userId) ?? [])];
  }

  /** Users with at least one fresh session. */
  onlineUsers(now = Date.now()): string[] {
    return [...this.byUser.keys()].filter((userId) => this.isOnline(userId, now));
  }

  lastSeenAt(userId: string): number | null {
    return latestSeen(this.sessionsOf(userId).map((s) => s.lastSeenAt));
  }

  /** Every session this process holds, grouped by user. */
  users(): { userId: string; sessions: LiveSession[] }[] {
    return [...this.byUser.entries()].map(([userId, sessions]) => ({
      userId,
      sessions: [...sessions],
    }));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private endMany(candidates: LiveSession[], reason: EndReason): LiveSession[] {
    const ended: LiveSession[] = [];
    for (const session of candidates) {
      if (session.endReason !== null) continue;
      session.endReason = reason;
      this.sessions.delete(session.sessionId);
      const userSessions = this.byUser.get(session.userId);
      userSessions?.delete(session);
      if (userSessions?.size === 0) this.byUser.delete(session.userId);
      if (session.deviceId !== null) {
        const deviceKey = `${session.userId}\u0000${session.deviceId}`;
        if (this.byDevice.get(deviceKey) === session) this.byDevice.delete(deviceKey);
      }
      ended.push(session);
    }
    this.audit.ended(ended, reason);
    if (ended.length > 0) {
      this.metrics.sessionsOpen.dec(ended.length);
      this.metrics.sessionsEnded.inc({ reason }, ended.length);
    }
    return ended;
  }
}
