import { spawn } from 'node:child_process';
import {
  createPrivateKey,
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import {
  ClientHttp2Session,
  connect,
  constants,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
} from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Notification, Provider, ProviderOptions } from '@parse/node-apn';
import { decode, sign, SignOptions } from 'jsonwebtoken';
import { ApnsTestCredentials, createApnsTestCredentials } from './apns-credentials';
import { FakeApns } from './fake-apns';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HOUR_MS = 60 * 60 * 1000;

/** Rejects when `promise` has not settled within `ms`, so a hang fails the test, not the run. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function newDeviceToken(): string {
  return randomBytes(32).toString('hex');
}

/** A body of exactly `bytes` bytes that is otherwise a valid alert payload. */
function payloadOfBytes(bytes: number): string {
  const frame = JSON.stringify({ aps: { alert: '' } });
  return JSON.stringify({ aps: { alert: 'x'.repeat(bytes - frame.length) } });
}

interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body?: string;
}

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request over a plain http2 session, for what a well-behaved client would never send. */
function sendRaw(session: ClientHttp2Session, request: RawRequest): Promise<RawAnswer> {
  const headers: OutgoingHttpHeaders = {
    [constants.HTTP2_HEADER_METHOD]: request.method,
    [constants.HTTP2_HEADER_PATH]: request.path,
  };
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = value;
  }
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    const stream = session.request(headers, { endStream: request.body === undefined });
    let status = 0;
    let responseHeaders: IncomingHttpHeaders = {};
    const chunks: string[] = [];
    stream.setEncoding('utf8');
    stream.on('response', (received) => {
      responseHeaders = received;
      status = Number(received[constants.HTTP2_HEADER_STATUS]);
    });
    stream.on('data', (chunk: string) => chunks.push(chunk));
    stream.on('end', () => {
      if (status === 0) reject(new Error('stream ended without a response'));
      else resolve({ status, headers: responseHeaders, body: chunks.join('') });
    });
    // A stream reset or cut off with its session closes without 'end'; a no-op once settled.
    stream.on('close', () => reject(new Error(`stream closed (code ${stream.rstCode})`)));
    stream.on('error', reject);
    if (request.body !== undefined) stream.end(request.body);
  });
  return within(answer, 5000, `${request.method} ${request.path}`);
}

