import { Injectable, Logger } from '@nestjs/common';
import type { WebSocket } from 'ws';
import { ClusterBus } from '../cluster/cluster-bus.port';
import { END_SESSION_TOPIC } from './end-session.topic';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import type { AppState } from '../realtime/client-frame.parser';
import type { EndReason, FrameKind, LiveSession } from './live-session';
import { LocalSessions } from './local-sessions';
import { toSessionRecord } from './memory-presence.store';
import { PresenceChanges } from './presence-changes';
import { PresenceStore, SessionRecord, UserSessions } from './presence-store.port';
import { SessionAuditWriter } from './session-audit.writer';
import type { SessionPlacement } from './session-placement';
import { isFresh, isSweptAsStale } from './staleness';

export type NewSession = Omit<
  LiveSession,
  'lastSeenAt' | 'welcomed' | 'pings' | 'appState' | 'appStateChangedAt' | 'endReason'
>;

/**
 * Who is connected. This process's sessions live in LocalSessions (with their sockets); every
 * inbound frame refreshes one in memory only (O(1), no I/O). The PresenceStore shares them with
 * the other instances, and SessionAuditWriter records their lives in PostgreSQL.
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger(PresenceService.name);
  /** Checked once: building a log line per ping only to drop it is measurable at 19,000 sessions. */
  private readonly logPings: boolean;

  constructor(
    private readonly config: AppConfig,
    private readonly local: LocalSessions,
    private readonly store: PresenceStore,
    private readonly audit: SessionAuditWriter,
    private readonly bus: ClusterBus,
    private readonly instance: ServiceInstance,
    private readonly metrics: Metrics,
    private readonly changes: PresenceChanges,
  ) {
    this.logPings = config.logLevel === 'debug' || config.logLevel === 'trace';
  }

  /**
   * Registers a new session. A previous session of the same user and device is ended as
   * `replaced`: here it is returned for the caller to close; on another instance that instance is
   * told to close it. The new session is registered first, so the user is never offline between.
   */
  register(
    input: NewSession,
    socket: WebSocket,
  ): { session: LiveSession; replaced: LiveSession | null } {
    const session: LiveSession = {
      ...input,
      lastSeenAt: input.connectedAt,
      welcomed: false,
      pings: 0,
      appState: 'foreground',
      appStateChangedAt: null,
      endReason: null,
    };
    const previous = this.local.add(session, socket);
    this.store.opened(session);
    this.audit.opened(session);
    this.metrics.sessionsOpen.inc();
    this.changes.emit(() => ({
      type: 'session.opened',
      at: new Date(session.connectedAt).toISOString(),
      session: toSessionRecord(session, this.instance.id),
    }));
    const replaced = previous && this.unregister(previous, 'replaced') ? previous : null;
    if (session.deviceId !== null) void this.replaceOnOtherInstances(session);
    return { session, replaced };
  }

  /**
   * The session's `welcome` is being sent: from now on its silence counts. The wait for its
   * opening to be audited (up to a second) is the server's, not the client's, and with a short
   * stale window it would otherwise sweep sessions that never had a chance to ping.
   */
  welcomed(session: LiveSession): void {
    session.welcomed = true;
    session.lastSeenAt = Date.now();
    this.store.touched(session);
  }

  /** A sign of life: the hot path of the whole service, so memory only. */
  updateLastSeen(session: LiveSession, kind: FrameKind): void {
    if (session.endReason !== null) return;
    // A JSON ping is a message too, and the every-frame listener refreshes and shares it in the
    // same event: here it only counts as a ping.
    if (kind === 'json_ping') {
      session.pings++;
      this.metrics.signsOfLife.pings.json_ping++;
      return;
    }
    session.lastSeenAt = Date.now();
    if (kind !== 'message') {
      session.pings++;
      this.metrics.signsOfLife.pings[kind]++;
    }
    this.metrics.signsOfLife.lastSeenUpdates++;
    this.store.touched(session);
    this.audit.touched(session);
    // Checked here, not by the logger: at any other level the line's fields would still be built.
    if (this.logPings)
      this.logger.debug(
        { sessionId: session.sessionId, userId: session.userId, kind },
        'lastSeen refreshed',
      );
  }

  /**
   * The app went to the background or came back (`app_state`). Other instances see it with the
   * session's placement, which is what decides whether a new notification is pushed through APNs
   * at once; the audit records it with the session's activity.
   */
  changeAppState(session: LiveSession, state: AppState): void {
    if (session.endReason !== null || session.appState === state) return;
    session.appState = state;
    session.appStateChangedAt = Date.now();
    this.metrics.appStateChanges.inc({ state });
    this.store.appStateChanged(session);
    this.audit.touched(session);
    this.changes.emit(() => ({
      type: 'session.app_state',
      at: new Date(session.appStateChangedAt!).toISOString(),
      sessionId: session.sessionId,
      userId: session.userId,
      appState: state,
    }));
    this.logger.debug(
      { sessionId: session.sessionId, userId: session.userId, state },
      'app state changed',
    );
  }

  /**
   * Ends a session for `reason` unless it has already ended (a close racing a sweep, a replace
   * or a shutdown); returns whether this call ended it.
   */
  unregister(session: LiveSession, reason: EndReason): boolean {
    return this.endMany([session], reason).length === 1;
  }

  /**
   * The local sessions of `shards` (see LocalSessions.inShard) that were silent for
   * PRESENCE_STALE_AFTER_MS at `now`; nothing ends yet (see `endStale`).
   */
  staleIn(shards: Iterable<number>, now: number): LiveSession[] {
    const stale: LiveSession[] = [];
    for (const shard of shards) {
      for (const session of this.local.inShard(shard))
        if (isSweptAsStale(session, now, this.config.presence.staleAfterMs)) stale.push(session);
    }
    return stale;
  }

  /**
   * Ends as `stale`, audited together, those of `sessions` still silent at `now`: one that sent a
   * frame since it was found stays.
   */
  endStale(sessions: LiveSession[], now: number): LiveSession[] {
    return this.endMany(
      sessions.filter((s) => isSweptAsStale(s, now, this.config.presence.staleAfterMs)),
      'stale',
    );
  }

  /** Ends every local session (shutdown). */
  endAll(reason: EndReason): LiveSession[] {
    return this.endMany([...this.local.all()], reason);
  }

  /** The local session with this id (for another instance's request to end it). */
  localSession(sessionId: string): LiveSession | undefined {
    return this.local.get(sessionId);
  }

  /** The session a socket carries (also after it ended: see `endReason`). */
  sessionOf(socket: WebSocket): LiveSession | undefined {
    return this.local.ofSocket(socket);
  }

  /** This instance's sessions of a user: the ones it can write to. */
  localSessionsOf(userId: string): LiveSession[] {
    return this.local.ofUser(userId);
  }

  /** Users with a session on this instance. */
  localUserIds(): string[] {
    return [...this.local.userIds()];
  }

  /** The user's sessions on every instance. */
  sessionsOf(userId: string): Promise<SessionRecord[]> {
    return this.store.sessionsOf(userId);
  }

  /** Where the user's sessions are, on every instance (one cheap read). */
  async placementsOf(userId: string): Promise<SessionPlacement[]> {
    return (await this.store.placementsOf([userId])).get(userId) ?? [];
  }

  /** Where each user's sessions are, on every instance (one cheap read for them all). */
  placementsOfUsers(userIds: string[]): Promise<Map<string, SessionPlacement[]>> {
    return this.store.placementsOf(userIds);
  }

  /** Online: at least one session, on any instance, with a sign of life inside the stale window. */
  async isOnline(userId: string, now = Date.now()): Promise<boolean> {
    const sessions = await this.store.sessionsOf(userId);
    return sessions.some((s) =>
      isFresh(Date.parse(s.lastSeenAt), now, this.config.presence.staleAfterMs),
    );
  }

  overview(
    limit: number,
    now = Date.now(),
  ): Promise<{ onlineUsers: number; sessions: number; users: UserSessions[] }> {
    return this.store.overview(limit, now);
  }

  /** The instances other than this one among `placements`. */
  otherInstancesIn(placements: SessionPlacement[]): string[] {
    return [...new Set(placements.map((p) => p.instanceId))].filter(
      (id) => id !== this.instance.id,
    );
  }

  get sessionCount(): number {
    return this.local.count;
  }

  private async replaceOnOtherInstances(session: LiveSession): Promise<void> {
    const elsewhere = (await this.placementsOf(session.userId)).filter(
      (other) => other.deviceId === session.deviceId && other.instanceId !== this.instance.id,
    );
    for (const other of elsewhere) {
      await this.bus.send(other.instanceId, END_SESSION_TOPIC, {
        sessionId: other.sessionId,
        reason: 'replaced',
      });
    }
  }

  private endMany(candidates: LiveSession[], reason: EndReason): LiveSession[] {
    const ended: LiveSession[] = [];
    for (const session of candidates) {
      if (session.endReason !== null) continue;
      session.endReason = reason;
      this.local.remove(session);
      ended.push(session);
    }
    if (this.changes.watched) {
      const at = new Date().toISOString();
      for (const session of ended)
        this.changes.emit(() => ({
          type: 'session.ended',
          at,
          sessionId: session.sessionId,
          userId: session.userId,
          instanceId: this.instance.id,
          endReason: reason,
        }));
    }
    if (ended.length === 0) return ended;
    this.store.ended(ended);
    this.audit.ended(ended, reason);
    this.metrics.sessionsOpen.dec(ended.length);
    this.metrics.sessionsEnded.inc({ reason }, ended.length);
    return ended;
  }
}
