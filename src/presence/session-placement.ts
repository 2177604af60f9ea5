import type { AppState } from '../realtime/client-frame.parser';

/**
 * Where a session lives and whether its app is in front: all that routing, replacement, the
 * session limit and the push decision need. What PresenceService answers for any instance's
 * sessions (`placementsOf`), and the one session shape other modules read besides LiveSession.
 */
export interface SessionPlacement {
  sessionId: string;
  deviceId: string | null;
  instanceId: string;
  appState: AppState;
}
