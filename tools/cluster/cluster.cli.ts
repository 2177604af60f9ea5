/*
 * npm run cluster -- --instances 2 [--base-port 3001]
 * Starts N MealPulse instances on consecutive ports against one PostgreSQL (DATABASE_URL, or an
 * embedded one started here) and one Redis (REDIS_URL, default redis://127.0.0.1:6379), for
 * trying scale-out locally. Ctrl-C stops them all (each closes its sessions with 1001).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/config.loader';
import { EmbeddedPostgresServer } from '../../src/database/embedded-postgres.server';

const HELP = `Usage: npm run cluster -- [--instances 2] [--base-port 3001]

Environment: DATABASE_URL (unset: an embedded PostgreSQL in DATA_DIR), REDIS_URL (default
redis://127.0.0.1:6379), and every other MealPulse variable, passed to each instance.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      instances: { type: 'string', default: '2' },
      'base-port': { type: 'string', default: '3001' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return void process.stdout.write(`${HELP}\n`);
  const instances = Number(values.instances);
  const basePort = Number(values['base-port']);
  if (!Number.isInteger(instances) || instances < 1 || instances > 16)
    throw new Error('--instances must be 1-16');
  if (!Number.isInteger(basePort) || basePort < 1 || basePort + instances > 65_535)
    throw new Error('--base-port is invalid');

  const config = loadConfig();
  // One database for all: the instances must not each start their own embedded cluster.
  const embedded =
    config.database.url === null ? new EmbeddedPostgresServer(config.database.dataDir) : null;
  const databaseUrl = config.database.url ?? (await embedded!.start());
  const redisUrl = config.redis.url ?? 'redis://127.0.0.1:6379';

  const children: ChildProcess[] = [];
  for (let i = 0; i < instances; i++) {
    const port = basePort + i;
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'src', 'main.js')], {
      env: { ...process.env, PORT: String(port), DATABASE_URL: databaseUrl, REDIS_URL: redisUrl },
      stdio: 'inherit',
    });
    children.push(child);
    process.stderr.write(`instance ${i + 1}: http://localhost:${port} (pid ${child.pid})\n`);
  }

  const exited = Promise.all(
    children.map((child) => new Promise((resolve) => child.once('exit', resolve))),
  );
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await exited;
  await embedded?.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
