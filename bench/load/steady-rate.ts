import type { PostResult } from './meal-poster';
import { userIdOf } from './session-pool';

/** The text of every meal log the load generators create. */
export const MEAL_TEXT = '1 small apple and 2 eggs';

/** A batch is created this often, to hold the rate steady. */
export const TICK_MS = 10;

/**
 * Creates meal logs at a steady rate for `durationMs`, round robin over the load sessions' users
 * (`userIdOf(0 … users - 1)`): each tick, `create` gets the owners of the meal logs now due and
 * resolves with their ids. One batch at a time, so a slow batch makes the next one larger.
 */
export async function createAtSteadyRate(
  ratePerSecond: number,
  durationMs: number,
  users: number,
  create: (userIds: string[]) => Promise<string[]>,
): Promise<PostResult> {
  const accepted: string[] = [];
  let failed = 0;
  let nextUser = 0;
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const due = Math.floor(((performance.now() - started) / 1000) * ratePerSecond);
    const count = due - accepted.length - failed;
    if (count > 0) {
      const userIds = Array.from({ length: count }, () => {
        const userId = userIdOf(nextUser);
        nextUser = (nextUser + 1) % users;
        return userId;
      });
      try {
        accepted.push(...(await create(userIds)));
      } catch {
        failed += count;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  return { accepted, failed, elapsedMs: performance.now() - started };
}
