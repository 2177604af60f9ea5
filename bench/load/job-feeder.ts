import { Client } from 'pg';
import type { PostResult } from './meal-poster';
import { userIdOf } from './session-pool';

/** One batch of meal logs is queued this often, to hold the rate steady. */
const TICK_MS = 10;

/**
 * Queues meal logs with their jobs straight into PostgreSQL, the state a POST leaves behind, at a
 * steady rate round-robin over the load sessions' users. For workloads that measure what happens
 * after the worker commits (W7): the REST ingress is W3's and W4's subject, and on a two-core
 * machine its CPU would be taken from the pipeline under test.
 */
export class JobFeeder {
  private readonly client: Client;
  private nextUser = 0;

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

  async post(ratePerSecond: number, durationMs: number): Promise<PostResult> {
    const accepted: string[] = [];
    let failed = 0;
    const started = performance.now();
    while (performance.now() - started < durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
      const count = due - accepted.length - failed;
      if (count > 0) {
        try {
          accepted.push(...(await this.queue(count)));
        } catch {
          failed += count;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    return { accepted, failed, elapsedMs: performance.now() - started };
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

  private async queue(count: number): Promise<string[]> {
    const users = Array.from({ length: count }, () => {
      const userId = userIdOf(this.nextUser);
      this.nextUser = (this.nextUser + 1) % this.users;
      return userId;
    });
    const { rows } = await this.client.query<{ id: string }>(
      `WITH log AS (
         INSERT INTO meal_logs (user_id, text, logged_at)
         SELECT user_id, '1 small apple and 2 eggs', clock_timestamp() FROM unnest($1::text[]) AS user_id
         RETURNING id
       ), job AS (
         INSERT INTO meal_log_jobs (meal_log_id) SELECT id FROM log
       )
       SELECT id FROM log`,
      [users],
    );
    return rows.map((row) => row.id);
  }
}
