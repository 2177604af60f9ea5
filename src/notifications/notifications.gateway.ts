import { Logger } from '@nestjs/common';
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
  private readonly logger = new Logger(NotificationsGateway.name);

  constructor(
    private readonly presence: PresenceService,
    private readonly notifications: NotificationsService,
  ) {}

  /** `{"type":"ack","seq":N}`: the user's notifications up to N are acknowledged. */
  @SubscribeMessage('ack')
  async ack(
    @ConnectedSocket() socket: WebSocket,
    @MessageBody() frame: Extract<ClientFrame, { type: 'ack' }>,
  ): Promise<void> {
    const session = this.presence.sessionOf(socket);
    if (!session) return;
    const count = await this.notifications.acknowledge(session.userId, frame.seq);
    this.logger.debug({ userId: session.userId, seq: frame.seq, count }, 'acknowledged');
  }
}
