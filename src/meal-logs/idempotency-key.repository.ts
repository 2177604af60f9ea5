import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface IdempotencyRecord {
  requestHash: string;
  mealLogId: string;
}

@Injectable()
export class IdempotencyKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

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

  /** The key's record, unless it is older than `ttlHours`: an expired key is as good as new. */
  async findUnexpired(
    manager: EntityManager,
    userId: string,
    key: string,
    ttlHours: number,
  ): Promise<IdempotencyRecord | null> {
    const rows = await manager.query<{ request_hash: string; meal_log_id: string }[]>(
      `SELECT request_hash, meal_log_id FROM idempotency_keys
       WHERE user_id = $1 AND key = $2 AND created_at > clock_timestamp() - $3 * interval '1 hour'`,
      [userId, key, ttlHours],
    );
    return rows.length > 0
      ? { requestHash: rows[0].request_hash, mealLogId: rows[0].meal_log_id }
      : null;
  }

  /**
   * Records the key, replacing an expired record of it that pruning has not deleted yet. Called
   * under `tryLock`, after `findUnexpired` found nothing, so the record replaced is expired.
   */
  async save(
    manager: EntityManager,
    userId: string,
    key: string,
    record: IdempotencyRecord,
  ): Promise<void> {
    await manager.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, meal_log_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, meal_log_id = EXCLUDED.meal_log_id,
           created_at = clock_timestamp()`,
      [userId, key, record.requestHash, record.mealLogId],
    );
  }

  /** Deletes up to `limit` keys created before `cutoff`, skipping rows a request holds. */
  async deleteCreatedBefore(cutoff: Date, limit: number): Promise<number> {
    const [, count] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM idempotency_keys WHERE (user_id, key) IN (
         SELECT user_id, key FROM idempotency_keys WHERE created_at < $1
         ORDER BY created_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )`,
      [cutoff, limit],
    );
    return count;
  }
}
