import type { SessionRecord } from '../presence/presence-change';

/**
 * The admin event stream's payloads (docs/admin-console.md), types only: the page in `page/`
 * imports them too, so the server and the browser cannot disagree on a field.
 */

/** One point of the console's chart. */
export interface StatsSample {
  at: string;
  /** Deployment-wide (every instance's sessions, through the presence store). */
  onlineUsers: number;
  sessions: number;
  /** This instance's socket deliveries since the previous sample, and their latency. */
  deliveries: number;
  deliveryP50Ms: number | null;
  deliveryP95Ms: number | null;
}

export interface PresenceSnapshot {
  at: string;
  /** The instance serving this stream. */
  instanceId: string;
  onlineUsers: number;
  sessions: number;
  users: { userId: string; lastSeenAt: string; sessions: SessionRecord[] }[];
  /** The chart's last 15 minutes. */
  stats: StatsSample[];
}
