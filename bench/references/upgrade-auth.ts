import { createSecretKey, KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { verify } from 'jsonwebtoken';

export interface UpgradeIdentity {
  userId: string;
  deviceId: string | null;
}

const DEVICE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** As MealPulse's TokenVerifier does: a secret KeyObject, not a string jsonwebtoken re-parses. */
const keys = new Map<string, KeyObject>();
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) keys.set(secret, (key = createSecretKey(Buffer.from(secret, 'utf8'))));
  return key;
}

/**
 * The check MealPulse's UpgradeAuthorizer makes before a socket exists: an HS256 JWT from the
 * Authorization header or `?access_token`, a `sub`, an `exp`, and a well-formed deviceId.
 * Returns null when the upgrade must be refused.
 */
export function authenticateUpgrade(
  request: IncomingMessage,
  secret: string,
): UpgradeIdentity | null {
  const url = new URL(request.url ?? '/', 'ws://localhost');
  const header = request.headers.authorization;
  const token = header?.startsWith('Bearer ')
    ? header.slice(7)
    : url.searchParams.get('access_token');
  if (!token) return null;
  try {
    const payload = verify(token, keyOf(secret), { algorithms: ['HS256'] });
    if (typeof payload !== 'object' || typeof payload.sub !== 'string') return null;
    if (typeof payload.exp !== 'number') return null;
    const deviceId = url.searchParams.get('deviceId');
    if (deviceId !== null && !DEVICE_ID.test(deviceId)) return null;
    return { userId: payload.sub, deviceId };
  } catch {
    return null;
  }
}

/** The part of the server's environment the references read (MealPulse's variables). */
export interface ReferenceConfig {
  port: number;
  jwtSecret: string;
  heartbeatIntervalMs: number;
  staleAfterMs: number;
  maxPayloadBytes: number;
  /** W7's baseline only: with REDIS_URL, the instances deliver to each other through Redis. */
  cluster: ReferenceClusterConfig | null;
}

export interface ReferenceClusterConfig {
  redisUrl: string;
  keyPrefix: string;
  /** Where the producing instance commits its meal logs. */
  databaseUrl: string;
}

function clusterConfig(env: NodeJS.ProcessEnv): ReferenceClusterConfig | null {
  const redisUrl = env.REDIS_URL;
  if (!redisUrl) return null;
  const databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) throw new Error('DATABASE_URL is required with REDIS_URL');
  return { redisUrl, keyPrefix: env.REDIS_KEY_PREFIX ?? '', databaseUrl };
}

export function referenceConfig(env = process.env): ReferenceConfig {
  const number = (name: string, fallback: number) => Number(env[name] ?? fallback);
  const jwtSecret = env.JWT_SECRET;
  if (!jwtSecret) throw new Error('JWT_SECRET is required');
  return {
    port: number('PORT', 3000),
    jwtSecret,
    heartbeatIntervalMs: number('WS_HEARTBEAT_INTERVAL_MS', 30_000),
    staleAfterMs: number('PRESENCE_STALE_AFTER_MS', 90_000),
    maxPayloadBytes: number('WS_MAX_PAYLOAD_BYTES', 65_536),
    cluster: clusterConfig(env),
  };
}
