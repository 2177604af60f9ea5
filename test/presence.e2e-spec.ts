import { connect as tcpConnect, Socket } from 'node:net';
import { DataSource } from 'typeorm';
import { LocalSessions } from '../src/presence/local-sessions';
import { PresenceService } from '../src/presence/presence.service';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { tokenFor } from './support/tokens';
import { WsClient } from './support/ws-client';

/** Time shrunk through configuration: stale after 400 ms, swept every 100 ms. */
const STALE_AFTER_MS = 400;
const SHRUNK = {
  PRESENCE_STALE_AFTER_MS: String(STALE_AFTER_MS),
  PRESENCE_SWEEP_INTERVAL_MS: '100',
  PRESENCE_AUDIT_FLUSH_INTERVAL_MS: '100',
};
/** Long enough to span many stale-after periods. */
const OBSERVE_MS = 8 * STALE_AFTER_MS;

async function endReasonOf(dataSource: DataSource, sessionId: string): Promise<string | null> {
  const rows = await dataSource.query<
    {
      end_reason: string | null;
    }[]
  >(`SELECT end_reason FROM ws_sessions WHERE session_id = $1`, [sessionId]);
  return rows[0]?.end_reason ?? null;
}

async function adminUser(app: TestApp, userId: string) {
  const response = await api(app, 'admin', { roles: ['admin'] })
    .get(`/api/v1/admin/presence/users/${userId}`)
    .expect(200);
  return response.body as {
    online: boolean;
    lastSeenAt: string | null;
    sessions: { sessionId: string; pings: number; deviceId: string | null }[];
  };
}

/**
 * Watches `userId` for `durationMs`, asserting at every step that it is online both in
 * PresenceService and through the admin API, and that the socket stays open.
 */
