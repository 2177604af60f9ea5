import { expectEventually } from './expect-eventually';
import { queryOnce } from './sql';
import { tokenFor } from './tokens';

export interface PostedMeal {
  userId: string;
  key: string;
  text: string;
  status: number;
  retryAfter: string | null;
  /** From sending the request to its answer (or its failure). */
  ms: number;
}

const TEXTS = [
  '1 small apple',
  'a pear',
  '2 slices of toast',
  'a coffee with milk',
  'half a cup of rice',
];

/**
 * Posts meals for `users` in turn, one every `everyMs`, each with its own Idempotency-Key, and
 * records every answer (a refused or failed request is recorded with status 0), until stopped or
 * `max` posts. What a fleet of phones does while something breaks underneath.
 */
export class MealTraffic {
  readonly posted: PostedMeal[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(
    private readonly baseUrl: string,
    private readonly users: readonly string[],
    {
      everyMs = 100,
      max = 2_000,
      prefix = 'traffic',
    }: { everyMs?: number; max?: number; prefix?: string } = {},
  ) {
    this.done = this.run(everyMs, max, prefix);
  }

  /** Stops posting and waits for the request in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  /** Resolves when `max` meals have been posted. */
  finished(): Promise<void> {
    return this.done;
  }

  withStatus(status: number): PostedMeal[] {
    return this.posted.filter((meal) => meal.status === status);
  }

  /** Posts one meal now, next to the stream, and records it with the others. */
  async postOne(userId: string, key: string, text: string): Promise<PostedMeal> {
    const meal = await this.post(userId, key, text);
    this.posted.push(meal);
    return meal;
  }

  /**
   * Once the service is back: waits until `successes` posts made from now on got 201, and stops.
   * Then every answer must have been 201 or 503 with `Retry-After: 5` (never a 500, never none),
   * and each 503 posted again with its key gets 201, one log and one key stored per key posted.
   */
  async expectRecovered(databaseUrl: string, successes = 4): Promise<void> {
    const before = this.posted.length;
    await expectEventually(
      () =>
        expect(
          this.posted.slice(before).filter((meal) => meal.status === 201).length,
        ).toBeGreaterThanOrEqual(successes),
      { timeoutMs: 10_000 },
    );
    await this.stop();
    expect(new Set(this.posted.map((meal) => meal.status))).toEqual(new Set([201, 503]));
    expect(new Set(this.withStatus(503).map((meal) => meal.retryAfter))).toEqual(new Set(['5']));
    for (const refused of this.withStatus(503))
      expect((await this.retry(refused)).status).toBe(201);
    const [stored] = await queryOnce<{ keys: number; logs: number }>(
      databaseUrl,
      `SELECT (SELECT count(*) FROM idempotency_keys)::int AS keys,
              (SELECT count(*) FROM meal_logs)::int AS logs`,
    );
    expect(stored).toEqual({ keys: this.posted.length, logs: this.posted.length });
  }

  /** Posts `meal` again with its key and body (a client retrying after 503). */
  async retry(meal: PostedMeal): Promise<PostedMeal> {
    return this.post(meal.userId, meal.key, meal.text);
  }

  private async run(everyMs: number, max: number, prefix: string): Promise<void> {
    for (let i = 0; i < max && !this.stopped; i++) {
      const userId = this.users[i % this.users.length];
      this.posted.push(await this.post(userId, `${prefix}-${i}`, TEXTS[i % TEXTS.length]));
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  private async post(userId: string, key: string, text: string): Promise<PostedMeal> {
    const started = Date.now();
    const response = await fetch(`${this.baseUrl}/api/v1/meal-logs/natural`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${tokenFor(userId)}`,
        'Content-Type': 'application/json',
        'Idempotency-Key': key,
      },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(10_000),
    }).catch(() => null);
    return {
      userId,
      key,
      text,
      status: response?.status ?? 0,
      retryAfter: response?.headers.get('retry-after') ?? null,
      ms: Date.now() - started,
    };
  }
}
