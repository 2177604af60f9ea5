import { BeforeApplicationShutdown, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { ClusterBus } from '../cluster/cluster-bus.port';
import { END_SESSION_TOPIC } from './end-session.topic';
import { AppConfig } from '../config/app-config';
import {
  CloseCode,
  closeSocket,
  encodeFrame,
  EncodedFrame,
  SendResult,
  writeFrame,
} from '../realtime/server-frames';
import type { EndReason, LiveSession } from './live-session';
import { LocalSessions } from './local-sessions';
import { PresenceService } from './presence.service';
import { SessionAuditWriter } from './session-audit.writer';
import { UpgradeAuthorizer, UpgradeContext } from './upgrade.authorizer';

/** setTimeout's ceiling (about 24.8 days); longer waits are re-armed when they fire. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/**
 * How long a new session waits for its opening to be written to the audit before `welcome`: a
 * process killed right after a welcome must still leave the session in the audit (to be closed
 * as `lost`), but a slow or unavailable database must not keep users from connecting.
 */
const OPEN_AUDIT_WAIT_MS = 1_000;
/** How long shutdown waits for clients to answer the 1001 close before terminating them. */
const SHUTDOWN_CLOSE_GRACE_MS = 2_000;

/** Why the server closes a session, with the close code and text the client gets. */
const CLOSES = {
  replaced: [CloseCode.replaced, 'replaced by a newer session of this device'],
  expired: [CloseCode.tokenExpired, 'access token expired'],
  stale: [CloseCode.stale, 'no sign of life'],
} as const satisfies Partial<Record<EndReason, readonly [number, string]>>;

/**
 * The sockets of this instance's sessions, and the only code that writes to or closes them: a
 * session's life from the accepted upgrade to the close (sign-of-life listeners, token expiry,
 * `welcome`), the frames other modules send (notifications), and the closes PresenceService
 * decides (stale, replaced, expired, shutdown).
 */
@Injectable()
export class SessionConnections implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionConnections.name);
  private readonly expiryTimers = new WeakMap<LiveSession, NodeJS.Timeout>();

  constructor(
    private readonly config: AppConfig,
    private readonly presence: PresenceService,
    private readonly local: LocalSessions,
    private readonly audit: SessionAuditWriter,
    private readonly authorizer: UpgradeAuthorizer,
    private readonly bus: ClusterBus,
  ) {}

  /** A newer session of the same device opened on another instance: this one is replaced. */
  onModuleInit(): void {
    this.bus.on(END_SESSION_TOPIC, ({ sessionId }) => {
      const session = this.presence.localSession(sessionId);
      if (session) this.end(session, 'replaced');
    });
  }

  /**
   * Registers the session an accepted upgrade opened and welcomes it once its opening is audited
   * (or after OPEN_AUDIT_WAIT_MS). Resolves with the session, or null if it ended meanwhile.
   */
  async open(socket: WebSocket, context: UpgradeContext): Promise<LiveSession | null> {
    const { session, replaced } = this.presence.register(
      {
        sessionId: randomUUID(),
        userId: context.user.userId,
        deviceId: context.deviceId,
        connectedAt: Date.now(),
        remoteAddress: context.remoteAddress,
        userAgent: context.userAgent,
        expiresAt: context.user.expiresAt,
      },
      socket,
    );
    if (replaced) this.closeFor(replaced, 'replaced');

    // Every inbound frame is a sign of life, whatever else happens to it.
    socket.on('ping', () => this.presence.updateLastSeen(session, 'protocol_ping'));
    socket.on('pong', () => this.presence.updateLastSeen(session, 'protocol_pong'));
    socket.on('message', () => this.presence.updateLastSeen(session, 'message'));

    this.armExpiry(session);
    await this.audit.whenRecorded(session, OPEN_AUDIT_WAIT_MS);
    if (session.endReason !== null) return null; // closed or replaced while it was being recorded
    this.presence.welcomed(session);
    this.send(
      session,
      encodeFrame('welcome', {
        sessionId: session.sessionId,
        userId: session.userId,
        heartbeatIntervalMs: this.config.ws.heartbeatIntervalMs,
        staleAfterMs: this.config.presence.staleAfterMs,
      }),
    );
    this.logger.log(
      {
        userId: session.userId,
        sessionId: session.sessionId,
        deviceId: session.deviceId,
        replaced: replaced?.sessionId,
      },
      'connected',
    );
    return session;
  }

  /** The socket closed (either side): the session ends as `closed` unless it ended already. */
  closed(socket: WebSocket): void {
    const session = this.presence.sessionOf(socket);
    if (!session) return;
    clearTimeout(this.expiryTimers.get(session));
    this.presence.unregister(session, 'closed'); // a no-op when the server ended it first
    this.logger.log(
      {
        userId: session.userId,
        sessionId: session.sessionId,
        reason: session.endReason,
        durationMs: Date.now() - session.connectedAt,
        pings: session.pings,
      },
      'disconnected',
    );
  }

  /** Writes a frame to a live session (see `writeFrame` for a client that stopped reading). */
  send(session: LiveSession, frame: EncodedFrame): SendResult {
    if (session.endReason !== null) return 'closed';
    const socket = this.local.socketOf(session);
    if (!socket) return 'closed';
    const result = writeFrame(socket, frame, this.config.ws.maxBufferedBytes);
    if (result === 'overflow') {
      this.logger.warn(
        { sessionId: session.sessionId, userId: session.userId },
        'terminated a session that stopped reading',
      );
    }
    return result;
  }

  /** A protocol ping (the heartbeat); the client's pong refreshes its presence. */
  ping(session: LiveSession): void {
    const socket = this.local.socketOf(session);
    if (socket && socket.readyState === socket.OPEN) socket.ping();
  }

  /**
   * Closes a session PresenceService has already ended, with the code its end reason calls for.
   * A peer that does not answer the close within `graceMs` is terminated.
   */
  closeFor(session: LiveSession, reason: keyof typeof CLOSES, graceMs?: number): void {
    const socket = this.local.socketOf(session);
    const [code, text] = CLOSES[reason];
    if (socket) closeSocket(socket, code, text, graceMs);
  }

  /**
   * Closes every session with 1001 and audits it `shutdown` before Nest's adapter disposes of
   * the server: the adapter terminates sockets without a close frame, which clients would take
   * for a network failure, and the audit would have to call them `lost`.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.authorizer.stopAccepting();
    const sessions = this.presence.endAll('shutdown');
    const closed = sessions.map(
      (session) =>
        new Promise<void>((resolve) => {
          const socket = this.local.socketOf(session);
          if (!socket || socket.readyState === socket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          closeSocket(socket, CloseCode.goingAway, 'server shutting down', SHUTDOWN_CLOSE_GRACE_MS);
        }),
    );
    await this.audit.close();
    await Promise.all(closed);
    this.logger.log(`closed ${sessions.length} session(s) for shutdown`);
  }

  /** Ends the session for `reason` and closes it, unless it has ended already. */
  private end(session: LiveSession, reason: keyof typeof CLOSES): void {
    if (this.presence.unregister(session, reason)) this.closeFor(session, reason);
  }

  private armExpiry(session: LiveSession): void {
    const wait = session.expiresAt - Date.now();
    const timer = setTimeout(
      () => {
        if (Date.now() < session.expiresAt) return this.armExpiry(session);
        this.end(session, 'expired');
      },
      Math.min(Math.max(wait, 0), MAX_TIMER_MS),
    );
    timer.unref();
    this.expiryTimers.set(session, timer);
  }
}
