import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotifications1795305919084 implements MigrationInterface {
  name = 'CreateNotifications1795305919084';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The outbox: written in the transaction that completes or fails a meal log, so a result can
    // never exist without its notification. Delivery state is recorded on the row.
    await queryRunner.query(`
      CREATE TABLE notifications (
        id                          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id                     text NOT NULL,
        seq                         bigint NOT NULL,
        event                       text NOT NULL CHECK (event IN ('meal_log.completed', 'meal_log.failed')),
        data                        jsonb NOT NULL,
        meal_log_id                 uuid REFERENCES meal_logs (id) ON DELETE CASCADE,
        created_at                  timestamptz NOT NULL DEFAULT clock_timestamp(),
        online_sessions_at_creation integer NOT NULL,
        delivered_at                timestamptz,
        delivery_attempts           integer NOT NULL DEFAULT 0,
        acked_at                    timestamptz,
        UNIQUE (user_id, seq)
      )`);
    // Replay of what a user has not acknowledged yet, in seq order.
    await queryRunner.query(
      `CREATE INDEX notifications_unacked_idx ON notifications (user_id, seq) WHERE acked_at IS NULL`,
    );
    // Pruning of acknowledged notifications past the retention period.
    await queryRunner.query(
      `CREATE INDEX notifications_acked_idx ON notifications (created_at) WHERE acked_at IS NOT NULL`,
    );
    // Per-user sequence: the row lock taken to bump it also orders concurrent commits per user.
    await queryRunner.query(`
      CREATE TABLE notification_sequences (
        user_id   text PRIMARY KEY,
        last_seq  bigint NOT NULL
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notification_sequences`);
    await queryRunner.query(`DROP TABLE notifications`);
  }
}
