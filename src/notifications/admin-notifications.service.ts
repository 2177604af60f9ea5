import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { deliveryVerdict } from './delivery-verdict';
import { NotificationRepository } from './notification.repository';
import type { NotificationDeliveryView } from './notification.view';

/** The admin's delivery record of a user's notifications, each with its verdict. */
@Injectable()
export class AdminNotificationsService {
  constructor(
    private readonly config: AppConfig,
    private readonly notifications: NotificationRepository,
  ) {}

  /** Newest first, up to `limit`, those before `beforeSeq` (null: from the newest). */
  async list(
    userId: string,
    limit: number,
    beforeSeq: number | null,
  ): Promise<NotificationDeliveryView[]> {
    const records = await this.notifications.listForAdmin(userId, limit, beforeSeq);
    const context = { now: new Date(), ackDeadlineMs: this.config.push.ackDeadlineMs };
    return records.map((record) => ({ ...record, verdict: deliveryVerdict(record, context) }));
  }
}
