import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localApnsPeer } from '../tools/service/local-service';
import { Simulator } from '../tools/simulator/simulator';
import { ChildApp, startChildApp } from './support/child-app';
import { expectLedgerBalanced } from './support/ledger';
import { startTestApp, TestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';
import { TEST_JWT_SECRET } from './support/tokens';

describe('iOS client simulator', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      PRESENCE_STALE_AFTER_MS: '1500',
      PRESENCE_SWEEP_INTERVAL_MS: '200',
      WS_HEARTBEAT_INTERVAL_MS: '60000',
    });
  });
  afterAll(() => app.close());

  it('reports 100 % real-time delivery, no polling and nobody wrongly offline against a live server', async () => {
    const report = await new Simulator({
      url: app.baseUrl,
      jwtSecret: TEST_JWT_SECRET,
      users: 5,
      devicesPerUser: 2,
      mealsPerUser: 3,
      pingIntervalMs: 300,
      durationMs: 4_000,
      fallbackAfterMs: 5_000,
      dropRatePerMinute: 0,
      userPrefix: 'sim-',
    }).run();
    expect(report.mealsPosted).toBe(15);
    expect(report.mealsResolved).toBe(15);
    expect(report.realTimeDeliveryRate).toBe(1);
    expect(report.deliveredBy).toEqual({ socket: 15, push: 0, replay: 0, poll: 0, never: 0 });
    expect(report.pollingRequests).toBe(0);
    expect(report.sessionsWrongfullySwept).toBe(0);
    expect(report.foreignNotifications).toBe(0);
    // Every result came over the socket before the client's 5 s fallback (the rate above). How
    // fast is judged by the soak and the benchmarks, which run alone: this suite shares two cores
    // with the others, and a sub-second bound here failed CI once at 1.4 s with nothing wrong.
  });
});

describe('iOS client simulator with apps going to the background', () => {
  let dir: string;
  let database: { url: string; drop: () => Promise<void> };
  let apns: Awaited<ReturnType<typeof localApnsPeer>>;
  let service: ChildApp;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mealpulse-simulator-'));
    database = await createTestDatabase();
    apns = await localApnsPeer(dir);
    service = await startChildApp({ DATABASE_URL: database.url, ...apns.env });
  }, 60_000);
  afterAll(async () => {
    await service?.kill('SIGTERM');
    await apns?.peer.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reaches backgrounded apps by push, those that denied it on their return, and loses nothing', async () => {
    const report = await new Simulator({
      url: service.baseUrl,
      jwtSecret: TEST_JWT_SECRET,
      users: 10,
      devicesPerUser: 1,
      mealsPerUser: 2,
      pingIntervalMs: 300,
      durationMs: 8_000,
      fallbackAfterMs: 5_000,
      dropRatePerMinute: 0,
      backgroundShare: 0.3,
      // Long enough that a push arrives before the app's own return, even on a loaded machine.
      backgroundForMs: 3_000,
      pushDeniedShare: 0.1,
      pushPeer: apns.peer,
      userPrefix: 'simbg-',
    }).run();
    // 3 users go to the background after each of their 2 meals; 1 of them denied notifications.
    expect(report.backgroundUsers).toBe(3);
    expect(report.deliveredBy).toEqual({ socket: 14, push: 4, replay: 2, poll: 0, never: 0 });
    expect(report.realTimeDeliveryRate).toBe(1);
    expect(report.sessionsWrongfullySwept).toBe(0);
    expect(report.foreignNotifications).toBe(0);
    // Every notification reached a socket of its user too (the pushed ones on return).
    await expectLedgerBalanced(database.url, report.receivedByUser, { userPrefix: 'simbg-' });
  });
});
