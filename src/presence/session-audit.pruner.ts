import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { DAY_MS, RetentionJob } from '../common/retention-job';
import { AppConfig } from '../config/app-config';
import { SessionAuditRepository } from './session-audit.repository';

/** Deletes audited sessions that ended more than SESSION_AUDIT_RETENTION_DAYS ago. */
@Injectable()
export class SessionAuditPruner extends RetentionJob {
  constructor(config: AppConfig, scheduler: SchedulerRegistry, audit: SessionAuditRepository) {
    super(scheduler, {
      name: 'session-audit-prune',
      intervalMs: config.retention.pruneIntervalMs,
      what: 'ended session(s)',
      keepForMs: config.retention.sessionAuditDays * DAY_MS,
      deleteBatch: (cutoff, limit) => audit.deleteEndedBefore(cutoff, limit),
    });
  }
}
