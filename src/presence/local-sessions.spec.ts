import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { LiveSession } from './live-session';
import { LocalSessions, SESSION_SHARDS, sessionShardOf } from './local-sessions';

describe('sessionShardOf', () => {
  it('puts every session in one shard, and spreads sessions evenly over the shards', () => {
    const perShard = new Array<number>(SESSION_SHARDS).fill(0);
    for (let i = 0; i < 200 * SESSION_SHARDS; i++) perShard[sessionShardOf(randomUUID())]++;
    // Every session landed in a shard (none outside the range, none NaN)...
    expect(perShard.reduce((sum, n) => sum + n, 0)).toBe(200 * SESSION_SHARDS);
    expect(perShard).toHaveLength(SESSION_SHARDS);
    // ...and 200 per shard on average: a uniform spread stays well inside ±50 %.
    expect(Math.min(...perShard)).toBeGreaterThan(100);
    expect(Math.max(...perShard)).toBeLessThan(300);
  });
});

describe('LocalSessions.inShard', () => {
  const sessionOf = (sessionId: string): LiveSession =>
    ({ sessionId, userId: 'u', deviceId: null }) as LiveSession;

  it('holds each session in its own shard until it is removed', () => {
    const local = new LocalSessions();
    const sessions = Array.from({ length: 500 }, () => sessionOf(randomUUID()));
    for (const session of sessions) local.add(session, {} as WebSocket);
    const removed = sessions.slice(0, 250);
    for (const session of removed) local.remove(session);

    const held = [...Array(SESSION_SHARDS).keys()].flatMap((shard) =>
      [...local.inShard(shard)].map((session) => {
        expect(sessionShardOf(session.sessionId)).toBe(shard);
        return session;
      }),
    );
    expect(new Set(held)).toEqual(new Set(sessions.slice(250)));
  });
});
