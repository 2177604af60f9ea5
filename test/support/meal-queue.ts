import type { DataSource } from 'typeorm';

/**
 * Queues one meal log for each entry of `owners`, in that order (oldest first), in one statement,
 * as that many POSTs would leave them. A backlog of thousands builds up over hours at the rate
 * limit (or while the workers are down); posting it in a test would take long enough for the
 * workers to eat it as it comes. Resolves with the logs' ids, in the same order.
 */
export async function queueMealLogs(
  dataSource: DataSource,
  owners: readonly string[],
): Promise<string[]> {
  const rows = await dataSource.query<{ id: string }[]>(
    `WITH log AS (
       INSERT INTO meal_logs (user_id, text, logged_at)
       SELECT owner.user_id, '1 small apple', clock_timestamp()
       FROM unnest($1::text[]) WITH ORDINALITY AS owner(user_id, position)
       ORDER BY owner.position
       RETURNING id, user_id, created_at
     ), job AS (
       INSERT INTO meal_log_jobs (meal_log_id, user_id, available_at)
       SELECT id, user_id, created_at FROM log
     )
     SELECT id FROM log ORDER BY created_at`,
    [owners],
  );
  return rows.map((row) => row.id);
}

/** `count` times `userId`: the owners of one user's backlog. */
export function backlogOf(userId: string, count: number): string[] {
  return Array.from({ length: count }, () => userId);
}
