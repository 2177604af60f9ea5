import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddSessionAppState1796305600000 implements MigrationInterface {
  name = 'AddSessionAppState1796305600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // What the app reported last (`app_state`) and when it changed: written with the session's
    // activity, so the audit shows whether a session ended while its app was in the background.
    await queryRunner.query(`
      ALTER TABLE ws_sessions
        ADD COLUMN app_state text NOT NULL DEFAULT 'foreground'
          CHECK (app_state IN ('foreground', 'background')),
        ADD COLUMN app_state_changed_at timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE ws_sessions DROP COLUMN app_state_changed_at, DROP COLUMN app_state`,
    );
  }
}
