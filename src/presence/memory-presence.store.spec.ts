import type { WebSocket } from 'ws';
import { toSessionView, type LiveSession } from './live-session';
import { LocalSessions } from './local-sessions';
import { localOverview } from './memory-presence.store';

const STALE_AFTER_MS = 90_000;
const NOW = Date.parse('2026-12-05T12:00:00.000Z');

function sessionOf(userId: string, lastSeenAt: number): LiveSession {
  return {
    sessionId: `${userId}-session`,
    userId,
    deviceId: null,
    connectedAt: lastSeenAt,
    lastSeenAt,
    pings: 0,
    appState: 'foreground',
    appStateChangedAt: null,
    endReason: null,
    welcomed: true,
  } as unknown as LiveSession;
}

describe('localOverview', () => {
  it('counts fresh users over several turns, lists the newest, and lists no user who left meanwhile', async () => {
    const local = new LocalSessions();
    const users = 2_500;
    const sessions = Array.from({ length: users }, (_, i) =>
      sessionOf(`user-${String(i).padStart(4, '0')}`, NOW - 60_000 + i),
    );
    for (const session of sessions) local.add(session, {} as WebSocket);
    // One stale user, who is held but not online.
    sessions[0].lastSeenAt = NOW - STALE_AFTER_MS - 1;
    // The newest user, counted in the first turn, leaves before the walk ends.
    const leaving = sessions[1];
    leaving.lastSeenAt = NOW;
    setImmediate(() => local.remove(leaving));

    const overview = await localOverview(local, 'instance-1', STALE_AFTER_MS, 2, NOW);

    expect(overview.sessions).toBe(users - 1);
    expect(overview.onlineUsers).toBe(users - 1);
    expect(overview.users.map((user) => user.userId)).toEqual([
      sessions[users - 1].userId,
      sessions[users - 2].userId,
    ]);
    expect(overview.users[0].sessions).toEqual([
      { ...toSessionView(sessions[users - 1]), instanceId: 'instance-1' },
    ]);
  });
});
