import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ReplyError, type ChainableCommander, type Result } from 'ioredis';
import { RedisConnection } from '../cluster/redis.connection';
import { BatchWriter, RefusedRow } from '../common/batch-writer';
import { errorFields } from '../logging/safe-error';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from './live-session';
import { LocalSessions } from './local-sessions';
import {
  localOverview,
  localPlacements,
  toPlacement,
  toSessionRecord,
} from './memory-presence.store';
import { PresenceStore, SessionRecord, UserSessions } from './presence-store.port';
import type { SessionPlacement } from './session-placement';
import { isFresh } from './staleness';

/**
 * Removes an ended session and keeps the user's entry in the online index truthful: its score
 * drops to the user's freshest remaining session, or the user leaves the index. Atomic, so two
 * instances ending a user's last two sessions at once cannot leave the user looking online.
 * KEYS: session hash, user's sessions, all sessions, online users. ARGV: session id, user id,
 * the session's member in the user's sessions, and the members it had before app state changes
 * not yet written (newline-separated; '' if none).
 */
const END_SESSION_SCRIPT = `
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[3])
for member in string.gmatch(ARGV[4], '[^\\n]+') do redis.call('ZREM', KEYS[2], member) end
redis.call('ZREM', KEYS[3], ARGV[1])
local freshest = redis.call('ZREVRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #freshest == 0 then
  redis.call('ZREM', KEYS[4], ARGV[2])
else
  redis.call('ZADD', KEYS[4], freshest[2], ARGV[2])
end
return 1`;

/** Sessions per lease pipeline. */
const LEASE_CHUNK = 200;
/** At most one warning this often while leases wait for Redis. */
const WARN_EVERY_MS = 10_000;

/**
 * Renews a session's lease: its hash, its place in the user's sessions, the online users and all
 * sessions, with their expiries. One command per session instead of six: both ends parse one
 * reply, which at tens of thousands of sessions is most of what a flush costs.
 * KEYS: session hash, user's sessions, online users, all sessions.
 * ARGV: expires at, last seen at, member in the user's sessions, user id, session id, pings,
 * the members to replace (newline-separated, '' if none: the member holds the app state, so a
 * change replaces it; a JSON member holds no newline),
 * then, for a full write, all the hash's field/value pairs. A renewal without them only updates
 * what changes; if the hash is gone (lease lapsed, Redis restarted) it writes nothing and returns
 * 0, and the session is written in full on the next flush.
 */
const RENEW_LEASE_SCRIPT = `
if #ARGV > 7 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 8))
elseif redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
else
  redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2], 'pings', ARGV[6])
end
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
for member in string.gmatch(ARGV[7], '[^\\n]+') do redis.call('ZREM', KEYS[2], member) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
-- The user's index outlives its longest lease: a late renewal must not shorten it.
local now = redis.call('TIME')
local ttl = redis.call('PTTL', KEYS[2])
if ttl < 0 or now[1] * 1000 + math.floor(now[2] / 1000) + ttl < tonumber(ARGV[1]) then
  redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
redis.call('ZADD', KEYS[3], 'GT', ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[5])
return 1`;

function presenceKeys(prefix: string) {
  return {
    session: (sessionId: string) => `${prefix}session:${sessionId}`,
    // `placements:`, not the first version's `user:` (members were bare session ids there).
    user: (userId: string) => `${prefix}placements:${userId}`,
    users: `${prefix}users`,
    sessions: `${prefix}sessions`,
  };
}

/** What names a session in Redis, fixed for its lifetime. */
interface LeaseIdentity {
  sessionKey: string;
  userKey: string;
  member: string;
}

/** A session's lease to renew, or to end. */
interface LeaseChange {
  session: LiveSession;
  ended: boolean;
}

declare module 'ioredis' {
  interface RedisCommander<Context> {
    renewPresenceLease(...args: (string | number)[]): Result<number, Context>;
    endPresenceLease(...args: (string | number)[]): Result<number, Context>;
  }
}

/**
 * A user's sessions index holds each session's placement as the member itself, so the hot reads
 * (where to route a notification, whether to push it, which device to replace, how many sessions
 * a user holds) are one ZRANGEBYSCORE, without reading the session hashes.
 */
function placementMember(placement: SessionPlacement): string {
  return JSON.stringify([
    placement.sessionId,
    placement.instanceId,
    placement.deviceId,
    placement.appState,
  ]);
}

