import Redis from 'ioredis';
import { Client } from 'pg';
import { BuiltinMealAnalyzer } from '../../src/meal-analysis/builtin-meal.analyzer';
import type { MealAnalysis } from '../../src/meal-analysis/meal-analysis.types';
import type { MealLogView } from '../../src/meal-logs/meal-log.view';
import { userIdOf } from '../load/session-pool';

/** W7 asks the baseline's instance A, over IPC, to complete meal logs at a steady rate. */
export interface ProduceRequest {
  query: 'produce';
  rate: number;
  durationMs: number;
  /** Users `userIdOf(0 … users - 1)`, taken round robin as the job feeder does. */
  users: number;
  /** The instance holding the users' other sessions: each group is published to it once. */
  peerPort: number;
}

export interface Produced {
  ids: string[];
  failed: number;
  elapsedMs: number;
}

export interface ProduceReply {
  produced: Produced;
}

/** A group is committed this often at most, as the job feeder queues them. */
const TICK_MS = 10;
const TEXT = '1 small apple and 2 eggs';

interface CompletedRow {
  id: string;
  user_id: string;
  logged_at: Date;
  created_at: Date;
  completed_at: Date;
}

/**
 * W7's baseline: the least two bare instances must do to deliver a completion across Redis. A
 * commits a group of completed meal logs in one autocommit statement (the `completed_at` stamp
 * and the commit in one round trip), writes the frames to its own sessions, and publishes the
 * group once to the peer's channel, whose instance writes the pre-serialised frames to its
 * sessions. No analysis, outbox, sequences, presence leases or acknowledgements: the
 * practical floor for MealPulse's commit → frame path on this machine.
 */
export class ReferenceCluster {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly database: Client;
  private readonly seqs = new Map<string, number>();
  private analysis: MealAnalysis | null = null;

  constructor(
    private readonly config: {
      redisUrl: string;
      prefix: string;
      port: number;
      databaseUrl: string;
    },
    /** Writes one serialised frame to each of the user's sessions on this instance. */
    private readonly deliver: (userId: string, frame: string) => void,
  ) {
    this.publisher = new Redis(config.redisUrl, { lazyConnect: true });
    this.subscriber = new Redis(config.redisUrl, { lazyConnect: true });
    this.database = new Client({ connectionString: config.databaseUrl });
  }

  async start(): Promise<void> {
    await Promise.all([
      this.publisher.connect(),
      this.subscriber.connect(),
      this.database.connect(),
    ]);
    this.analysis = await new BuiltinMealAnalyzer().analyze(TEXT);
    this.subscriber.on('message', (_channel: string, message: string) => {
      for (const [userId, frame] of JSON.parse(message) as [string, string][])
        this.deliver(userId, frame);
    });
    await this.subscriber.subscribe(this.channelOf(this.config.port));
  }

  /** Answers the orchestrator's produce requests over IPC. */
  answerProduceRequests(): void {
    process.on('message', (message: Partial<ProduceRequest>) => {
      if (message?.query !== 'produce') return;
      void this.produce(message as ProduceRequest).then((produced) =>
        process.send!({ produced } satisfies ProduceReply),
      );
    });
  }

  private async produce(request: ProduceRequest): Promise<Produced> {
    const ids: string[] = [];
    let failed = 0;
    let nextUser = 0;
    const started = performance.now();
    while (performance.now() - started < request.durationMs) {
      const due = Math.floor(((performance.now() - started) / 1000) * request.rate);
      const count = due - ids.length - failed;
      if (count > 0) {
        const users = Array.from({ length: count }, () => {
          const userId = userIdOf(nextUser);
          nextUser = (nextUser + 1) % request.users;
          return userId;
        });
        try {
          ids.push(...(await this.complete(users, request.peerPort)));
        } catch {
          failed += count;
        }
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    return { ids, failed, elapsedMs: performance.now() - started };
  }

  private async complete(users: string[], peerPort: number): Promise<string[]> {
    const analysis = this.analysis!;
    const { rows } = await this.database.query<CompletedRow>(
      `INSERT INTO meal_logs (user_id, text, logged_at, status, items, totals, completed_at)
       SELECT user_id, $2, clock_timestamp(), 'completed', $3, $4, clock_timestamp()
       FROM unnest($1::text[]) AS user_id
       RETURNING id, user_id, logged_at, created_at, completed_at`,
      [users, TEXT, JSON.stringify(analysis.items), JSON.stringify(analysis.totals)],
    );
    const frames = rows.map((row): [string, string] => {
      const seq = (this.seqs.get(row.user_id) ?? 0) + 1;
      this.seqs.set(row.user_id, seq);
      const data: MealLogView = {
        id: row.id,
        status: 'completed',
        text: TEXT,
        mealType: null,
        loggedAt: row.logged_at.toISOString(),
        createdAt: row.created_at.toISOString(),
        completedAt: row.completed_at.toISOString(),
        items: analysis.items,
        totals: analysis.totals,
        unrecognized: analysis.unrecognized,
        error: null,
      };
      const frame = { type: 'notification', id: row.id, seq, event: 'meal_log.completed', data };
      return [row.user_id, JSON.stringify({ ...frame, createdAt: data.completedAt })];
    });
    // As MealPulse does: the publish leaves first, then the local writes. A failed publish shows
    // in the report as the peer's lost notifications.
    this.publisher.publish(this.channelOf(peerPort), JSON.stringify(frames)).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));
    for (const [userId, frame] of frames) this.deliver(userId, frame);
    return rows.map((row) => row.id);
  }

  private channelOf(port: number): string {
    return `${this.config.prefix}reference:${port}`;
  }
}
