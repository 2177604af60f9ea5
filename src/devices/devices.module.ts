import { Module } from '@nestjs/common';
import { DevicePushTokenRepository } from './device-push-token.repository';
import { DevicesController } from './devices.controller';

/** The devices' APNs tokens: registered over REST, read and pruned by the push channel. */
@Module({
  controllers: [DevicesController],
  providers: [DevicePushTokenRepository],
  exports: [DevicePushTokenRepository],
})
export class DevicesModule {}
