import { Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { ScheduledTask } from '../common/scheduled-task';
import { AppConfig } from '../config/app-config';
import { WebSocketChannel } from './websocket.channel';

/**
 * Every NOTIFICATION_REPUSH_INTERVAL_MS, this instance's sessions catch up with the outbox: a
 * notification whose live message never arrived (a lost cross-instance publish, Redis down, a
 * crash between commit and push) and that no later notification revealed is written to every
 * session that was not sent it. The outbox stays the source of truth; Redis only makes delivery
 * fast.
 */
@Injectable()
export class NotificationRepusher extends ScheduledTask<number> {
  private readonly logger = new Logger(NotificationRepusher.name);

  constructor(
    config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly websocket: WebSocketChannel,
  ) {
    super(scheduler, 'notification-repush', config.notifications.repushIntervalMs);
  }

  protected async run(): Promise<number> {
    try {
      const offered = await this.websocket.catchUp();
      if (offered > 0)
        this.logger.log({ count: offered }, 'offered notifications the sessions here had missed');
      return offered;
    } catch (error) {
      if (isDatabaseUnavailable(error)) return 0;
      throw error;
    }
  }
}
