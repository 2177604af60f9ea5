import { DataSource } from 'typeorm';
import { expectEventually } from './support/expect-eventually';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { WsClient } from './support/ws-client';

const ADMIN = '/api/v1/admin/presence';

async function countEnded(dataSource: DataSource, userIds: string[]): Promise<number> {
  const [row] = await dataSource.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM ws_sessions WHERE ended_at IS NOT NULL AND user_id = ANY($1)`,
    [userIds],
  );
  return row.n;
}

describe('admin presence API', () => {
  let app: TestApp;
  const admin = () => api(app, 'root', { roles: ['admin'] });

  beforeAll(async () => {
    app = await startTestApp({ WS_HEARTBEAT_INTERVAL_MS: '60000' });
  });
  afterAll(() => app.close());

  it.each([ADMIN, `${ADMIN}/users/anyone`, `${ADMIN}/sessions`])(
    'answers 403 to a non-admin on %s, 401 without a token',
    async (path) => {
      const response = await api(app, 'regular').get(path).expect(403);
      expect(response.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
      await api(app).get(path).expect(401);
    },
  );

  it('lists online users with their live sessions', async () => {
    const phone = await WsClient.connect(app.baseUrl, {
      userId: 'listed',
      deviceId: 'phone',
      headers: { 'User-Agent': 'MealPulse-iOS/1.0' },
    });
    const tablet = await WsClient.connect(app.baseUrl, { userId: 'listed', deviceId: 'tablet' });
    const overview = await admin().get(ADMIN).expect(200);
    expect(overview.body.onlineUsers).toBeGreaterThanOrEqual(1);
    expect(overview.body.sessions).toBeGreaterThanOrEqual(2);
    const listed = overview.body.users.find((u: { userId: string }) => u.userId === 'listed');
    expect(listed.sessions).toHaveLength(2);
    expect(listed.sessions[0]).toEqual({
      sessionId: expect.any(String),
      userId: 'listed',
      deviceId: expect.stringMatching(/phone|tablet/),
      connectedAt: expect.any(String),
      lastSeenAt: expect.any(String),
      pings: expect.any(Number),
      appState: 'foreground',
      appStateChangedAt: null,
      remoteAddress: expect.stringMatching(/127\.0\.0\.1/),
      userAgent: expect.anything(),
    });
    expect(listed.sessions.map((s: { userAgent: string }) => s.userAgent)).toContain(
      'MealPulse-iOS/1.0',
    );
    await Promise.all([phone.close(), tablet.close()]);
  });

  it('shows an unknown user as offline', async () => {
    const response = await admin().get(`${ADMIN}/users/nobody-here`).expect(200);
    expect(response.body).toEqual({
      userId: 'nobody-here',
      online: false,
      lastSeenAt: null,
      sessions: [],
    });
  });

  it('filters and pages the audited sessions, newest first', async () => {
    for (let i = 0; i < 5; i++) {
      const client = await WsClient.connect(app.baseUrl, {
        userId: 'audited',
        deviceId: `device-${i}`,
      });
      await client.close();
    }
    const replacedOld = await WsClient.connect(app.baseUrl, {
      userId: 'audited-2',
      deviceId: 'same',
    });
    const replacedNew = await WsClient.connect(app.baseUrl, {
      userId: 'audited-2',
      deviceId: 'same',
    });
    await replacedOld.closedWithin();
    await replacedNew.close();
    await expectEventually(async () =>
      expect(await countEnded(app.dataSource, ['audited', 'audited-2'])).toBe(7),
    );

    const seen: { deviceId: string; endedAt: string; endReason: string }[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?userId=audited&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await admin().get(`${ADMIN}/sessions${query}`).expect(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((s) => s.deviceId)).toEqual([
      'device-4',
      'device-3',
      'device-2',
      'device-1',
      'device-0',
    ]);
    expect(seen.map((s) => s.endReason)).toEqual(Array(5).fill('closed'));

    const replaced = await admin().get(`${ADMIN}/sessions?endReason=replaced`).expect(200);
    expect(replaced.body.items.map((s: { userId: string }) => s.userId)).toEqual(['audited-2']);

    const future = await admin()
      .get(`${ADMIN}/sessions?from=${new Date(Date.now() + 60_000).toISOString()}`)
      .expect(200);
    expect(future.body.items).toEqual([]);
    const past = await admin()
      .get(`${ADMIN}/sessions?userId=audited&to=${new Date(Date.now() + 60_000).toISOString()}`)
      .expect(200);
    expect(past.body.items).toHaveLength(5);
  });

  it('clamps limits and refuses bad filters', async () => {
    const page = await admin().get(`${ADMIN}/sessions?limit=1000000000`).expect(200);
    expect(page.body.items.length).toBeLessThanOrEqual(200);
    await admin().get(`${ADMIN}/sessions?endReason=exploded`).expect(400);
    await admin().get(`${ADMIN}/sessions?from=yesterday`).expect(400);
    await admin().get(`${ADMIN}/sessions?cursor=bm9wZQ`).expect(400);
  });
});
