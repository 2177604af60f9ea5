import { Module } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ApnsClient } from '../apns/apns.client';
import { ApnsModule } from '../apns/apns.module';
import { AppConfig } from '../config/app-config';
import { DevicesModule } from '../devices/devices.module';
import { DevicesService } from '../devices/devices.service';
import { MealLogsModule } from '../meal-logs/meal-logs.module';
import { Metrics } from '../metrics/metrics';
import { PresenceModule } from '../presence/presence.module';
import { AcknowledgementWriter } from './acknowledgement.writer';
import { AdminNotificationsController } from './admin-notifications.controller';
import { AdminNotificationsService } from './admin-notifications.service';
import { DeliveryLedgerWriter } from './delivery-ledger.writer';
import type { NotificationChannel } from './notification-channel.port';
import { NotificationPruner } from './notification.pruner';
import { NotificationRepository } from './notification.repository';
import { NotificationRepusher } from './notification.repusher';
import { NotificationsController } from './notifications.controller';
import { NOTIFICATION_CHANNELS, NotificationsService } from './notifications.service';
import { PushChannel } from './push.channel';
import { WebSocketChannel } from './websocket.channel';

/**
 * Downstream of MealLogs (listens to outcomes); delivers through Presence's sessions and, when
 * APNs is configured, through push to the devices' tokens.
 */
@Module({
  imports: [MealLogsModule, PresenceModule, DevicesModule, ApnsModule],
  controllers: [NotificationsController, AdminNotificationsController],
  providers: [
    NotificationsService,
    NotificationRepository,
    WebSocketChannel,
    {
      // Only with APNS_* configured: without it nothing is pushed, and no scan runs.
      provide: PushChannel,
      inject: [
        AppConfig,
        SchedulerRegistry,
        NotificationRepository,
        DevicesService,
        ApnsClient,
        Metrics,
      ],
      useFactory: (
        config: AppConfig,
        scheduler: SchedulerRegistry,
        notifications: NotificationRepository,
        devices: DevicesService,
        apns: ApnsClient | null,
        metrics: Metrics,
      ): PushChannel | null =>
        apns === null
          ? null
          : new PushChannel(config, scheduler, notifications, devices, apns, metrics),
    },
    {
      provide: NOTIFICATION_CHANNELS,
      inject: [WebSocketChannel, PushChannel],
      useFactory: (websocket: WebSocketChannel, push: PushChannel | null): NotificationChannel[] =>
        push === null ? [websocket] : [websocket, push],
    },
    DeliveryLedgerWriter,
    AcknowledgementWriter,
    NotificationPruner,
    NotificationRepusher,
    AdminNotificationsService,
  ],
  exports: [NotificationsService],
})
export class NotificationsModule {}
