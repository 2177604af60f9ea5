import { Client } from 'pg';
import { startChildApp } from './support/child-app';
import { expectEventually } from './support/expect-eventually';
import { startTestApp } from './support/test-app';
import { createTestDatabase } from './support/test-database';
import { WsClient } from './support/ws-client';

async function sessionRows(databaseUrl: string) {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{
      session_id: string;
      end_reason: string | null;
      ended_at: Date | null;
    }>(`SELECT session_id, end_reason, ended_at FROM ws_sessions ORDER BY connected_at`);
    return rows;
  } finally {
    await client.end();
  }
}

const sessionIdOf = (client: WsClient) =>
  (client.frames[0] as unknown as { sessionId: string }).sessionId;

describe('session lifecycle across process ends', () => {
  let database: { url: string; drop: () => Promise<void> };
  beforeEach(async () => {
    database = await createTestDatabase();
  });
  afterEach(() => database.drop());

  it('on SIGTERM closes every session with 1001, audits them shutdown, then exits', async () => {
    const server = await startChildApp({ DATABASE_URL: database.url });
    const clients = await Promise.all([
      WsClient.connect(server.baseUrl, { userId: 'term-a', deviceId: 'phone' }),
      WsClient.connect(server.baseUrl, { userId: 'term-a', deviceId: 'tablet' }),
      WsClient.connect(server.baseUrl, { userId: 'term-b' }),
    ]);
    await expectEventually(async () => expect(await sessionRows(database.url)).toHaveLength(3));

    const exited = server.kill('SIGTERM');
    const closes = await Promise.all(clients.map((client) => client.closedWithin(10_000)));
    expect(closes.map((c) => c.code)).toEqual([1001, 1001, 1001]);
    const exit = await exited;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);

    const rows = await sessionRows(database.url);
    expect(rows.map((r) => r.end_reason)).toEqual(['shutdown', 'shutdown', 'shutdown']);
    expect(rows.every((r) => r.ended_at instanceof Date)).toBe(true);
  });

  it('audits the sessions of a killed process as lost when the service starts again', async () => {
    const doomed = await startChildApp({
      DATABASE_URL: database.url,
      PRESENCE_SWEEP_INTERVAL_MS: '100',
    });
    const clients = await Promise.all([
      WsClient.connect(doomed.baseUrl, { userId: 'victim-1' }),
      WsClient.connect(doomed.baseUrl, { userId: 'victim-2' }),
    ]);
    const ids = clients.map(sessionIdOf).sort();
    await expectEventually(async () => expect(await sessionRows(database.url)).toHaveLength(2));
    await doomed.kill('SIGKILL');
    await Promise.all(clients.map((c) => c.closedWithin()));
    expect((await sessionRows(database.url)).map((r) => r.end_reason)).toEqual([null, null]);

    const restarted = await startTestApp({
      DATABASE_URL: database.url,
      PRESENCE_SWEEP_INTERVAL_MS: '100',
    });
    try {
      await expectEventually(async () => {
        const rows = await sessionRows(database.url);
        expect(rows.map((r) => r.session_id).sort()).toEqual(ids);
        expect(rows.map((r) => r.end_reason)).toEqual(['lost', 'lost']);
      });
    } finally {
      await restarted.close();
    }
  });
});
