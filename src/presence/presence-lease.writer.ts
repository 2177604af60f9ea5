import { Logger } from '@nestjs/common';
import { ReplyError, type ChainableCommander } from 'ioredis';
import { RedisConnection } from '../cluster/redis.connection';
import { BatchWriter, RefusedRow } from '../common/batch-writer';
import { ServiceInstance } from '../common/service-instance';
import { AppConfig } from '../config/app-config';
import { errorFields } from '../logging/safe-error';
import { Metrics } from '../metrics/metrics';
import type { LiveSession } from './live-session';
import { LocalSessions } from './local-sessions';
import { toPlacement } from './memory-presence.store';
import {
  placementMember,
  PresenceKeys,
  presenceKeys,
  presenceLeaseMs,
  sessionHashFields,
} from './redis-presence.keys';
import { defineLeaseScripts } from './redis-presence.scripts';

/** Sessions per lease pipeline. */
const LEASE_CHUNK = 200;
/** At most one warning this often while leases wait for Redis. */
const WARN_EVERY_MS = 10_000;
/** A renewal of a hash already written in full: the script then updates only what changes. */
const NO_HASH_FIELDS: (string | number)[] = [];

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

/**
 * This instance's sessions in Redis, as leases (RedisPresenceStore's writes). Activity is written
 * in pipelines once per flush interval, never a round trip per ping; opens, ends and app state
 * changes go out at once so other instances can route to, and replace, a session as soon as it
 * exists. Built on BatchWriter: a pipeline that fails as a whole (Redis unreachable) is retried
 * with what queued meanwhile, and a command Redis refuses drops that session's write (logged),
 * not the others'.
 */
export class PresenceLeaseWriter {
  private readonly logger = new Logger(PresenceLeaseWriter.name);
  private readonly batches: BatchWriter<LeaseChange>;
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
  private readonly key: PresenceKeys;
  private readonly leaseMs: number;

  constructor(
    config: AppConfig,
    private readonly redis: RedisConnection,
    private readonly local: LocalSessions,
    private readonly instance: ServiceInstance,
    private readonly metrics: Metrics,
  ) {
    this.key = presenceKeys(redis.keyPrefix);
    this.leaseMs = presenceLeaseMs(config);
    this.batches = new BatchWriter<LeaseChange>(
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

  /** Call once the application is up: from then on every (re)connection rewrites every lease. */
  start(): void {
    defineLeaseScripts(this.redis.leases);
    // After an outage the leases may have expired: write every session again, in full, at once.
    this.redis.leases.on('ready', () => {
      this.writtenInFull = new WeakSet();
      for (const session of this.local.all())
        this.batches.add(session.sessionId, { session, ended: false });
      void this.batches.flush();
    });
  }

  /** The last write, at shutdown. */
  close(): Promise<void> {
    return this.batches.close();
  }

  opened(session: LiveSession): void {
    this.batches.addNow(session.sessionId, { session, ended: false });
  }

  touched(session: LiveSession): void {
    this.batches.add(session.sessionId, { session, ended: false });
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
    this.batches.addNow(session.sessionId, { session, ended: false });
  }

  ended(sessions: LiveSession[]): void {
    for (const session of sessions)
      this.batches.addNow(session.sessionId, { session, ended: true });
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
        this.batches.add(session.sessionId, { session, ended: false });
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
    pipeline.renewPresenceLease(
      sessionKey,
      userKey,
      this.key.users,
      this.key.sessions,
      session.lastSeenAt + this.leaseMs,
      session.lastSeenAt,
      member,
      session.userId,
      session.sessionId,
      session.pings,
      replaced.join('\n'),
      ...(full ? sessionHashFields(session, this.instance.id) : NO_HASH_FIELDS),
    );
  }

  private endLease(pipeline: ChainableCommander, session: LiveSession, replaced: string[]): void {
    const { sessionKey, userKey, member } = this.identityOf(session);
    pipeline.endPresenceLease(
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
    for (const index of [this.key.users, this.key.sessions]) {
      pipeline.zremrangebyscore(index, '-inf', `(${Date.now() - this.leaseMs}`);
      if (renewed) pipeline.pexpire(index, this.leaseMs);
    }
  }
}
