import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/domain.error';
import { parseInstant } from '../common/instant';
import { decodeCursor, encodeCursor, isUuid } from '../common/pagination';
import { AppConfig } from '../config/app-config';
import type { CreateMealLog } from './dto/create-meal-log.dto';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { retryAfterSeconds } from './meal-log-rate.limit';
import { MealLogRepository, NewMealLog } from './meal-log.repository';
import type { MealLogView } from './meal-log.view';
import { MealLogWorker } from './meal-log.worker';

/** Visible ASCII without spaces or commas: a repeated header (joined with ", ") is refused. */
export const IDEMPOTENCY_KEY = /^[\x21-\x2b\x2d-\x7e]{1,255}$/;

export interface CreatedMealLog {
  mealLog: MealLogView;
  /** True when an Idempotency-Key replay returned an existing log. */
  replayed: boolean;
}

function requestHash(dto: CreateMealLog): string {
  const canonical = JSON.stringify([dto.text, dto.mealType ?? null, dto.loggedAt ?? null]);
  return createHash('sha256').update(canonical).digest('hex');
}

@Injectable()
export class MealLogsService {
  constructor(
    private readonly config: AppConfig,
    private readonly dataSource: DataSource,
    private readonly mealLogs: MealLogRepository,
    private readonly idempotencyKeys: IdempotencyKeyRepository,
    private readonly worker: MealLogWorker,
  ) {}

  /**
   * Stores the log and its job atomically; with an Idempotency-Key, the idempotency record too,
   * in the same transaction, so a crash leaves all three or none and a retried POST can never
   * create a second log. A user over `MEAL_LOGS_PER_MINUTE` is refused with the seconds until the
   * window frees; a replay creates nothing, so it is neither refused nor counted.
   */
  async create(
    userId: string,
    dto: CreateMealLog,
    idempotencyKey?: string,
  ): Promise<CreatedMealLog> {
    const log: NewMealLog = {
      userId,
      text: dto.text,
      mealType: dto.mealType ?? null,
      // Validated by the DTO: parseInstant reads it.
      loggedAt: dto.loggedAt ? parseInstant(dto.loggedAt) : null,
    };
    const created =
      idempotencyKey === undefined
        ? { mealLog: await this.insertWithinLimit(log), replayed: false }
        : await this.createIdempotently(userId, idempotencyKey, requestHash(dto), log);
    if (!created.replayed) this.worker.wake();
    return created;
  }

  /** Another user's log and a malformed id are both simply "not found". */
  async get(userId: string, id: string): Promise<MealLogView> {
    const mealLog = isUuid(id) ? await this.mealLogs.findOwnedBy(userId, id) : null;
    if (!mealLog) throw new DomainError('meal_log_not_found', `Meal log ${id} not found`);
    return mealLog;
  }

  async list(
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: MealLogView[]; nextCursor: string | null }> {
    const page = await this.mealLogs.listOwnedBy(
      userId,
      limit,
      cursor ? decodeCursor(cursor) : null,
    );
    return { items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null };
  }

  private createIdempotently(
    userId: string,
    key: string,
    hash: string,
    log: NewMealLog,
  ): Promise<CreatedMealLog> {
    if (!IDEMPOTENCY_KEY.test(key)) {
      throw new DomainError(
        'invalid_idempotency_key',
        'Idempotency-Key must be 1-255 visible ASCII characters without spaces or commas, sent once',
      );
    }
    return this.dataSource.transaction(async (manager): Promise<CreatedMealLog> => {
      if (!(await this.idempotencyKeys.tryLock(manager, userId, key))) {
        throw new DomainError(
          'idempotency_request_in_progress',
          'A request with this Idempotency-Key is still being processed; retry shortly',
        );
      }
      const previous = await this.idempotencyKeys.findUnexpired(
        manager,
        userId,
        key,
        this.config.retention.idempotencyKeyHours,
      );
      if (previous) {
        if (previous.requestHash !== hash) {
          throw new DomainError(
            'idempotency_key_reused',
            'This Idempotency-Key was already used with a different request body',
          );
        }
        const mealLog = await this.mealLogs.findOwnedBy(userId, previous.mealLogId, manager);
        if (mealLog) return { mealLog, replayed: true };
      }
      const mealLog = await this.insertWithinLimit(log, manager);
      await this.idempotencyKeys.save(manager, userId, key, {
        requestHash: hash,
        mealLogId: mealLog.id,
      });
      return { mealLog, replayed: false };
    });
  }

  private async insertWithinLimit(log: NewMealLog, manager?: EntityManager): Promise<MealLogView> {
    const perMinute = this.config.mealLogs.perUserPerMinute;
    const inserted = await this.mealLogs.insertWithJob(log, perMinute, manager);
    if (inserted.kind === 'created') return inserted.mealLog;
    const seconds = retryAfterSeconds(inserted.msUntilFree);
    throw new DomainError(
      'meal_log_rate_limited',
      `At most ${perMinute} meal logs per minute; retry in ${seconds} s`,
      seconds,
    );
  }
}
