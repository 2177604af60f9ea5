import { randomUUID } from 'node:crypto';
import {
  constants,
  createSecureServer,
  Http2SecureServer,
  IncomingHttpHeaders,
  OutgoingHttpHeaders,
  ServerHttp2Session,
  ServerHttp2Stream,
} from 'node:http2';
import { AddressInfo, Socket } from 'node:net';
import { JsonWebTokenError, Jwt, JwtPayload, TokenExpiredError, verify } from 'jsonwebtoken';
import { ApnsTestCredentials } from './apns-credentials';
import { Waiters } from '../common/waiters';

/** One request as the peer saw it, and what it answered. */
export interface ApnsRequest {
  /** When the request (headers and body) was complete, by the peer's clock (epoch ms). */
  at: number;
  method: string;
  path: string;
  /** The `<token>` of `/3/device/<token>`, as sent; null when the path is not a device path. */
  deviceToken: string | null;
  /** Every header, pseudo-headers (`:authority`, ...) included; repeated ones joined by ", ". */
  headers: Record<string, string>;
  body: string;
  /** `body` parsed as JSON, or undefined when it is not JSON. */
  payload: unknown;
  /** The JWT of `authorization: bearer <jwt>`, or null. */
  providerToken: string | null;
  status: number;
  /** The `reason` of an error answer; null for 200. */
  reason: string | null;
}

/** A scripted failure for one device token. */
export interface ApnsAnswer {
  status: 410 | 400 | 403 | 429 | 500 | 503;
  reason: string;
  /** Hold the answer back this long, e.g. to trip the client's request timeout. */
  delayMs?: number;
}

export interface FakeApnsOptions {
  credentials: ApnsTestCredentials;
  /** The peer's clock (epoch ms), for provider-token age checks and `at`; defaults to Date.now. */
  now?: () => number;
}

type Verdict = { status: number; reason: string | null; delayMs?: number };

// Apple's limits: https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
const MAX_PAYLOAD_BYTES = 4096;
const MAX_COLLAPSE_ID_BYTES = 64;
const PROVIDER_TOKEN_MAX_AGE_S = 60 * 60;
const PROVIDER_TOKEN_MAX_SKEW_S = 60;
const DEVICE_PATH = /^\/3\/device\/([^/]*)$/;
const DEVICE_TOKEN = /^[0-9a-fA-F]{64,200}$/;

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function bearerToken(authorization: string | undefined): string | null {
  const match = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match ? match[1] : null;
}

/**
 * A local APNs provider API peer: HTTP/2 over TLS on 127.0.0.1, checking requests the way Apple
 * does (path, ES256 provider token, topic, push type, headers, payload) and answering with
 * Apple's statuses and reasons, so a client is exercised against the real protocol. Scripted
 * failures per device token (`respondWith`) stand in for Apple's runtime answers.
 */
export class FakeApns {
  readonly requests: ApnsRequest[] = [];
  readonly url: string;

