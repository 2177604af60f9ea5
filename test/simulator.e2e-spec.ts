import { Simulator } from '../tools/simulator/simulator';
import { startTestApp, TestApp } from './support/test-app';
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
    expect(report.pollingRequests).toBe(0);
    expect(report.sessionsWrongfullySwept).toBe(0);
    expect(report.foreignNotifications).toBe(0);
    // Every result came over the socket before the client's 5 s fallback (the rate above). How
    // fast is judged by the soak and the benchmarks, which run alone: this suite shares two cores
    // with the others, and a sub-second bound here failed CI once at 1.4 s with nothing wrong.
  });
});
