import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';

export interface IdempotencyRecord {
  requestHash: string;
  mealLogId: string;
}

@Injectable()
export class IdempotencyKeyRepository {
  /**
   * Takes a transaction-scoped advisory lock on (user, key) without waiting. `false` means
   * another request with the same key is being handled right now.
   */
  async tryLock(manager: EntityManager, userId: string, key: string): Promise<boolean> {
    const [row] = await manager.query<{ locked: boolean }[]>(
      `SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked`,
      [userId, key],
    );
    return row.locked;
  }

  async find(
    manager: EntityManager,
    userId: string,
    key: string,
  ): Promise<IdempotencyRecord | null> {
    const rows = await manager.query<{ request_hash: string; meal_log_id: string }[]>(
      `SELECT request_hash, meal_log_id FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [userId, key],
    );
    return rows.length > 0
      ? { requestHash: rows[0].request_hash, mealLogId: rows[0].meal_log_id }
      : null;
  }

  async insert(
    manager: EntityManager,
    userId: string,
    key: string,
    record: IdempotencyRecord,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, meal_log_id) VALUES ($1, $2, $3, $4)`,
      [userId, key, record.requestHash, record.mealLogId],
    );
  }
}
