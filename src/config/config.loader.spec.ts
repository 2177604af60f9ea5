import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
      auth: { jwtSecret: null },
      http: { requestTimeoutMs: 15_000 },
      metrics: { token: null },
      retention: { notificationDays: 30, sessionAuditDays: 90, idempotencyKeyHours: 24 },
      presence: { staleAfterMs: 90_000, sweepIntervalMs: 30_000 },
      mealLogs: { perUserPerMinute: 60 },
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
      JWT_SECRET: 'a-secret-of-sufficient-length-32b',
      LOG_LEVEL: 'debug',
      WS_ALLOWED_ORIGINS: 'https://app.example.com, http://localhost:5173/',
      PRESENCE_STALE_AFTER_MS: '400',
      MEAL_LOGS_PER_MINUTE: '5',
    });
    expect(config.port).toBe(8080);
    expect(config.database.url).toBe('postgres://u:p@db:5432/meals');
    expect(config.auth).toEqual({ jwtSecret: 'a-secret-of-sufficient-length-32b' });
    expect(config.ws.allowedOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(config.presence.staleAfterMs).toBe(400);
    expect(config.mealLogs.perUserPerMinute).toBe(5);
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
    [{ JWT_SECRET: 'x'.repeat(31) }, 'JWT_SECRET'],
    // Counted in bytes, as the HMAC sees it: 16 characters of 2 bytes each are 32 bytes, 15 are not.
    [{ JWT_SECRET: 'é'.repeat(15) }, 'JWT_SECRET'],
    [{ ANALYZER_URL: 'ftp://x' }, 'ANALYZER_URL'],
    [{ METRICS_TOKEN: 'too-short' }, 'METRICS_TOKEN'],
    [{ METRICS_TOKEN: 'has a space in it, sixteen+' }, 'METRICS_TOKEN'],
    [{ HTTP_REQUEST_TIMEOUT_MS: '500' }, 'HTTP_REQUEST_TIMEOUT_MS'],
    [{ SESSION_AUDIT_RETENTION_DAYS: '0' }, 'SESSION_AUDIT_RETENTION_DAYS'],
    [{ IDEMPOTENCY_KEY_TTL_HOURS: '1.5' }, 'IDEMPOTENCY_KEY_TTL_HOURS'],
    [{ RETENTION_PRUNE_INTERVAL_MS: '10' }, 'RETENTION_PRUNE_INTERVAL_MS'],
    [{ ANALYZER_TIMEOUT_MS: '40000' }, 'ANALYZER_TIMEOUT_MS'],
    [{ MEAL_LOGS_PER_MINUTE: '0' }, 'MEAL_LOGS_PER_MINUTE'],
    [{ MEAL_LOGS_PER_MINUTE: '-1' }, 'MEAL_LOGS_PER_MINUTE'],
    [{ MEAL_LOGS_PER_MINUTE: 'sixty' }, 'MEAL_LOGS_PER_MINUTE'],
    [{ MEAL_LOGS_PER_MINUTE: '10001' }, 'MEAL_LOGS_PER_MINUTE'],
  ])('refuses %j with one line naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
  });

  describe('database timeouts and the shutdown deadline', () => {
    it('defaults to 10 s per statement, 5 s per connection and 15 s to shut down', () => {
      const config = loadConfig({});
      expect(config.database).toMatchObject({
        statementTimeoutMs: 10_000,
        connectTimeoutMs: 5_000,
      });
      expect(config.shutdown).toEqual({ timeoutMs: 15_000 });
    });

    it.each([
      [{ DATABASE_STATEMENT_TIMEOUT_MS: '0' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
      [{ DATABASE_STATEMENT_TIMEOUT_MS: '10s' }, 'DATABASE_STATEMENT_TIMEOUT_MS'],
      [{ DATABASE_CONNECT_TIMEOUT_MS: '-1' }, 'DATABASE_CONNECT_TIMEOUT_MS'],
      [{ SHUTDOWN_TIMEOUT_MS: '99' }, 'SHUTDOWN_TIMEOUT_MS'],
    ])('refuses %j with one line naming %s', (env, variable) => {
      expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
    });
  });

  describe('APNs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mealpulse-config-'));
    const pem = (type: 'ec' | 'rsa') =>
      (type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
      ).privateKey.export({ type: 'pkcs8', format: 'pem' });
    const keyFile = join(dir, 'AuthKey_ABC123DEFG.p8');
    const rsaFile = join(dir, 'rsa.pem');
    writeFileSync(keyFile, pem('ec'));
    writeFileSync(rsaFile, pem('rsa'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const apns = {
      APNS_KEY_FILE: keyFile,
      APNS_KEY_ID: 'ABC123DEFG',
      APNS_TEAM_ID: 'DEF123GHIJ',
      APNS_TOPIC: 'com.example.mealpulse',
    };

    it('is off without APNS_*, with the push defaults', () => {
      expect(loadConfig({}).push).toEqual({
        apns: null,
        ackDeadlineMs: 4_000,
        scanIntervalMs: 500,
        maxAttempts: 4,
      });
    });

    it('reads the key and picks Apple’s endpoint per environment', () => {
      expect(loadConfig(apns).push.apns).toEqual({
        keyPem: readFileSync(keyFile, 'utf8'),
        keyId: 'ABC123DEFG',
        teamId: 'DEF123GHIJ',
        topic: 'com.example.mealpulse',
        urls: {
          production: 'https://api.push.apple.com',
          sandbox: 'https://api.sandbox.push.apple.com',
        },
      });
    });

    it.each([
      [{ APNS_URL: 'https://127.0.0.1:8443' }, 'https://127.0.0.1:8443', 'https://127.0.0.1:8443'],
      [
        { APNS_URL: 'https://proxy.example.com/', APNS_SANDBOX_URL: 'https://sandbox.example.com' },
        'https://proxy.example.com',
        'https://sandbox.example.com',
      ],
    ])('takes an override %j for production %s and sandbox %s', (env, production, sandbox) => {
      expect(loadConfig({ ...apns, ...env }).push.apns?.urls).toEqual({ production, sandbox });
    });

    it.each([
      [{ APNS_KEY_FILE: keyFile }, 'APNS_KEY_ID'],
      [{ ...apns, APNS_TOPIC: '' }, 'APNS_TOPIC'],
      [{ ...apns, APNS_KEY_FILE: join(dir, 'missing.p8') }, 'APNS_KEY_FILE'],
      [{ ...apns, APNS_KEY_FILE: rsaFile }, 'APNS_KEY_FILE'],
      [{ ...apns, APNS_KEY_ID: 'abc' }, 'APNS_KEY_ID'],
      [{ ...apns, APNS_TEAM_ID: 'DEF123GHIJK' }, 'APNS_TEAM_ID'],
      [{ ...apns, APNS_TOPIC: 'mealpulse' }, 'APNS_TOPIC'],
      [{ ...apns, APNS_URL: 'http://api.push.apple.com' }, 'APNS_URL'],
      [{ ...apns, APNS_URL: 'https://proxy.example.com/3/device' }, 'APNS_URL'],
      [{ ...apns, APNS_SANDBOX_URL: 'not a url' }, 'APNS_SANDBOX_URL'],
      [{ PUSH_ACK_DEADLINE_MS: '0' }, 'PUSH_ACK_DEADLINE_MS'],
      [{ PUSH_SCAN_INTERVAL_MS: '5' }, 'PUSH_SCAN_INTERVAL_MS'],
      [{ PUSH_MAX_ATTEMPTS: '0' }, 'PUSH_MAX_ATTEMPTS'],
    ])('refuses %j with one line naming %s', (env, variable) => {
      expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} `));
    });
  });

  it('documents every variable it reads in .env.example', () => {
    const source = readFileSync(join(__dirname, 'config.loader.ts'), 'utf8');
    const example = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8');
    const read = [...source.matchAll(/env, '([A-Z_]+)'/g)].map((m) => m[1]);
    expect(read.length).toBeGreaterThan(15);
    for (const variable of read) expect(example).toMatch(new RegExp(`^#? ?${variable}=`, 'm'));
  });
});
