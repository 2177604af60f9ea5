import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sign } from 'jsonwebtoken';
import { ChildApp, startChildApp, startUpRefusal } from './support/child-app';
import { api } from './support/http-client';
import { startTestApp, TestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';
import { TEST_JWT_SECRET } from './support/tokens';
import { WsClient } from './support/ws-client';

const run = promisify(execFile);
const DIST = join(__dirname, '..', 'dist', 'src');
const MEAL_LOGS = '/api/v1/meal-logs';
const ADMIN_PRESENCE = '/api/v1/admin/presence';
/** The secret earlier builds signed with whenever JWT_SECRET was unset: public knowledge. */
const FORMERLY_BUILT_IN_SECRET = 'mealpulse-development-secret-do-not-use-in-production';

const now = () => Math.floor(Date.now() / 1000);

/** `npm run token -- <userId> [--admin]`, as built, in the given environment. */
async function tokenCli(env: Record<string, string>, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(DIST, 'auth', 'token.cli.js'), ...args], {
    env: { PATH: process.env.PATH, ...env },
  });
  return stdout.trim();
}

describe('signing secret without JWT_SECRET', () => {
  let database: { url: string; drop: () => Promise<void> };
  let dataDir: string;
  const services: ChildApp[] = [];

  const start = async (dir = dataDir) => {
    const service = await startChildApp({
      JWT_SECRET: '',
      NODE_ENV: 'development',
      DATA_DIR: dir,
      DATABASE_URL: database.url,
    });
    services.push(service);
    return service;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = await mkdtemp(join(tmpdir(), 'mealpulse-secret-'));
  });

  afterAll(async () => {
    await Promise.all(services.map((service) => service.kill('SIGTERM')));
    await database.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('generates a random secret on first start, kept in DATA_DIR with mode 0600', async () => {
    const service = await start();
    const file = join(dataDir, 'jwt-secret');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const secret = (await readFile(file, 'utf8')).trim();
    expect(Buffer.byteLength(secret)).toBeGreaterThanOrEqual(32);
    expect(secret).not.toBe(FORMERLY_BUILT_IN_SECRET);
    // The boot log names the file, never the secret.
    const logged = JSON.stringify(service.logs);
    expect(logged).toContain(file);
    expect(logged).not.toContain(secret);
  });

  it('signs `npm run token` with it, and a restart keeps accepting those tokens', async () => {
    const token = await tokenCli({ DATA_DIR: dataDir }, 'alice');
    const first = services[0];
    await first.kill('SIGTERM');
    const second = await start();
    const response = await fetch(`${second.baseUrl}${MEAL_LOGS}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
  });

  it('refuses tokens signed with the formerly built-in secret, admin ones included', async () => {
    const service = services.at(-1)!;
    const forged = sign(
      { sub: 'mallory', roles: ['admin'], exp: now() + 60 },
      FORMERLY_BUILT_IN_SECRET,
    );
    const response = await fetch(`${service.baseUrl}${ADMIN_PRESENCE}`, {
      headers: { Authorization: `Bearer ${forged}` },
    });
    expect(response.status).toBe(401);
  });

  it("gives another data directory another secret: one deployment's tokens do not open another", async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'mealpulse-secret-'));
    try {
      const other = await start(otherDir);
      const token = await tokenCli({ DATA_DIR: dataDir }, 'alice');
      const response = await fetch(`${other.baseUrl}${MEAL_LOGS}`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(401);
      await other.kill('SIGTERM');
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it.each([
    [
      'NODE_ENV=production without JWT_SECRET',
      { NODE_ENV: 'production' },
      /^Invalid configuration: JWT_SECRET is required/,
    ],
    [
      'a JWT_SECRET of 31 bytes',
      { JWT_SECRET: 'x'.repeat(31) },
      /^Invalid configuration: JWT_SECRET must be at least 32 bytes/,
    ],
  ])('refuses to start with %s, in one line naming the variable', async (_case, env, line) => {
    const { code, stderr } = await startUpRefusal({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      ...env,
    });
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(line)]);
  });

  it('refuses to start with a secret file other users can read, saying how to fix it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mealpulse-secret-'));
    try {
      await writeFile(join(dir, 'jwt-secret'), `${'s'.repeat(48)}\n`, { mode: 0o644 });
      await chmod(join(dir, 'jwt-secret'), 0o644);
      const { code, stderr } = await startUpRefusal({
        DATABASE_URL: database.url,
        DATA_DIR: dir,
        JWT_SECRET: '',
      });
      expect(code).toBe(1);
      expect(stderr.trim().split('\n')).toEqual([
        expect.stringContaining(`chmod 600 ${join(dir, 'jwt-secret')}`),
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('token claims', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  /** Signed by hand: jsonwebtoken's `sign` refuses to produce most of these claims. */
  const signed = (claims: Record<string, unknown>) => {
    const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const unsigned = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
    const signature = createHmac('sha256', TEST_JWT_SECRET).update(unsigned).digest('base64url');
    return `${unsigned}.${signature}`;
  };
  const cases: [string, string][] = [
    ['nbf in the future', signed({ sub: 'u1', exp: now() + 600, nbf: now() + 300 })],
    ['nbf as a string', signed({ sub: 'u1', exp: now() + 600, nbf: '0' })],
    ['iat as a string', signed({ sub: 'u1', exp: now() + 600, iat: 'yesterday' })],
    ['exp as a fraction', signed({ sub: 'u1', exp: now() + 600.5 })],
    ['exp past any date', signed({ sub: 'u1', exp: 1e300 })],
    ['sub as a number', signed({ sub: 1234, exp: now() + 600 })],
    ['a NUL in sub', signed({ sub: 'u1\u0000', exp: now() + 600 })],
    ['a newline in sub', signed({ sub: 'u1\n{"level":60}', exp: now() + 600 })],
    ['a lone surrogate in sub', signed({ sub: 'u1\ud800', exp: now() + 600 })],
    ['roles as a string', signed({ sub: 'u1', exp: now() + 600, roles: 'admin' })],
    ['roles holding a number', signed({ sub: 'u1', exp: now() + 600, roles: ['admin', 7] })],
  ];

  it.each(cases)('answers 401 to a REST request whose token has %s', async (_case, token) => {
    const response = await fetch(`${app.baseUrl}${MEAL_LOGS}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
  });

  it.each(cases)(
    'answers a WebSocket upgrade whose token has %s with HTTP 401',
    async (_case, token) => {
      expect((await WsClient.refusal(app.baseUrl, { token })).status).toBe(401);
    },
  );

  it('accepts a token whose nbf has passed', async () => {
    const token = signed({ sub: 'u-nbf', exp: now() + 600, nbf: now() - 5 });
    const response = await fetch(`${app.baseUrl}${MEAL_LOGS}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
  });

  it('keeps the admin routes to tokens whose roles hold "admin"', async () => {
    await api(app, 'plain').get(ADMIN_PRESENCE).expect(403);
    await api(app, 'ops', { roles: ['admin'] })
      .get(ADMIN_PRESENCE)
      .expect(200);
  });
});
