import type { Level } from 'pino';

export type NodeEnv = 'development' | 'production' | 'test';

/**
 * The service's whole configuration, validated once at boot (see `loadConfig`).
 * An abstract class rather than an interface so it can be the DI token itself:
 * `constructor(private readonly config: AppConfig)`.
 */
export abstract class AppConfig {
  abstract readonly nodeEnv: NodeEnv;
  abstract readonly port: number;
  abstract readonly logLevel: Level;
  abstract readonly database: {
    /** `null` means "start the embedded PostgreSQL under `dataDir`". */
    readonly url: string | null;
    /** DATA_DIR: the embedded cluster and the generated JWT secret. */
    readonly dataDir: string;
    /**
     * The server cancels a statement running longer (the connection stays usable); the pool
     * gives up on one that gets no answer at all (a hung server) a moment later.
     */
    readonly statementTimeoutMs: number;
    /** A connection not established within this long, or not free in the pool by then, fails. */
    readonly connectTimeoutMs: number;
  };
  abstract readonly shutdown: {
    /**
     * The longest from SIGTERM/SIGINT to exit. The job drain gets half of it; past all of it the
     * process exits with code 1 and leaves what it could not finish to the next start.
     */
    readonly timeoutMs: number;
  };
  abstract readonly auth: {
    /**
     * JWT_SECRET; `null` means "the random secret kept in `dataDir`, generated on first start"
     * (see `loadSigningSecret`).
     */
    readonly jwtSecret: string | null;
  };
  abstract readonly http: {
    readonly bodyLimitBytes: number;
    /** A request not received in full (headers and body) this long after its first byte gets 408. */
    readonly requestTimeoutMs: number;
  };
  abstract readonly metrics: {
    /** METRICS_TOKEN; `null` leaves /metrics open (for a scraper on a private network). */
    readonly token: string | null;
  };
  abstract readonly retention: {
    /** Acknowledged notifications older than this are deleted. */
    readonly notificationDays: number;
    /** Ended sessions older than this are deleted from the audit. */
    readonly sessionAuditDays: number;
    /** An Idempotency-Key older than this is forgotten: the same key then creates a new log. */
    readonly idempotencyKeyHours: number;
    /** How often each of them is pruned, in small batches. */
    readonly pruneIntervalMs: number;
  };
  abstract readonly mealLogs: {
    /** Logs one user may create in any minute; one more POST is refused (429). */
    readonly perUserPerMinute: number;
  };
  abstract readonly jobs: {
    readonly concurrency: number;
    readonly pollIntervalMs: number;
    readonly leaseMs: number;
    readonly maxAttempts: number;
    readonly retryBaseDelayMs: number;
  };
  abstract readonly analyzer: {
    /** `null` selects the built-in analyzer. */
    readonly url: string | null;
    readonly timeoutMs: number;
  };
  abstract readonly presence: {
    readonly staleAfterMs: number;
    readonly sweepIntervalMs: number;
    /** How often session activity (lastSeenAt, pings) is written to the audit table. */
    readonly auditFlushIntervalMs: number;
  };
  abstract readonly notifications: {
    /**
     * How often each local session is offered the notifications after its cursor (acknowledged
     * or not) older than a moment: the catch-up behind live delivery.
     */
    readonly repushIntervalMs: number;
  };
  abstract readonly push: {
    /** null: APNs is not configured, and nothing is pushed. */
    readonly apns: ApnsConfig | null;
    /** A notification no session acknowledged within this long is pushed. */
    readonly ackDeadlineMs: number;
    /** How often due pushes are looked for (new ones with no foreground session go at once). */
    readonly scanIntervalMs: number;
    /** Rounds of a push that APNs could not take (429, 5xx) before it is given up. */
    readonly maxAttempts: number;
  };
  abstract readonly redis: {
    /** `null`: a single instance with in-memory presence; set: instances share presence and deliver across. */
    readonly url: string | null;
    readonly keyPrefix: string;
    /** How often this instance writes its sessions' leases (lastSeenAt) to Redis. */
    readonly presenceFlushIntervalMs: number;
  };
  abstract readonly ws: {
    readonly heartbeatIntervalMs: number;
    readonly maxPayloadBytes: number;
    readonly allowedOrigins: readonly string[];
    readonly maxSessionsPerUser: number;
    readonly maxMessagesPerSecond: number;
    /** Upgrades per remote address per second (averaged over 10 s); 0 = no limit. */
    readonly maxUpgradesPerAddressPerSecond: number;
    /** A session whose unsent output exceeds this (a client that stopped reading) is terminated. */
    readonly maxBufferedBytes: number;
  };
}

/** Token-based APNs authentication and where the provider API is. */
export interface ApnsConfig {
  /** The `.p8` signing key's PEM (read from APNS_KEY_FILE at boot; never logged). */
  readonly keyPem: string;
  readonly keyId: string;
  readonly teamId: string;
  /** The app's bundle id (`apns-topic`). */
  readonly topic: string;
  /** Provider API origins by the environment a device token was registered for. */
  readonly urls: { readonly production: string; readonly sandbox: string };
}