  private readonly answers = new Map<string, ApnsAnswer[]>();
  /** Provider tokens whose signature has been verified, with their header and claims. */
  private readonly verifiedTokens = new Map<string, Jwt>();
  private readonly waiters = new Waiters();
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly sockets = new Set<Socket>();
  private readonly delayed = new Set<NodeJS.Timeout>();
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly server: Http2SecureServer,
    private readonly credentials: ApnsTestCredentials,
    private readonly now: () => number,
    readonly port: number,
  ) {
    this.url = `https://127.0.0.1:${port}`;
  }

  static async start(options: FakeApnsOptions): Promise<FakeApns> {
    const { credentials } = options;
    const server = createSecureServer({
      key: credentials.tlsKey,
      cert: credentials.tlsCert,
      allowHTTP1: false,
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
    const apns = new FakeApns(server, credentials, options.now ?? Date.now, port);
    apns.attach();
    return apns;
  }

  /** Queue answers for `deviceToken`, one per valid request; once they run out, requests get 200. */
  respondWith(deviceToken: string, ...answers: ApnsAnswer[]): void {
    const key = deviceToken.toLowerCase();
    this.answers.set(key, [...(this.answers.get(key) ?? []), ...answers]);
  }

  /** The first `count` requests matching `predicate`, whether already received or still to come. */
  waitForRequests(
    predicate: (request: ApnsRequest) => boolean,
    count: number,
    timeoutMs = 5000,
  ): Promise<ApnsRequest[]> {
    return this.waiters.until(
      () => {
        const matching = this.requests.filter(predicate);
        return matching.length >= count ? matching.slice(0, count) : undefined;
      },
      timeoutMs,
      () => {
        const matching = this.requests.filter(predicate).length;
        const arrived = this.requests
          .map((r) => `  ${r.method} ${r.path} -> ${r.status}${r.reason ? ` ${r.reason}` : ''}`)
          .join('\n');
        return (
          `expected ${count} matching APNs request(s) within ${timeoutMs} ms, got ${matching}; ` +
          `${this.requests.length} arrived${arrived ? `:\n${arrived}` : ''}`
        );
      },
    );
  }

  /** The distinct provider tokens (JWTs) seen, in first-seen order. */
  distinctProviderTokens(): string[] {
    const tokens = this.requests.map((r) => r.providerToken).filter((t) => t !== null);
    return [...new Set(tokens)];
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const timer of this.delayed) clearTimeout(timer);
      this.delayed.clear();
      // Resolve even on ERR_SERVER_NOT_RUNNING: closing is about getting out of the way.
      this.server.close(() => resolve());
      // server.close() waits for every connection to end, and a client such as node-apn keeps
      // its session open between pushes (and a held-back answer keeps a stream open), so end
      // them here rather than waiting on the client. Sockets cover handshakes still in flight.
      for (const session of this.sessions) session.destroy();
      for (const socket of this.sockets) socket.destroy();
    });
    return this.closing;
  }

  private attach(): void {
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      // A client that resets or vanishes mid-request is client behaviour under test; it must not
      // surface as an uncaught 'error' in the test process.
      session.on('error', () => undefined);
    });
    // TLS failures (a client that does not trust the certificate) end that connection only.
    this.server.on('tlsClientError', () => undefined);
    this.server.on('sessionError', () => undefined);
    this.server.on('stream', (stream, headers) => this.onStream(stream, headers));
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => this.onRequest(stream, headers, Buffer.concat(chunks)));
  }

  private onRequest(stream: ServerHttp2Stream, rawHeaders: IncomingHttpHeaders, raw: Buffer) {
    const headers = flattenHeaders(rawHeaders);
    const method = headers[':method'] ?? '';
    const path = headers[':path'] ?? '';
    const body = raw.toString('utf8');
    const payload = parseJson(body);
    const pathMatch = DEVICE_PATH.exec(path);
    const deviceToken = pathMatch ? pathMatch[1] : null;
    const providerToken = bearerToken(headers.authorization);

    const verdict = this.check(method, deviceToken, headers, providerToken, raw, payload);
    this.requests.push({
      at: this.now(),
      method,
      path,
      deviceToken,
      headers,
      body,
      payload,
      providerToken,
      status: verdict.status,
      reason: verdict.reason,
    });
    this.waiters.wake();

    // Apple echoes the request's apns-id, or makes one up, on every answer.
    const apnsId = headers['apns-id'] ?? randomUUID();
    if (verdict.delayMs === undefined || verdict.delayMs <= 0) {
      this.answer(stream, apnsId, verdict);
      return;
    }
    const timer = setTimeout(() => {
      this.delayed.delete(timer);
      this.answer(stream, apnsId, verdict);
    }, verdict.delayMs);
    this.delayed.add(timer);
  }

  /** Apple's checks, in Apple's order; the first failing one decides the answer. */
  private check(
    method: string,
    deviceToken: string | null,
    headers: Record<string, string>,
    providerToken: string | null,
    raw: Buffer,
    payload: unknown,
  ): Verdict {
    const reject = (status: number, reason: string): Verdict => ({ status, reason });

    if (method !== 'POST') return reject(405, 'MethodNotAllowed');
    if (deviceToken === null) return reject(404, 'BadPath');
    if (deviceToken === '') return reject(400, 'MissingDeviceToken');
    if (!DEVICE_TOKEN.test(deviceToken)) return reject(400, 'BadDeviceToken');

    // Apple: "the authorization header is missing or no provider token is specified".
    if (providerToken === null) return reject(403, 'MissingProviderToken');
    const tokenProblem = this.checkProviderToken(providerToken);
    if (tokenProblem) return reject(403, tokenProblem);

    const topic = headers['apns-topic'];
    if (topic === undefined) return reject(400, 'MissingTopic');
    if (topic !== this.credentials.topic) return reject(400, 'TopicDisallowed');

    // The service only sends alerts; any other type is a bug in it, not a feature to allow.
    if (headers['apns-push-type'] !== 'alert') return reject(400, 'InvalidPushType');

    const collapseId = headers['apns-collapse-id'];
    // Node decodes header values as latin1, one character per byte on the wire.
    if (
      collapseId !== undefined &&
      Buffer.byteLength(collapseId, 'latin1') > MAX_COLLAPSE_ID_BYTES
    ) {
      return reject(400, 'BadCollapseId');
    }
    const priority = headers['apns-priority'];
    if (priority !== undefined && priority !== '5' && priority !== '10') {
      return reject(400, 'BadPriority');
    }
    const expiration = headers['apns-expiration'];
    if (expiration !== undefined && !/^\d+$/.test(expiration)) {
      return reject(400, 'BadExpirationDate');
    }

    if (raw.length === 0) return reject(400, 'PayloadEmpty');
    if (raw.length > MAX_PAYLOAD_BYTES) return reject(413, 'PayloadTooLarge');
    if (!isObject(payload) || !isObject(payload.aps)) return reject(400, 'BadPayload');

    const scripted = this.answers.get(deviceToken.toLowerCase())?.shift();
    if (scripted)
      return { status: scripted.status, reason: scripted.reason, delayMs: scripted.delayMs };
    return { status: 200, reason: null };
  }

  /** Null when the provider token is one Apple would accept, else Apple's reason. */
  private checkProviderToken(token: string): string | null {
    const nowS = Math.floor(this.now() / 1000);
    // A provider reuses its token for up to an hour: its signature is checked once, as Apple
    // does not re-verify a token it has accepted on every request either (at W8's 500 pushes/s,
    // an ES256 verify per request was a measurable part of the peer's time). The claims, and
    // the token's age, are checked on every request.
    let jwt = this.verifiedTokens.get(token);
    if (!jwt) {
      try {
        jwt = verify(token, this.credentials.publicKey, {
          algorithms: ['ES256'],
          complete: true,
          clockTimestamp: nowS,
        });
      } catch (error) {
        // Apple's tokens carry no exp, but if a client adds one and it has passed, that is expiry.
        if (error instanceof TokenExpiredError) return 'ExpiredProviderToken';
        if (error instanceof JsonWebTokenError) return 'InvalidProviderToken';
        throw error;
      }
      this.verifiedTokens.set(token, jwt);
    }
    const claims: JwtPayload | string = jwt.payload;
    if (typeof claims !== 'string' && typeof claims.exp === 'number' && claims.exp <= nowS)
      return 'ExpiredProviderToken';
    if (typeof claims === 'string') return 'InvalidProviderToken';
    if (jwt.header.kid !== this.credentials.keyId) return 'InvalidProviderToken';
    if (claims.iss !== this.credentials.teamId) return 'InvalidProviderToken';
    if (typeof claims.iat !== 'number') return 'ExpiredProviderToken';
    if (claims.iat < nowS - PROVIDER_TOKEN_MAX_AGE_S) return 'ExpiredProviderToken';
    if (claims.iat > nowS + PROVIDER_TOKEN_MAX_SKEW_S) return 'InvalidProviderToken';
    return null;
  }

  private answer(stream: ServerHttp2Stream, apnsId: string, verdict: Verdict): void {
    // The client may have given up (request timeout) or the session may be gone.
    if (stream.destroyed || stream.closed) return;
    const headers: OutgoingHttpHeaders = {
      [constants.HTTP2_HEADER_STATUS]: verdict.status,
      'apns-id': apnsId,
    };
    if (verdict.status === 200) {
      stream.respond(headers, { endStream: true });
      return;
    }
    const body: { reason: string | null; timestamp?: number } = { reason: verdict.reason };
    // 410: the time Apple learned the token was no longer valid for the topic.
    if (verdict.status === 410) body.timestamp = this.now();
    stream.respond({ ...headers, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body));
  }
}
