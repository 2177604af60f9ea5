import { Injectable } from '@nestjs/common';
import type { WebSocket } from 'ws';
import type { LiveSession } from './live-session';

/** How many shards the sessions are partitioned into (see `inShard`). */
export const SESSION_SHARDS = 1_000;

/** A session's shard: from the random tail of its UUID, so shards fill evenly. */
export function sessionShardOf(sessionId: string): number {
  return parseInt(sessionId.slice(-6), 16) % SESSION_SHARDS;
}

/** The shards of one of `slots` slices of the sessions: every shard falls in exactly one. */
export function shardsOfSlot(slot: number, slots: number): number[] {
  const shards: number[] = [];
  for (let shard = slot; shard < SESSION_SHARDS; shard += slots) shards.push(shard);
  return shards;
}

/**
 * The sessions this process holds, indexed by id, user, device, socket and shard, with their
 * sockets (for SessionConnections and the heartbeat only: nothing outside Presence writes to a
 * socket). A data structure only: PresenceService decides what goes in and out.
 */
@Injectable()
export class LocalSessions {
  private readonly byId = new Map<string, LiveSession>();
  private readonly byUser = new Map<string, Set<LiveSession>>();
  private readonly byDevice = new Map<string, LiveSession>();
  private readonly bySocket = new WeakMap<WebSocket, LiveSession>();
  /** Kept after a session is removed: it is ended first, and its socket closed after. */
  private readonly sockets = new WeakMap<LiveSession, WebSocket>();
  private readonly byShard = Array.from({ length: SESSION_SHARDS }, () => new Set<LiveSession>());

  /** Adds a session; returns the session it displaces on the same user and device, if any. */
  add(session: LiveSession, socket: WebSocket): LiveSession | undefined {
    const deviceKey = LocalSessions.deviceKey(session);
    const previous = deviceKey === null ? undefined : this.byDevice.get(deviceKey);
    this.byId.set(session.sessionId, session);
    let userSessions = this.byUser.get(session.userId);
    if (!userSessions) this.byUser.set(session.userId, (userSessions = new Set()));
    userSessions.add(session);
    if (deviceKey !== null) this.byDevice.set(deviceKey, session);
    this.bySocket.set(socket, session);
    this.sockets.set(session, socket);
    this.byShard[sessionShardOf(session.sessionId)].add(session);
    return previous;
  }

  remove(session: LiveSession): void {
    this.byId.delete(session.sessionId);
    this.byShard[sessionShardOf(session.sessionId)].delete(session);
    const userSessions = this.byUser.get(session.userId);
    userSessions?.delete(session);
    if (userSessions?.size === 0) this.byUser.delete(session.userId);
    const deviceKey = LocalSessions.deviceKey(session);
    if (deviceKey !== null && this.byDevice.get(deviceKey) === session)
      this.byDevice.delete(deviceKey);
  }

  get(sessionId: string): LiveSession | undefined {
    return this.byId.get(sessionId);
  }

  /** The socket a session was opened on, also after it ended. */
  socketOf(session: LiveSession): WebSocket | undefined {
    return this.sockets.get(session);
  }

  /** The session a socket carries, also after it ended (see `endReason`). */
  ofSocket(socket: WebSocket): LiveSession | undefined {
    return this.bySocket.get(socket);
  }

  ofUser(userId: string): LiveSession[] {
    const sessions = this.byUser.get(userId);
    return sessions ? [...sessions] : [];
  }

  /** The users with a session here. */
  userIds(): IterableIterator<string> {
    return this.byUser.keys();
  }

  /**
   * Each user's sessions (never an empty set). Without the user ids: walking the entries would
   * build a pair per user, 19,000 of them each time the admin sampler counts who is online.
   */
  byUsers(): IterableIterator<ReadonlySet<LiveSession>> {
    return this.byUser.values();
  }

  /**
   * One of SESSION_SHARDS stable partitions of the sessions, for work spread over time (the
   * heartbeat pings a few shards per tick): reaching a slice costs its size, not a scan of all.
   */
  inShard(shard: number): ReadonlySet<LiveSession> {
    return this.byShard[shard];
  }

  all(): IterableIterator<LiveSession> {
    return this.byId.values();
  }

  get count(): number {
    return this.byId.size;
  }

  private static deviceKey(session: LiveSession): string | null {
    return session.deviceId === null ? null : `${session.userId}\u0000${session.deviceId}`;
  }
}
