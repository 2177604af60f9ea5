import { BeforeApplicationShutdown, Logger, OnModuleInit } from '@nestjs/common';
import {
  ConnectedSocket,
  OnGatewayConnection,
  OnGatewayDisconnect,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { ClusterBus } from '../cluster/cluster-bus.port';
import { AppConfig } from '../config/app-config';
import { UPGRADE_CONTEXT, UpgradedRequest } from '../realtime/mealpulse-ws.adapter';
import { CloseCode, closeSocket, sendFrame, ServerFrame } from '../realtime/server-frames';
import type { LiveSession } from './live-session';
import { PresenceService } from './presence.service';
import { SessionAuditWriter } from './session-audit.writer';
import { SessionOpenedHooks } from './session-opened.hooks';
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

/**
 * `/ws`: the session's life from open to close. The upgrade itself was authorised by
 * UpgradeAuthorizer (through MealPulseWsAdapter) before this gateway sees the socket.
 */
@WebSocketGateway({ path: '/ws' })
export class PresenceGateway
  implements OnGatewayConnection, OnGatewayDisconnect, BeforeApplicationShutdown, OnModuleInit
{
  private readonly logger = new Logger(PresenceGateway.name);
  private readonly expiryTimers = new WeakMap<LiveSession, NodeJS.Timeout>();

  constructor(
    private readonly config: AppConfig,
    private readonly presence: PresenceService,
    private readonly audit: SessionAuditWriter,
    private readonly authorizer: UpgradeAuthorizer,
    private readonly openedHooks: SessionOpenedHooks,
    private readonly bus: ClusterBus,
  ) {}

  /** A newer session of the same device opened on another instance: this one is replaced. */
  onModuleInit(): void {
    this.bus.on('end_session', ({ sessionId }) => {
      const session = this.presence.localSession(sessionId);
      if (session && this.presence.unregister(session, 'replaced')) {
        closeSocket(
          session.socket,
          CloseCode.replaced,
          'replaced by a newer session of this device',
        );
      }
    });
  }

  async handleConnection(
    socket: WebSocket,
    request: UpgradedRequest<UpgradeContext>,
  ): Promise<void> {
    const context = request[UPGRADE_CONTEXT];
    const { session, replaced } = this.presence.register({
      sessionId: randomUUID(),
      userId: context.user.userId,
      deviceId: context.deviceId,
      connectedAt: Date.now(),
      remoteAddress: context.remoteAddress,
      userAgent: context.userAgent,
      expiresAt: context.user.expiresAt,
      socket,
    });
    if (replaced)
      closeSocket(
        replaced.socket,
        CloseCode.replaced,
        'replaced by a newer session of this device',
      );

    // Every inbound frame is a sign of life, whatever else happens to it.
    socket.on('ping', () => this.presence.updateLastSeen(session, 'protocol_ping'));
    socket.on('pong', () => this.presence.updateLastSeen(session, 'protocol_pong'));
    socket.on('message', () => this.presence.updateLastSeen(session, 'message'));

    this.armExpiry(session);
    await this.audit.whenRecorded(session, OPEN_AUDIT_WAIT_MS);
    if (session.endReason !== null) return; // closed or replaced while it was being recorded
    this.presence.welcomed(session);
    sendFrame(
      socket,
      {
        type: 'welcome',
        sessionId: session.sessionId,
        userId: session.userId,
        heartbeatIntervalMs: this.config.ws.heartbeatIntervalMs,
        staleAfterMs: this.config.presence.staleAfterMs,
      },
      this.config.ws.maxBufferedBytes,
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
    this.openedHooks.run(session, context.after);
  }

  handleDisconnect(socket: WebSocket): void {
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

  /** JSON ping, for clients that cannot send protocol pings. */
  @SubscribeMessage('ping')
  ping(@ConnectedSocket() socket: WebSocket): ServerFrame | undefined {
    const session = this.presence.sessionOf(socket);
    if (!session) return undefined;
    this.presence.updateLastSeen(session, 'json_ping');
    return { type: 'pong', ts: Date.now() };
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
          if (session.socket.readyState === session.socket.CLOSED) return resolve();
          session.socket.once('close', () => resolve());
          closeSocket(
            session.socket,
            CloseCode.goingAway,
            'server shutting down',
            SHUTDOWN_CLOSE_GRACE_MS,
          );
        }),
    );
    await this.audit.flush();
    await Promise.all(closed);
    this.logger.log(`closed ${sessions.length} session(s) for shutdown`);
  }

  private armExpiry(session: LiveSession): void {
    const wait = session.expiresAt - Date.now();
    const timer = setTimeout(
      () => {
        if (Date.now() < session.expiresAt) return this.armExpiry(session);
        if (this.presence.unregister(session, 'expired')) {
          closeSocket(session.socket, CloseCode.tokenExpired, 'access token expired');
        }
      },
      Math.min(Math.max(wait, 0), MAX_TIMER_MS),
    );
    timer.unref();
    this.expiryTimers.set(session, timer);
  }
}
