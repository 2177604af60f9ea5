import { Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module';
import { PresenceModule } from '../presence/presence.module';
import { WsGateway } from './ws.gateway';

/** The WebSocket endpoint, on top of the modules whose frames it carries. */
@Module({
  imports: [PresenceModule, NotificationsModule],
  providers: [WsGateway],
})
export class GatewayModule {}
