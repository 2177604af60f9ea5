import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddNotificationPush1796305800000 implements MigrationInterface {
  name = 'AddNotificationPush1796305800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // A notification's push is data, not a timer: `push_due_at` is when it falls due (at once when
    // no session of the user was in the foreground, else at the ack deadline), and while a push is
    // being sent it is the claim's lease; NULL when there is nothing (more) to push. An ack before
    // the deadline clears it. `push_attempts` counts claims, bounded by the retry policy.
    await queryRunner.query(`
      ALTER TABLE notifications
        ADD COLUMN foreground_sessions_at_creation integer NOT NULL DEFAULT 0,
        ADD COLUMN push_reason text
          CHECK (push_reason IN ('no_foreground_session', 'ack_deadline')),
        ADD COLUMN push_due_at timestamptz,
        ADD COLUMN push_attempts integer NOT NULL DEFAULT 0`);
    // The set-based scan for due pushes: only rows with a push pending are in it.
    await queryRunner.query(
      `CREATE INDEX notifications_push_due_idx ON notifications (push_due_at) WHERE push_due_at IS NOT NULL`,
    );
    // Every answer APNs gave for a notification and device: the admin view's push record, and how
    // a retry knows which devices already have it.
    await queryRunner.query(`
      CREATE TABLE notification_push_attempts (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        notification_id  uuid NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
        device_id        text NOT NULL,
        at               timestamptz NOT NULL,
        status           text NOT NULL CHECK (status IN ('sent', 'rejected', 'retrying', 'failed')),
        reason           text
      )`);
    await queryRunner.query(
      `CREATE INDEX notification_push_attempts_notification_idx ON notification_push_attempts (notification_id, at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notification_push_attempts`);
    await queryRunner.query(`DROP INDEX notifications_push_due_idx`);
    await queryRunner.query(`
      ALTER TABLE notifications
        DROP COLUMN push_attempts, DROP COLUMN push_due_at, DROP COLUMN push_reason,
        DROP COLUMN foreground_sessions_at_creation`);
  }
}
