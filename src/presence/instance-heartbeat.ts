import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { errorFields } from '../common/batch-writer';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { RecurringJob } from '../common/recurring-job';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { SessionAuditRepository } from './session-audit.repository';

/** An instance silent for this many heartbeats is taken for dead and its sessions for lost. */
export const INSTANCE_DEAD_AFTER_BEATS = 3;

/**
 * Marks this instance alive every PRESENCE_SWEEP_INTERVAL_MS; the other instances' sweeps audit
 * as `lost` the open sessions of an instance silent for INSTANCE_DEAD_AFTER_BEATS intervals. It
 * runs on its own schedule and waits for nothing else: a sweep or an audit write that is slow,
 * stuck or failing must not make the other instances take this live one's sessions for lost.
 */
@Injectable()
export class InstanceHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(InstanceHeartbeat.name);
  private readonly job: RecurringJob<void>;

  constructor(
    config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly repository: SessionAuditRepository,
    private readonly instance: ServiceInstance,
  ) {
    this.job = new RecurringJob(
      scheduler,
      'instance-heartbeat',
      config.presence.sweepIntervalMs,
      () => this.beat(),
    );
  }

  onApplicationBootstrap(): void {
    void this.job.runOnce();
    this.job.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  /** Never rejects: a beat that fails is logged, and the next one comes an interval later. */
  private async beat(): Promise<void> {
    try {
      await this.repository.heartbeat(this.instance.id);
    } catch (error) {
      if (isDatabaseUnavailable(error))
        this.logger.warn('database unavailable; instance heartbeat not written');
      else this.logger.error(errorFields(error), 'instance heartbeat failed');
    }
  }
}
