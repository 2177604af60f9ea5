import { WebSocket, ClientOptions } from 'ws';
import type { ClientFrame } from '../../src/realtime/client-frame.parser';
import { checkFrame } from './asyncapi-frames';
import { tokenFor } from './tokens';
import { Waiters } from '../../tools/common/waiters';

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface WsClientOptions {
  userId?: string;
  token?: string;
  deviceId?: string;
  after?: number | string;
  /** Send the token as ?access_token instead of the Authorization header. */
  tokenInQuery?: boolean;
  headers?: Record<string, string>;
  /** false: do not answer server pings (a client that only pings on its own, or a dead one). */
  autoPong?: boolean;
  path?: string;
}

/**
 * A real `ws` client that records every frame, for tests: wait for frames and for the close
 * with bounded timeouts instead of sleeping. Every frame it receives, and every frame it sends
 * with `send`, is checked against the AsyncAPI document; `sendRaw` sends anything unchecked.
 */
export class WsClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Waiters();
  private closedWith: { code: number; reason: string } | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      checkFrame('server', text);
      this.frames.push(JSON.parse(text) as Frame);
      this.waiters.wake();
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code, reason) => {
        this.closedWith = { code, reason: reason.toString() };
        this.waiters.wake();
        resolve(this.closedWith);
      }),
    );
  }

  static url(baseUrl: string, options: WsClientOptions = {}): string {
    const url = new URL(options.path ?? '/ws', baseUrl.replace(/^http/, 'ws'));
    if (options.tokenInQuery)
      url.searchParams.set('access_token', options.token ?? tokenFor(options.userId ?? 'user'));
    if (options.deviceId !== undefined) url.searchParams.set('deviceId', options.deviceId);
    if (options.after !== undefined) url.searchParams.set('after', String(options.after));
    return url.toString();
  }

  private static open(baseUrl: string, options: WsClientOptions): WebSocket {
    const headers: Record<string, string> = { ...options.headers };
    if (!options.tokenInQuery && options.token !== '') {
      headers.Authorization = `Bearer ${options.token ?? tokenFor(options.userId ?? 'user')}`;
    }
    const clientOptions: ClientOptions = {
      headers,
      perMessageDeflate: false,
      autoPong: options.autoPong ?? true,
    };
    return new WebSocket(WsClient.url(baseUrl, options), clientOptions);
  }

  /** Opens a session and waits for its `welcome`. */
  static async connect(
    baseUrl: string,
    options: WsClientOptions = {},
    timeoutMs = 5_000,
  ): Promise<WsClient> {
    const client = new WsClient(WsClient.open(baseUrl, options));
    await new Promise<void>((resolve, reject) => {
      client.socket.once('open', () => resolve());
      client.socket.once('error', reject);
      client.socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
    });
    await client.nextFrame((frame) => frame.type === 'welcome', timeoutMs);
    return client;
  }

  /** Attempts an upgrade that should be refused; resolves with the HTTP status and JSON body. */
  static async refusal(
    baseUrl: string,
    options: WsClientOptions = {},
  ): Promise<{ status: number; body: unknown }> {
    const socket = WsClient.open(baseUrl, options);
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.terminate();
        reject(new Error('upgrade was accepted'));
      });
      socket.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: body ? (JSON.parse(body) as unknown) : null,
          }),
        );
      });
      socket.once('error', () => undefined);
    });
  }

  /** A frame of the protocol. */
  send(frame: ClientFrame): void {
    const text = JSON.stringify(frame);
    checkFrame('client', text);
    this.socket.send(text);
  }

  /** Anything, as a text frame (a string as it is, else its JSON), or bytes as a binary one. */
  sendRaw(data: unknown): void {
    this.socket.send(
      typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data),
    );
  }

  /** Waits for the first frame (already received or coming) that matches. */
  nextFrame(predicate: (frame: Frame) => boolean, timeoutMs = 5_000, from = 0): Promise<Frame> {
    return this.waitFor(() => this.frames.slice(from).find(predicate), timeoutMs, 'frame');
  }

  /** Waits for a frame that arrives after this call. */
  nextNewFrame(predicate: (frame: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    return this.nextFrame(predicate, timeoutMs, this.frames.length);
  }

  async closedWithin(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`socket not closed within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `open`, or what became of the socket (`closed 4408 stale`): asserting `.toBe('open')` says
   * how a session ended when it should not have.
   */
  state(): string {
    if (this.closedWith) return `closed ${this.closedWith.code} ${this.closedWith.reason}`.trim();
    return ['connecting', 'open', 'closing', 'closed'][this.socket.readyState];
  }

  /** Waits `ms`, and fails at once, with the close code, if the socket closes before. */
  async staysOpenFor(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
    try {
      const closed = await Promise.race([this.closed, elapsed]);
      if (closed)
        throw new Error(`socket closed with ${closed.code} (${closed.reason}) within ${ms} ms`);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<{ code: number; reason: string }> {
    if (
      this.socket.readyState === WebSocket.OPEN ||
      this.socket.readyState === WebSocket.CONNECTING
    )
      this.socket.close(1000);
    return this.closedWithin();
  }

  private waitFor<T>(find: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return this.waiters.until(
      find,
      timeoutMs,
      () =>
        `no matching ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.frames).slice(0, 500)}`,
    );
  }
}
