import type { AppConfig } from '../config/app-config';
import type { LiveSession } from './live-session';
import type { SessionRecord } from './presence-store.port';
import type { SessionPlacement } from './session-placement';

/**
 * Where presence lives in Redis, under the deployment's key prefix: a hash per session (its
 * lease), each user's sessions as a sorted set of placements scored by last sign of life, and two
 * deployment-wide sorted sets (online users, all sessions) scored the same way.
 */
export interface PresenceKeys {
  session(sessionId: string): string;
  user(userId: string): string;
  users: string;
  sessions: string;
}

export function presenceKeys(prefix: string): PresenceKeys {
  return {
    session: (sessionId) => `${prefix}session:${sessionId}`,
    // Members are placements (instance, session, device, app state), not bare session ids.
    user: (userId) => `${prefix}placements:${userId}`,
    users: `${prefix}users`,
    sessions: `${prefix}sessions`,
  };
}

/**
 * How long a session's entries outlive its last sign of life: the stale window, plus one flush
 * interval for the renewal that may still be on its way.
 */
export function presenceLeaseMs(config: AppConfig): number {
  return config.presence.staleAfterMs + config.redis.presenceFlushIntervalMs;
}

/**
 * A user's sessions index holds each session's placement as the member itself, so the hot reads
 * (where to route a notification, whether to push it, which device to replace, how many sessions
 * a user holds) are one ZRANGEBYSCORE, without reading the session hashes.
 */
export function placementMember(placement: SessionPlacement): string {
  return JSON.stringify([
    placement.sessionId,
    placement.instanceId,
    placement.deviceId,
    placement.appState,
  ]);
}

export function parsePlacementMember(member: string): SessionPlacement | null {
  try {
    const [sessionId, instanceId, deviceId, appState] = JSON.parse(member) as unknown[];
    return typeof sessionId === 'string' && typeof instanceId === 'string'
      ? {
          sessionId,
          instanceId,
          deviceId: typeof deviceId === 'string' ? deviceId : null,
          appState: appState === 'background' ? 'background' : 'foreground',
        }
      : null;
  } catch {
    return null;
  }
}

/** A session's hash as field/value pairs, for HSET (an absent value is ''). */
export function sessionHashFields(session: LiveSession, instanceId: string): (string | number)[] {
  return Object.entries({
    sessionId: session.sessionId,
    userId: session.userId,
    deviceId: session.deviceId ?? '',
    instanceId,
    connectedAt: session.connectedAt,
    lastSeenAt: session.lastSeenAt,
    pings: session.pings,
    appState: session.appState,
    appStateChangedAt: session.appStateChangedAt ?? '',
    remoteAddress: session.remoteAddress ?? '',
    userAgent: session.userAgent ?? '',
  }).flat();
}

/** A session read back from its hash (HGETALL); null when the hash is gone. */
export function sessionRecordOf(fields: Record<string, string> | undefined): SessionRecord | null {
  if (!fields || !fields.sessionId) return null;
  return {
    sessionId: fields.sessionId,
    userId: fields.userId,
    deviceId: fields.deviceId || null,
    connectedAt: new Date(Number(fields.connectedAt)).toISOString(),
    lastSeenAt: new Date(Number(fields.lastSeenAt)).toISOString(),
    pings: Number(fields.pings),
    appState: fields.appState === 'background' ? 'background' : 'foreground',
    appStateChangedAt: fields.appStateChangedAt
      ? new Date(Number(fields.appStateChangedAt)).toISOString()
      : null,
    remoteAddress: fields.remoteAddress || null,
    userAgent: fields.userAgent || null,
    instanceId: fields.instanceId,
  };
}
