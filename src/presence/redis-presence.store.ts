import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RedisConnection } from '../cluster/redis.connection';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from './live-session';
import { LocalSessions } from './local-sessions';
import { localOverview, localPlacements, toSessionRecord } from './memory-presence.store';
import { PresenceLeaseWriter } from './presence-lease.writer';
import { PresenceStore, SessionRecord, UserSessions } from './presence-store.port';
import {
  parsePlacementMember,
  PresenceKeys,
  presenceKeys,
  presenceLeaseMs,
  sessionRecordOf,
} from './redis-presence.keys';
import type { SessionPlacement } from './session-placement';
import { isFresh } from './staleness';

/**
 * Presence shared by all instances through Redis. Each session is a hash whose expiry (the lease)
 * follows its last sign of life, so an instance that dies leaves no ghost for longer than the
 * stale window; sorted sets index sessions per user and the online users (redis-presence.keys.ts).
 * This instance's sessions are written by PresenceLeaseWriter, in batches.
 *
 * Reads merge this instance's own sessions from memory (always current, also while Redis is down)
 * with the other instances' sessions from Redis.
 */
@Injectable()
export class RedisPresenceStore
  extends PresenceStore
  implements OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly logger = new Logger(RedisPresenceStore.name);
  private readonly leases: PresenceLeaseWriter;
  private readonly key: PresenceKeys;
  private readonly leaseMs: number;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnection,
    private readonly local: LocalSessions,
    private readonly instance: ServiceInstance,
    private readonly metrics: Metrics,
  ) {
    super();
    this.key = presenceKeys(redis.keyPrefix);
    this.leaseMs = presenceLeaseMs(config);
    this.leases = new PresenceLeaseWriter(config, redis, local, instance, metrics);
  }

  onApplicationBootstrap(): void {
    this.leases.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.leases.close();
  }

  opened(session: LiveSession): void {
    this.leases.opened(session);
  }

  touched(session: LiveSession): void {
    this.leases.touched(session);
  }

  appStateChanged(session: LiveSession): void {
    this.leases.appStateChanged(session);
  }

  ended(sessions: LiveSession[]): void {
    this.leases.ended(sessions);
  }

  async sessionsOf(userId: string): Promise<SessionRecord[]> {
    const own = this.local.ofUser(userId).map((s) => toSessionRecord(s, this.instance.id));
    try {
      const remote = await this.readSessions(
        (await this.remotePlacementsOf([userId])).get(userId) ?? [],
      );
      return [...own, ...remote.filter((record) => record.instanceId !== this.instance.id)];
    } catch {
      return own;
    }
  }

  async placementsOf(userIds: string[]): Promise<Map<string, SessionPlacement[]>> {
    const placements = localPlacements(this.local, this.instance.id, userIds);
    try {
      for (const [userId, remote] of await this.remotePlacementsOf(userIds))
        placements.get(userId)!.push(...remote);
    } catch (error) {
      // This instance's own sessions are all that can be known; what this misses is replayed or
      // re-pushed. Debug only: during an outage this runs for every notification, and
      // /health/ready already reports Redis down.
      this.logger.debug({ err: error }, 'presence lookup fell back to this instance');
    }
    return placements;
  }

  async overview(
    limit: number,
    now: number,
  ): Promise<{ onlineUsers: number; sessions: number; users: UserSessions[] }> {
    const staleAfterMs = this.config.presence.staleAfterMs;
    try {
      const freshFrom = now - staleAfterMs;
      const [onlineUsers, sessions, userIds] = await Promise.all([
        this.redis.commands.zcount(this.key.users, `(${freshFrom}`, '+inf'),
        this.redis.commands.zcount(this.key.sessions, now - this.leaseMs, '+inf'),
        this.redis.commands.zrevrangebyscore(
          this.key.users,
          '+inf',
          `(${freshFrom}`,
          'LIMIT',
          0,
          limit,
        ),
      ]);
      this.metrics.redisPresenceCommands.inc({ op: 'read' }, 3);
      const users = await Promise.all(
        userIds.map(async (userId) => {
          const records = await this.sessionsOf(userId);
          const lastSeenAt = Math.max(...records.map((r) => Date.parse(r.lastSeenAt)));
          return { userId, lastSeenAt, sessions: records };
        }),
      );
      return {
        onlineUsers,
        sessions,
        users: users.filter((u) => isFresh(u.lastSeenAt, now, staleAfterMs)),
      };
    } catch {
      return localOverview(this.local, this.instance.id, staleAfterMs, limit, now);
    }
  }

  status(): 'up' | 'down' {
    return this.redis.isUp ? 'up' : 'down';
  }

  /** The users' sessions with a live lease on other instances, in one pipeline. */
  private async remotePlacementsOf(userIds: string[]): Promise<Map<string, SessionPlacement[]>> {
    const cutoff = Date.now() - this.leaseMs;
    const pipeline = this.redis.commands.pipeline();
    for (const userId of userIds) pipeline.zrangebyscore(this.key.user(userId), cutoff, '+inf');
    const results = (await pipeline.exec()) ?? [];
    this.metrics.redisPresenceCommands.inc({ op: 'read' }, userIds.length);
    return new Map(
      userIds.map((userId, i) => {
        const [error, members] = results[i] ?? [new Error('no reply')];
        if (error) throw error;
        const placements = (members as string[])
          .map(parsePlacementMember)
          .filter((p): p is SessionPlacement => p !== null && p.instanceId !== this.instance.id);
        return [userId, placements];
      }),
    );
  }

  private async readSessions(placements: SessionPlacement[]): Promise<SessionRecord[]> {
    if (placements.length === 0) return [];
    const pipeline = this.redis.commands.pipeline();
    for (const { sessionId } of placements) pipeline.hgetall(this.key.session(sessionId));
    const results = (await pipeline.exec()) ?? [];
    this.metrics.redisPresenceCommands.inc({ op: 'read' }, placements.length);
    return results
      .map(([, fields]) => sessionRecordOf(fields as Record<string, string> | undefined))
      .filter((record) => record !== null);
  }
}
