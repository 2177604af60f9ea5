import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApnsClient } from './apns.client';

/** The APNs provider API client, or null when APNS_* is not configured (nothing is pushed). */
@Module({
  providers: [
    {
      provide: ApnsClient,
      inject: [AppConfig],
      useFactory: (config: AppConfig): ApnsClient | null =>
        config.push.apns === null ? null : new ApnsClient(config.push.apns),
    },
  ],
  exports: [ApnsClient],
})
export class ApnsModule {}
