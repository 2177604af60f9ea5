import Redis from 'ioredis';
import { Client } from 'pg';
import type { PostResult } from '../load/meal-poster';
import { createAtSteadyRate, MEAL_TEXT } from '../load/steady-rate';
import type { ProduceRequest } from './produce-requests';
import {
  ANALYSED_ITEMS_JSON,
  ANALYSED_TOTALS_JSON,
  CompletionFrames,
  MEAL_TEXT_ANALYSIS,
} from './reference-meal-log';
import type { ReferenceClusterConfig } from './upgrade-auth';

interface CompletedRow {
  id: string;
  user_id: string;
  logged_at: Date;
  created_at: Date;
  completed_at: Date;
}

/** Writes one serialised frame to each of the user's sessions on this instance. */
type Deliver = (userId: string, frame: string) => void;

/**
 * W7's baseline: the least two bare instances must do to deliver a completion across Redis. A
 * commits a group of completed meal logs in one autocommit statement (the `completed_at` stamp
 * and the commit in one round trip), publishes the group's frames once to the peer's channel
 * (without reading where the users are: W7 puts every user's tablet on the peer) and writes them
 * to its own sessions; the peer writes the pre-serialised frames to its sessions. No analysis,
 * outbox row, sequence row (seqs are counted in memory), presence lease or acknowledgement write:
 * the practical floor for MealPulse's commit → frame path on this machine.
 */
export class ReferenceCluster {
  private readonly frames = new CompletionFrames();

  private constructor(
    private readonly config: ReferenceClusterConfig,
    private readonly publisher: Redis,
    private readonly deliver: Deliver,
  ) {}

  /** Connects to Redis and delivers what other instances publish to `port`'s channel. */
  static async join(
    config: ReferenceClusterConfig,
    port: number,
    deliver: Deliver,
  ): Promise<ReferenceCluster> {
    const publisher = new Redis(config.redisUrl, { lazyConnect: true });
    const subscriber = new Redis(config.redisUrl, { lazyConnect: true });
    await Promise.all([publisher.connect(), subscriber.connect()]);
    subscriber.on('message', (_channel: string, message: string) => {
      for (const [userId, frame] of JSON.parse(message) as [string, string][])
        deliver(userId, frame);
    });
    const cluster = new ReferenceCluster(config, publisher, deliver);
    await subscriber.subscribe(cluster.channelOf(port));
    return cluster;
  }

  /** Completes meal logs at the request's steady rate; only this instance touches PostgreSQL. */
  async produce(request: ProduceRequest): Promise<PostResult> {
    const database = new Client({ connectionString: this.config.databaseUrl });
    database.on('error', (error) => console.error('reference cluster: PostgreSQL', error));
    await database.connect();
    try {
      return await createAtSteadyRate(request.rate, request.durationMs, request.users, (users) =>
        this.complete(database, users, request.peerPort),
      );
    } finally {
      await database.end();
    }
  }

  private async complete(database: Client, users: string[], peerPort: number): Promise<string[]> {
    const { rows } = await database.query<CompletedRow>(
      `INSERT INTO meal_logs (user_id, text, logged_at, status, items, totals, completed_at)
       SELECT user_id, $2, clock_timestamp(), 'completed', $3, $4, clock_timestamp()
       FROM unnest($1::text[]) AS user_id
       RETURNING id, user_id, logged_at, created_at, completed_at`,
      [users, MEAL_TEXT, ANALYSED_ITEMS_JSON, ANALYSED_TOTALS_JSON],
    );
    const frames = rows.map((row): [string, string] => {
      const completedAt = row.completed_at.toISOString();
      const mealLog = {
        id: row.id,
        status: 'completed',
        mealType: null,
        loggedAt: row.logged_at.toISOString(),
        createdAt: row.created_at.toISOString(),
        completedAt,
        ...MEAL_TEXT_ANALYSIS,
        error: null,
      };
      return [row.user_id, this.frames.frameOf(row.user_id, mealLog)];
    });
    // A failed publish shows in the report as the peer's lost notifications.
    this.publisher
      .publish(this.channelOf(peerPort), JSON.stringify(frames))
      .catch((error: unknown) => console.error('reference cluster: publish failed', error));
    // One turn before the local writes, as MealPulse spends one for its Redis auto-pipeline, so
    // the same-instance latencies compare like for like.
    await new Promise((resolve) => setImmediate(resolve));
    for (const [userId, frame] of frames) this.deliver(userId, frame);
    return rows.map((row) => row.id);
  }

  private channelOf(port: number): string {
    return `${this.config.keyPrefix}reference:${port}`;
  }
}
