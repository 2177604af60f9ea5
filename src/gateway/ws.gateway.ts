import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { NotificationsService } from '../notifications/notifications.service';
import { PresenceService } from '../presence/presence.service';
import { SessionConnections } from '../presence/session-connections';
import type { UpgradeContext } from '../presence/upgrade.authorizer';
import type { ClientFrameOf } from '../realtime/client-frame.parser';
import { DirectFrame } from '../realtime/direct-frame.decorator';
import { UPGRADE_CONTEXT, UpgradedRequest } from '../realtime/mealpulse-ws.adapter';
import { encodeFrame, EncodedFrame } from '../realtime/server-frames';

/**
 * `/ws`, the one WebSocket endpoint: every client frame arrives here (already authorised at the
 * upgrade and parsed strictly by MealPulseWsAdapter) and goes to its owner in a line: the
 * session's life and its pings and app state to Presence, acks and the replay to Notifications.
 * Its frame handlers are @DirectFrame: the adapter calls them without Nest's per-message context.
 */
@WebSocketGateway({ path: '/ws' })
export class WsGateway implements OnGatewayConnection, OnGatewayDisconnect {
  constructor(
    private readonly connections: SessionConnections,
    private readonly presence: PresenceService,
    private readonly notifications: NotificationsService,
  ) {}

  async handleConnection(
    socket: WebSocket,
    request: UpgradedRequest<UpgradeContext>,
  ): Promise<void> {
    const context = request[UPGRADE_CONTEXT];
    const session = await this.connections.open(socket, context);
    if (session) this.notifications.sessionOpened(session, context.after);
  }

  handleDisconnect(socket: WebSocket): void {
    this.connections.closed(socket);
  }

  /** JSON ping, for clients that cannot send protocol pings. */
  @DirectFrame('ping')
  ping(@ConnectedSocket() socket: WebSocket): EncodedFrame<'pong'> | undefined {
    const session = this.presence.sessionOf(socket);
    if (!session) return undefined;
    this.presence.updateLastSeen(session, 'json_ping');
    return encodeFrame('pong', { ts: Date.now() });
  }

  /** `{"type":"ack","seq":N}`: the user's notifications up to N are acknowledged. */
  @DirectFrame('ack')
  ack(@ConnectedSocket() socket: WebSocket, @MessageBody() frame: ClientFrameOf<'ack'>): void {
    const session = this.presence.sessionOf(socket);
    if (session) this.notifications.acknowledge(session, frame.seq);
  }

  /** `{"type":"app_state","state":…}`: the app went to the background or came back. */
  @DirectFrame('app_state')
  appState(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody() frame: ClientFrameOf<'app_state'>,
  ): void {
    const session = this.presence.sessionOf(socket);
    if (session) this.presence.changeAppState(session, frame.state);
  }
}