function parsePlacementMember(member: string): SessionPlacement | null {
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

/**
 * Presence shared by all instances through Redis. Each session is a hash whose expiry (the lease)
 * follows its last sign of life, so an instance that dies leaves no ghost for longer than the
 * stale window; sorted sets index sessions per user and the online users. Activity is written in
 * pipelines once per flush interval, never a round trip per ping; opens, ends and app state
 * changes go out at once so other instances can route to, and replace, a session as soon as it
 * exists. A command Redis refuses drops that session's write (logged), not the others'.
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
  private readonly leases: BatchWriter<LeaseChange>;
  /**
   * Sessions whose hash this connection has written in full: their renewals carry only what
   * changes (two fields instead of nine: the renewals were most of what a flush allocated).
   */
  private writtenInFull = new WeakSet<LiveSession>();
  /** Each session's keys and index member, built once instead of on every renewal. */
  private readonly identities = new WeakMap<LiveSession, LeaseIdentity>();
  /**
   * The members a session had in Redis before its app state changed, until a write has removed
   * them: the member holds the state, and an old one must not linger as a second placement. A
   * set, as the state can change again while a write of the first change is in flight.
   */
  private readonly replacedMembers = new Map<string, Set<string>>();
  private readonly key: ReturnType<typeof presenceKeys>;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisConnection,
    private readonly local: LocalSessions,
    private readonly instance: ServiceInstance,
    private readonly metrics: Metrics,
  ) {
    super();
    this.key = presenceKeys(redis.keyPrefix);
    this.leases = new BatchWriter<LeaseChange>(
      {
        name: 'presence_leases',
        keyField: 'sessionId',
        delayMs: config.redis.presenceFlushIntervalMs,
        maxBatch: LEASE_CHUNK,
        // An ended session's lease is removed, whatever renewal was queued with it.
        merge: (older, newer) => (older.ended ? older : newer),
        write: (batch) => this.write(batch.map(([, change]) => change)),
        // A command Redis refuses comes back as that session's refusal: a pipeline that fails as
        // a whole means Redis cannot be reached.
        isUnavailable: () => true,
        retry: { afterMs: config.redis.presenceFlushIntervalMs, warnEveryMs: WARN_EVERY_MS },
      },
      metrics,
    );
  }

  onApplicationBootstrap(): void {
    // Sent as EVALSHA, loaded by ioredis on first use (and again after a Redis restart).
    this.redis.leases.defineCommand('renewPresenceLease', { lua: RENEW_LEASE_SCRIPT });
    this.redis.leases.defineCommand('endPresenceLease', { lua: END_SESSION_SCRIPT });
    // After an outage the leases may have expired: write every session again, in full, at once.
    this.redis.leases.on('ready', () => {
      this.writtenInFull = new WeakSet();
      for (const session of this.local.all())
        this.leases.add(session.sessionId, { session, ended: false });
      void this.leases.flush();
    });
  }

  onApplicationShutdown(): Promise<void> {
    return this.leases.close();
  }

  opened(session: LiveSession): void {
    this.leases.addNow(session.sessionId, { session, ended: false });
  }

  touched(session: LiveSession): void {
    this.leases.add(session.sessionId, { session, ended: false });
  }

  appStateChanged(session: LiveSession): void {
    const identity = this.identities.get(session);
    if (identity) {
      const replaced = this.replacedMembers.get(session.sessionId) ?? new Set<string>();
      replaced.add(identity.member);
      this.replacedMembers.set(session.sessionId, replaced);
    }
    this.identities.delete(session);
    // The hash holds the state too: written in full, at once.
    this.writtenInFull.delete(session);
    this.leases.addNow(session.sessionId, { session, ended: false });
  }

  ended(sessions: LiveSession[]): void {
    for (const session of sessions) this.leases.addNow(session.sessionId, { session, ended: true });
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
        this.redis.commands.zcount(this.key.sessions, this.leaseCutoff(now), '+inf'),
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

  /** Sessions seen before this are past their lease. */
  private leaseCutoff(now: number): number {
    return now - this.config.presence.staleAfterMs - this.config.redis.presenceFlushIntervalMs;
  }

  /** The users' sessions with a live lease on other instances, in one pipeline. */
  private async remotePlacementsOf(userIds: string[]): Promise<Map<string, SessionPlacement[]>> {
    const cutoff = this.leaseCutoff(Date.now());
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
      .map(([, fields]) => fields as Record<string, string>)
      .filter((fields) => fields && fields.sessionId)
      .map((fields) => ({
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
      }));
  }

  /**
   * Writes one pipeline of at most LEASE_CHUNK sessions (the writer splits a larger flush, so it
   * never holds Redis, nor this event loop parsing its replies, for long in one piece). Returns
   * the sessions whose command Redis refused.
   */
  private async write(changes: LeaseChange[]): Promise<RefusedRow[]> {
    const pipeline = this.redis.leases.pipeline();
    const renewals: { session: LiveSession; full: boolean; at: number; replaced: string[] }[] = [];
    const ends: { sessionId: string; at: number; replaced: string[] }[] = [];
    for (const { session, ended } of changes) {
      const replaced = [...(this.replacedMembers.get(session.sessionId) ?? [])];
      if (ended) {
        ends.push({ sessionId: session.sessionId, at: pipeline.length, replaced });
        this.endLease(pipeline, session, replaced);
      } else {
        const full = !this.writtenInFull.has(session);
        renewals.push({ session, full, at: pipeline.length, replaced });
        this.renewLease(pipeline, session, full, replaced);
      }
    }
    this.trimIndexes(pipeline, renewals.length > 0);
    this.metrics.redisPresenceCommands.inc({ op: 'lease' }, pipeline.length);
    const results = (await pipeline.exec()) ?? [];
    // Anything but Redis's own answer (a connection error) means the pipeline did not get through.
    const unsent = results.find(([error]) => error && !(error instanceof ReplyError));
    if (unsent) throw unsent[0] as Error;
    // One command per session, then the trims'.
    const [trimError] = results.slice(changes.length).find(([error]) => error) ?? [];
    if (trimError) this.logger.warn(errorFields(trimError), 'trimming the presence indexes failed');
    const refused: RefusedRow[] = [];
    for (const { sessionId, at, replaced } of ends) {
      const [error] = results[at] ?? [];
      if (error) refused.push({ key: sessionId, error });
      else this.forgetReplaced(sessionId, replaced);
    }
    for (const { session, full, at, replaced } of renewals) {
      const [error, reply] = results[at] ?? [];
      if (error) {
        refused.push({ key: session.sessionId, error });
      } else if (reply === 1) {
        if (full) this.writtenInFull.add(session);
        this.forgetReplaced(session.sessionId, replaced);
      } else if (session.endReason === null) {
        // Its hash was gone: written in full with the next flush.
        this.writtenInFull.delete(session);
        this.leases.add(session.sessionId, { session, ended: false });
      }
    }
    return refused;
  }

  /** These replaced members are gone from Redis; any added meanwhile are still to remove. */
  private forgetReplaced(sessionId: string, removed: string[]): void {
    const replaced = this.replacedMembers.get(sessionId);
    if (!replaced) return;
    for (const member of removed) replaced.delete(member);
    if (replaced.size === 0) this.replacedMembers.delete(sessionId);
  }

  private identityOf(session: LiveSession): LeaseIdentity {
    let identity = this.identities.get(session);
    if (!identity) {
      identity = {
        sessionKey: this.key.session(session.sessionId),
        userKey: this.key.user(session.userId),
        member: placementMember(toPlacement(session, this.instance.id)),
      };
      this.identities.set(session, identity);
    }
    return identity;
  }

  private renewLease(
    pipeline: ChainableCommander,
    session: LiveSession,
    full: boolean,
    replaced: string[],
  ): void {
    const { sessionKey, userKey, member } = this.identityOf(session);
    const expiresAt =
      session.lastSeenAt +
      this.config.presence.staleAfterMs +
      this.config.redis.presenceFlushIntervalMs;
    const renewal = [
      4,
      sessionKey,
      userKey,
      this.key.users,
      this.key.sessions,
      expiresAt,
      session.lastSeenAt,
      member,
      session.userId,
      session.sessionId,
      session.pings,
      replaced.join('\n'),
    ];
    if (!full) {
      pipeline.renewPresenceLease(...renewal);
      return;
    }
    pipeline.renewPresenceLease(
      ...renewal,
      ...Object.entries({
        sessionId: session.sessionId,
        userId: session.userId,
        deviceId: session.deviceId ?? '',
        instanceId: this.instance.id,
        connectedAt: session.connectedAt,
        lastSeenAt: session.lastSeenAt,
        pings: session.pings,
        appState: session.appState,
        appStateChangedAt: session.appStateChangedAt ?? '',
        remoteAddress: session.remoteAddress ?? '',
        userAgent: session.userAgent ?? '',
      }).flat(),
    );
  }

  private endLease(pipeline: ChainableCommander, session: LiveSession, replaced: string[]): void {
    const { sessionKey, userKey, member } = this.identityOf(session);
    pipeline.endPresenceLease(
      4,
      sessionKey,
      userKey,
      this.key.sessions,
      this.key.users,
      session.sessionId,
      session.userId,
      member,
      replaced.join('\n'),
    );
  }

  /**
   * Index entries of sessions whose lease ran out (their instance died) are trimmed by anyone,
   * and the indexes themselves expire once no instance has written for a whole lease.
   */
  private trimIndexes(pipeline: ChainableCommander, renewed: boolean): void {
    const lease = this.config.presence.staleAfterMs + this.config.redis.presenceFlushIntervalMs;
    for (const index of [this.key.users, this.key.sessions]) {
      pipeline.zremrangebyscore(index, '-inf', `(${this.leaseCutoff(Date.now())}`);
      if (renewed) pipeline.pexpire(index, lease);
    }
  }
}
