import { expectStillServed } from '../support/bystander';
import { ChildApp, startChildApp } from '../support/child-app';
import { RawPeer } from '../support/raw-websocket';
import { startTestApp, TestApp } from '../support/test-app';
import { createTestDatabase } from '../support/test-database';
import { tokenFor } from '../support/tokens';
import { WsClient } from '../support/ws-client';

const METRICS_TOKEN = 'scrape-me-0123456789abcdef';
/** Shrunk from the deployed 15 s so the test waits seconds, not minutes. */
const REQUEST_TIMEOUT_MS = 2_000;
/** Node looks for overdue requests once a second (see main.ts). */
const CHECK_INTERVAL_MS = 1_000;

describe('operator surfaces', () => {
  let app: TestApp;
  let bystander: WsClient;

  beforeAll(async () => {
    app = await startTestApp({
      METRICS_TOKEN,
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    bystander = await WsClient.connect(app.baseUrl, { userId: 'bystander' });
  });

  afterAll(async () => {
    await bystander.close();
    await app.close();
  });

  describe('GET /metrics with METRICS_TOKEN set', () => {
    it.each([
      ['no Authorization header', undefined],
      ['another token', 'Bearer scrape-me-0123456789abcdeX'],
      ['a prefix of the token', `Bearer ${METRICS_TOKEN.slice(0, -1)}`],
      ['the token under another scheme', `Basic ${METRICS_TOKEN}`],
      ['a user access token', `Bearer ${tokenFor('ops', { roles: ['admin'] })}`],
    ])('answers 401 to %s', async (_case, authorization) => {
      const response = await fetch(`${app.baseUrl}/metrics`, {
        headers: authorization ? { Authorization: authorization } : {},
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    });

    it('serves the metrics to `Authorization: Bearer <METRICS_TOKEN>`', async () => {
      const response = await fetch(`${app.baseUrl}/metrics`, {
        headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('mealpulse_ws_sessions_open 1');
    });
  });

  describe('a request body dribbled after complete headers', () => {
    it(`is answered 408 and cut within HTTP_REQUEST_TIMEOUT_MS of its first byte`, async () => {
      const peer = await RawPeer.connect(app.baseUrl);
      const started = Date.now();
      peer.write(
        [
          'POST /api/v1/meal-logs/natural HTTP/1.1',
          'Host: localhost',
          `Authorization: Bearer ${tokenFor('dribbler')}`,
          'Content-Type: application/json',
          'Content-Length: 200',
          '',
          '{"text": "',
        ].join('\r\n'),
      );
      const dribbling = setInterval(() => peer.write('a'), 100);
      try {
        const answer = await peer.response(REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + 3_000);
        const elapsed = Date.now() - started;
        expect(answer.status).toBe(408);
        expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
        expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + 2_000);
        await peer.closed(2_000);
      } finally {
        clearInterval(dribbling);
        peer.destroy();
      }
      await expectStillServed(bystander);
    });

    it('leaves a WebSocket session open past HTTP_REQUEST_TIMEOUT_MS', async () => {
      const client = await WsClient.connect(app.baseUrl, { userId: 'long-lived' });
      // Waits on the server's own deadline: the session must outlive the request timeout.
      await client.staysOpenFor(REQUEST_TIMEOUT_MS + CHECK_INTERVAL_MS + 500);
      await expectStillServed(client);
      await client.close();
    });
  });
});

describe('tokens in the logs', () => {
  let database: { url: string; drop: () => Promise<void> };
  let service: ChildApp;

  beforeAll(async () => {
    database = await createTestDatabase();
    service = await startChildApp({ DATABASE_URL: database.url, LOG_LEVEL: 'debug' });
  });

  afterAll(async () => {
    await service.kill('SIGTERM');
    await database.drop();
  });

  it('holds no access token, whichever way and spelling it was sent', async () => {
    const token = tokenFor('logged-user');
    const spellings = [
      `access_token=${token}`,
      `access%5Ftoken=${token}`,
      `ACCESS_TOKEN=${token}`,
      `access_token[]=${token}`,
      `deviceId=d1;access_token=${token}`,
      `limit=5&access_token=${token}&access_token=${token}`,
      token,
    ];
    for (const query of spellings) {
      await fetch(`${service.baseUrl}/api/v1/meal-logs?${query}`);
      await fetch(`${service.baseUrl}/api/v1/meal-logs?${query}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      await fetch(`${service.baseUrl}/no-such-route?${query}`);
    }
    const session = await WsClient.connect(service.baseUrl, { token, tokenInQuery: true });
    await session.close();
    const refused = await WsClient.refusal(service.baseUrl, {
      token: `${token}x`,
      tokenInQuery: true,
    });
    expect(refused.status).toBe(401);
    // Every request was logged (at least one line per fetch), and no line holds the token.
    await service.waitForLog(
      (line) => JSON.stringify(line).includes('/no-such-route?[Redacted]'),
      5_000,
    );
    const logged = service.logs.map((line) => JSON.stringify(line)).join('\n');
    expect(logged).toContain('access_token=[Redacted]');
    expect(logged).not.toContain(token.split('.')[1]);
    expect(logged).not.toContain(token.split('.')[2]);
  });
});