async function expectOnlineThroughout(
  app: TestApp,
  client: WsClient,
  userId: string,
  durationMs: number,
) {
  const presence = app.app.get(PresenceService);
  const until = Date.now() + durationMs;
  let checks = 0;
  while (Date.now() < until) {
    expect(await presence.isOnline(userId)).toBe(true);
    expect((await adminUser(app, userId)).online).toBe(true);
    expect(client.state()).toBe('open');
    checks++;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(checks).toBeGreaterThan(10);
}

function every(ms: number, action: () => void): () => void {
  const timer = setInterval(action, ms);
  return () => clearInterval(timer);
}

describe('WebSocket presence', () => {
  describe('with server heartbeats far apart (only the client keeps itself alive)', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({
        ...SHRUNK,
        WS_HEARTBEAT_INTERVAL_MS: '60000',
        WS_MAX_PAYLOAD_BYTES: '1024',
      });
    });
    afterAll(() => app.close());

    describe('pings keep a user online', () => {
      it('keeps a client that only sends protocol ping frames online for many stale periods', async () => {
        const client = await WsClient.connect(app.baseUrl, {
          userId: 'ios-protocol',
          autoPong: false,
        });
        const stop = every(100, () => client.socket.ping());
        try {
          await expectOnlineThroughout(app, client, 'ios-protocol', OBSERVE_MS);
          expect((await adminUser(app, 'ios-protocol')).sessions[0].pings).toBeGreaterThan(10);
        } finally {
          stop();
          await client.close();
        }
      });

      it('keeps a client that only sends JSON pings online, answering each with a pong', async () => {
        const client = await WsClient.connect(app.baseUrl, { userId: 'ios-json', autoPong: false });
        const stop = every(100, () => client.send({ type: 'ping' }));
        try {
          await expectOnlineThroughout(app, client, 'ios-json', OBSERVE_MS);
          const pongs = client.frames.filter((frame) => frame.type === 'pong');
          expect(pongs.length).toBeGreaterThan(10);
          expect(typeof pongs[0].ts).toBe('number');
        } finally {
          stop();
          await client.close();
        }
      });
    });

    describe('session audit', () => {
      it("records an open session's pings and last sign of life in its audit row while it lasts", async () => {
        const client = await WsClient.connect(app.baseUrl, { userId: 'audited-activity' });
        const { sessionId } = client.frames[0] as unknown as { sessionId: string };
        const stop = every(100, () => client.socket.ping());
        try {
          // Written once due (PRESENCE_AUDIT_FLUSH_INTERVAL_MS after the activity), not at close.
          await expectEventually(async () => {
            const [row] = await app.dataSource.query<
              { pings: number; ended_at: Date | null; connected_at: Date; last_seen_at: Date }[]
            >(
              `SELECT pings, ended_at, connected_at, last_seen_at
               FROM ws_sessions WHERE session_id = $1`,
              [sessionId],
            );
            expect(row.ended_at).toBeNull();
            expect(row.pings).toBeGreaterThanOrEqual(3);
            expect(row.last_seen_at.getTime()).toBeGreaterThan(row.connected_at.getTime());
          });
        } finally {
          stop();
          await client.close();
        }
      });
    });

    describe('stale sessions', () => {
      it('sweeps a silent client: closed 4408, removed, audited stale, shown offline', async () => {
        const client = await WsClient.connect(app.baseUrl, { userId: 'silent', autoPong: false });
        const { sessionId } = client.frames[0] as unknown as { sessionId: string };
        const closed = await client.closedWithin(STALE_AFTER_MS * 5);
        expect(closed.code).toBe(4408);
        expect(await app.app.get(PresenceService).isOnline('silent')).toBe(false);
        expect(await adminUser(app, 'silent')).toMatchObject({ online: false, sessions: [] });
        await expectEventually(async () =>
          expect(await endReasonOf(app.dataSource, sessionId)).toBe('stale'),
        );
      });

      it('counts silence from the welcome: a session whose opening is audited slowly is not swept first', async () => {
        // The audit's INSERT waits behind a lock; the welcome goes out when the gateway stops
        // waiting for it (after a second), well past the stale window.
        const locker = app.dataSource.createQueryRunner();
        await locker.connect();
        await locker.startTransaction();
        let client: WsClient;
        try {
          await locker.query('LOCK TABLE ws_sessions IN SHARE MODE');
          const started = Date.now();
          client = await WsClient.connect(app.baseUrl, { userId: 'slow-audit', autoPong: false });
          expect(Date.now() - started).toBeGreaterThan(STALE_AFTER_MS);
        } finally {
          await locker.rollbackTransaction();
          await locker.release();
        }
        const { sessionId } = client.frames[0] as unknown as { sessionId: string };
        const stop = every(100, () => client.socket.ping());
        try {
          await expectOnlineThroughout(app, client, 'slow-audit', 3 * STALE_AFTER_MS);
          // Its opening reached the audit once the lock was gone, as an open session.
          const [row] = await app.dataSource.query<{ end_reason: string | null }[]>(
            `SELECT end_reason FROM ws_sessions WHERE session_id = $1`,
            [sessionId],
          );
          expect(row).toEqual({ end_reason: null });
        } finally {
          stop();
          await client.close();
        }
      });

      it('sweeps a raw TCP peer that completed the handshake and went silent (terminated)', async () => {
        const socket: Socket = tcpConnect(Number(new URL(app.baseUrl).port), '127.0.0.1');
        socket.on('error', () => undefined);
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.write(
          'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
            `Authorization: Bearer ${tokenFor('raw-tcp')}\r\n\r\n`,
        );
        const response = await new Promise<string>((resolve) =>
          socket.once('data', (data: Buffer) => resolve(data.toString())),
        );
        expect(response).toMatch(/^HTTP\/1.1 101/);
        socket.pause(); // never read again: answers neither pings nor the close frame
        const presence = app.app.get(PresenceService);
        const [session] = presence.localSessionsOf('raw-tcp');
        const serverSocket = app.app.get(LocalSessions).socketOf(session)!;
        await expectEventually(async () => expect(await presence.isOnline('raw-tcp')).toBe(false), {
          timeoutMs: 3_000,
        });
        // The closing handshake never completes, so the server terminates the connection itself.
        await expectEventually(() => expect(serverSocket.readyState).toBe(serverSocket.CLOSED), {
          timeoutMs: 5_000,
        });
        expect(session.endReason).toBe('stale');
        await expectEventually(async () =>
          expect(await endReasonOf(app.dataSource, session.sessionId)).toBe('stale'),
        );
        socket.destroy();
      });
    });

    describe('several devices', () => {
      it('lists both sessions of a user, and closing one keeps the user online', async () => {
        const phone = await WsClient.connect(app.baseUrl, {
          userId: 'two-devices',
          deviceId: 'phone',
        });
        const tablet = await WsClient.connect(app.baseUrl, {
          userId: 'two-devices',
          deviceId: 'tablet',
        });
        const presence = await adminUser(app, 'two-devices');
        expect(presence.online).toBe(true);
        expect(presence.sessions.map((s) => s.deviceId).sort()).toEqual(['phone', 'tablet']);

        await phone.close();
        await expectEventually(async () =>
          expect((await adminUser(app, 'two-devices')).sessions).toHaveLength(1),
        );
        expect((await adminUser(app, 'two-devices')).online).toBe(true);
        await tablet.close();
        await expectEventually(async () =>
          expect((await adminUser(app, 'two-devices')).online).toBe(false),
        );
      });

      it('replaces the session of the same device (4409, audited replaced) without an offline gap', async () => {
        const presence = app.app.get(PresenceService);
        const old = await WsClient.connect(app.baseUrl, {
          userId: 'replaced',
          deviceId: 'iphone-1',
        });
        const oldSessionId = (old.frames[0] as unknown as { sessionId: string }).sessionId;
        const onlineWhenOldClosed = new Promise<boolean>((resolve) =>
          old.socket.once('close', () => void presence.isOnline('replaced').then(resolve)),
        );
        const fresh = await WsClient.connect(app.baseUrl, {
          userId: 'replaced',
          deviceId: 'iphone-1',
        });
        expect((await old.closedWithin()).code).toBe(4409);
        expect(await onlineWhenOldClosed).toBe(true);
        expect(presence.localSessionsOf('replaced').map((s) => s.sessionId)).toEqual([
          (fresh.frames[0] as unknown as { sessionId: string }).sessionId,
        ]);
        await expectEventually(async () =>
          expect(await endReasonOf(app.dataSource, oldSessionId)).toBe('replaced'),
        );
        await fresh.close();
      });
    });

    describe('upgrade refusals (no socket opens)', () => {
      it.each([
        ['no token', 401, { token: '' }],
        ['a garbage token', 401, { token: 'garbage' }],
        ['an expired token', 401, { token: tokenFor('u', { ttlSeconds: -10 }) }],
        ['an invalid token in the query string', 401, { tokenInQuery: true, token: 'x.y.z' }],
        ['a disallowed Origin', 403, { userId: 'o', headers: { Origin: 'https://evil.example' } }],
        ['a malformed deviceId', 400, { userId: 'd', deviceId: 'has spaces!' }],
        ['a malformed after', 400, { userId: 'a', after: '-3' }],
        ['an unknown path', 404, { userId: 'p', path: '/not-ws' }],
      ])('answers %s with HTTP %d', async (_case, status, options) => {
        const refusal = await WsClient.refusal(app.baseUrl, options);
        expect(refusal.status).toBe(status);
        if (status !== 404)
          expect(refusal.body).toMatchObject({ statusCode: status, message: expect.any(String) });
      });

      it('accepts the token as ?access_token', async () => {
        const client = await WsClient.connect(app.baseUrl, {
          userId: 'query-token',
          tokenInQuery: true,
        });
        expect(client.frames[0]).toMatchObject({ type: 'welcome', userId: 'query-token' });
        await client.close();
      });

      it('answers 429 past WS_MAX_SESSIONS_PER_USER, counting parallel upgrades', async () => {
        const max = app.config.ws.maxSessionsPerUser;
        const attempts = await Promise.allSettled(
          Array.from({ length: max + 5 }, () =>
            WsClient.connect(app.baseUrl, { userId: 'greedy' }),
          ),
        );
        const opened = attempts.filter(
          (a): a is PromiseFulfilledResult<WsClient> => a.status === 'fulfilled',
        );
        expect(opened).toHaveLength(max);
        expect((await WsClient.refusal(app.baseUrl, { userId: 'greedy' })).status).toBe(429);
        await Promise.all(opened.map((a) => a.value.close()));
        await expectEventually(async () => {
          const client = await WsClient.connect(app.baseUrl, { userId: 'greedy' });
          await client.close();
        });
      });
    });

    describe('frames', () => {
      it('welcomes with the session, the heartbeat and the stale window', async () => {
        const client = await WsClient.connect(app.baseUrl, { userId: 'welcomed' });
        expect(client.frames[0]).toEqual({
          type: 'welcome',
          sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
          userId: 'welcomed',
          heartbeatIntervalMs: 60_000,
          staleAfterMs: STALE_AFTER_MS,
        });
        await client.close();
      });

      it.each([
        ['not JSON', 'hello', 'invalid_json'],
        ['a JSON array', '[1,2]', 'invalid_frame'],
        ['no type', '{"seq":1}', 'invalid_frame'],
        ['an unknown type', '{"type":"subscribe"}', 'unknown_type'],
        ['a wrong field type', '{"type":"ack","seq":"7"}', 'invalid_frame'],
        ['a __proto__ key', '{"type":"ping","__proto__":{"admin":true}}', 'invalid_frame'],
        [
          'JSON nested thousands deep',
          `{"type":"ping","x":${'['.repeat(400)}${']'.repeat(400)}}`,
          null,
        ],
      ])(
        'answers %s with an error frame and keeps the session usable',
        async (_case, payload, code) => {
          const client = await WsClient.connect(app.baseUrl, { userId: 'bad-frames' });
          client.sendRaw(payload);
          if (code)
            expect(await client.nextNewFrame((f) => f.type === 'error')).toMatchObject({
              code,
              message: expect.any(String),
            });
          client.send({ type: 'ping' });
          await client.nextNewFrame((f) => f.type === 'pong');
          expect(({} as Record<string, unknown>).admin).toBeUndefined();
          await client.close();
        },
      );

      it('answers a binary frame with an error frame', async () => {
        const client = await WsClient.connect(app.baseUrl, { userId: 'binary' });
        client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
        expect(await client.nextNewFrame((f) => f.type === 'error')).toMatchObject({
          code: 'binary_frame',
        });
        await client.close();
      });

      it('closes with 1009 on a frame over WS_MAX_PAYLOAD_BYTES', async () => {
        const client = await WsClient.connect(app.baseUrl, { userId: 'too-big' });
        client.sendRaw({ type: 'ping', padding: 'x'.repeat(2_000) });
        expect((await client.closedWithin()).code).toBe(1009);
      });

      it('rate-limits a flooding session with error frames, then closes it with 1008', async () => {
        const client = await WsClient.connect(app.baseUrl, { userId: 'flood' });
        const burst = app.config.ws.maxMessagesPerSecond * 10;
        for (let i = 0; i < burst + app.config.ws.maxMessagesPerSecond + 5; i++)
          client.send({ type: 'ping' });
        expect(await client.nextFrame((f) => f.type === 'error')).toMatchObject({
          code: 'rate_limited',
        });
        expect((await client.closedWithin()).code).toBe(1008);
        expect(client.frames.filter((f) => f.type === 'pong').length).toBeLessThanOrEqual(
          burst + 1,
        );
      });

      it('closes a session whose token expires with 4401, audited expired', async () => {
        const client = await WsClient.connect(app.baseUrl, {
          token: tokenFor('short-lived', { ttlSeconds: 1 }),
        });
        const { sessionId } = client.frames[0] as unknown as { sessionId: string };
        const stop = every(100, () => client.socket.ping());
        try {
          expect((await client.closedWithin(3_000)).code).toBe(4401);
        } finally {
          stop();
        }
        await expectEventually(async () =>
          expect(await endReasonOf(app.dataSource, sessionId)).toBe('expired'),
        );
      });
    });
  });

  describe('with server heartbeats every 100 ms', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await startTestApp({ ...SHRUNK, WS_HEARTBEAT_INTERVAL_MS: '100' });
    });
    afterAll(() => app.close());

    it('keeps a client that sends nothing but answers server pings online', async () => {
      const client = await WsClient.connect(app.baseUrl, { userId: 'answers-only' });
      await expectOnlineThroughout(app, client, 'answers-only', OBSERVE_MS);
      expect((await adminUser(app, 'answers-only')).sessions[0].pings).toBeGreaterThan(10);
      await client.close();
    });

    it('sweeps a client that stops answering server pings', async () => {
      const client = await WsClient.connect(app.baseUrl, {
        userId: 'stops-answering',
        autoPong: false,
      });
      expect((await client.closedWithin(STALE_AFTER_MS * 5)).code).toBe(4408);
    });
  });
});
