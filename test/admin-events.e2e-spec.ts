import request from 'supertest';
import { AdminEvent, AdminEventStream } from './support/admin-event-stream';
import { startInstancePair, InstancePair } from './support/instance-pair';
import { startTestApp, TestApp } from './support/test-app';
import { tokenFor } from './support/tokens';
import { WsClient } from './support/ws-client';

const ofSession = (sessionId: string) => (event: AdminEvent) =>
  event.data.sessionId === sessionId ||
  (event.data.session as { sessionId?: string } | undefined)?.sessionId === sessionId;

/** The session id the client was welcomed with. */
const sessionIdOf = (client: WsClient) => client.frames[0].sessionId as string;

describe('admin event stream and console page', () => {
  let app: TestApp;
  const streams: AdminEventStream[] = [];
  const open = async (token?: string) => {
    const stream = await AdminEventStream.open(app.baseUrl, token);
    streams.push(stream);
    return stream;
  };

  beforeAll(async () => {
    app = await startTestApp({ WS_HEARTBEAT_INTERVAL_MS: '60000' });
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    await app.close();
  });

  it('refuses the stream without the admin role', async () => {
    expect((await open('not-a-token')).status).toBe(401);
    expect((await open(tokenFor('regular'))).status).toBe(403);
  });

  it('opens with a snapshot of who is online, with each session’s instance', async () => {
    const client = await WsClient.connect(app.baseUrl, { userId: 'snapshotted', deviceId: 'ipad' });
    const stream = await open();
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const snapshot = await stream.next((event) => event.type === 'snapshot');
    expect(stream.events[0]).toBe(snapshot);
    const users = snapshot.data.users as { userId: string; sessions: Record<string, unknown>[] }[];
    const user = users.find((u) => u.userId === 'snapshotted');
    expect(user?.sessions).toEqual([
      expect.objectContaining({
        sessionId: sessionIdOf(client),
        deviceId: 'ipad',
        appState: 'foreground',
        instanceId: snapshot.data.instanceId,
      }),
    ]);
    expect(snapshot.data.stats).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ sessions: expect.any(Number), deliveries: expect.any(Number) }),
      ]),
    );
    await client.close();
  });

  it('streams a session’s opening, app state and end with its reason, as they happen', async () => {
    const stream = await open();
    await stream.next((event) => event.type === 'snapshot');
    const client = await WsClient.connect(app.baseUrl, {
      userId: 'watched',
      deviceId: 'phone-1',
      headers: { 'User-Agent': 'MealPulse-iOS/2.0' },
    });
    const sessionId = sessionIdOf(client);
    const opened = await stream.next(
      (e) => e.type === 'session.opened' && ofSession(sessionId)(e),
      1_000,
    );
    expect(opened.data.session).toMatchObject({
      userId: 'watched',
      deviceId: 'phone-1',
      userAgent: 'MealPulse-iOS/2.0',
      remoteAddress: expect.stringMatching(/127\.0\.0\.1/),
      instanceId: expect.any(String),
    });

    client.send({ type: 'app_state', state: 'background' });
    const changed = await stream.next(
      (e) => e.type === 'session.app_state' && ofSession(sessionId)(e),
      1_000,
    );
    expect(changed.data).toMatchObject({ userId: 'watched', appState: 'background' });

    // The same device again: the first session ends as replaced.
    const again = await WsClient.connect(app.baseUrl, { userId: 'watched', deviceId: 'phone-1' });
    const replaced = await stream.next(
      (e) => e.type === 'session.ended' && ofSession(sessionId)(e),
      1_000,
    );
    expect(replaced.data).toMatchObject({ userId: 'watched', endReason: 'replaced' });

    await again.close();
    const closed = await stream.next(
      (e) => e.type === 'session.ended' && ofSession(sessionIdOf(again))(e),
      1_000,
    );
    expect(closed.data.endReason).toBe('closed');
  });

  it('sends a stats sample every few seconds', async () => {
    const stream = await open();
    const sample = await stream.next((event) => event.type === 'stats', 8_000);
    expect(sample.data).toEqual({
      at: expect.any(String),
      onlineUsers: expect.any(Number),
      sessions: expect.any(Number),
      deliveries: expect.any(Number),
      deliveryP50Ms: null,
      deliveryP95Ms: null,
    });
  });

  it('serves the page with a strict CSP, no framing, and only the files the build produced', async () => {
    const page = await request(app.baseUrl).get('/admin').expect(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe-inline');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = /src="\/admin\/(assets\/[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const asset = await request(app.baseUrl).get(`/admin/${script}`).expect(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.headers['cache-control']).toContain('immutable');
    for (const path of ['/admin/assets/nothing.js', '/admin/assets/..%2F..%2Fpackage.json'])
      await request(app.baseUrl).get(path).expect(404);
  });

  it('ends every stream when the service shuts down, without holding it', async () => {
    const own = await startTestApp();
    const stream = await AdminEventStream.open(own.baseUrl);
    await stream.next((event) => event.type === 'snapshot');
    const started = Date.now();
    await own.close();
    await stream.endedWithin(2_000);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe('admin event stream across two instances (Redis)', () => {
  let pair: InstancePair;
  beforeAll(async () => {
    pair = await startInstancePair({ WS_HEARTBEAT_INTERVAL_MS: '60000' });
  }, 60_000);
  afterAll(() => pair.close());

  it('shows the sessions of every instance: in the snapshot, and as they open and close', async () => {
    const before = await WsClient.connect(pair.b.baseUrl, { userId: 'on-b', deviceId: 'early' });
    const stream = await AdminEventStream.open(pair.a.baseUrl);
    try {
      const snapshot = await stream.next((event) => event.type === 'snapshot');
      const users = snapshot.data.users as { userId: string; sessions: { instanceId: string }[] }[];
      const onB = users.find((u) => u.userId === 'on-b');
      expect(onB?.sessions[0].instanceId).not.toBe(snapshot.data.instanceId);

      // B hears that A has a watcher, then relays what happens on it.
      const late = await WsClient.connect(pair.b.baseUrl, { userId: 'on-b', deviceId: 'late' });
      const opened = await stream.next(
        (e) => e.type === 'session.opened' && ofSession(sessionIdOf(late))(e),
        2_000,
      );
      expect((opened.data.session as { instanceId: string }).instanceId).toBe(
        onB?.sessions[0].instanceId,
      );
      await late.close();
      const ended = await stream.next(
        (e) => e.type === 'session.ended' && ofSession(sessionIdOf(late))(e),
        2_000,
      );
      expect(ended.data.endReason).toBe('closed');
    } finally {
      stream.close();
      await before.close();
    }
  });
});
