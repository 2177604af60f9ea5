import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig } from '../config/app-config';
import { ConfigError } from '../config/config.loader';

/** How long start-up waits to learn whether Redis takes the credentials; then it goes on without. */
const FIRST_CONNECT_WAIT_MS = 3_000;

/** Redis's answers to a missing or wrong password (or ACL user). */
const AUTHENTICATION_REFUSED = /^(WRONGPASS|NOAUTH)\b/;

/**
 * Credentials Redis refuses are a configuration error: start-up stops with one line naming
 * REDIS_URL. A Redis that is down or unreachable is an outage, not checked here: the instance
 * starts without it and reconnects. Run before the app is built, on a connection of its own.
 */
export async function checkRedisCredentials(url: string): Promise<void> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // A refused AUTH closes the connection: the reason is the last error the client reported.
  let lastError: Error | null = null;
  probe.on('error', (error: Error) => (lastError = error));
  const refusal = await Promise.race([
    probe
      .connect()
      .then(() => probe.ping())
      .then(
        () => null,
        (error: Error) => lastError ?? error,
      ),
    new Promise<null>((resolve) => setTimeout(() => resolve(null), FIRST_CONNECT_WAIT_MS).unref()),
  ]);
  probe.disconnect();
  if (refusal && AUTHENTICATION_REFUSED.test(refusal.message)) {
    throw new ConfigError(
      'REDIS_URL',
      `was refused by Redis (${refusal.message.split(' ')[0]}): check the user and password in it`,
    );
  }
}

/**
 * The Redis connections of an instance, when REDIS_URL is set: one for the commands on the
 * delivery path (routing reads, publishes), one for the presence leases' bulk writes (pipelines of
 * up to 200 lease commands, several per flush, which a notification must not queue behind: replies come back
 * in order on a connection), and one for subscriptions (a subscribed connection can issue nothing
 * else). All reconnect forever on their own; while disconnected, commands fail at once instead of
 * queueing, so nothing on the request or ping path ever waits for Redis.
 */
@Injectable()
export class RedisConnection implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisConnection.name);
  readonly commands: Redis;
  readonly leases: Redis;
  readonly subscriber: Redis;
  readonly keyPrefix: string;

  constructor(config: AppConfig) {
    const url = config.redis.url!;
    this.keyPrefix = config.redis.keyPrefix;
    const options: RedisOptions = {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    };
    // Routing reads and publishes issued in one event-loop turn (a committed group of
    // notifications) go out in one write.
    this.commands = new Redis(url, { ...options, enableAutoPipelining: true });
    this.leases = new Redis(url, options);
    // The subscriber queues its SUBSCRIBE until connected, and re-subscribes after reconnects.
    this.subscriber = new Redis(url, { ...options, enableOfflineQueue: true });
    for (const [name, client] of [
      ['commands', this.commands],
      ['leases', this.leases],
      ['subscriber', this.subscriber],
    ] as const) {
      client.on('ready', () => this.logger.log(`Redis ${name} connection ready`));
      client.on('error', (error: Error) =>
        this.logger.warn(`Redis ${name} connection: ${error.message}`),
      );
    }
  }

  get isUp(): boolean {
    return this.commands.status === 'ready' && this.leases.status === 'ready';
  }

  async onApplicationShutdown(): Promise<void> {
    this.subscriber.disconnect();
    await Promise.all(
      [this.commands, this.leases].map((client) => client.quit().catch(() => client.disconnect())),
    );
  }
}
