import type { LiveSession, SessionView } from './live-session';
import type { SessionPlacement } from './session-placement';

/** A session as the whole deployment knows it: which instance holds it. */
export interface SessionRecord extends SessionView {
  instanceId: string;
}

export interface UserSessions {
  userId: string;
  /** Epoch ms of the user's latest sign of life. */
  lastSeenAt: number;
  sessions: SessionRecord[];
}

/**
 * Presence as seen by every instance. This instance reports its own sessions through the write
 * methods, which never block and never do I/O per call (the Redis store batches them into
 * leases); the reads answer for all instances.
 */
export abstract class PresenceStore {
  abstract opened(session: LiveSession): void;
  abstract touched(session: LiveSession): void;
  /** The session's app state changed: shared at once, not with the next lease renewal. */
  abstract appStateChanged(session: LiveSession): void;
  abstract ended(sessions: LiveSession[]): void;

  /** Every known session of the user on any instance (fresh or not yet swept). */
  abstract sessionsOf(userId: string): Promise<SessionRecord[]>;

  /**
   * Where each user's sessions are, on any instance: the same sessions as `sessionsOf`, in one
   * cheap read for all the users, for the hot paths (every notification, every upgrade).
   */
  abstract placementsOf(userIds: string[]): Promise<Map<string, SessionPlacement[]>>;

  /** Users with a fresh session (newest first, at most `limit`) and deployment-wide totals. */
  abstract overview(
    limit: number,
    now: number,
  ): Promise<{ onlineUsers: number; sessions: number; users: UserSessions[] }>;

  /** 'up', or 'down' when the shared store cannot be reached (answers are then this instance's only). */
  abstract status(): 'up' | 'down';
}