describe('FakeApns', () => {
  let dir: string;
  let credentials: ApnsTestCredentials;
  let signingKey: KeyObject;
  let apns: FakeApns;
  let raw: ClientHttp2Session;
  const providers: Provider[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fake-apns-'));
    credentials = await createApnsTestCredentials(dir);
    signingKey = createPrivateKey(await readFile(credentials.keyFile));
    apns = await FakeApns.start({ credentials });
    raw = connect(apns.url, { ca: credentials.tlsCert });
    // Failures show up on the requests; an unhandled session 'error' would kill the worker.
    raw.on('error', () => undefined);
  });

  afterAll(async () => {
    // Clean up everything even if one provider fails to shut down, then report that failure.
    const shutdowns = await Promise.allSettled(providers.map(shutdown));
    raw?.close();
    await apns?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    for (const outcome of shutdowns) if (outcome.status === 'rejected') throw outcome.reason;
  });

  /** node-apn as the service will configure it, pointed at `peer`, minus trust. */
  function providerOptions(peer = apns): ProviderOptions {
    return {
      token: { key: credentials.keyFile, keyId: credentials.keyId, teamId: credentials.teamId },
      address: `127.0.0.1:${peer.port}`,
      // Required as well: node-apn passes its options (port defaulting to 443) to http2.connect,
      // and tls.connect lets options.port override the port in the URL built from `address`.
      port: peer.port,
      production: false,
      connectionRetryLimit: 0,
    };
  }

  function provider(overrides: Partial<ProviderOptions> = {}, peer = apns): Provider {
    const created = new Provider({
      ...providerOptions(peer),
      // Stands in for NODE_EXTRA_CA_CERTS, which only takes effect at process start.
      ca: [credentials.tlsCert],
      ...overrides,
    });
    providers.push(created);
    return created;
  }

  /** Provider.shutdown() returns undefined despite its typing; only the callback says "done". */
  function shutdown(target: Provider): Promise<void> {
    return within(
      new Promise<void>((resolve) => void target.shutdown(resolve)),
      5000,
      'provider.shutdown',
    );
  }

  function alert(fields: { mealId?: string } = {}): Notification {
    const note = new Notification();
    note.topic = credentials.topic;
    note.pushType = 'alert';
    note.collapseId = `meal-${fields.mealId ?? 'm-1'}`;
    note.alert = { title: 'Meal analysed', body: 'Lunch: 640 kcal' };
    note.sound = 'default';
    note.payload = { mealId: fields.mealId ?? 'm-1' };
    return note;
  }

  function providerToken(claims: Record<string, unknown> = {}, options: SignOptions = {}): string {
    return sign(
      { iss: credentials.teamId, iat: Math.floor(Date.now() / 1000), ...claims },
      signingKey,
      { algorithm: 'ES256', keyid: credentials.keyId, ...options },
    );
  }

  /** A request the peer accepts; each negative case below changes exactly one thing in it. */
  function validRequest(): RawRequest {
    return {
      method: 'POST',
      path: `/3/device/${newDeviceToken()}`,
      headers: {
        authorization: `bearer ${providerToken()}`,
        'apns-id': randomUUID(),
        'apns-topic': credentials.topic,
        'apns-push-type': 'alert',
      },
      body: JSON.stringify({ aps: { alert: 'hello' } }),
    };
  }

  describe('through @parse/node-apn', () => {
    it('answers a well-formed alert push 200 and records it decoded', async () => {
      const token = newDeviceToken();
      const arriving = apns.waitForRequests((r) => r.deviceToken === token, 1);

      const result = await provider().send(alert(), token);

      expect(result).toEqual({
        sent: [{ device: token, 'apns-id': expect.stringMatching(UUID) }],
        failed: [],
      });
      const [request] = await arriving;
      expect(request).toMatchObject({
        method: 'POST',
        path: `/3/device/${token}`,
        deviceToken: token,
        status: 200,
        reason: null,
        payload: {
          aps: { alert: { title: 'Meal analysed', body: 'Lunch: 640 kcal' }, sound: 'default' },
          mealId: 'm-1',
        },
      });
      expect(JSON.parse(request.body)).toEqual(request.payload);
      expect(request.headers).toMatchObject({
        ':authority': `127.0.0.1:${apns.port}`,
        ':scheme': 'https',
        'apns-topic': credentials.topic,
        'apns-push-type': 'alert',
        'apns-collapse-id': 'meal-m-1',
        'apns-priority': '10',
        authorization: `bearer ${request.providerToken}`,
      });
      expect(request.headers['apns-expiration']).toBeUndefined();
      expect(decode(request.providerToken ?? '', { complete: true })).toMatchObject({
        header: { alg: 'ES256', kid: credentials.keyId },
        payload: { iss: credentials.teamId, iat: expect.any(Number) },
      });
    });

    it("echoes the notification's own apns-id", async () => {
      const token = newDeviceToken();
      const note = alert();
      note.id = randomUUID();

      const result = await provider().send(note, token);

      expect(result.sent).toEqual([{ device: token, 'apns-id': note.id }]);
      const [request] = await apns.waitForRequests((r) => r.deviceToken === token, 1);
      expect(request.headers['apns-id']).toBe(note.id);
    });

    it('sees one provider token per provider, reused across pushes', async () => {
      const peer = await FakeApns.start({ credentials });
      const first = provider({}, peer);
      const second = provider({}, peer);
      try {
        const [a, b] = [newDeviceToken(), newDeviceToken()];
        await first.send(alert(), a);
        await first.send(alert(), b);
        await second.send(alert(), a);

        const requests = await peer.waitForRequests(() => true, 3);
        expect(requests.map((r) => r.status)).toEqual([200, 200, 200]);
        const [one, two, three] = requests.map((r) => r.providerToken);
        expect(one).not.toBeNull();
        expect(two).toBe(one);
        // ES256 signatures are randomised, so a second provider's token differs even within the
        // same second: this is what makes "one distinct token" mean "reused".
        expect(three).not.toBe(one);
        expect(peer.distinctProviderTokens()).toEqual([one, three]);
      } finally {
        await Promise.all([shutdown(first), shutdown(second)]);
        await peer.close();
      }
    });

    it.each([
      { status: 410, reason: 'Unregistered' },
      { status: 400, reason: 'BadDeviceToken' },
      { status: 429, reason: 'TooManyRequests' },
      { status: 503, reason: 'ServiceUnavailable' },
    ] as const)(
      'reports a scripted $status $reason in failed, then answers 200',
      async ({ status, reason }) => {
        const token = newDeviceToken();
        apns.respondWith(token, { status, reason });
        const client = provider();
        const before = Date.now();

        const failing = await client.send(alert(), token);
        const after = Date.now();

        expect(failing.sent).toEqual([]);
        expect(failing.failed).toEqual([
          {
            device: token,
            status,
            'apns-id': expect.stringMatching(UUID),
            response: status === 410 ? { reason, timestamp: expect.any(Number) } : { reason },
          },
        ]);
        if (status === 410) {
          const timestamp = Number(failing.failed[0].response?.timestamp);
          expect(timestamp).toBeGreaterThanOrEqual(before);
          expect(timestamp).toBeLessThanOrEqual(after);
        }

        const next = await client.send(alert(), token);
        expect(next).toEqual({
          sent: [{ device: token, 'apns-id': expect.any(String) }],
          failed: [],
        });
        const requests = await apns.waitForRequests((r) => r.deviceToken === token, 2);
        expect(requests.map((r) => [r.status, r.reason])).toEqual([
          [status, reason],
          [200, null],
        ]);
      },
    );

    it("reports a scripted 500 InternalServerError with node-apn's own error, not the reason", async () => {
      const token = newDeviceToken();
      apns.respondWith(token, { status: 500, reason: 'InternalServerError' });
      const client = provider();

      const failing = await client.send(alert(), token);

      // node-apn swallows this reason: the failure carries status 500 and a VError, no response.
      expect(failing.failed).toEqual([
        { device: token, status: 500, 'apns-id': expect.any(String), error: expect.any(Error) },
      ]);
      expect(failing.failed[0].error?.message).toBe('Error 500, stream ended unexpectedly');
      // ...and it drops the session after a 500, so this push goes over a new connection.
      const next = await client.send(alert(), token);
      expect(next.sent).toEqual([{ device: token, 'apns-id': expect.any(String) }]);
      const requests = await apns.waitForRequests((r) => r.deviceToken === token, 2);
      expect(requests.map((r) => [r.status, r.reason])).toEqual([
        [500, 'InternalServerError'],
        [200, null],
      ]);
    });

    it('consumes scripted answers in order, per device token', async () => {
      const [token, other] = [newDeviceToken(), newDeviceToken()];
      apns.respondWith(
        token,
        { status: 429, reason: 'TooManyRequests' },
        { status: 503, reason: 'ServiceUnavailable' },
      );
      const client = provider();

      const statuses: unknown[] = [];
      for (const target of [other, token, token, token]) {
        const { sent, failed } = await client.send(alert(), target);
        statuses.push(sent.length === 1 ? 200 : failed[0].status);
      }

      expect(statuses).toEqual([200, 429, 503, 200]);
    });

    it('holds a delayed answer back for delayMs', async () => {
      const token = newDeviceToken();
      apns.respondWith(token, { status: 429, reason: 'TooManyRequests', delayMs: 300 });
      const started = Date.now();

      const { failed } = await provider().send(alert(), token);

      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(failed.map((f) => f.response?.reason)).toEqual(['TooManyRequests']);
    });

    it("reports the client's own request timeout without a status", async () => {
      const token = newDeviceToken();
      apns.respondWith(token, { status: 503, reason: 'ServiceUnavailable', delayMs: 5000 });

      const { sent, failed } = await provider({ requestTimeout: 200 }).send(alert(), token);

      expect(sent).toEqual([]);
      expect(failed).toEqual([{ device: token, error: expect.any(Error) }]);
      expect(failed[0].error?.message).toBe('apn write timeout');
    });

    it('rejects a provider token signed by another key with 403 InvalidProviderToken', async () => {
      const token = newDeviceToken();
      const otherKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
      const client = provider({
        token: {
          key: otherKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          keyId: credentials.keyId,
          teamId: credentials.teamId,
        },
      });

      const { sent, failed } = await client.send(alert(), token);

      expect(sent).toEqual([]);
      expect(failed).toEqual([
        {
          device: token,
          status: 403,
          'apns-id': expect.any(String),
          response: { reason: 'InvalidProviderToken' },
        },
      ]);
    });

    it('answers a token older than an hour, by its own clock, 403 ExpiredProviderToken', async () => {
      const ahead = Date.now() + 2 * HOUR_MS;
      const peer = await FakeApns.start({ credentials, now: () => ahead });
      const client = provider({}, peer);
      try {
        const token = newDeviceToken();

        const first = await client.send(alert(), token);
        const second = await client.send(alert(), token);

        // node-apn turns this reason into a VError (no response) and makes a new token for the
        // next push, which is why the peer sees two distinct ones.
        for (const { failed } of [first, second]) {
          expect(failed).toEqual([
            { device: token, status: 403, 'apns-id': expect.any(String), error: expect.any(Error) },
          ]);
          expect(failed[0].error?.message).toBe('ExpiredProviderToken');
        }
        const requests = await peer.waitForRequests(() => true, 2);
        expect(requests.map((r) => [r.at, r.reason])).toEqual([
          [ahead, 'ExpiredProviderToken'],
          [ahead, 'ExpiredProviderToken'],
        ]);
        expect(peer.distinctProviderTokens()).toHaveLength(2);
      } finally {
        await shutdown(client);
        await peer.close();
      }
    });

    it('is not trusted without its certificate', async () => {
      const token = newDeviceToken();
      const client = new Provider(providerOptions());

      const { sent, failed } = await client.send(alert(), token);
      // Not awaited: after a failed connection node-apn's session is destroyed but not "closed",
      // and its shutdown() waits on session.close(callback), which Node then never calls.
      void client.shutdown();

      expect(sent).toEqual([]);
      expect(failed).toEqual([{ device: token, error: expect.any(Error) }]);
      expect(apns.requests.map((r) => r.deviceToken)).not.toContain(token);
    });
  });

  describe('over raw HTTP/2', () => {
    const cases: {
      name: string;
      status: number;
      reason: string | null;
      change: (request: RawRequest) => void;
    }[] = [
      { name: 'the baseline request', status: 200, reason: null, change: () => undefined },
      {
        name: 'a "Bearer" scheme',
        status: 200,
        reason: null,
        change: (r) => (r.headers.authorization = `Bearer ${providerToken()}`),
      },
      {
        name: 'a token 59 minutes old',
        status: 200,
        reason: null,
        change: (r) => {
          const iat = Math.floor((Date.now() - 59 * 60 * 1000) / 1000);
          r.headers.authorization = `bearer ${providerToken({ iat })}`;
        },
      },
      {
        name: 'a 64-byte collapse id, priority 5 and expiration 0',
        status: 200,
        reason: null,
        change: (r) => {
          r.headers['apns-collapse-id'] = 'c'.repeat(64);
          r.headers['apns-priority'] = '5';
          r.headers['apns-expiration'] = '0';
        },
      },
      {
        name: 'a 4096-byte body',
        status: 200,
        reason: null,
        change: (r) => (r.body = payloadOfBytes(4096)),
      },
      {
        name: 'a GET',
        status: 405,
        reason: 'MethodNotAllowed',
        change: (r) => {
          r.method = 'GET';
          delete r.body;
        },
      },
      {
        name: 'a GET without a provider token (method is checked first)',
        status: 405,
        reason: 'MethodNotAllowed',
        change: (r) => {
          r.method = 'GET';
          delete r.body;
          delete r.headers.authorization;
        },
      },
      { name: 'path /2/foo', status: 404, reason: 'BadPath', change: (r) => (r.path = '/2/foo') },
      {
        name: 'path /3/device/xyz',
        status: 400,
        reason: 'BadDeviceToken',
        change: (r) => (r.path = '/3/device/xyz'),
      },
      {
        name: 'a 63-character device token',
        status: 400,
        reason: 'BadDeviceToken',
        change: (r) => (r.path = `/3/device/${newDeviceToken().slice(1)}`),
      },
      {
        name: 'a bad path without a provider token (path is checked before auth)',
        status: 404,
        reason: 'BadPath',
        change: (r) => {
          r.path = '/2/foo';
          delete r.headers.authorization;
        },
      },
      {
        name: 'no authorization header',
        status: 403,
        reason: 'MissingProviderToken',
        change: (r) => delete r.headers.authorization,
      },
      {
        name: 'a non-bearer authorization',
        status: 403,
        reason: 'MissingProviderToken',
        change: (r) => (r.headers.authorization = 'basic dXNlcjpwYXNz'),
      },
      {
        name: 'a token signed by another key',
        status: 403,
        reason: 'InvalidProviderToken',
        change: (r) => {
          const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
          const iat = Math.floor(Date.now() / 1000);
          const jwt = sign({ iss: credentials.teamId, iat }, other, {
            algorithm: 'ES256',
            keyid: credentials.keyId,
          });
          r.headers.authorization = `bearer ${jwt}`;
        },
      },
      {
        name: 'a wrong kid',
        status: 403,
        reason: 'InvalidProviderToken',
        change: (r) =>
          (r.headers.authorization = `bearer ${providerToken({}, { keyid: 'ABCDE12345' })}`),
      },
      {
        name: 'a wrong iss',
        status: 403,
        reason: 'InvalidProviderToken',
        change: (r) => (r.headers.authorization = `bearer ${providerToken({ iss: 'ABCDE12345' })}`),
      },
      {
        name: 'an HS256 token',
        status: 403,
        reason: 'InvalidProviderToken',
        change: (r) => {
          const iat = Math.floor(Date.now() / 1000);
          const jwt = sign({ iss: credentials.teamId, iat }, 'a-shared-secret', {
            algorithm: 'HS256',
            keyid: credentials.keyId,
          });
          r.headers.authorization = `bearer ${jwt}`;
        },
      },
      {
        name: 'a bearer value that is not a JWT',
        status: 403,
        reason: 'InvalidProviderToken',
        change: (r) => (r.headers.authorization = 'bearer not-a-jwt'),
      },
      {
        name: 'a token issued 2 h ago',
        status: 403,
        reason: 'ExpiredProviderToken',
        change: (r) => {
          const iat = Math.floor((Date.now() - 2 * HOUR_MS) / 1000);
          r.headers.authorization = `bearer ${providerToken({ iat })}`;
        },
      },
      {
        name: 'a token without iat',
        status: 403,
        reason: 'ExpiredProviderToken',
        change: (r) => {
          const jwt = sign({ iss: credentials.teamId }, signingKey, {
            algorithm: 'ES256',
            keyid: credentials.keyId,
            noTimestamp: true,
          });
          r.headers.authorization = `bearer ${jwt}`;
        },
      },
      {
        name: 'a token issued 2 minutes in the future',
        status: 403,
        reason: 'InvalidProviderToken',
        change: (r) => {
          const iat = Math.floor((Date.now() + 2 * 60 * 1000) / 1000);
          r.headers.authorization = `bearer ${providerToken({ iat })}`;
        },
      },
      {
        name: 'a wrong kid and no topic (auth is checked before the topic)',
        status: 403,
        reason: 'InvalidProviderToken',
        change: (r) => {
          r.headers.authorization = `bearer ${providerToken({}, { keyid: 'ABCDE12345' })}`;
          delete r.headers['apns-topic'];
        },
      },
      {
        name: 'no topic',
        status: 400,
        reason: 'MissingTopic',
        change: (r) => delete r.headers['apns-topic'],
      },
      {
        name: 'a wrong topic',
        status: 400,
        reason: 'TopicDisallowed',
        change: (r) => (r.headers['apns-topic'] = 'com.example.other'),
      },
      {
        name: 'a wrong topic and push type background (topic is checked first)',
        status: 400,
        reason: 'TopicDisallowed',
        change: (r) => {
          r.headers['apns-topic'] = 'com.example.other';
          r.headers['apns-push-type'] = 'background';
        },
      },
      {
        name: 'push type background',
        status: 400,
        reason: 'InvalidPushType',
        change: (r) => (r.headers['apns-push-type'] = 'background'),
      },
      {
        name: 'no push type',
        status: 400,
        reason: 'InvalidPushType',
        change: (r) => delete r.headers['apns-push-type'],
      },
      {
        name: 'a 70-byte collapse id',
        status: 400,
        reason: 'BadCollapseId',
        change: (r) => (r.headers['apns-collapse-id'] = 'c'.repeat(70)),
      },
      {
        name: 'priority 1',
        status: 400,
        reason: 'BadPriority',
        change: (r) => (r.headers['apns-priority'] = '1'),
      },
      {
        name: 'a non-integer expiration',
        status: 400,
        reason: 'BadExpirationDate',
        change: (r) => (r.headers['apns-expiration'] = 'tomorrow'),
      },
      { name: 'no body', status: 400, reason: 'PayloadEmpty', change: (r) => delete r.body },
      {
        name: 'a 4097-byte body',
        status: 413,
        reason: 'PayloadTooLarge',
        change: (r) => (r.body = payloadOfBytes(4097)),
      },
      {
        name: 'a 5000-byte body',
        status: 413,
        reason: 'PayloadTooLarge',
        change: (r) => (r.body = payloadOfBytes(5000)),
      },
      {
        name: 'a body that is not JSON',
        status: 400,
        reason: 'BadPayload',
        change: (r) => (r.body = '{"aps":'),
      },
      {
        name: 'a body without aps',
        status: 400,
        reason: 'BadPayload',
        change: (r) => (r.body = JSON.stringify({ alert: 'hello' })),
      },
      {
        name: 'a body whose aps is not an object',
        status: 400,
        reason: 'BadPayload',
        change: (r) => (r.body = JSON.stringify({ aps: 'hello' })),
      },
    ];

    it.each(cases)('answers $name with $status $reason', async ({ status, reason, change }) => {
      const request = validRequest();
      change(request);
      const apnsId = request.headers['apns-id'];

      const answer = await sendRaw(raw, request);

      expect(answer.status).toBe(status);
      expect(answer.headers['apns-id']).toBe(apnsId);
      if (reason === null) {
        expect(answer.body).toBe('');
      } else {
        expect(answer.headers['content-type']).toBe('application/json');
        expect(JSON.parse(answer.body)).toEqual({ reason });
      }
      const [recorded] = await apns.waitForRequests((r) => r.headers['apns-id'] === apnsId, 1);
      expect(recorded).toMatchObject({
        method: request.method,
        path: request.path,
        body: request.body ?? '',
        status,
        reason,
      });
    });

    it('makes up a UUID apns-id when the request has none', async () => {
      const request = validRequest();
      delete request.headers['apns-id'];

      const answer = await sendRaw(raw, request);

      expect(answer.status).toBe(200);
      expect(answer.headers['apns-id']).toMatch(UUID);
    });
  });

  describe('waitForRequests', () => {
    it('wakes on requests that arrive after it is called', async () => {
      const request = validRequest();
      const waiting = apns.waitForRequests((r) => r.path === request.path, 2);

      await sendRaw(raw, { ...request, headers: { ...request.headers, 'apns-id': randomUUID() } });
      await sendRaw(raw, { ...request, headers: { ...request.headers, 'apns-id': randomUUID() } });

      expect((await waiting).map((r) => r.status)).toEqual([200, 200]);
    });

    it('rejects after its timeout, listing what arrived', async () => {
      const request = validRequest();
      await sendRaw(raw, request);

      await expect(apns.waitForRequests((r) => r.path === request.path, 2, 100)).rejects.toThrow(
        `expected 2 matching APNs request(s) within 100 ms, got 1`,
      );
      await expect(apns.waitForRequests(() => false, 1, 50)).rejects.toThrow(
        `POST ${request.path} -> 200`,
      );
    });
  });

  describe('lifecycle', () => {
    it('closes with a client session open and an answer still held back', async () => {
      const peer = await FakeApns.start({ credentials });
      const session = connect(peer.url, { ca: credentials.tlsCert });
      session.on('error', () => undefined);
      const request = validRequest();
      peer.respondWith(request.path.slice('/3/device/'.length), {
        status: 503,
        reason: 'ServiceUnavailable',
        delayMs: 60_000,
      });
      const pending = sendRaw(session, request).catch((error: Error) => error);
      await peer.waitForRequests(() => true, 1);

      await within(peer.close(), 2000, 'peer.close');

      // The held-back stream is cut off rather than answered.
      const outcome = await pending;
      expect(outcome).toBeInstanceOf(Error);
      session.destroy();
    });

    it('is trusted by a process started with NODE_EXTRA_CA_CERTS=caFile', async () => {
      // What the service process does: no `ca` option, only the environment variable.
      const probe = (env: NodeJS.ProcessEnv) => {
        const script = [
          "const s = require('node:http2').connect(process.argv[1]);",
          "s.on('error', (e) => { console.log(e.code); process.exit(0); });",
          "const r = s.request({ ':method': 'GET', ':path': '/' });",
          "r.on('response', (h) => { console.log(h[':status']); s.close(); });",
          "r.on('error', () => undefined); r.resume(); r.end();",
        ].join('\n');
        const child = spawn(process.execPath, ['-e', script, apns.url], {
          env,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<string>((resolve, reject) => {
          child.once('error', reject);
          child.once('exit', () => resolve(output.trim()));
        });
        return within(exited, 10_000, 'trust probe').finally(() => child.kill());
      };
      const base = { ...process.env };
      delete base.NODE_EXTRA_CA_CERTS;

      expect(await probe({ ...base, NODE_EXTRA_CA_CERTS: credentials.caFile })).toBe('405');
      expect(await probe(base)).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    });
  });
});
