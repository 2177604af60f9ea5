import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateDevicePushTokens1796305700000 implements MigrationInterface {
  name = 'CreateDevicePushTokens1796305700000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One APNs device token per user and device. A token belongs to one installation, so it is
    // unique: registered by another user (the phone changed hands, or accounts), it moves.
    await queryRunner.query(`
      CREATE TABLE device_push_tokens (
        user_id      text NOT NULL CHECK (char_length(user_id) BETWEEN 1 AND 128),
        device_id    text NOT NULL CHECK (device_id ~ '^[A-Za-z0-9._-]{1,64}$'),
        token        text NOT NULL UNIQUE CHECK (token ~ '^[0-9a-f]{64,200}$'),
        environment  text NOT NULL CHECK (environment IN ('production', 'sandbox')),
        created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (user_id, device_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE device_push_tokens`);
  }
}
