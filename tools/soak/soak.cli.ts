/*
 * npm run soak -- --minutes 15
 * Starts the built service on a database of its own, plays the iOS simulator against it in real
 * time (1,000 users pinging every 30 s, 10 % of sockets dropped without a close frame per minute,
 * meals throughout, 30 % of the users putting the app in the background after each meal, pushes
 * to a local APNs peer) and checks that nothing leaks and nothing is lost. Exits 1 if a check
 * fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import {
  localApnsPeer,
  ServiceProcess,
  sleep,
  throwawayDatabase,
  waitUntil,
} from '../service/local-service';
import { checkLedger, ledgerBalanced } from '../ledger/ledger-check';
import { formatReport, Simulator } from '../simulator/simulator';
import { parseDuration } from '../simulator/stats';
import { growthOver, secondHalf } from './trend';

const SAMPLE_EVERY_MS = 5_000;
const MIB = 1024 * 1024;

interface Sample {
  at: number;
  rss: number;
  heap: number;
  fds: number;
  liveSessions: number;
  openSessionRows: number;
}

interface Check {
  name: string;
  measured: string;
  target: string;
  ok: boolean;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '15' },
      users: { type: 'string', default: '1000' },
      'ping-interval': { type: 'string', default: '30s' },
      'drop-rate': { type: 'string', default: '0.1' },
      'background-share': { type: 'string', default: '0.3' },
    },
  });
  const minutes = Number(values.minutes);
  const users = Number(values.users);
  if (!(minutes > 0) || !Number.isInteger(users) || users < 1)
    throw new Error('--minutes must be positive and --users a whole number');
  const durationMs = Math.round(minutes * 60_000);

  const workDir = await mkdtemp(join(tmpdir(), 'mealpulse-soak-'));
  const database = await throwawayDatabase('soak');
  const apns = await localApnsPeer(workDir);
  const jwtSecret = randomBytes(32).toString('base64url');
  const logFile = join(workDir, 'service.log');
  const service = await ServiceProcess.start(
    { DATABASE_URL: database.url, JWT_SECRET: jwtSecret, ...apns.env },
    logFile,
  );
  const sql = new Client({ connectionString: database.url });
  await sql.connect();
  const count = async (query: string) => Number((await sql.query<{ n: string }>(query)).rows[0].n);
  const openSessionRows = () =>
    count(`SELECT count(*) AS n FROM ws_sessions WHERE ended_at IS NULL`);
  const liveSessions = () => service.metric('mealpulse_ws_sessions_open');

  const samples: Sample[] = [];
  const sample = async () => {
    const memory = await service.memoryAfterGc();
    samples.push({
      at: Date.now(),
      rss: memory.rssBytes,
      heap: memory.heapUsedBytes,
      fds: await service.openFileDescriptors(),
      liveSessions: await liveSessions(),
      openSessionRows: await openSessionRows(),
    });
  };
  const baselineFds = await service.openFileDescriptors();
  const sampler = setInterval(() => void sample().catch(() => undefined), SAMPLE_EVERY_MS);

  const startedAt = Date.now();
  const userPrefix = `soak-${randomBytes(3).toString('hex')}-`;
  let sessionsMatched = false;
  const report = await new Simulator({
    url: service.baseUrl,
    jwtSecret,
    users,
    devicesPerUser: 1,
    mealsPerUser: Math.max(1, Math.round(minutes)),
    pingIntervalMs: parseDuration(values['ping-interval']),
    durationMs,
    fallbackAfterMs: 5_000,
    dropRatePerMinute: Number(values['drop-rate']),
    backgroundShare: Number(values['background-share']),
    pushPeer: apns.peer,
    userPrefix,
    onProgress: process.stderr.isTTY
      ? (p) =>
          process.stderr.write(
            `\r${(p.elapsedMs / 1000).toFixed(0).padStart(5)} s  sockets ${p.connected}  meals ${p.resolved}/${p.posted}  polls ${p.polls}   `,
          )
      : undefined,
    // While every device is still connected, the audit must agree with the live registry.
    beforeClose: async () => {
      // The meals are done early (spread over 80 % of the run); the sessions live the full time.
      await sleep(startedAt + durationMs - Date.now());
      sessionsMatched = await waitUntil(
        async () => (await openSessionRows()) === (await liveSessions()),
        15_000,
      );
    },
  }).run();
  clearInterval(sampler);
  process.stderr.write('\n');

  const queueEmpty = await waitUntil(
    async () => (await count(`SELECT count(*) AS n FROM meal_log_jobs`)) === 0,
    30_000,
  );
  const fdsBack = await waitUntil(
    async () => (await service.openFileDescriptors()) <= baselineFds + 2,
    60_000,
  );
  const sessionsClosed = await waitUntil(
    async () => (await openSessionRows()) === 0 && (await liveSessions()) === 0,
    30_000,
  );
  const ledger = await checkLedger(database.url, report.receivedByUser, { userPrefix });
  const finalFds = await service.openFileDescriptors();

  const half = secondHalf(samples);
  const mean = (key: 'rss' | 'heap') =>
    half.reduce((sum, s) => sum + s[key], 0) / Math.max(1, half.length);
  const growth = (key: 'rss' | 'heap') =>
    growthOver(half.map((s) => ({ at: s.at, value: s[key] })));
  const flat = (key: 'rss' | 'heap', floor: number) =>
    growth(key) < Math.max(floor, 0.1 * mean(key));
  const mib = (bytes: number) => `${(bytes / MIB).toFixed(1)} MiB`;
  const maxLag = Math.max(0, ...samples.map((s) => Math.abs(s.openSessionRows - s.liveSessions)));
  const checks: Check[] = [
    {
      name: 'RSS growth over the second half',
      measured: `${mib(growth('rss'))} (mean ${mib(mean('rss'))})`,
      target: '< max(32 MiB, 10 %)',
      ok: flat('rss', 32 * MIB),
    },
    {
      name: 'heap growth over the second half',
      measured: `${mib(growth('heap'))} (mean ${mib(mean('heap'))})`,
      target: '< max(16 MiB, 10 %)',
      ok: flat('heap', 16 * MIB),
    },
    {
      name: 'file descriptors after the run',
      measured: `${finalFds} (baseline ${baselineFds})`,
      target: '<= baseline + 2',
      ok: fdsBack,
    },
    {
      name: 'open-session rows = live sessions (connected)',
      measured: sessionsMatched ? 'equal' : 'differ',
      target: 'equal',
      ok: sessionsMatched,
    },
    {
      name: 'open-session rows = live sessions (after)',
      measured: sessionsClosed ? '0 = 0' : 'differ',
      target: '0 = 0',
      ok: sessionsClosed,
    },
    {
      name: 'ledger: committed = received, per user',
      measured: `${ledger.committed} committed, ${ledger.received} received, ${ledger.missing.length} missing, ${ledger.phantom.length} phantom`,
      target: '0 missing',
      ok: ledger.missing.length + ledger.phantom.length === 0,
    },
    {
      name: 'ledger balanced',
      measured: ledgerBalanced(ledger) ? 'yes' : 'no',
      target: 'yes',
      ok: ledgerBalanced(ledger),
    },
    {
      name: 'notifications of another user received',
      measured: String(ledger.foreign.length),
      target: '0',
      ok: ledger.foreign.length === 0,
    },
    {
      name: 'meals never delivered (socket, push, replay or poll)',
      measured: String(report.deliveredBy.never),
      target: '0',
      ok: report.deliveredBy.never === 0,
    },
    {
      name: 'POST → result p99',
      measured: `${Math.round(report.postToResultMs.p99)} ms`,
      target: '< 1000 ms',
      ok: report.postToResultMs.p99 < 1_000,
    },
    {
      name: 'sessions swept while pinging',
      measured: String(report.sessionsWrongfullySwept),
      target: '0',
      ok: report.sessionsWrongfullySwept === 0,
    },
    {
      name: 'job queue',
      measured: queueEmpty ? 'empty' : 'not empty',
      target: 'empty',
      ok: queueEmpty,
    },
  ];

  const width = Math.max(...checks.map((c) => c.name.length));
  process.stdout.write(
    [
      formatReport(report),
      '',
      `soak: ${minutes} min, ${samples.length} samples, audit lag at most ${maxLag} session(s), service log ${logFile}`,
      '',
      `| ${'check'.padEnd(width)} | measured | target | |`,
      `| ${'-'.repeat(width)} | -------- | ------ | - |`,
      ...checks.map(
        (c) =>
          `| ${c.name.padEnd(width)} | ${c.measured} | ${c.target} | ${c.ok ? 'ok' : 'FAIL'} |`,
      ),
      '',
    ].join('\n'),
  );

  await sql.end();
  await service.stop();
  await apns.peer.close();
  await database.dispose();
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) await rm(workDir, { recursive: true, force: true });
  else {
    process.stderr.write(`soak failed: ${failed.map((c) => c.name).join('; ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
