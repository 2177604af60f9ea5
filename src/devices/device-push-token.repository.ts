import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PushEnvironment, PushTarget } from './push-target';

/** The APNs device tokens, one per user and device (other modules go through DevicesService). */
@Injectable()
export class DevicePushTokenRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Sets the device's token. A token is one installation's: if another user or device holds it,
   * it moves here (the other row goes), in the same transaction. Registrations of one token take
   * turns (a lock on the token for the transaction), so two users racing for it cannot both keep
   * it, nor trip over the unique index.
   */
  async register(
    userId: string,
    deviceId: string,
    token: string,
    environment: PushEnvironment,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [token]);
      await manager.query(
        `DELETE FROM device_push_tokens WHERE token = $3 AND (user_id, device_id) <> ($1, $2)`,
        [userId, deviceId, token],
      );
      await manager.query(
        `INSERT INTO device_push_tokens (user_id, device_id, token, environment)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, device_id) DO UPDATE
         SET token = EXCLUDED.token, environment = EXCLUDED.environment,
             updated_at = clock_timestamp()`,
        [userId, deviceId, token, environment],
      );
    });
  }

  /** Removes the device's token (nothing to do when it has none). */
  async remove(userId: string, deviceId: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM device_push_tokens WHERE user_id = $1 AND device_id = $2`,
      [userId, deviceId],
    );
  }

  /** Every device with a token, per user. */
  async targetsOf(userIds: string[]): Promise<Map<string, PushTarget[]>> {
    const targets = new Map<string, PushTarget[]>(userIds.map((userId) => [userId, []]));
    if (userIds.length === 0) return targets;
    const rows = await this.dataSource.query<
      { user_id: string; device_id: string; token: string; environment: PushEnvironment }[]
    >(
      `SELECT user_id, device_id, token, environment FROM device_push_tokens
       WHERE user_id = ANY($1::text[]) ORDER BY user_id, device_id`,
      [userIds],
    );
    for (const row of rows)
      targets.get(row.user_id)?.push({
        deviceId: row.device_id,
        token: row.token,
        environment: row.environment,
      });
    return targets;
  }

  /**
   * Forgets a token APNs refused as invalid, unless it was registered again after `invalidSince`
   * (APNs' timestamp for an unregistered token: the app may have registered it anew since).
   */
  async forget(token: string, invalidSince: Date | null): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM device_push_tokens
       WHERE token = $1 AND ($2::timestamptz IS NULL OR updated_at <= $2)`,
      [token, invalidSince],
    );
  }
}
