import { Client } from 'pg';
import type { PostResult } from './meal-poster';
import { createAtSteadyRate, MEAL_TEXT } from './steady-rate';

/**
 * Queues meal logs with their jobs straight into PostgreSQL, the state a POST leaves behind, at a
 * steady rate round-robin over the load sessions' users. For workloads that measure what happens
 * after the worker commits (W7): the REST ingress is W3's and W4's subject, and on a two-core
 * machine its CPU would be taken from the pipeline under test.
 */
export class JobFeeder {
  private readonly client: Client;

  private constructor(
    databaseUrl: string,
    private readonly users: number,
  ) {
    this.client = new Client({ connectionString: databaseUrl });
  }

  static async connect(databaseUrl: string, users: number): Promise<JobFeeder> {
    const feeder = new JobFeeder(databaseUrl, users);
    await feeder.client.connect();
    return feeder;
  }

  post(ratePerSecond: number, durationMs: number): Promise<PostResult> {
    return createAtSteadyRate(ratePerSecond, durationMs, this.users, (userIds) =>
      this.queue(userIds),
    );
  }

  /** Jobs not finished yet: a backlog when the workers cannot keep up with the rate. */
  async queuedJobs(): Promise<number> {
    const { rows } = await this.client.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM meal_log_jobs',
    );
    return rows[0].count;
  }

  close(): Promise<void> {
    return this.client.end();
  }

  private async queue(userIds: string[]): Promise<string[]> {
    const { rows } = await this.client.query<{ id: string }>(
      `WITH log AS (
         INSERT INTO meal_logs (user_id, text, logged_at)
         SELECT user_id, $2, clock_timestamp() FROM unnest($1::text[]) AS user_id
         RETURNING id, user_id
       ), job AS (
         INSERT INTO meal_log_jobs (meal_log_id, user_id) SELECT id, user_id FROM log
       )
       SELECT id FROM log`,
      [userIds, MEAL_TEXT],
    );
    return rows.map((row) => row.id);
  }
}
