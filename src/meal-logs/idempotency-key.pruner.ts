import { Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { HOUR_MS, RetentionJob } from '../common/retention-job';
import { AppConfig } from '../config/app-config';
import { IdempotencyKeyRepository } from './idempotency-key.repository';

/**
 * Deletes Idempotency-Keys older than IDEMPOTENCY_KEY_TTL_HOURS. Only storage: an expired key
 * already behaves like a new one before it is deleted (see IdempotencyKeyRepository.find).
 */
@Injectable()
export class IdempotencyKeyPruner extends RetentionJob {
  constructor(config: AppConfig, scheduler: SchedulerRegistry, keys: IdempotencyKeyRepository) {
    super(scheduler, {
      name: 'idempotency-key-prune',
      intervalMs: config.retention.pruneIntervalMs,
      what: 'expired idempotency key(s)',
      keepForMs: config.retention.idempotencyKeyHours * HOUR_MS,
      deleteBatch: (cutoff, limit) => keys.deleteCreatedBefore(cutoff, limit),
    });
  }
}
