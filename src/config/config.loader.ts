import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Level } from 'pino';
import { ApnsConfig, AppConfig, NodeEnv } from './app-config';

/** HS256 wants a key at least as long as its hash. */
export const MIN_SECRET_BYTES = 32;

const LOG_LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];
const NODE_ENVS: readonly NodeEnv[] = ['development', 'production', 'test'];

/** Thrown for the first invalid variable; its message is the one line printed at boot. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === '' ? undefined : value;
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min = 0,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
  }
  return parsed;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

function url(env: Env, name: string, protocols: readonly string[]): string | null {
  const value = raw(env, name);
  if (value === undefined) return null;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got "${parsed.protocol}"`);
  }
  return value;
}

function origins(env: Env, name: string): string[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  return value.split(',').map((origin, index) => {
    const trimmed = origin.trim();
    try {
      // Browsers send the serialised origin (scheme://host[:port]); compare in that form.
      return new URL(trimmed).origin;
    } catch {
      throw new ConfigError(name, `entry ${index + 1} ("${trimmed}") is not a valid origin`);
    }
  });
}

/** A token a client sends as `Authorization: Bearer <token>`: visible ASCII, long enough to guess at. */
function bearerSecret(env: Env, name: string): string | null {
  const value = raw(env, name);
  if (value === undefined) return null;
  if (!/^[\x21-\x7e]{16,512}$/.test(value)) {
    throw new ConfigError(name, 'must be 16-512 visible ASCII characters without spaces');
  }
  return value;
}

const APNS_REQUIRED = ['APNS_KEY_FILE', 'APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC'] as const;
/** Apple's key and team ids: ten characters, capitals and digits. */
const APPLE_ID = /^[A-Z0-9]{10}$/;
/** A bundle id, possibly with a suffix such as `.voip`. */
const BUNDLE_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** The provider API's origin; a path, query or credentials in it would be silently ignored. */
function apnsOrigin(env: Env, name: string): string | null {
  const value = url(env, name, ['https:']);
  if (value === null) return null;
  const parsed = new URL(value);
  if (parsed.pathname !== '/' || parsed.search || parsed.username || parsed.password) {
    throw new ConfigError(name, 'must be an origin only (https://host[:port])');
  }
  return parsed.origin;
}

function apnsKey(env: Env): string {
  const file = raw(env, 'APNS_KEY_FILE')!;
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'APNS_KEY_FILE',
      `cannot be read (${(error as NodeJS.ErrnoException).code})`,
    );
  }
  let curve: string | undefined;
  try {
    const key = createPrivateKey(pem);
    curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  } catch {
    curve = undefined;
  }
  if (curve !== 'prime256v1') {
    throw new ConfigError(
      'APNS_KEY_FILE',
      'is not a P-256 (ES256) private key in PEM, as a .p8 is',
    );
  }
  return pem;
}

/** APNs token authentication: all four variables, or none (nothing is pushed). */
function apns(env: Env): ApnsConfig | null {
  const given = APNS_REQUIRED.filter((name) => raw(env, name) !== undefined);
  if (given.length === 0) return null;
  const missing = APNS_REQUIRED.find((name) => raw(env, name) === undefined);
  if (missing) {
    throw new ConfigError(missing, `is required when ${given[0]} is set (APNs needs all four)`);
  }
  const keyId = raw(env, 'APNS_KEY_ID')!;
  if (!APPLE_ID.test(keyId))
    throw new ConfigError('APNS_KEY_ID', 'must be the 10-character id Apple gave the key');
  const teamId = raw(env, 'APNS_TEAM_ID')!;
  if (!APPLE_ID.test(teamId))
    throw new ConfigError('APNS_TEAM_ID', 'must be the 10-character id of the Apple team');
  const topic = raw(env, 'APNS_TOPIC')!;
  if (topic.length > 255 || !BUNDLE_ID.test(topic))
    throw new ConfigError('APNS_TOPIC', `must be the app's bundle id, got "${topic.slice(0, 64)}"`);
  const production = apnsOrigin(env, 'APNS_URL');
  return {
    keyPem: apnsKey(env),
    keyId,
    teamId,
    topic,
    urls: {
      production: production ?? 'https://api.push.apple.com',
      // An override (a proxy, a test peer) serves both environments unless the sandbox has its own.
      sandbox:
        apnsOrigin(env, 'APNS_SANDBOX_URL') ?? production ?? 'https://api.sandbox.push.apple.com',
    },
  };
}

