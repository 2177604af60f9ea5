import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Browser, chromium, Page } from 'playwright-core';
import {
  ApnsTestCredentials,
  apnsServiceEnv,
  createApnsTestCredentials,
} from '../tools/apns-peer/apns-credentials';
import { FakeApns } from '../tools/apns-peer/fake-apns';
import { ChildApp, startChildApp } from './support/child-app';
import { api } from './support/http-client';
import { TestRedisServer } from './support/redis-server';
import { createTestDatabase } from './support/test-database';
import { tokenFor } from './support/tokens';
import { WsClient } from './support/ws-client';

/** Debian's Chromium (`apt-get install -y chromium`); CI installs it and sets REQUIRE_BROWSER. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';
/** Where the run leaves its screenshots (docs/admin-console.md shows one). */
export const SCREENSHOTS = join(__dirname, '..', 'dist', 'screenshots');

const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser && process.env.REQUIRE_BROWSER)
  throw new Error(`REQUIRE_BROWSER is set and ${CHROMIUM} is missing`);
if (!haveBrowser)
  console.warn(
    `admin console browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`,
  );

(haveBrowser ? describe : describe.skip)('admin console in a real browser', () => {
  let dir: string;
  let credentials: ApnsTestCredentials;
  let apns: FakeApns;
  let database: { url: string; drop: () => Promise<void> };
  let redis: TestRedisServer;
  /** The console's instance: workers, pushes, the page. */
  let app: ChildApp;
  /** A second instance that only holds sockets: what the live view shows of it crossed Redis. */
  let other: ChildApp;
  let browser: Browser;
  let page: Page;
  /** What the page must never do: log an error, throw, or open a dialog (a script ran). */
  let problems: string[];
  /**
   * The browser's own log line for an answer of 401 or 403 to a fetch: expected where a test
   * offers a refused token (the page itself logs nothing).
   */
  let refusalsExpected: boolean;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mealpulse-console-'));
    credentials = await createApnsTestCredentials(dir);
    apns = await FakeApns.start({ credentials });
    database = await createTestDatabase();
    redis = await TestRedisServer.start();
    const shared = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'console:',
      ...apnsServiceEnv(credentials, apns.url),
      PUSH_ACK_DEADLINE_MS: '1000',
      PUSH_SCAN_INTERVAL_MS: '50',
      JOB_POLL_INTERVAL_MS: '50',
      WS_HEARTBEAT_INTERVAL_MS: '60000',
    };
    // One after the other: both run the migrations at start-up.
    app = await startChildApp(shared);
    other = await startChildApp({ ...shared, JOB_CONCURRENCY: '0' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu'],
    });
    await mkdir(SCREENSHOTS, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await other?.kill('SIGTERM');
    await app?.kill('SIGTERM');
    await redis?.stop();
    await apns?.close();
    await database?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    problems = [];
    refusalsExpected = false;
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const refusal = /^Failed to load resource: .* status of 40[13] /.test(message.text());
      if (!(refusal && refusalsExpected)) problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    await page.goto(`${app.baseUrl}/admin`);
  });

  afterEach(async () => {
    await page.close();
    expect(problems).toEqual([]);
  });

  async function signIn(token: string): Promise<void> {
    await page.fill('#token', token);
    await page.click('#sign-in-form button[type=submit]');
  }

  const row = (sessionId: string) => page.locator(`#sessions tr[data-session-id="${sessionId}"]`);

  it('refuses a token without the admin role, and one that is not valid, with a clear message', async () => {
    refusalsExpected = true;
    await signIn(tokenFor('just-a-user'));
    await page.getByText('This token has no admin role').waitFor({ timeout: 5_000 });
    expect(await page.isVisible('#live')).toBe(false);
    await signIn('not-a-token');
    await page.getByText('This token is not valid').waitFor({ timeout: 5_000 });
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect(page.url()).toBe(`${app.baseUrl}/admin`);
  });

  it('shows a session of either instance within a second of its opening, its app state, and its end in history', async () => {
    await signIn(tokenFor('root', { roles: ['admin'] }));
    await page.locator('#stream-state', { hasText: 'live' }).waitFor({ timeout: 5_000 });
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0);

    const client = await WsClient.connect(other.baseUrl, {
      userId: 'watched-user',
      deviceId: 'iphone-15',
      headers: { 'User-Agent': HOSTILE },
    });
    const sessionId = client.frames[0].sessionId as string;
    await row(sessionId).waitFor({ timeout: 1_000 });
    // Company for the screenshot in docs/admin-console.md.
    const others = await Promise.all(
      [
        ['ana', 'ipad-air', 'MealPulse/3.2 (iPad13,16; iPadOS 18.1)'],
        ['ben', 'iphone-12', 'MealPulse/3.2 (iPhone13,2; iOS 17.6)'],
      ].map(([userId, deviceId, agent]) =>
        WsClient.connect(app.baseUrl, { userId, deviceId, headers: { 'User-Agent': agent } }),
      ),
    );
    // The user agent is shown as the text it is, and nothing it says runs or renders.
    expect(await row(sessionId).locator('td.agent').textContent()).toBe(HOSTILE);
    expect(await page.locator('#sessions img').count()).toBe(0);
    expect(await row(sessionId).textContent()).toContain('iphone-15');

    client.send({ type: 'app_state', state: 'background' });
    await row(sessionId).locator('td', { hasText: 'background' }).waitFor({ timeout: 1_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-console.png') });
    await Promise.all(others.map((other) => other.close()));

    await client.close();
    await row(sessionId).waitFor({ state: 'detached', timeout: 1_000 });

    await page.click('#tabs button[data-tab=history]');
    await page.fill('#history-form input[name=userId]', 'watched-user');
    await page.click('#history-form button[type=submit]');
    const ended = page.locator(`#history-table tr[data-session-id="${sessionId}"]`);
    await ended.waitFor({ timeout: 5_000 });
    expect(await ended.locator('td.reason-closed').textContent()).toBe('closed');
    expect(await ended.locator('td.agent').textContent()).toBe(HOSTILE);
    expect(await page.locator('#history-table img').count()).toBe(0);
  });

  it('shows a user’s notification as a timeline: written to the socket, then pushed', async () => {
    const token = randomBytes(32).toString('hex');
    await api(app, 'timeline-user')
      .put('/api/v1/devices/iphone/push-token')
      .send({ token })
      .expect(204);
    const client = await WsClient.connect(app.baseUrl, {
      userId: 'timeline-user',
      deviceId: 'iphone',
    });
    const meal = await api(app, 'timeline-user')
      .post('/api/v1/meal-logs/natural')
      .send({ text: `1 small apple ${HOSTILE}` })
      .expect(201);
    await client.nextFrame((frame) => frame.type === 'notification', 10_000);
    // Not acknowledged: the push follows once the ack deadline has passed.
    await apns.waitForRequests((request) => request.deviceToken === token, 1, 10_000);

    await signIn(tokenFor('root', { roles: ['admin'] }));
    await page.click('#tabs button[data-tab=user]');
    await page.fill('#user-form input[name=userId]', 'timeline-user');
    await page.click('#user-form button[type=submit]');
    const item = page.locator('#timeline > li').first();
    await item
      .locator('.steps li', { hasText: 'push to iphone: sent' })
      .waitFor({ timeout: 5_000 });
    expect(await item.locator('.meal-text').textContent()).toBe(`1 small apple ${HOSTILE}`);
    expect(await page.locator('#timeline img').count()).toBe(0);
    expect(await item.locator('.steps').textContent()).toMatch(/written live to session/);
    expect(await item.locator('.verdict').textContent()).toMatch(/socket/);
    expect(await page.locator('#user-presence').textContent()).toMatch(/online/);
    expect(meal.body.id).toEqual(expect.any(String));
    await page.screenshot({ path: join(SCREENSHOTS, 'admin-console-timeline.png') });
    await client.close();
  });
});
