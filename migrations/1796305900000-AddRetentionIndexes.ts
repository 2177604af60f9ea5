import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddRetentionIndexes1796305900000 implements MigrationInterface {
  name = 'AddRetentionIndexes1796305900000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // The idempotency-key pruner deletes the oldest keys first, a batch at a time; without this
    // index each batch would read the whole table. (Ended sessions are pruned through
    // ws_sessions_ended_idx, which exists.)
    await queryRunner.query(
      `CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX idempotency_keys_created_idx`);
  }
}