/** Validates the environment into the typed configuration; throws `ConfigError` on the first bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', NODE_ENVS, 'development');
  const jwtSecret = raw(env, 'JWT_SECRET');
  if (jwtSecret === undefined && nodeEnv === 'production') {
    throw new ConfigError('JWT_SECRET', 'is required when NODE_ENV=production');
  }
  if (jwtSecret !== undefined && Buffer.byteLength(jwtSecret, 'utf8') < MIN_SECRET_BYTES) {
    throw new ConfigError(
      'JWT_SECRET',
      `must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -base64 48)`,
    );
  }
  const staleAfterMs = integer(env, 'PRESENCE_STALE_AFTER_MS', 90_000, 1);
  const leaseMs = integer(env, 'JOB_LEASE_MS', 30_000, 100);
  const presenceFlushIntervalMs = integer(
    env,
    'REDIS_PRESENCE_FLUSH_INTERVAL_MS',
    Math.max(10, Math.min(1_000, Math.floor(staleAfterMs / 4))),
    10,
  );
  // Other instances judge freshness from these writes, so they must come well inside the window.
  if (presenceFlushIntervalMs * 2 > staleAfterMs) {
    throw new ConfigError(
      'REDIS_PRESENCE_FLUSH_INTERVAL_MS',
      `must be at most half of PRESENCE_STALE_AFTER_MS (${staleAfterMs})`,
    );
  }
  const analyzerTimeoutMs = integer(env, 'ANALYZER_TIMEOUT_MS', 5_000, 1);
  // A call still running when its lease ends would be duplicated by another worker.
  if (analyzerTimeoutMs >= leaseMs) {
    throw new ConfigError('ANALYZER_TIMEOUT_MS', `must be shorter than JOB_LEASE_MS (${leaseMs})`);
  }

  return {
    nodeEnv,
    port: integer(env, 'PORT', 3000, 0, 65_535),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    database: {
      url: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
      dataDir: resolve(raw(env, 'DATA_DIR') ?? '.data'),
      statementTimeoutMs: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 10_000, 100),
      connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5_000, 100),
    },
    shutdown: {
      timeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 15_000, 100),
    },
    auth: { jwtSecret: jwtSecret ?? null },
    http: {
      bodyLimitBytes: integer(env, 'HTTP_BODY_LIMIT_BYTES', 16_384, 1_024, 10_485_760),
      requestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 15_000, 1_000, 300_000),
    },
    metrics: { token: bearerSecret(env, 'METRICS_TOKEN') },
    retention: {
      notificationDays: integer(env, 'NOTIFICATION_RETENTION_DAYS', 30, 1, 3650),
      sessionAuditDays: integer(env, 'SESSION_AUDIT_RETENTION_DAYS', 90, 1, 36_500),
      idempotencyKeyHours: integer(env, 'IDEMPOTENCY_KEY_TTL_HOURS', 24, 1, 87_600),
      pruneIntervalMs: integer(env, 'RETENTION_PRUNE_INTERVAL_MS', 3_600_000, 1_000),
    },
    mealLogs: {
      perUserPerMinute: integer(env, 'MEAL_LOGS_PER_MINUTE', 60, 1, 10_000),
    },
    jobs: {
      concurrency: integer(env, 'JOB_CONCURRENCY', 4, 0, 256),
      pollIntervalMs: integer(env, 'JOB_POLL_INTERVAL_MS', 500, 10),
      leaseMs,
      maxAttempts: integer(env, 'JOB_MAX_ATTEMPTS', 5, 1, 100),
      retryBaseDelayMs: integer(env, 'JOB_RETRY_BASE_DELAY_MS', 1_000, 0),
    },
    analyzer: {
      url: url(env, 'ANALYZER_URL', ['http:', 'https:']),
      timeoutMs: analyzerTimeoutMs,
    },
    presence: {
      staleAfterMs,
      sweepIntervalMs: integer(env, 'PRESENCE_SWEEP_INTERVAL_MS', 30_000, 1),
      auditFlushIntervalMs: integer(env, 'PRESENCE_AUDIT_FLUSH_INTERVAL_MS', 10_000, 1),
    },
    notifications: {
      repushIntervalMs: integer(env, 'NOTIFICATION_REPUSH_INTERVAL_MS', 10_000, 100),
    },
    push: {
      apns: apns(env),
      ackDeadlineMs: integer(env, 'PUSH_ACK_DEADLINE_MS', 4_000, 1),
      scanIntervalMs: integer(env, 'PUSH_SCAN_INTERVAL_MS', 500, 10),
      maxAttempts: integer(env, 'PUSH_MAX_ATTEMPTS', 4, 1, 20),
    },
    redis: {
      url: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
      keyPrefix: raw(env, 'REDIS_KEY_PREFIX') ?? 'mealpulse:',
      presenceFlushIntervalMs,
    },
    ws: {
      heartbeatIntervalMs: integer(env, 'WS_HEARTBEAT_INTERVAL_MS', 30_000, 1),
      maxPayloadBytes: integer(env, 'WS_MAX_PAYLOAD_BYTES', 65_536, 64),
      allowedOrigins: origins(env, 'WS_ALLOWED_ORIGINS'),
      maxSessionsPerUser: integer(env, 'WS_MAX_SESSIONS_PER_USER', 10, 1),
      maxMessagesPerSecond: integer(env, 'WS_MAX_MESSAGES_PER_SECOND', 20, 1),
      maxUpgradesPerAddressPerSecond: integer(env, 'WS_MAX_UPGRADES_PER_ADDRESS_PER_SECOND', 0, 0),
      maxBufferedBytes: integer(env, 'WS_MAX_BUFFERED_BYTES', 1_048_576, 1_024),
    },
  };
}
