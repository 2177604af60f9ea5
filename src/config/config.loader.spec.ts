import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config.loader';

describe('loadConfig', () => {
  it('applies the contract defaults to an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      logLevel: 'info',
      database: { url: null },
      auth: { usingDevSecret: true },
      presence: { staleAfterMs: 90_000, sweepIntervalMs: 30_000 },
      ws: {
        heartbeatIntervalMs: 30_000,
        maxPayloadBytes: 65_536,
        allowedOrigins: [],
        maxSessionsPerUser: 10,
        maxMessagesPerSecond: 20,
      },
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://u:p@db:5432/meals',
      JWT_SECRET: 'a-secret-of-sufficient-length',
      LOG_LEVEL: 'debug',
      WS_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173/',
      PRESENCE_STALE_AFTER_MS: '400',
    });
    expect(config.port).toBe(8080);
    expect(config.database.url).toBe('postgres://u:p@db:5432/meals');
    expect(config.auth).toEqual({
      jwtSecret: 'a-secret-of-sufficient-length',
      usingDevSecret: false,
    });
    expect(config.ws.allowedOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.presence.staleAfterMs).toBe(400);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PRESENCE_STALE_AFTER_MS: '-5' }, 'PRESENCE_STALE_AFTER_MS'],
    [{ PRESENCE_SWEEP_INTERVAL_MS: '1.5' }, 'PRESENCE_SWEEP_INTERVAL_MS'],
    [{ WS_MAX_SESSIONS_PER_USER: '0' }, 'WS_MAX_SESSIONS_PER_USER'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'mysql://localhost/db' }, 'DATABASE_URL'],
    [{ WS_ALLOWED_ORIGINS: 'https://ok.example.com,::bad' }, 'WS_ALLOWED_ORIGINS'],
    [{ NODE_ENV: 'production' }, 'JWT_SECRET'],
    [{ JWT_SECRET: 'short' }, 'JWT_SECRET'],
    [{ ANALYZER_URL: 'ftp://x' }, 'ANALYZER_URL'],
    [{ ANALYZER_TIMEOUT_MS: '40000' }, 'ANALYZER_TIMEOUT_MS'],
  ])('refuses %j with one line naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  it('documents every variable it reads in .env.example', () => {
    const source = readFileSync(join(__dirname, 'config.loader.ts'), 'utf8');
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const read = [...source.matchAll(/env, '([A-Z_]+)'/g)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(15);
    for (const variable of read) expect(example).toMatch(new RegExp(`^#? ?${variable}=`, 'm'));
  });
});
