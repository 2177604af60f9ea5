import { randomUUID } from 'node:crypto';

/** As many shards as MealPulse partitions its sessions into, for the same heartbeat spread. */
export const SESSION_SHARDS = 1_000;

/** From the random tail of the session's UUID, so that the shards fill evenly. */
const shardOf = (sessionId: string) => parseInt(sessionId.slice(-6), 16) % SESSION_SHARDS;

/** One session as the references keep it: the fields MealPulse's LiveSession holds. */
export interface ReferenceSession<S> {
  readonly sessionId: string;
  readonly userId: string;
  readonly deviceId: string | null;
  readonly connectedAt: number;
  readonly socket: S;
  lastSeenAt: number;
  pings: number;
}

export interface PresenceSummary {
  sessions: number;
  users: number;
  /** Pings and pongs counted as pings, as MealPulse counts them in `pings`. */
  pings: number;
  /** Of those, the pongs answering the server's own heartbeat: not the clients' pings. */
  pongs: number;
}

/** What a frame was: a client's ping, a pong to the server's heartbeat, or another message. */
export type FrameKind = 'ping' | 'pong' | 'message';

/**
 * The same in-memory presence map as MealPulse's PresenceService (sessions by id, per-user and
 * per-device indexes, session shards), without audit or metrics, so the references do the
 * same bookkeeping per frame and per session.
 */
export class ReferencePresence<S extends object> {
  private readonly sessions = new Map<string, ReferenceSession<S>>();
  private readonly byUser = new Map<string, Set<ReferenceSession<S>>>();
  private readonly byDevice = new Map<string, ReferenceSession<S>>();
  private pongs = 0;
  private readonly byShard = Array.from(
    { length: SESSION_SHARDS },
    () => new Set<ReferenceSession<S>>(),
  );

  register(userId: string, deviceId: string | null, socket: S): ReferenceSession<S> {
    const now = Date.now();
    const session: ReferenceSession<S> = {
      sessionId: randomUUID(),
      userId,
      deviceId,
      connectedAt: now,
      socket,
      lastSeenAt: now,
      pings: 0,
    };
    this.sessions.set(session.sessionId, session);
    let userSessions = this.byUser.get(userId);
    if (!userSessions) this.byUser.set(userId, (userSessions = new Set()));
    userSessions.add(session);
    if (deviceId !== null) this.byDevice.set(`${userId}\u0000${deviceId}`, session);
    this.byShard[shardOf(session.sessionId)].add(session);
    return session;
  }

  touch(session: ReferenceSession<S>, kind: FrameKind): void {
    session.lastSeenAt = Date.now();
    if (kind === 'message') return;
    session.pings++;
    if (kind === 'pong') this.pongs++;
  }

  unregister(session: ReferenceSession<S>): void {
    if (!this.sessions.delete(session.sessionId)) return;
    const userSessions = this.byUser.get(session.userId);
    userSessions?.delete(session);
    if (userSessions?.size === 0) this.byUser.delete(session.userId);
    const deviceKey = `${session.userId}\u0000${session.deviceId}`;
    if (this.byDevice.get(deviceKey) === session) this.byDevice.delete(deviceKey);
    this.byShard[shardOf(session.sessionId)].delete(session);
  }

  sessionsOf(userId: string): Iterable<ReferenceSession<S>> {
    return this.byUser.get(userId) ?? [];
  }

  /** One of MealPulse's session shards, for a heartbeat spread as MealPulse spreads its own. */
  inShard(shard: number): ReadonlySet<ReferenceSession<S>> {
    return this.byShard[shard];
  }

  summary(): PresenceSummary {
    let pings = 0;
    for (const session of this.sessions.values()) pings += session.pings;
    return { sessions: this.sessions.size, users: this.byUser.size, pings, pongs: this.pongs };
  }
}
