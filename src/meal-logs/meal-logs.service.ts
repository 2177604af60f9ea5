import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { DomainError } from '../common/domain.error';
import type { CreateMealLogDto } from './dto/create-meal-log.dto';
import { IdempotencyKeyRepository } from './idempotency-key.repository';
import { MealLogCursor, MealLogRepository } from './meal-log.repository';
import type { MealLogView } from './meal-log.view';
import { MealLogWorker } from './meal-log.worker';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Visible ASCII without spaces or commas: a repeated header (joined with ", ") is refused. */
const IDEMPOTENCY_KEY = /^[\x21-\x2b\x2d-\x7e]{1,255}$/;

export interface CreatedMealLog {
  mealLog: MealLogView;
  /** True when an Idempotency-Key replay returned an existing log. */
  replayed: boolean;
}

function requestHash(dto: CreateMealLogDto): string {
  const canonical = JSON.stringify([dto.text, dto.mealType ?? null, dto.loggedAt ?? null]);
  return createHash('sha256').update(canonical).digest('hex');
}

function encodeCursor(cursor: MealLogCursor): string {
  return Buffer.from(`${cursor.createdAt}|${cursor.id}`).toString('base64url');
}

function decodeCursor(value: string): MealLogCursor {
  const [createdAt, id, extra] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  if (extra !== undefined || !id || !UUID.test(id) || Number.isNaN(Date.parse(createdAt))) {
    throw new DomainError('invalid_cursor', 'cursor is not a value returned as nextCursor');
  }
  return { createdAt, id };
}

@Injectable()
export class MealLogsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly mealLogs: MealLogRepository,
    private readonly idempotencyKeys: IdempotencyKeyRepository,
    private readonly worker: MealLogWorker,
  ) {}

  /**
   * Stores the log, its job and the idempotency record in one transaction, so a crash leaves
   * either all three or none, and a retried POST can never create a second log.
   */
  async create(
    userId: string,
    dto: CreateMealLogDto,
    idempotencyKey?: string,
  ): Promise<CreatedMealLog> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new DomainError(
        'invalid_idempotency_key',
        'Idempotency-Key must be 1-255 visible ASCII characters without spaces or commas, sent once',
      );
    }
    const hash = requestHash(dto);
    const created = await this.dataSource.transaction(async (manager): Promise<CreatedMealLog> => {
      if (idempotencyKey !== undefined) {
        if (!(await this.idempotencyKeys.tryLock(manager, userId, idempotencyKey))) {
          throw new DomainError(
            'idempotency_request_in_progress',
            'A request with this Idempotency-Key is still being processed; retry shortly',
          );
        }
        const previous = await this.idempotencyKeys.find(manager, userId, idempotencyKey);
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
      }
      const mealLog = await this.mealLogs.insertWithJob(manager, {
        userId,
        text: dto.text,
        mealType: dto.mealType ?? null,
        loggedAt: dto.loggedAt ? new Date(dto.loggedAt) : null,
      });
      if (idempotencyKey !== undefined) {
        await this.idempotencyKeys.insert(manager, userId, idempotencyKey, {
          requestHash: hash,
          mealLogId: mealLog.id,
        });
      }
      return { mealLog, replayed: false };
    });
    if (!created.replayed) this.worker.wake();
    return created;
  }

  /** Another user's log and a malformed id are both simply "not found". */
  async get(userId: string, id: string): Promise<MealLogView> {
    const mealLog = UUID.test(id) ? await this.mealLogs.findOwnedBy(userId, id) : null;
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
}
