import {
  ConnectedSocket,
  MessageBody,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { PresenceService } from '../presence/presence.service';
import type { ClientFrame } from '../realtime/client-frame.parser';
import { NotificationsService } from './notifications.service';

/** Notification frames on `/ws` (the same socket as PresenceGateway; the adapter merges handlers). */
@WebSocketGateway({ path: '/ws' })
export class NotificationsGateway {
  constructor(
    private readonly presence: PresenceService,
    private readonly notifications: NotificationsService,
  ) {}

  /** `{"type":"ack","seq":N}`: the user's notifications up to N are acknowledged. */
  @SubscribeMessage('ack')
  ack(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody() frame: Extract<ClientFrame, { type: 'ack' }>,
  ): void {
    const session = this.presence.sessionOf(socket);
    if (session) this.notifications.acknowledge(session.userId, frame.seq);
  }
}
