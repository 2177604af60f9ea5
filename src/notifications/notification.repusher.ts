import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { RecurringJob } from '../common/recurring-job';
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
export class NotificationRepusher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(NotificationRepusher.name);
  private readonly job: RecurringJob<number>;

  constructor(
    config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly websocket: WebSocketChannel,
  ) {
    this.job = new RecurringJob(
      scheduler,
      'notification-repush',
      config.notifications.repushIntervalMs,
      () => this.repush(),
    );
  }

  onApplicationBootstrap(): void {
    this.job.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  runOnce(): Promise<number> {
    return this.job.runOnce();
  }

  private async repush(): Promise<number> {
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
