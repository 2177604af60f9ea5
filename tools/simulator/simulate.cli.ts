/*
 * npm run simulate -- --users 50 --meals 5 --ping-interval 30s --duration 2m
 * Plays many iOS apps against a running MealPulse and prints the incident's success table.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/config.loader';
import { formatReport, Simulator } from './simulator';
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
  --help                  this text

Durations: 500ms, 30s, 2m, 1h. Tokens are signed with JWT_SECRET (or the development secret),
so run it with the same environment as the server.`;

function positiveInt(name: string, value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new Error(`--${name} must be a whole number, got "${value}"`);
  return parsed;
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
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const dropRate = Number(values['drop-rate']);
  if (!(dropRate >= 0 && dropRate <= 1)) throw new Error('--drop-rate must be between 0 and 1');

  const simulator = new Simulator({
    url: values.url,
    jwtSecret: loadConfig().auth.jwtSecret,
    users: positiveInt('users', values.users),
    devicesPerUser: Math.max(1, positiveInt('devices', values.devices)),
    mealsPerUser: positiveInt('meals', values.meals),
    pingIntervalMs: parseDuration(values['ping-interval']),
    durationMs: parseDuration(values.duration),
    fallbackAfterMs: 5_000,
    dropRatePerMinute: dropRate,
    userPrefix: `sim-${randomBytes(3).toString('hex')}-`,
    onProgress: (p) =>
      process.stderr.write(
        `\r${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s  sockets ${p.connected}  meals ${p.resolved}/${p.posted}  ` +
          `via socket ${p.viaSocket}  polls ${p.polls}   `,
      ),
  });
  const report = await simulator.run();
  process.stderr.write('\n');
  process.stdout.write(`${formatReport(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
