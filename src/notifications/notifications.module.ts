import { Module } from '@nestjs/common';
import { MealLogsModule } from '../meal-logs/meal-logs.module';
import { PresenceModule } from '../presence/presence.module';
import { AdminNotificationsController } from './admin-notifications.controller';
import { AcknowledgementWriter } from './acknowledgement.writer';
import { DeliveryLedgerWriter } from './delivery-ledger.writer';
import { NotificationDelivery } from './notification-delivery';
import { NotificationPruner } from './notification.pruner';
import { NotificationRepository } from './notification.repository';
import { NotificationRepusher } from './notification.repusher';
import { NotificationsController } from './notifications.controller';
import { NotificationsGateway } from './notifications.gateway';
import { NotificationsService } from './notifications.service';

/** Downstream of MealLogs (listens to outcomes) and Presence (delivers to its sessions). */
@Module({
  imports: [MealLogsModule, PresenceModule],
  controllers: [NotificationsController, AdminNotificationsController],
  providers: [
    NotificationsService,
    NotificationRepository,
    NotificationDelivery,
    DeliveryLedgerWriter,
    AcknowledgementWriter,
    NotificationsGateway,
    NotificationPruner,
    NotificationRepusher,
  ],
})
export class NotificationsModule {}
