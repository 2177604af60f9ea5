/* `npm run token -- <userId> [--admin] [--ttl 1h]`: prints an access token for local use. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/config.loader';
import { TokenVerifier } from './token.verifier';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function parseTtl(value: string): number {
  const match = /^(\d+)([smhd])?$/.exec(value.trim());
  if (!match || Number(match[1]) <= 0)
    throw new Error(`--ttl must look like 30m, 1h or 7d, got "${value}"`);
  return Number(match[1]) * UNITS[match[2] ?? 's'];
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { admin: { type: 'boolean', default: false }, ttl: { type: 'string', default: '1h' } },
  });
  const [userId] = positionals;
  if (!userId || positionals.length !== 1) {
    throw new Error('usage: npm run token -- <userId> [--admin] [--ttl 1h]');
  }
  if (userId.length > 128) throw new Error('userId must be 1-128 characters');
  const config = loadConfig();
  const token = new TokenVerifier(config).sign(userId, {
    roles: values.admin ? ['admin'] : [],
    ttlSeconds: parseTtl(values.ttl),
  });
  process.stdout.write(`${token}\n`);
}

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
