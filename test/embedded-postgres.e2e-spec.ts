import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildApp, startChildApp } from './support/child-app';
import { expectEventually } from './support/expect-eventually';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');

/**
 * `npm start` and `npm run token` on the embedded default, from a checkout in a directory of mode
 * 0700 (a home directory, `mktemp -d`): as root, PostgreSQL runs as the `postgres` OS user, who
 * cannot enter it, neither to run the binaries under node_modules nor to reach the cluster under
 * `.data`. The checkout is a hard-linked copy of this one's build and dependencies.
 */
describe('the embedded default from a directory of mode 0700', () => {
  let home: string;
  let checkout: string;
  let service: ChildApp | null = null;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'mealpulse-home-'));
    expect((await stat(home)).mode & 0o777).toBe(0o700);
    checkout = join(home, 'mealpulse');
    await mkdir(checkout);
    await run('cp', ['-al', join(ROOT, 'node_modules'), join(ROOT, 'dist'), checkout]);
    await cp(join(ROOT, 'package.json'), join(checkout, 'package.json'));
  }, 60_000);

  afterAll(async () => {
    await service?.kill('SIGTERM');
    // A cluster kept outside the checkout (see postgres.location) goes with it.
    const location = await readFile(join(checkout, '.data', 'postgres.location'), 'utf8').catch(
      () => '',
    );
    const kept = /kept in (\S+):/.exec(location)?.[1];
    if (kept) await rm(kept, { recursive: true, force: true });
    await rm(home, { recursive: true, force: true });
  });

  it('starts, serves a meal log end to end, and signs tokens with `npm run token`', async () => {
    service = await startChildApp(
      { DATABASE_URL: '', JWT_SECRET: '', NODE_ENV: 'development' },
      { main: join(checkout, 'dist', 'src', 'main.js'), cwd: checkout, timeoutMs: 90_000 },
    );
    expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
    if (userInfo().uid === 0) {
      // The postgres user could not have reached a cluster under `.data`.
      expect(await readFile(join(checkout, '.data', 'postgres.location'), 'utf8')).toContain(
        'cannot enter this directory',
      );
    }
    const { stdout } = await run(
      process.execPath,
      [join(checkout, 'dist', 'src', 'auth', 'token.cli.js'), 'alice'],
      { cwd: checkout, env: { PATH: process.env.PATH } },
    );
    const headers = {
      Authorization: `Bearer ${stdout.trim()}`,
      'Content-Type': 'application/json',
    };
    const created = await fetch(`${service.baseUrl}/api/v1/meal-logs/natural`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: '1 small apple' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await expectEventually(
      async () => {
        const log = await fetch(`${service!.baseUrl}/api/v1/meal-logs/${id}`, { headers });
        expect(await log.json()).toMatchObject({ status: 'completed' });
      },
      { timeoutMs: 10_000 },
    );
  }, 120_000);
});
