import fc from 'fast-check';
import { expectStillServed } from '../support/bystander';
import { FUZZ_RUNS, hostileString, queryValue } from '../support/fuzz';
import { startTestApp, TestApp } from '../support/test-app';
import { tokenFor } from '../support/tokens';
import { WsClient } from '../support/ws-client';

/** The error codes the protocol documents for a bad frame (docs/websocket-protocol.md). */
const FRAME_ERRORS = ['invalid_json', 'binary_frame', 'invalid_frame', 'unknown_type'];

/** A client frame: well-formed or nearly, any JSON, or not JSON at all; text or binary. */
const clientFrame = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          type: fc.oneof(fc.constantFrom('ping', 'ack', 'app_state'), hostileString()),
          seq: fc.oneof(
            fc.integer({ min: -5, max: 1_000 }),
            fc.double(),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          state: fc.oneof(
            fc.constantFrom('foreground', 'background'),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          extra: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      )
      .map((frame) => ({ text: JSON.stringify(frame) })),
  },
  {
    weight: 1,
    arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => ({ text: JSON.stringify(value) })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 20_000 })
      .map((depth) => ({ text: `{"type":"ack","seq":${'['.repeat(depth)}${']'.repeat(depth)}}` })),
  },
  { weight: 1, arbitrary: hostileString().map((text) => ({ text })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ binary: Buffer.from(bytes) })),
  },
);

/**
 * Property: whatever a client sends on its socket, the answer to each frame is a pong (to a
 * ping), nothing (a valid ack or app_state), or one documented error frame; the socket stays
 * open; and its user's data changes only through valid frames. Each frame is followed by a ping
 * whose pong marks the end of what the frame caused. FUZZ_RUNS cases (default 100).
 */
describe('WebSocket fuzzing', () => {
  let app: TestApp;
  let bystander: WsClient;

  beforeAll(async () => {
    // The rate limit is tested on its own (presence, frame-abuse); here every frame is answered.
    app = await startTestApp({ WS_MAX_MESSAGES_PER_SECOND: '100000' });
    bystander = await WsClient.connect(app.baseUrl, { userId: 'bystander' });
  });

  afterAll(async () => {
    await bystander.close();
    await app.close();
  });

  afterEach(async () => {
    await expectStillServed(bystander);
  });

  it('answers every client frame with nothing, a pong or a documented error, and stays open', async () => {
    const client = await WsClient.connect(app.baseUrl, {
      userId: 'fuzz-frames',
      deviceId: 'phone',
    });
    const codes = new Set<string>();
    let marker = 0;
    try {
      await fc.assert(
        fc.asyncProperty(clientFrame, async (frame) => {
          const from = client.frames.length;
          if ('binary' in frame) client.socket.send(frame.binary, { binary: true });
          else client.socket.send(frame.text);
          // A protocol ping with its own payload: its pong comes after whatever the frame caused.
          await sentinel(client, String((marker += 1)));
          const answers = client.frames.slice(from);
          const errors = answers.filter((f) => f.type === 'error');
          expect(answers.filter((f) => f.type !== 'error' && f.type !== 'pong')).toEqual([]);
          expect(errors.length).toBeLessThanOrEqual(1);
          for (const error of errors) {
            codes.add(String(error.code));
            expect(FRAME_ERRORS).toContain(error.code);
          }
          expect(client.state()).toBe('open');
        }),
        { numRuns: FUZZ_RUNS },
      );
      // Both sides were reached: frames refused with an error, and frames taken.
      expect([...codes]).toEqual(expect.arrayContaining(['invalid_json', 'invalid_frame']));
      const [row] = await app.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM notifications WHERE user_id = 'fuzz-frames'`,
      );
      expect(row.n).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('answers any upgrade query with 101, 400 or 401', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            access_token: fc.oneof(queryValue(), fc.constant(tokenFor('fuzz-upgrade'))),
            deviceId: queryValue(),
            after: queryValue(),
          },
          { requiredKeys: [] },
        ),
        async (query) => {
          const parts = Object.entries(query).map(([name, value]) => `${name}=${value}`);
          const url = `${app.baseUrl.replace(/^http/, 'ws')}/ws?${parts.join('&')}`;
          const status = await upgradeStatus(
            url,
            tokenFor('fuzz-upgrade'),
            'access_token' in query,
          );
          seen.add(status);
          expect([101, 400, 401]).toContain(status);
        },
      ),
      // An upgrade with nothing in its query (the token in its header) is always among the
      // cases: the random ones alone sometimes held none that could be accepted.
      { numRuns: FUZZ_RUNS, examples: [[{}]] },
    );
    expect([...seen]).toEqual(expect.arrayContaining([101, 400]));
  });
});

/** Sends a protocol ping carrying `payload` and waits for the pong that echoes it. */
function sentinel(client: WsClient, payload: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no pong for sentinel ${payload}`)), 5_000);
    const onPong = (data: Buffer) => {
      if (data.toString() !== payload) return;
      clearTimeout(timer);
      client.socket.off('pong', onPong);
      resolve();
    };
    client.socket.on('pong', onPong);
    client.socket.ping(payload);
  });
}

/** The status of an upgrade to `url` (the token in the header unless the query carries one). */
async function upgradeStatus(url: string, token: string, tokenInQuery: boolean): Promise<number> {
  const { WebSocket } = await import('ws');
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers: tokenInQuery ? {} : { Authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    });
    socket.once('upgrade', () => {
      socket.terminate();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      response.resume();
      socket.terminate();
      resolve(response.statusCode ?? 0);
    });
    socket.once('error', (error) => reject(error));
  });
}
