import { Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { errorFields } from '../logging/safe-error';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { ScheduledTask } from '../common/scheduled-task';
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
export class InstanceHeartbeat extends ScheduledTask<void> {
  private readonly logger = new Logger(InstanceHeartbeat.name);

  constructor(
    config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly repository: SessionAuditRepository,
    private readonly instance: ServiceInstance,
  ) {
    super(scheduler, 'instance-heartbeat', config.presence.sweepIntervalMs);
  }

  /** The first beat goes at once: until it is written, other instances may take this one for dead. */
  override onApplicationBootstrap(): void {
    void this.runOnce();
    super.onApplicationBootstrap();
  }

  /** Never rejects: a beat that fails is logged, and the next one comes an interval later. */
  protected async run(): Promise<void> {
    try {
      await this.repository.heartbeat(this.instance.id);
    } catch (error) {
      if (isDatabaseUnavailable(error))
        this.logger.warn('database unavailable; instance heartbeat not written');
      else this.logger.error(errorFields(error), 'instance heartbeat failed');
    }
  }
}
