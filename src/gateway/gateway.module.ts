import { INestApplicationContext, Module } from '@nestjs/common';
import { NotificationsModule } from '../notifications/notifications.module';
import { PresenceModule } from '../presence/presence.module';
import { directFrameHandlers, DirectFrameHandler } from '../realtime/direct-frame.decorator';
import { AsyncApiController } from './asyncapi.controller';
import { WsGateway } from './ws.gateway';

/** The WebSocket endpoint, on top of the modules whose frames it carries, and its description. */
@Module({
  imports: [PresenceModule, NotificationsModule],
  controllers: [AsyncApiController],
  providers: [WsGateway],
})
export class GatewayModule {
  /** The gateway's frame handlers, for the WebSocket adapter to call directly. */
  static frameHandlers(app: INestApplicationContext): Map<string, DirectFrameHandler> {
    return directFrameHandlers(app.get(WsGateway));
  }
}
