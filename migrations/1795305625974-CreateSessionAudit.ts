import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSessionAudit1795305625974 implements MigrationInterface {
  name = 'CreateSessionAudit1795305625974';

  async up(queryRunner: QueryRunner): Promise<void> {
    // One row per WebSocket session, written when it opens; last_seen_at/pings are flushed in
    // batches while it lives, ended_at/end_reason when it ends.
    await queryRunner.query(`
      CREATE TABLE ws_sessions (
        session_id      uuid PRIMARY KEY,
        user_id         text NOT NULL,
        device_id       text,
        instance_id     text NOT NULL,
        connected_at    timestamptz NOT NULL,
        last_seen_at    timestamptz NOT NULL,
        pings           integer NOT NULL DEFAULT 0,
        remote_address  text,
        user_agent      text,
        ended_at        timestamptz,
        end_reason      text CHECK (end_reason IN ('closed', 'stale', 'replaced', 'expired', 'shutdown', 'lost')),
        CHECK ((ended_at IS NULL) = (end_reason IS NULL))
      )`);
    // The admin listing: ended sessions newest first, optionally for one user or one reason.
    await queryRunner.query(
      `CREATE INDEX ws_sessions_ended_idx ON ws_sessions (ended_at DESC, session_id DESC) WHERE ended_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX ws_sessions_user_ended_idx ON ws_sessions (user_id, ended_at DESC, session_id DESC) WHERE ended_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX ws_sessions_reason_ended_idx ON ws_sessions (end_reason, ended_at DESC, session_id DESC) WHERE ended_at IS NOT NULL`,
    );
    // Finding sessions left open by instances that died.
    await queryRunner.query(
      `CREATE INDEX ws_sessions_open_idx ON ws_sessions (instance_id) WHERE ended_at IS NULL`,
    );

    // Each running instance refreshes its row; sessions of an instance whose row went quiet are lost.
    await queryRunner.query(`
      CREATE TABLE presence_instances (
        instance_id   text PRIMARY KEY,
        started_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
        heartbeat_at  timestamptz NOT NULL DEFAULT clock_timestamp()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE presence_instances`);
    await queryRunner.query(`DROP TABLE ws_sessions`);
  }
}
