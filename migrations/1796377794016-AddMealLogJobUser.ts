import { MigrationInterface, QueryRunner } from 'typeorm';

export class AddMealLogJobUser1796377794016 implements MigrationInterface {
  name = 'AddMealLogJobUser1796377794016';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Claims are fair between users: each claim walks the queue's users in turn (one index
    // descent per user, whatever the size of a user's backlog) and takes each one's oldest due
    // jobs, so the queue needs the owner beside each job and an index by owner and due time.
    await queryRunner.query(`ALTER TABLE meal_log_jobs ADD COLUMN user_id text`);
    await queryRunner.query(`
      UPDATE meal_log_jobs AS job SET user_id = log.user_id
      FROM meal_logs AS log WHERE log.id = job.meal_log_id`);
    await queryRunner.query(`ALTER TABLE meal_log_jobs ALTER COLUMN user_id SET NOT NULL`);
    await queryRunner.query(
      `CREATE INDEX meal_log_jobs_user_available_idx ON meal_log_jobs (user_id, available_at)`,
    );
    // No query reads the queue in `available_at` order any more: one index less to write on
    // every insert, claim and retry.
    await queryRunner.query(`DROP INDEX meal_log_jobs_available_idx`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX meal_log_jobs_available_idx ON meal_log_jobs (available_at)`,
    );
    await queryRunner.query(`DROP INDEX meal_log_jobs_user_available_idx`);
    await queryRunner.query(`ALTER TABLE meal_log_jobs DROP COLUMN user_id`);
  }
}
