import { PresenceService } from '../src/presence/presence.service';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { InstancePair, startInstancePair } from './support/instance-pair';
import { redisServerAvailable } from './support/redis-server';
import { startTestApp, TestApp } from './support/test-app';
import { WsClient } from './support/ws-client';

const ADMIN = '/api/v1/admin/presence';
const admin = (app: TestApp) => api(app, 'root', { roles: ['admin'] });

async function sessionsOf(app: TestApp, userId: string) {
  return (await admin(app).get(`${ADMIN}/users/${userId}`).expect(200)).body.sessions as {
    deviceId: string;
    appState: string;
    appStateChangedAt: string | null;
    lastSeenAt: string;
  }[];
}

describe('app_state', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ PRESENCE_AUDIT_FLUSH_INTERVAL_MS: '100' });
  });
  afterAll(() => app.close());

  it('starts a session in the foreground, and follows the app to the background and back', async () => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'state-user', deviceId: 'phone' });
    try {
      expect(await sessionsOf(app, 'state-user')).toMatchObject([
        { appState: 'foreground', appStateChangedAt: null },
      ]);
      const before = Date.now();
      client.send({ type: 'app_state', state: 'background' });
      const [background] = await expectEventually(async () => {
        const sessions = await sessionsOf(app, 'state-user');
        expect(sessions).toMatchObject([{ appState: 'background' }]);
        return sessions;
      });
      expect(Date.parse(background.appStateChangedAt!)).toBeGreaterThanOrEqual(before - 1);
      // Like every inbound frame, it is a sign of life.
      expect(Date.parse(background.lastSeenAt)).toBeGreaterThanOrEqual(before - 1);
      // The push decision reads the same placement.
      expect(await app.app.get(PresenceService).placementsOf('state-user')).toMatchObject([
        { deviceId: 'phone', appState: 'background' },
      ]);

      client.send({ type: 'app_state', state: 'foreground' });
      await expectEventually(async () =>
        expect(await sessionsOf(app, 'state-user')).toMatchObject([{ appState: 'foreground' }]),
      );
      // Answered with nothing.
      expect(client.frames.map((f) => f.type)).toEqual(['welcome']);
    } finally {
      await client.close();
    }
  });

  it.each([
    ['an unknown state', { type: 'app_state', state: 'suspended' }],
    ['no state', { type: 'app_state' }],
    ['a number', { type: 'app_state', state: 1 }],
  ])('answers %s with invalid_frame and changes nothing', async (_case, frame) => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'state-bad', deviceId: 'phone' });
    try {
      client.sendRaw(frame);
      await client.nextFrame((f) => f.type === 'error' && f.code === 'invalid_frame');
      expect(client.state()).toBe('open');
      expect(await sessionsOf(app, 'state-bad')).toMatchObject([{ appState: 'foreground' }]);
    } finally {
      await client.close();
    }
  });

  it('audits the state a session was in when it ended', async () => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'state-audit', deviceId: 'ipad' });
    client.send({ type: 'app_state', state: 'background' });
    await expectEventually(async () =>
      expect(await sessionsOf(app, 'state-audit')).toMatchObject([{ appState: 'background' }]),
    );
    await client.close();
    await expectEventually(async () => {
      const ended = await admin(app).get(`${ADMIN}/sessions?userId=state-audit`).expect(200);
      expect(ended.body.items).toMatchObject([
        {
          deviceId: 'ipad',
          endReason: 'closed',
          appState: 'background',
          appStateChangedAt: expect.any(String),
        },
      ]);
    });
  });

  it('audits a state change of a session that lives on (with its activity)', async () => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'state-live', deviceId: 'ipad' });
    try {
      client.send({ type: 'app_state', state: 'background' });
      await expectEventually(async () => {
        const [row] = await app.dataSource.query<{ app_state: string }[]>(
          `SELECT app_state FROM ws_sessions WHERE user_id = 'state-live' AND ended_at IS NULL`,
        );
        expect(row).toEqual({ app_state: 'background' });
      });
    } finally {
      await client.close();
    }
  });
});

const describeWithRedis = redisServerAvailable() ? describe : describe.skip;

describeWithRedis('app_state across instances', () => {
  let pair: InstancePair;
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    pair = await startInstancePair();
    ({ a, b } = pair);
  }, 60_000);

  afterAll(() => pair?.close());

  it('shows another instance the new state at once, with one placement per session', async () => {
    const client = await WsClient.connect(b.baseUrl, { userId: 'state-shared', deviceId: 'phone' });
    try {
      const presenceOnA = a.app.get(PresenceService);
      await expectEventually(async () =>
        expect(await presenceOnA.placementsOf('state-shared')).toMatchObject([
          { deviceId: 'phone', appState: 'foreground' },
        ]),
      );
      for (const state of ['background', 'foreground', 'background'] as const) {
        client.send({ type: 'app_state', state });
        await expectEventually(async () => {
          // The old placement is replaced, not left beside the new one.
          expect(await presenceOnA.placementsOf('state-shared')).toEqual([
            expect.objectContaining({ deviceId: 'phone', appState: state }),
          ]);
          expect(await sessionsOf(a, 'state-shared')).toMatchObject([{ appState: state }]);
        });
      }
      // Changes faster than the writes: each write may find the state changed again meanwhile.
      for (let i = 0; i < 20; i++)
        client.send({ type: 'app_state', state: i % 2 === 0 ? 'foreground' : 'background' });
      await expectEventually(async () =>
        expect(await presenceOnA.placementsOf('state-shared')).toEqual([
          expect.objectContaining({ deviceId: 'phone', appState: 'background' }),
        ]),
      );
      await client.close();
      await expectEventually(async () =>
        expect(await presenceOnA.placementsOf('state-shared')).toEqual([]),
      );
    } finally {
      await client.close();
    }
  });
});
