import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateNotificationDeliveries1796390000000 implements MigrationInterface {
  name = 'CreateNotificationDeliveries1796390000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Each session a notification was written to: when first, how often, and which path wrote it
    // ('live' as it arrived, 'replay' on open, 'gap' read to fill a gap before a live one,
    // 'catch_up' by the periodic catch-up). The admin timeline answers "which device got it,
    // when, and how" from it; notifications.delivered_at/delivery_attempts stay the aggregate.
    // No foreign key to ws_sessions: the session audit is pruned on its own schedule.
    await queryRunner.query(`
      CREATE TABLE notification_deliveries (
        notification_id  uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
        session_id       uuid NOT NULL,
        device_id        text,
        first_at         timestamptz NOT NULL,
        attempts         integer NOT NULL,
        via              text NOT NULL CHECK (via IN ('live', 'replay', 'gap', 'catch_up')),
        PRIMARY KEY (notification_id, session_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notification_deliveries`);
  }
}
