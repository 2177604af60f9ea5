import { Injectable } from '@nestjs/common';
import { nextTurn } from '../common/next-turn';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { LiveSession, toSessionView } from './live-session';
import { LocalSessions } from './local-sessions';
import { PresenceStore, SessionRecord, UserSessions } from './presence-store.port';
import type { SessionPlacement } from './session-placement';
import { isFresh, latestSeen } from './staleness';

export function toSessionRecord(session: LiveSession, instanceId: string): SessionRecord {
  return { ...toSessionView(session), instanceId };
}

export function toPlacement(session: LiveSession, instanceId: string): SessionPlacement {
  return {
    sessionId: session.sessionId,
    deviceId: session.deviceId,
    instanceId,
    appState: session.appState,
  };
}

/** One instance (no REDIS_URL): this process's own registry is the whole truth. */
@Injectable()
export class MemoryPresenceStore extends PresenceStore {
  constructor(
    private readonly config: AppConfig,
    private readonly local: LocalSessions,
    private readonly instance: ServiceInstance,
  ) {
    super();
  }

  // The local registry already holds the live objects: nothing to write.
  opened(): void {}
  touched(): void {}
  appStateChanged(): void {}
  ended(): void {}

  sessionsOf(userId: string): Promise<SessionRecord[]> {
    return Promise.resolve(
      this.local.ofUser(userId).map((s) => toSessionRecord(s, this.instance.id)),
    );
  }

  placementsOf(userIds: string[]): Promise<Map<string, SessionPlacement[]>> {
    return Promise.resolve(localPlacements(this.local, this.instance.id, userIds));
  }

  overview(
    limit: number,
    now: number,
  ): Promise<{ onlineUsers: number; sessions: number; users: UserSessions[] }> {
    return localOverview(
      this.local,
      this.instance.id,
      this.config.presence.staleAfterMs,
      limit,
      now,
    );
  }

  status(): 'up' {
    return 'up';
  }
}

/** Where each user's sessions on this instance are. Also the start of the Redis store's answer. */
export function localPlacements(
  local: LocalSessions,
  instanceId: string,
  userIds: string[],
): Map<string, SessionPlacement[]> {
  return new Map(
    userIds.map((userId) => [userId, local.ofUser(userId).map((s) => toPlacement(s, instanceId))]),
  );
}

/** Users whose freshness one turn of the event loop checks for an overview. */
const OVERVIEW_USERS_PER_TURN = 1_000;

/**
 * Online users of this instance's registry, newest first. Also the Redis store's fallback. Only
 * the `limit` users returned are copied out: the admin sampler asks for the counts alone every
 * few seconds, and copying all 19,000 sessions for it would hold the event loop for about 80 ms.
 * Even the count is read a thousand users per turn: 10,000 users in one piece held the live
 * frames for 4 ms every sample.
 */
export async function localOverview(
  local: LocalSessions,
  instanceId: string,
  staleAfterMs: number,
  limit: number,
  now: number,
): Promise<{ onlineUsers: number; sessions: number; users: UserSessions[] }> {
  let onlineUsers = 0;
  let checked = 0;
  const online: { lastSeenAt: number; sessions: ReadonlySet<LiveSession> }[] = [];
  // A Map's iterator survives changes between turns: users gone meanwhile are not visited.
  for (const sessions of local.byUsers()) {
    if (++checked % OVERVIEW_USERS_PER_TURN === 0) await nextTurn();
    const lastSeenAt = latestSeen(sessions, (s) => s.lastSeenAt);
    if (lastSeenAt === null || !isFresh(lastSeenAt, now, staleAfterMs)) continue;
    onlineUsers++;
    if (limit > 0) online.push({ lastSeenAt, sessions });
  }
  online.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  return {
    onlineUsers,
    sessions: local.count,
    // A user whose last session ended while the count went on is no longer listed.
    users: online
      .filter(({ sessions }) => sessions.size > 0)
      .slice(0, limit)
      .map(({ lastSeenAt, sessions }) => {
        const records = [...sessions].map((s) => toSessionRecord(s, instanceId));
        return { userId: records[0].userId, lastSeenAt, sessions: records };
      }),
  };
}
