import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { isDatabaseUnavailable } from '../common/database-unavailable';
import { RecurringJob } from '../common/recurring-job';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { PresenceService } from './presence.service';
import { SessionAuditRepository } from './session-audit.repository';
import { SessionAuditWriter } from './session-audit.writer';
import { SessionConnections } from './session-connections';

/** Sockets closed per turn of the event loop during a sweep. */
const CLOSE_CHUNK = 200;
/** A stale peer that has not answered the close frame by then is terminated... */
const TERMINATE_AFTER_MS = 1_000;
/** ...each chunk this much later than the one before. */
const TERMINATE_SPREAD_MS = 25;
/** An instance silent for this many sweep intervals is taken for dead and its sessions for lost. */
const INSTANCE_DEAD_AFTER_SWEEPS = 3;

/**
 * Every PRESENCE_SWEEP_INTERVAL_MS: closes (4408) and audits the sessions that have been silent
 * for PRESENCE_STALE_AFTER_MS, marks this instance alive, and audits as `lost` the open sessions
 * of instances that died. Every statement only changes rows still open, so any number of
 * instances can sweep at once without writing an ending twice.
 */
@Injectable()
export class StaleSessionSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(StaleSessionSweeper.name);
  private readonly job: RecurringJob<void>;

  constructor(
    private readonly config: AppConfig,
    scheduler: SchedulerRegistry,
    private readonly presence: PresenceService,
    private readonly connections: SessionConnections,
    private readonly audit: SessionAuditWriter,
    private readonly auditRepository: SessionAuditRepository,
    private readonly instance: ServiceInstance,
  ) {
    this.job = new RecurringJob(
      scheduler,
      'stale-session-sweep',
      config.presence.sweepIntervalMs,
      () => this.sweep(),
    );
  }

  onApplicationBootstrap(): void {
    // The first run at start-up closes the sessions a previous, killed process left open.
    void this.runOnce();
    this.job.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.job.stop();
  }

  runOnce(): Promise<void> {
    return this.job.runOnce();
  }

  private async sweep(): Promise<void> {
    const stale = this.presence.endStale();
    // Closing thousands of sockets at once would hold up every other session: close a chunk per
    // turn of the event loop, and spread the terminations of peers that never answer (most stale
    // peers) so that they do not all fall due in the same timer tick either.
    for (let chunk = 0; chunk * CLOSE_CHUNK < stale.length; chunk++) {
      if (chunk > 0) await new Promise((resolve) => setImmediate(resolve));
      for (const session of stale.slice(chunk * CLOSE_CHUNK, (chunk + 1) * CLOSE_CHUNK)) {
        this.connections.closeFor(
          session,
          'stale',
          TERMINATE_AFTER_MS + chunk * TERMINATE_SPREAD_MS,
        );
      }
    }
    let lost = 0;
    try {
      await this.audit.flush();
      await this.auditRepository.heartbeat(this.instance.id);
      lost = await this.auditRepository.closeLostSessions(
        this.instance.id,
        INSTANCE_DEAD_AFTER_SWEEPS * this.config.presence.sweepIntervalMs,
      );
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      this.logger.warn('database unavailable; audit catches up on a later sweep');
    }
    this.logger.log(
      {
        stale: stale.length,
        lost,
        live: this.presence.sessionCount,
        pendingAudit: this.audit.pendingWrites,
      },
      `swept ${stale.length} stale session(s), ${lost} lost`,
    );
  }
}
