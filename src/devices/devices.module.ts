import { Module } from '@nestjs/common';
import { DevicePushTokenRepository } from './device-push-token.repository';
import { DevicesController } from './devices.controller';
import { DevicesService } from './devices.service';

/** The devices' APNs tokens: registered over REST, read and pruned by the push channel. */
@Module({
  controllers: [DevicesController],
  providers: [DevicePushTokenRepository, DevicesService],
  exports: [DevicesService],
})
export class DevicesModule {}
