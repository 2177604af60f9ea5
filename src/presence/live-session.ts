import type { AppState } from '../realtime/client-frame.parser';

export const END_REASONS = ['closed', 'stale', 'replaced', 'expired', 'shutdown', 'lost'] as const;
export type EndReason = (typeof END_REASONS)[number];

/** What counted as a sign of life; every kind refreshes `lastSeenAt`, the ping kinds count as pings. */
export type FrameKind = 'protocol_ping' | 'protocol_pong' | 'json_ping' | 'message';

/**
 * A session held by this process: one open WebSocket of one user's device. Its socket is
 * SessionConnections' alone (every write goes through it); the rest of the service sees this.
 */
export interface LiveSession {
  readonly sessionId: string;
  readonly userId: string;
  readonly deviceId: string | null;
  readonly connectedAt: number;
  readonly remoteAddress: string | null;
  readonly userAgent: string | null;
  /** When the token used to open the session expires (epoch ms). */
  readonly expiresAt: number;
  lastSeenAt: number;
  /**
   * Whether its `welcome` was sent. Until then its opening is being audited and it is not swept:
   * a client cannot be expected to ping before it has been welcomed.
   */
  welcomed: boolean;
  pings: number;
  /** What the app reported last (`app_state`); `foreground` until it says otherwise. */
  appState: AppState;
  /** When it last changed (epoch ms), null while it is the initial `foreground`. */
  appStateChangedAt: number | null;
  /** Set once, by whoever ends the session first; later attempts see it and do nothing. */
  endReason: EndReason | null;
}

/** The public shape of a session (admin API). */
export interface SessionView {
  sessionId: string;
  userId: string;
  deviceId: string | null;
  connectedAt: string;
  lastSeenAt: string;
  pings: number;
  appState: AppState;
  appStateChangedAt: string | null;
  remoteAddress: string | null;
  userAgent: string | null;
}

export interface AuditedSessionView extends SessionView {
  endedAt: string;
  endReason: EndReason;
}

export function toSessionView(session: LiveSession): SessionView {
  return {
    sessionId: session.sessionId,
    userId: session.userId,
    deviceId: session.deviceId,
    connectedAt: new Date(session.connectedAt).toISOString(),
    lastSeenAt: new Date(session.lastSeenAt).toISOString(),
    pings: session.pings,
    appState: session.appState,
    appStateChangedAt:
      session.appStateChangedAt === null ? null : new Date(session.appStateChangedAt).toISOString(),
    remoteAddress: session.remoteAddress,
    userAgent: session.userAgent,
  };
}
