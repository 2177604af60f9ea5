import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMealLogs1795305333220 implements MigrationInterface {
  name = 'CreateMealLogs1795305333220';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE meal_logs (
        id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id       text NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 128),
        text          text NOT NULL CHECK (char_length(text) BETWEEN 1 AND 1000),
        meal_type     text CHECK (meal_type IN ('breakfast', 'lunch', 'dinner', 'snack')),
        logged_at     timestamptz NOT NULL,
        status        text NOT NULL DEFAULT 'processing'
                      CHECK (status IN ('processing', 'completed', 'failed')),
        items         jsonb NOT NULL DEFAULT '[]',
        totals        jsonb,
        unrecognized  jsonb NOT NULL DEFAULT '[]',
        error         text,
        created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        completed_at  timestamptz,
        -- bumped on every change: the ETag and the notifications tell versions apart by it
        version       integer NOT NULL DEFAULT 1
      )`);
    // Newest-first listing of one user's logs, with (created_at, id) as the cursor.
    await queryRunner.query(
      `CREATE INDEX meal_logs_user_created_idx ON meal_logs (user_id, created_at DESC, id DESC)`,
    );

    // The processing queue. A row exists while the log still needs work; `available_at` is both
    // the retry time and the lease expiry, so one index serves every claim.
    await queryRunner.query(`
      CREATE TABLE meal_log_jobs (
        meal_log_id   uuid PRIMARY KEY REFERENCES meal_logs (id) ON DELETE CASCADE,
        attempts      integer NOT NULL DEFAULT 0,
        available_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
        locked_by     text,
        last_error    text,
        created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
    await queryRunner.query(
      `CREATE INDEX meal_log_jobs_available_idx ON meal_log_jobs (available_at)`,
    );

    await queryRunner.query(`
      CREATE TABLE idempotency_keys (
        user_id       text NOT NULL,
        key           text NOT NULL,
        request_hash  text NOT NULL,
        meal_log_id   uuid NOT NULL REFERENCES meal_logs (id) ON DELETE CASCADE,
        created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (user_id, key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE idempotency_keys`);
    await queryRunner.query(`DROP TABLE meal_log_jobs`);
    await queryRunner.query(`DROP TABLE meal_logs`);
  }
}
