/*
 * npm run simulate -- --users 50 --meals 5 --ping-interval 30s --duration 2m
 * Plays many iOS apps against a running MealPulse and prints the delivery table.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadSigningSecret } from '../../src/auth/signing-secret';
import { loadConfig } from '../../src/config/config.loader';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localApnsPeer, ServiceProcess, throwawayDatabase } from '../service/local-service';
import { formatReport, Simulator, SimulatorProgress } from './simulator';
import { parseDuration } from './stats';

const HELP = `Usage: npm run simulate -- [options]

Simulates iOS clients against a running MealPulse: a WebSocket per device with protocol pings,
meals posted over REST, results expected over the socket (acked), reconnects with jittered
back-off, and polling GET /api/v1/meal-logs/:id only when no notification came within 5 s.

Options:
  --url <url>             MealPulse base URL            (default http://localhost:3000)
  --users <n>             simulated users               (default 50)
  --devices <n>           devices (sockets) per user    (default 1)
  --meals <n>             meals posted per user         (default 5)
  --ping-interval <dur>   protocol ping interval        (default 30s)
  --duration <dur>        how long to run               (default 2m)
  --drop-rate <0-1>       share of sockets dropped without a close frame per minute (default 0)
  --background-share <0-1>
                          share of users who put the app in the background after each post: it
                          says so, stops pinging and reading a second later (iOS suspends it), and
                          comes back --background-for later (±50 %), reconnecting with after=
                          (default 0)
  --background-for <dur>  how long a backgrounded app stays away (default 20s)
  --push-denied-share <0-1>
                          share of users who denied notifications (no push token); the first
                          backgrounding ones, whose results then arrive on return (default 0)
  --local                 start the built service itself, on a throwaway database (DATABASE_URL's
                          server, or embedded) and with a local APNs peer it pushes to, so that
                          deliveries by push are counted; --url is then ignored
  --help                  this text

Durations: 500ms, 30s, 2m, 1h. Against a running server, tokens are signed with JWT_SECRET (or,
when it is unset, the secret in DATA_DIR that the server generated), so run it with the same
environment as the server; pushes are counted only with --local.`;

function positiveInt(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new Error(`--${name} must be a whole number, got "${value}"`);
  return parsed;
}

function share(name: string, value: string): number {
  const parsed = Number(value);
  if (!(parsed >= 0 && parsed <= 1)) throw new Error(`--${name} must be between 0 and 1`);
  return parsed;
}

/** The built service, a throwaway database and a local APNs peer, for `--local`. */
async function localStack() {
  const workDir = await mkdtemp(join(tmpdir(), 'mealpulse-simulate-'));
  const database = await throwawayDatabase('simulate');
  const apns = await localApnsPeer(workDir);
  const jwtSecret = randomBytes(32).toString('base64url');
  const service = await ServiceProcess.start(
    { DATABASE_URL: database.url, JWT_SECRET: jwtSecret, ...apns.env },
    join(workDir, 'service.log'),
  );
  return {
    url: service.baseUrl,
    jwtSecret,
    pushPeer: apns.peer,
    stop: async () => {
      await service.stop();
      await apns.peer.close();
      await database.dispose();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://localhost:3000' },
      users: { type: 'string', default: '50' },
      devices: { type: 'string', default: '1' },
      meals: { type: 'string', default: '5' },
      'ping-interval': { type: 'string', default: '30s' },
      duration: { type: 'string', default: '2m' },
      'drop-rate': { type: 'string', default: '0' },
      'background-share': { type: 'string', default: '0' },
      'background-for': { type: 'string', default: '20s' },
      'push-denied-share': { type: 'string', default: '0' },
      local: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const options = {
    users: positiveInt('users', values.users),
    devicesPerUser: Math.max(1, positiveInt('devices', values.devices)),
    mealsPerUser: positiveInt('meals', values.meals),
    pingIntervalMs: parseDuration(values['ping-interval']),
    durationMs: parseDuration(values.duration),
    fallbackAfterMs: 5_000,
    dropRatePerMinute: share('drop-rate', values['drop-rate']),
    backgroundShare: share('background-share', values['background-share']),
    backgroundForMs: parseDuration(values['background-for']),
    pushDeniedShare: share('push-denied-share', values['push-denied-share']),
    userPrefix: `sim-${randomBytes(3).toString('hex')}-`,
    onProgress: (p: SimulatorProgress) =>
      process.stderr.write(
        `\r${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s  sockets ${p.connected}  meals ${p.resolved}/${p.posted}  ` +
          `via socket ${p.viaSocket}  polls ${p.polls}   `,
      ),
  };
  const local = values.local ? await localStack() : null;
  try {
    const report = await new Simulator({
      ...options,
      url: local?.url ?? values.url,
      jwtSecret: local?.jwtSecret ?? loadSigningSecret(loadConfig()),
      pushPeer: local?.pushPeer,
    }).run();
    process.stderr.write('\n');
    process.stdout.write(`${formatReport(report)}\n`);
  } finally {
    await local?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
